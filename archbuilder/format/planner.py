"""The static plan's pieces: nodes, the plan, and the planning steps families share.

A `Plan` is one `Node` per Keras layer the builder will make that has weights,
changes the shape or joins branches (name, type, output shape, params, JSON path,
and the nodes it takes its inputs from: `input` for the model input). A family's
`plan(planner, shape)` walks its concrete spec with the `Planner`'s steps — the same
structure its Keras builder builds — and raises `SpecError` at the entry whose
shape cannot be built. No backend is needed.
"""

import dataclasses
import math

from archbuilder.errors import SpecError
from archbuilder.format.shapes import ShapeError
from archbuilder.format.shapes import conv_output
from archbuilder.format.shapes import per_axis
from archbuilder.format.shapes import pool_output
from archbuilder.text import shape as fmt_shape

__all__ = ["Node", "Plan", "Planner", "POOL_NAMES"]

POOL_NAMES = {"max": "Max", "avg": "Average"}  # Keras class names: MaxPooling2D, GlobalAveragePooling1D


INPUT = "input"  # the name that stands for the model input among a node's inputs


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

    def add(self, name, kind, shape, params, path, non_trainable=0, inputs=None):
        """Adds a node fed by `inputs` (names; default: the last node added) and makes it the last."""
        shape = tuple(shape)
        inputs = (self.last,) if inputs is None else tuple(inputs)
        self.nodes.append(Node(name, kind, shape, int(params), path, int(non_trainable), inputs))
        self.last = name
        return shape

    def dense(self, shape, units, path, name, use_bias=True):
        return self.add(name, "Dense", (*shape[:-1], units), shape[-1] * units + units * use_bias, path)

    def batch_norm(self, shape, path, name):
        return self.add(name, "BatchNormalization", shape, 4 * shape[-1], path, 2 * shape[-1])

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
            self.add(f"{name}_conv", kind, out, params + item["filters"] * item["use_bias"], path)
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
                 shape[-1] * item["filters"] + item["filters"] * item["use_bias"], path)
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
