"""The static plan's pieces: nodes, the plan, and the planning steps families share.

A `Plan` is one `Node` per Keras layer the builder will make that has weights,
changes the shape or joins branches (name, type, output shape, params, JSON path,
the nodes it takes its inputs from: `input` for the model input, and FLOPs). A family's
`plan(planner, shape)` walks its concrete spec with the `Planner`'s steps — the same
structure its Keras builder builds — and raises `SpecError` at the entry whose
shape cannot be built. No backend is needed.

FLOPs are multiply-adds per sample of a forward pass: a weight multiplied with an
input and added counts once (Dense: inputs × units per position; a convolution:
kernel × input channels × filters per output position, per input position for a
transposed one; a recurrent layer: its weights per time step; a normalization: one
per value). Layers without weights (pooling, activations, merges, reshapes, dropout)
count 0. A node is `flops_estimated` where the count is not exact: a
keras.applications backbone (its published ImageNet count scaled by input area), a
backbone from a model file (not counted: 0) and a layer whose input has a variable
size (each unknown size counted as 1).
"""

import dataclasses
import math

from archbuilder.errors import SpecError
from archbuilder.format.shapes import ShapeError
from archbuilder.format.shapes import conv_output
from archbuilder.format.shapes import per_axis
from archbuilder.format.shapes import pool_output
from archbuilder.text import shape as fmt_shape

__all__ = ["Node", "Plan", "Planner", "POOL_NAMES", "positions", "values"]

POOL_NAMES = {"max": "Max", "avg": "Average"}  # Keras class names: MaxPooling2D, GlobalAveragePooling1D


INPUT = "input"  # the name that stands for the model input among a node's inputs


def positions(shape):
    """The positions a per-position weight is applied at: the sizes before the last axis (unknown ones as 1)."""
    return math.prod(1 if s is None else s for s in shape[:-1])


def values(shape):
    """The values of a sample of `shape` (unknown sizes as 1)."""
    return positions(shape) * (1 if shape[-1] is None else shape[-1])


@dataclasses.dataclass
class Node:
    """One planned layer.

    Attributes:
        inputs: the names of the nodes whose outputs it takes (`input`: the model input);
            a merge (`Add`, `Concatenate`, ...) has several.
    """

    name: str
    type: str
    shape: tuple
    params: int
    path: str
    non_trainable: int = 0
    inputs: tuple = (INPUT,)
    flops: int = 0  # multiply-adds per sample (see the module docstring)
    flops_estimated: bool = False


@dataclasses.dataclass
class Plan:
    """The planned nodes, in the order they are built, and the model input's shape."""

    nodes: list
    input_shape: tuple = ()

    def edges(self):
        """`(from, to)` for every connection, in the direction data flows (`input` is the model input)."""
        return [(source, node.name) for node in self.nodes for source in node.inputs]

    @property
    def params(self):
        return sum(n.params for n in self.nodes)

    @property
    def flops(self):
        """Multiply-adds per sample of the whole model."""
        return sum(n.flops for n in self.nodes)

    @property
    def flops_estimated(self):
        """The names of the nodes whose FLOPs are estimated, not exact."""
        return [n.name for n in self.nodes if n.flops_estimated]

    @property
    def non_trainable_params(self):
        return sum(n.non_trainable for n in self.nodes)

    def largest(self):
        return max(self.nodes, key=lambda n: n.params, default=None)


class Planner:
    """Collects the nodes of one concrete spec; each step returns the output shape it planned.

    Args:
        spec: the concrete spec being planned.
    """

    def __init__(self, spec):
        self.spec = spec
        self.nodes = []
        self.last = INPUT  # the node the next one takes its input from, unless told otherwise

    def add(self, name, kind, shape, params, path, non_trainable=0, inputs=None, flops=0, estimated=False):
        """Adds a node fed by `inputs` (names; default: the last node added) and makes it the last."""
        shape = tuple(shape)
        inputs = (self.last,) if inputs is None else tuple(inputs)
        self.nodes.append(Node(name, kind, shape, int(params), path, int(non_trainable), inputs, int(flops),
                               estimated))
        self.last = name
        return shape

    def dense(self, shape, units, path, name, use_bias=True):
        out = (*shape[:-1], units)
        return self.add(name, "Dense", out, shape[-1] * units + units * use_bias, path,
                        flops=positions(out) * shape[-1] * units, estimated=None in shape)

    def batch_norm(self, shape, path, name):
        return self.add(name, "BatchNormalization", shape, 4 * shape[-1], path, 2 * shape[-1],
                        flops=values(shape), estimated=None in shape)

    def dense_item(self, shape, item, path, name):
        """Dense [-> BatchNormalization] of a dense item."""
        shape = self.dense(shape, item["units"], path, name)
        if item["batch_norm"]:
            shape = self.batch_norm(shape, path, f"{name}_bn")
        return shape

    def residual_add(self, out, main, shortcut, path, name):
        """The `Add` joining a block's main branch and its shortcut (the block's input or a projection)."""
        return self.add(f"{name}_add", "Add", out, 0, path, inputs=(main, shortcut))

    def conv_item(self, shape, item, path, name):
        rank = len(shape) - 1
        block_input = self.last
        kind = f"Conv{rank}D{'Transpose' if item.get('transpose') else ''}"
        try:
            out = conv_output(shape, item["filters"], item["kernel_size"], item["strides"], item["padding"],
                              transpose=item.get("transpose", False))
            params = math.prod(per_axis(item["kernel_size"], rank)) * shape[-1] * item["filters"]
            where = shape if item.get("transpose") else out  # a transposed conv applies its kernel per input
            self.add(f"{name}_conv", kind, out, params + item["filters"] * item["use_bias"], path,
                     flops=positions(where) * params, estimated=None in shape)
            if item["batch_norm"]:
                self.batch_norm(out, path, f"{name}_bn")
            if item["residual"]:
                main = self.last
                self.last = block_input
                self.shortcut(shape, out, item, path, name)
                self.residual_add(out, main, self.last, path, name)
        except ShapeError as e:
            raise SpecError(path, str(e)) from None
        if item["pool"]:
            pool = item["pool"]
            try:
                out = pool_output(out, pool["size"], pool["strides"], pool["padding"])
            except ShapeError as e:
                raise SpecError(f"{path}.pool", str(e)) from None
            self.add(f"{name}_pool", f"{POOL_NAMES[pool['type']]}Pooling{rank}D", out, 0, path)
        return out

    def shortcut(self, shape, out, item, path, name):
        if tuple(shape) == tuple(out):
            return
        rank = len(shape) - 1
        projected = conv_output(shape, item["filters"], 1, item["strides"], "same")
        if projected != tuple(out):
            raise ShapeError(f"residual: the block's output {fmt_shape(out)} cannot be added to its input "
                             f"{fmt_shape(shape)}; use padding 'same'")
        self.add(f"{name}_shortcut", f"Conv{rank}D", projected,
                 shape[-1] * item["filters"] + item["filters"] * item["use_bias"], path,
                 flops=positions(projected) * shape[-1] * item["filters"], estimated=None in shape)
        if item["batch_norm"]:
            self.batch_norm(projected, path, f"{name}_shortcut_bn")

    def layer_items(self, shape, item_list, key):
        """Plans `$.<key>[i]` for every conv or dense item; layers are named `<key>_<i>` (dots as `_`)."""
        for i, item in enumerate(item_list):
            path = f"$.{key}[{i}]"
            name = f"{key.replace('.', '_')}_{i}"
            if "filters" in item:
                shape = self.conv_item(shape, item, path, name)
            else:
                shape = self.dense_item(shape, item, path, name)
        return shape

    def flatten(self, shape, path, name="flatten"):
        if None in shape:
            raise SpecError(path, f"flatten needs fixed sizes, got {fmt_shape(shape)}; use global pooling instead")
        return self.add(name, "Flatten", (math.prod(shape),), 0, path)

    def global_pool(self, shape, kind, path, name):
        """`GlobalMaxPooling<r>D` / `GlobalAveragePooling<r>D` over the spatial axes of `shape`."""
        return self.add(name, f"Global{POOL_NAMES[kind]}Pooling{len(shape) - 1}D", shape[-1:], 0, path)

    def output(self, shape, output, path="$.output", name="output"):
        return self.dense(shape, output["units"], path, name)
