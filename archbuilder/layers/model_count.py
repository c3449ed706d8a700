"""The size a saved model's `config.json` declares: parameters and shapes, counted without loading anything.

Each layer's arithmetic is `archbuilder.format.layer_math.layer_node` (the one the
`custom` family plans with), extended here with what saved models hold besides:
nested models, `Bidirectional`/`TimeDistributed`, Keras operations recorded in a
functional graph, preprocessing layers and archbuilder's own layers. A layer's input
shape is both what its `build_config` declares (Keras builds the layer from it on
load) and what the graph gives it; the larger count is kept. A layer whose size
cannot be told is refused: archbuilder loads only models whose size it can check.

Example:
    >>> count_model(read_model_config("base.keras")).params
    818700
"""

import dataclasses
import math

from archbuilder.format.layer_math import layer_node
from archbuilder.format.shapes import ShapeError
from archbuilder.layers.model_file import ModelFileError
from archbuilder.text import shape as fmt_shape
from archbuilder.text import short

__all__ = ["ModelCount", "count_model", "describe_shapes"]


@dataclasses.dataclass
class ModelCount:
    """What a model's config declares: parameters, output shape, inputs, layers."""

    params: int
    non_trainable: int
    input_shapes: list
    output_shapes: list
    layers: int


class _Uncountable(Exception):
    """A layer whose size cannot be told from the config; `where` is its JSON path."""

    def __init__(self, where, message):
        super().__init__(message)
        self.where = where


# Layers without weights that keep their input's shape (Keras's and archbuilder's own).
_SAME_SHAPE = {
    "Rescaling", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast",
    "RandomBrightness", "ApplicationPreprocess", "ActivityL1", "KLSparsity", "InputContract", "Identity", "Masking",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
}
_MODELS = {"Functional", "Sequential", "Model"}
_MERGES = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}
# Keras operations recorded in a functional graph (`x + 3.0`, a mask's `x != 0`) that act value by
# value: no weights, the output broadcast from the tensors they take.
_ELEMENTWISE_OPS = {
    "Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Power", "Maximum", "Minimum", "Equal", "NotEqual",
    "Greater", "GreaterEqual", "Less", "LessEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "Negative", "Abs",
    "Absolute", "Sqrt", "Square", "Exp", "Log", "Sign", "Clip", "Cast", "Relu", "Relu6", "Sigmoid", "HardSigmoid",
    "HardSwish", "Silu", "Swish", "Tanh", "Gelu", "Softplus", "Elu", "Selu", "LeakyRelu", "Where",
}


def _config_of(layer):
    config = layer.get("config")
    return config if isinstance(config, dict) else {}


def _batchless(shape, where):
    if isinstance(shape, list) and shape and all(isinstance(s, list) for s in shape):
        return [_batchless(s, where) for s in shape]
    if not isinstance(shape, list) or not shape or not all(
            d is None or isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise _Uncountable(where, f"the shape {short(shape)} is not a list of sizes")
    return tuple(shape[1:])


def _layer(layer, shape, where, counted):
    """`(output shape, params, non-trainable)` of one layer config on input `shape`."""
    kind = layer.get("class_name")
    config = _config_of(layer)
    if kind in _MODELS:
        nested = _model(layer, shape, where, counted)
        outputs = nested.output_shapes
        return (outputs[0] if len(outputs) == 1 else outputs), nested.params, nested.non_trainable
    if kind in ("Bidirectional", "TimeDistributed"):
        inner = config.get("layer")
        if not isinstance(inner, dict):
            raise _Uncountable(where, f"{kind} without a layer")
        if kind == "TimeDistributed":
            out, params, frozen = _layer(inner, shape[1:], f"{where}.config.layer", counted)
            return (shape[0], *out), params, frozen
        out, params, frozen = _layer(inner, shape, f"{where}.config.layer", counted)
        backward = config.get("backward_layer")
        b_out, b_params, b_frozen = (_layer(backward, shape, f"{where}.config.backward_layer", counted)
                                     if isinstance(backward, dict) else (out, params, frozen))
        merged = (*out[:-1], out[-1] + b_out[-1]) if config.get("merge_mode", "concat") == "concat" else out
        return merged, params + b_params, frozen + b_frozen
    if kind in _SAME_SHAPE:
        return shape, 0, 0
    if kind in _MERGES and layer.get("module") in (None, "keras.layers"):  # Keras's merges broadcast
        if not _is_list_of_shapes(shape):
            raise _Uncountable(where, f"{kind} merges a list of inputs")
        return _broadcast(shape, where), 0, 0
    if kind == "Normalization" and config.get("mean") is not None:  # given statistics are constants
        return shape, 0, 0
    if kind == "Normalization":  # a mean and a variance per value of its axes (which count the batch), a count
        axes = config.get("axis", -1)
        axes = [axes] if isinstance(axes, int) else list(axes or [])
        try:
            width = math.prod(shape[a - 1 if a > 0 else a] or 1 for a in axes)
        except (IndexError, TypeError):
            raise _Uncountable(where, f"Normalization axis {short(axes)} is not an axis of {fmt_shape(shape)}") from None
        return shape, 2 * width + 1, 2 * width + 1
    if kind == "LayerScale":  # keras.applications' ConvNeXt: one scale per channel
        return shape, int(config.get("projection_dim") or shape[-1]), 0
    if kind in ("Resizing", "CenterCrop", "RandomCrop"):
        return (config.get("height"), config.get("width"), shape[-1]), 0, 0
    if kind == "ContractiveDense":  # archbuilder's: see its compute_output_shape
        listed = _is_list_of_shapes(shape)
        x, carried = (shape[0], list(shape[1:])) if listed else (shape, [])
        out, params, frozen = _layer({**layer, "class_name": "Dense"}, x, where, counted)
        if config.get("carry", "jacobian") == "factors":  # [h, *carried, act'(z), kernel]
            return [out, *carried, out, (x[-1], out[-1])], params, frozen
        return [out, (out[-1], carried[0][-1] if carried else x[-1])], params, frozen  # [h, J]
    if kind == "ContractivePenalty":  # archbuilder's: on [h, J], returns h
        return (shape[0] if _is_list_of_shapes(shape) else shape), 0, 0
    try:
        return layer_node({**config, "type": kind}, list(shape) if _is_list_of_shapes(shape) else shape)
    except ShapeError as e:
        raise _Uncountable(where, str(e)) from None
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise _Uncountable(where, f"{short(kind)}: unreadable config ({type(e).__name__}: {e})") from None


def _broadcast(shapes, where):
    """NumPy's broadcasting of several shapes (None: a size not fixed)."""
    rank = max(len(s) for s in shapes)
    out = []
    for sizes in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes]):
        fixed = {d for d in sizes if d not in (1, None)}
        if len(fixed) > 1:
            raise _Uncountable(where, f"shapes {', '.join(fmt_shape(s) for s in shapes)} do not broadcast")
        out.append(fixed.pop() if fixed else None if None in sizes else 1)
    return tuple(out)


def _is_op(layer):
    module = layer.get("module")
    return isinstance(module, str) and module.startswith(("keras.src.ops.", "keras.ops"))


def _is_list_of_shapes(shape):
    return isinstance(shape, list) and shape and all(isinstance(s, (list, tuple)) for s in shape)


def _counted(layer, shape, where, counted):
    """A layer's output on `shape`, its parameters counted with the larger of its declared
    `build_config` (what Keras builds on load) and the shape the graph gives it."""
    out, params, frozen = _layer(layer, shape, where, counted)
    build = layer.get("build_config")
    if isinstance(build, dict) and "input_shape" in build and layer.get("class_name") not in _MODELS:
        declared = _batchless(build["input_shape"], f"{where}.build_config")
        if declared != (tuple(shape) if not isinstance(shape, list) else shape):
            _, built_params, built_frozen = _layer(layer, declared, where, counted)
            params, frozen = max(params, built_params), max(frozen, built_frozen)
    return out, params, frozen


def _input_shape(layer, where):
    config = _config_of(layer)
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    if shape is None:
        raise _Uncountable(where, "an InputLayer without batch_shape")
    return _batchless(shape, f"{where}.config.batch_shape")


def _sequential(model, shape, where, counted):
    config = _config_of(model)
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise _Uncountable(where, "a Sequential model without layers")
    start = [i for i, layer in enumerate(layers) if isinstance(layer, dict) and layer.get("class_name") == "InputLayer"]
    declared = _input_shape(layers[start[0]], f"{where}.config.layers[{start[0]}]") if start else None
    if declared is None:
        build = config.get("build_input_shape") or (model.get("build_config") or {}).get("input_shape")
        declared = _batchless(build, f"{where}.config.build_input_shape") if build else None
    shape = shape if shape is not None else declared
    if shape is None:
        raise _Uncountable(where, "a Sequential model whose input shape is not recorded")
    total = frozen = 0
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or layer.get("class_name") == "InputLayer":
            continue
        shape, params, nt = _counted(layer, shape, f"{where}.config.layers[{i}]", counted)
        total, frozen = total + params, frozen + nt
    counted[0] += len(layers)
    return ModelCount(total, frozen, [declared], [shape], len(layers))


def _history(value):
    """The `[layer, node, tensor]` of every Keras tensor in a node's first argument, in order."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            history = _config_of(item).get("keras_history")
            found.append(tuple(history) if isinstance(history, list) and len(history) == 3 else None)
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def _refs(value):
    """`[[name, node, tensor], ...]` of a Functional's `input_layers`/`output_layers` (one or a list)."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [tuple(value)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def _tensor(outputs, history):
    """The shape of tensor `history` = `(layer, node, tensor)`: a layer's call returns one shape or a list."""
    out = outputs[history[0]][history[1]]
    if isinstance(out, list):
        return tuple(out[history[2]])
    if history[2] != 0:
        raise IndexError(history[2])
    return out


def _functional(model, shape, where, counted):
    config = _config_of(model)
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise _Uncountable(where, "a Functional model without layers")
    inputs = _refs(config.get("input_layers"))
    outputs = {}  # layer name -> [output shape of each call]
    total = frozen = 0
    declared = []
    for i, layer in enumerate(layers):
        at = f"{where}.config.layers[{i}]"
        if not isinstance(layer, dict):
            raise _Uncountable(at, "not a layer config")
        name = layer.get("name", _config_of(layer).get("name"))
        if layer.get("class_name") == "InputLayer":
            own = _input_shape(layer, at)
            declared.append(own)
            given = shape if shape is not None and len(inputs) == 1 and inputs[0][0] == name else None
            outputs[name] = [tuple(given) if given is not None else own]
            continue
        nodes = layer.get("inbound_nodes") or []
        outputs[name] = calls = []  # filled call by call: a shared layer may take its own earlier output
        params = nt = 0
        for node in nodes:
            args = node.get("args") if isinstance(node, dict) else None
            op = _is_op(layer)
            history = _history((args if op else args[:1]) if isinstance(args, list) else [])
            try:
                shapes = [_tensor(outputs, h) for h in history]
            except (KeyError, IndexError, TypeError):
                raise _Uncountable(at, "a call on a tensor no earlier layer makes") from None
            if not shapes:
                raise _Uncountable(at, "a call without an input tensor")
            if op:
                if layer.get("class_name") not in _ELEMENTWISE_OPS:
                    raise _Uncountable(at, f"the operation {short(layer.get('class_name'))} is not one archbuilder "
                                           "can follow")
                calls.append(_broadcast(shapes, at))
                continue
            merged = isinstance(args[0], list)
            out, p, n = _counted(layer, shapes if merged else shapes[0], at, counted)
            calls.append(out)
            params, nt = max(params, p), max(nt, n)  # a shared layer has one set of weights
        if not nodes:
            raise _Uncountable(at, "a layer that is never called")
        total, frozen = total + params, frozen + nt
    # In `output_layers` (not in calls' arguments) Keras counts a nested Functional's own graph
    # as its node 0, so its calls are numbered from 1 there.
    functional = {layer.get("name") for layer in layers if layer.get("class_name") == "Functional"}
    try:
        out_shapes = [_tensor(outputs, (r[0], r[1] - (r[0] in functional), r[2]))
                      for r in _refs(config.get("output_layers"))]
    except (KeyError, IndexError, TypeError):
        raise _Uncountable(where, "output_layers names no layer of the model") from None
    counted[0] += len(layers)
    return ModelCount(total, frozen, declared, out_shapes, len(layers))


def _model(model, shape, where, counted):
    if model.get("class_name") == "Sequential":
        return _sequential(model, shape, where, counted)
    return _functional(model, shape, where, counted)


def count_model(config, input_shape=None, source="<model>"):
    """Counts what a model's `config.json` declares, without loading anything.

    Args:
        config: the parsed `config.json` (`read_model_config`).
        input_shape: the input it will be called on (no batch axis), if not its own.
        source: the file's name, for messages.

    Returns:
        A `ModelCount`: parameters (the larger of each layer's declared `build_config`
        and its place in the graph), the non-trainable part, input and output shapes,
        and the number of layers (nested models' included).

    Raises:
        ModelFileError: a layer whose size cannot be told (a class archbuilder does not
            know, a config it cannot read, shapes that do not fit).
    """
    if not isinstance(config, dict) or config.get("class_name") not in _MODELS:
        raise ModelFileError(source, "cannot count its parameters: config.json does not describe a Functional or "
                                     "Sequential model")
    counted = [0]
    try:
        result = _model(config, tuple(input_shape) if input_shape is not None else None, "$", counted)
    except _Uncountable as e:
        raise ModelFileError(source, f"refused: {e.where}: cannot count its parameters: {e}; archbuilder loads "
                                     "only models whose size it can check") from None
    except RecursionError:
        raise ModelFileError(source, "refused: models nested too deep to count") from None
    result.layers = counted[0]
    return result


def describe_shapes(shapes):
    """`28x28x1` (or `4, 8` for several), for messages about a model's inputs and outputs."""
    return ", ".join(fmt_shape(s) for s in shapes)
