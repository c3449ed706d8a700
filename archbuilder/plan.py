"""Static shapes and parameter counts of a concrete spec, with no backend.

`plan_spec` walks the same structure the model builders build and returns one
`Node` per Keras layer (name, type, output shape, params, JSON path). `validate`
uses it to refuse feature maps that shrink below 1, mirror decoders that miss the
input size, and models over `--max-params` — all before any weight exists.
"""

import dataclasses
import math

from archbuilder.errors import SpecError
from archbuilder.plan_layers import ShapeError
from archbuilder.plan_layers import conv_output
from archbuilder.plan_layers import custom_node
from archbuilder.plan_layers import fmt_shape as _fmt
from archbuilder.plan_layers import pool_output
from archbuilder.plan_layers import rnn_params

__all__ = ["Node", "Plan", "plan_spec", "BACKBONES"]

# keras.applications with include_top=False: (params, trainable params if trainable, output channels,
# minimum input side). Output side: ceil(side / 32) for these nets with 'same'-padded stems.
BACKBONES = {
    "MobileNetV2": (2_257_984, 2_223_872, 1280, 32),
    "ResNet50": (23_587_712, 23_534_592, 2048, 32),
    "EfficientNetB0": (4_049_571, 4_007_548, 1280, 32),
    "DenseNet121": (7_037_504, 6_953_856, 1024, 32),
    "VGG16": (14_714_688, 14_714_688, 512, 32),
}

_POOL_NAMES = {"max": "Max", "avg": "Average"}  # Keras class names: MaxPooling2D, GlobalAveragePooling1D


@dataclasses.dataclass
class Node:
    name: str
    type: str
    shape: tuple
    params: int
    path: str
    non_trainable: int = 0


@dataclasses.dataclass
class Plan:
    nodes: list

    @property
    def params(self):
        return sum(n.params for n in self.nodes)

    @property
    def non_trainable_params(self):
        return sum(n.non_trainable for n in self.nodes)

    def largest(self):
        return max(self.nodes, key=lambda n: n.params, default=None)


class _Planner:
    def __init__(self, spec):
        self.spec = spec
        self.nodes = []

    def add(self, name, kind, shape, params, path, non_trainable=0):
        shape = tuple(shape)
        self.nodes.append(Node(name, kind, shape, int(params), path, int(non_trainable)))
        return shape

    def dense(self, shape, units, path, name, use_bias=True):
        return self.add(name, "Dense", (*shape[:-1], units), shape[-1] * units + units * use_bias, path)

    def batch_norm(self, shape, path, name):
        return self.add(name, "BatchNormalization", shape, 4 * shape[-1], path, 2 * shape[-1])

    def dense_item(self, shape, item, path, name):
        shape = self.dense(shape, item["units"], path, name)
        if item["batch_norm"]:
            shape = self.batch_norm(shape, path, f"{name}_bn")
        return shape

    def conv_item(self, shape, item, path, name):
        rank = len(shape) - 1
        kind = f"Conv{rank}D{'Transpose' if item.get('transpose') else ''}"
        try:
            out = conv_output(shape, item["filters"], item["kernel_size"], item["strides"], item["padding"],
                              transpose=item.get("transpose", False))
            params = math.prod(_per_axis(item["kernel_size"], rank)) * shape[-1] * item["filters"]
            self.add(f"{name}_conv", kind, out, params + item["filters"] * item["use_bias"], path)
            if item["batch_norm"]:
                self.batch_norm(out, path, f"{name}_bn")
            if item["residual"]:
                self.shortcut(shape, out, item, path, name)
        except ShapeError as e:
            raise SpecError(path, str(e)) from None
        if item["pool"]:
            pool = item["pool"]
            try:
                out = pool_output(out, pool["size"], pool["strides"], pool["padding"])
            except ShapeError as e:
                raise SpecError(f"{path}.pool", str(e)) from None
            self.add(f"{name}_pool", f"{_POOL_NAMES[pool['type']]}Pooling{rank}D", out, 0, path)
        return out

    def shortcut(self, shape, out, item, path, name):
        if tuple(shape) == tuple(out):
            return
        rank = len(shape) - 1
        projected = conv_output(shape, item["filters"], 1, item["strides"], "same")
        if projected != tuple(out):
            raise ShapeError(f"residual: the block's output {_fmt(out)} cannot be added to its input "
                             f"{_fmt(shape)}; use padding 'same'")
        self.add(f"{name}_shortcut", f"Conv{rank}D", projected,
                 shape[-1] * item["filters"] + item["filters"] * item["use_bias"], path)
        if item["batch_norm"]:
            self.batch_norm(projected, path, f"{name}_shortcut_bn")

    def layer_items(self, shape, items, key):
        for i, item in enumerate(items):
            path = f"$.{key}[{i}]"
            if "filters" in item:
                shape = self.conv_item(shape, item, path, f"{key.replace('.', '_')}_{i}")
            else:
                shape = self.dense_item(shape, item, path, f"{key.replace('.', '_')}_{i}")
        return shape

    def flatten(self, shape, path, name="flatten"):
        if None in shape:
            raise SpecError(path, f"flatten needs fixed sizes, got {_fmt(shape)}; use global pooling instead")
        return self.add(name, "Flatten", (math.prod(shape),), 0, path)

    def output(self, shape, output, path="$.output", name="output"):
        return self.dense(shape, output["units"], path, name)

    # families -------------------------------------------------------------

    def cnn(self, shape):
        spec = self.spec
        if spec["backbone"]:
            shape = self.backbone(shape, spec["backbone"])
        shape = self.layer_items(shape, spec["conv"], "conv")
        if spec["global_pool"]:
            shape = self.add("global_pool", f"Global{_POOL_NAMES[spec['global_pool']]}Pooling{len(shape) - 1}D",
                             shape[-1:], 0, "$.global_pool")
        elif len(shape) > 1:
            shape = self.flatten(shape, "$.global_pool")
        shape = self.layer_items(shape, spec["dense"], "dense")
        return self.output(shape, spec["output"])

    def backbone(self, shape, backbone):
        if "application" not in backbone:
            return shape
        params, trainable, channels, minimum = BACKBONES.get(backbone["application"], (0, 0, None, 32))
        # A null side (variable size) is checked by Keras when the model is called, not here.
        if any(s is not None and s < minimum for s in shape[:-1]) or shape[-1] != 3:
            raise SpecError("$.backbone.application", f"{backbone['application']} needs RGB images of at "
                            f"least {minimum}x{minimum}x3; the input is {_fmt(shape)}")
        out = (*(None if s is None else -(-s // 32) for s in shape[:-1]), channels)
        frozen = params if not backbone.get("trainable") else params - trainable
        return self.add("backbone", backbone["application"], out, params, "$.backbone", frozen)

    def rnn(self, shape):
        spec, rnn = self.spec, self.spec["rnn"]
        if spec["embedding"]:
            emb = spec["embedding"]
            shape = self.add("embedding", "Embedding", (*shape, emb["output_dim"]),
                             emb["input_dim"] * emb["output_dim"], "$.embedding")
        for i, units in enumerate(rnn["units"]):
            last = i == len(rnn["units"]) - 1
            sequences = rnn["return_sequences"] or not last
            width = units * (2 if rnn["bidirectional"] else 1)
            params = rnn_params(rnn["cell"], shape[-1], units) * (2 if rnn["bidirectional"] else 1)
            out = (shape[0], width) if sequences else (width,)
            shape = self.add(f"rnn_{i}", rnn["cell"].upper(), out, params, f"$.rnn.units[{i}]")
        if rnn["return_sequences"] and spec["sequence_pool"]:
            if spec["sequence_pool"] == "flatten":
                shape = self.flatten(shape, "$.sequence_pool", "sequence_pool")
            else:
                shape = self.add("sequence_pool", f"Global{_POOL_NAMES[spec['sequence_pool']]}Pooling1D",
                                 shape[-1:], 0, "$.sequence_pool")
        shape = self.layer_items(shape, spec["dense"], "dense")
        return self.output(shape, spec["output"])

    def autoencoder(self, shape):
        spec = self.spec
        input_shape = shape
        conv = "filters" in (spec["encoder"] or [{}])[0]
        if not conv and len(shape) > 1:
            shape = self.add("flatten", "Flatten", (math.prod(shape),), 0, "$.input")
        shape = self.layer_items(shape, spec["encoder"], "encoder")
        code = shape
        if spec["bottleneck"]:
            units = spec["bottleneck"]["units"]
            flat = self.flatten(shape, "$.bottleneck", "bottleneck_flatten") if len(shape) > 1 else shape
            code = self.dense(flat, units, "$.bottleneck", "bottleneck")
            if len(shape) > 1:
                self.dense(code, flat[0], "$.bottleneck", "bottleneck_expand")
        decoded = self.layer_items(shape if spec["bottleneck"] and len(shape) > 1 else code,
                                   spec["decoder"], "decoder")
        self.reconstruction(decoded, input_shape, conv)
        if spec["head"]:
            head = spec["head"]
            head_in = code if len(code) == 1 else self.flatten(code, "$.head", "head_flatten")
            head_in = self.layer_items(head_in, head["dense"], "head.dense")
            self.dense(head_in, head["units"], "$.head", "head")

    def reconstruction(self, shape, input_shape, conv):
        output = self.spec["output"]
        if not conv or len(shape) == 1:
            self.dense(shape, math.prod(input_shape), "$.output", "reconstruction")
            return
        if tuple(shape[:-1]) != tuple(input_shape[:-1]):
            sizes = [_fmt(input_shape[:-1])]
            for node in self.nodes:
                if node.path.startswith("$.encoder") and _fmt(node.shape[:-1]) != sizes[-1]:
                    sizes.append(_fmt(node.shape[:-1]))
            if len(sizes) > 8:
                sizes = [*sizes[:4], "...", *sizes[-3:]]
            raise SpecError("$.decoder", f"the decoder gives {_fmt(shape[:-1])} but the input is "
                            f"{_fmt(input_shape[:-1])} (encoder: {' -> '.join(sizes)}); "
                            "choose sizes that divide evenly or write the decoder out")
        k = output["kernel_size"]
        params = math.prod(_per_axis(k, len(shape) - 1)) * shape[-1] * input_shape[-1] + input_shape[-1]
        self.add("reconstruction", f"Conv{len(shape) - 1}D", input_shape, params, "$.output")

    def custom(self, shape):
        shapes = {"input": shape}
        previous = "input"
        for i, layer in enumerate(self.spec["layers"]):
            path = f"$.layers[{i}]"
            inputs = layer.get("inputs", previous)
            names = inputs if isinstance(inputs, list) else [inputs]
            name = layer.get("name", f"layers_{i}")
            try:
                in_shapes = [shapes[n] for n in names]
                out, params, frozen = custom_node(layer, in_shapes if isinstance(inputs, list) else in_shapes[0])
            except ShapeError as e:
                raise SpecError(path, str(e)) from None
            self.add(name, layer["type"], out, params, path, frozen)
            shapes[name] = out
            previous = name


def _per_axis(value, rank):
    return list(value) if isinstance(value, list) else [value] * rank




def plan_spec(spec):
    """Plans a concrete spec: output shape and parameter count of every layer.

    Args:
        spec: a concrete spec (normalize.concretize).

    Returns:
        A `Plan`.

    Raises:
        SpecError: a shape that cannot be built, with the JSON path at fault.
    """
    planner = _Planner(spec)
    getattr(planner, spec["family"])(tuple(spec["input"]["shape"]))
    return Plan(planner.nodes)
