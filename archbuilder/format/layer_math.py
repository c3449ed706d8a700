"""Output shape and parameters of one Keras layer, from its class name and constructor arguments.

Keras's own defaults apply to the arguments a layer leaves out (they are read here with
those defaults, as Keras's constructors would take them). The `custom` family plans its
layers with `layer_node`; the count of a saved model's config (`archbuilder.layers.model_file`)
walks its layers with it too; `layer_flops` counts its multiply-adds per sample
(`archbuilder.format.planner`'s rules). No backend is needed.
"""

import math
import re

from archbuilder.format.planner import positions
from archbuilder.format.planner import values
from archbuilder.format.shapes import ShapeError
from archbuilder.format.shapes import conv_output
from archbuilder.format.shapes import per_axis
from archbuilder.format.shapes import pool_output
from archbuilder.format.shapes import rnn_params
from archbuilder.text import shape as _fmt

__all__ = ["layer_node", "layer_flops"]

_SHAPE_PRESERVING = {
    "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Identity", "Masking", "Dropout", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "ActivityRegularization", "UnitNormalization",
}
_WEIGHTED = {"Dense", "PReLU", "SimpleRNN", "LSTM", "GRU", "BatchNormalization", "LayerNormalization",
             "GroupNormalization"}
_MERGE = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}


def _conv_like(layer, shape):
    kind = layer["type"]
    rank = len(shape) - 1
    kernel = per_axis(layer.get("kernel_size", 1), rank)
    strides = layer.get("strides", 1)
    padding = layer.get("padding", "valid")
    bias = layer.get("use_bias", True)
    if kind.startswith("Depthwise"):
        multiplier = layer.get("depth_multiplier", 1)
        channels = shape[-1] * multiplier
        out = conv_output(shape, channels, kernel, strides, padding, dilation=layer.get("dilation_rate", 1))
        return out, math.prod(kernel) * channels + channels * bias
    filters = layer["filters"]
    transpose = kind.endswith("Transpose")
    out = conv_output(shape, filters, kernel, strides, padding, transpose, layer.get("dilation_rate", 1))
    if kind.startswith("Separable"):
        multiplier = layer.get("depth_multiplier", 1)
        return out, math.prod(kernel) * shape[-1] * multiplier + shape[-1] * multiplier * filters + filters * bias
    groups = 1 if transpose else layer.get("groups", 1) or 1
    if shape[-1] % groups or filters % groups:
        raise ShapeError(f"groups={groups} must divide the {shape[-1]} input channels and the {filters} filters")
    return out, math.prod(kernel) * (shape[-1] // groups) * filters + filters * bias


def _reshape(target, shape):
    target = list(target)
    total = math.prod(s for s in shape) if None not in shape else None
    if -1 in target:
        known = math.prod(t for t in target if t != -1)
        if total is None or known == 0 or total % known:
            raise ShapeError(f"cannot reshape {_fmt(shape)} into {target}")
        target[target.index(-1)] = total // known
    elif total is not None and math.prod(target) != total:
        raise ShapeError(f"cannot reshape {_fmt(shape)} ({total} values) into {_fmt(target)}")
    return tuple(target)


def _merge(kind, layer, shapes):
    if not isinstance(shapes, list) or len(shapes) < 2:
        raise ShapeError(f"{kind} merges two or more inputs: give `inputs` a list of layer names")
    if kind == "Concatenate":
        if len({len(s) for s in shapes}) > 1:
            raise ShapeError("Concatenate needs inputs of one rank; got " + ", ".join(_fmt(s) for s in shapes))
        (axis,) = _axes(kind, layer.get("axis", -1), shapes[0])
        rest = {tuple(s[:axis] + s[axis + 1:]) for s in shapes}
        if len(rest) > 1:
            raise ShapeError(f"Concatenate needs equal shapes except on axis {layer.get('axis', -1)}; got "
                             + ", ".join(_fmt(s) for s in shapes))
        out = list(shapes[0])
        out[axis] = None if any(s[axis] is None for s in shapes) else sum(s[axis] for s in shapes)
        return tuple(out)
    if kind == "Dot":
        if len(shapes) != 2:
            raise ShapeError(f"Dot takes exactly two inputs; got {len(shapes)}")
        a, b = (tuple(s) for s in shapes)
        axes = layer["axes"] if isinstance(layer["axes"], list) else [layer["axes"]] * 2
        (i,), (j,) = _axes(kind, axes[0], a), _axes(kind, axes[1], b)
        if a[i] is not None and b[j] is not None and a[i] != b[j]:
            raise ShapeError(f"Dot axes {layer['axes']}: sizes {a[i]} and {b[j]} differ (inputs {_fmt(a)}, "
                             f"{_fmt(b)})")
        return (a[:i] + a[i + 1:] + b[:j] + b[j + 1:]) or (1,)
    if len({tuple(s) for s in shapes}) > 1:
        raise ShapeError(f"{kind} needs inputs of one shape; got " + ", ".join(_fmt(s) for s in shapes))
    return tuple(shapes[0])


def _axes(kind, axis, shape, many=False):
    """The indices into `shape` (batch axis excluded) of a Keras `axis` argument (batch axis included).

    Keras counts the batch axis: `axis=1` is the first axis of a sample, `-1` the last.
    """
    axes = axis if isinstance(axis, list) else [axis]
    if isinstance(axis, list) and not many:
        raise ShapeError(f"{kind} normalizes one axis: give axis an int, not {axis}")
    rank = len(shape)
    out = []
    for a in axes:
        if not -rank <= a <= rank or a == 0:
            raise ShapeError(f"{kind} axis {a} is not an axis of its input {_fmt(shape)} (valid: 1..{rank} or "
                             f"-{rank}..-1; axis 0 is the batch)")
        index = a - 1 if a > 0 else rank + a
        if index in out:
            raise ShapeError(f"{kind} axis {axis} names axis {a} twice")
        out.append(index)
    return out


def _normalization(kind, layer, shape):
    axes = _axes(kind, layer.get("axis", -1), shape, many=kind == "LayerNormalization")
    sizes = [shape[i] for i in axes]
    if None in sizes:
        raise ShapeError(f"{kind} has one weight per value of axis {layer.get('axis', -1)}: its size must be "
                         f"known; the input is {_fmt(shape)}")
    width = math.prod(sizes)
    if kind == "GroupNormalization" and width % layer.get("groups", 32):
        raise ShapeError(f"GroupNormalization groups={layer.get('groups', 32)} must divide the {width} channels "
                         "of its axis")
    trainable = width * (layer.get("center", True) + layer.get("scale", True))
    if kind == "BatchNormalization":
        return shape, trainable + 2 * width, 2 * width
    return shape, trainable, 0


def layer_node(layer, shape):
    """`(output shape, params, non-trainable params)` of one Keras layer.

    Args:
        layer: `{"type": Keras class name, **its constructor arguments}` (a custom-family
            layer, or a saved model's layer config); arguments left out take Keras's defaults.
        shape: the input shape without the batch axis (a list of shapes for merge layers).

    Raises:
        ShapeError: the layer cannot take that input, or is not one archbuilder can plan.
    """
    kind = layer["type"]
    if kind in _MERGE or kind in ("Concatenate", "Dot"):
        return _merge(kind, layer, shape), 0, 0
    if isinstance(shape, list):
        raise ShapeError(f"{kind} takes one input, not {len(shape)}")
    shape = tuple(shape)
    if shape[-1] is None and ((kind in _WEIGHTED and not kind.endswith("Normalization")) or "Conv" in kind):
        raise ShapeError(f"{kind} needs a known size on the last axis; its input is {_fmt(shape)}")
    spatial = re.search(r"([123])D", kind)
    if spatial and len(shape) != int(spatial[1]) + 1:
        raise ShapeError(f"{kind} takes inputs of {spatial[1]} spatial axes and channels; its input is {_fmt(shape)}")
    if kind in _SHAPE_PRESERVING:
        return shape, 0, 0
    if kind == "Dense":
        bias = layer.get("use_bias", True)
        return (*shape[:-1], layer["units"]), shape[-1] * layer["units"] + layer["units"] * bias, 0
    if kind == "PReLU":
        shared = layer.get("shared_axes") or []
        shared = [shared] if isinstance(shared, int) else shared
        sizes = [1 if i + 1 in shared else s for i, s in enumerate(shape)]
        if None in sizes:
            raise ShapeError(f"PReLU has one weight per input value: its input {_fmt(shape)} needs known sizes, "
                             "or shared_axes for the unknown ones")
        return shape, math.prod(sizes), 0
    if kind == "Embedding":
        return (*shape, layer["output_dim"]), layer["input_dim"] * layer["output_dim"], 0
    if "Conv" in kind:
        out, params = _conv_like(layer, shape)
        return out, params, 0
    if kind.startswith(("MaxPooling", "AveragePooling")):
        size = layer.get("pool_size", 2)
        return pool_output(shape, size, layer.get("strides") or size, layer.get("padding", "valid")), 0, 0
    if kind.startswith("Global"):
        keep = layer.get("keepdims", False)
        return ((1,) * (len(shape) - 1) + shape[-1:]) if keep else shape[-1:], 0, 0
    if kind in ("SimpleRNN", "LSTM", "GRU"):
        units = layer["units"]
        cell = {"SimpleRNN": "simple"}.get(kind, kind.lower())
        params = rnn_params(cell, shape[-1], units, layer.get("use_bias", True), layer.get("reset_after", True))
        return ((shape[0], units) if layer.get("return_sequences") else (units,)), params, 0
    if kind in ("BatchNormalization", "LayerNormalization", "GroupNormalization"):
        return _normalization(kind, layer, shape)
    if kind == "Flatten":
        if None in shape:
            raise ShapeError(f"Flatten needs fixed sizes, got {_fmt(shape)}")
        return (math.prod(shape),), 0, 0
    if kind == "Reshape":
        return _reshape(layer["target_shape"], shape), 0, 0
    if kind == "Permute":
        if sorted(layer["dims"]) != list(range(1, len(shape) + 1)):
            raise ShapeError(f"Permute dims {layer['dims']} must order the axes 1..{len(shape)} of its input "
                             f"{_fmt(shape)}")
        return tuple(shape[d - 1] for d in layer["dims"]), 0, 0
    if kind == "RepeatVector":
        return (layer["n"], *shape), 0, 0
    if kind.startswith("UpSampling"):
        sizes = per_axis(layer.get("size", 2), len(shape) - 1)
        return (*(None if s is None else s * k for s, k in zip(shape[:-1], sizes)), shape[-1]), 0, 0
    if kind.startswith(("ZeroPadding", "Cropping")):
        rank = len(shape) - 1
        amount = layer.get("padding" if kind.startswith("Zero") else "cropping", 1 if kind.startswith("Zero") else 0)
        pairs = [(a, a) if isinstance(a, int) else tuple(a) for a in per_axis(amount, rank)]
        sign = 1 if kind.startswith("Zero") else -1
        sides = [None if s is None else s + sign * sum(p) for s, p in zip(shape[:-1], pairs)]
        if any(s is not None and s < 1 for s in sides):
            raise ShapeError(f"cropping {amount} leaves nothing of {_fmt(shape[:-1])}")
        return (*sides, shape[-1]), 0, 0
    raise ShapeError(f"archbuilder cannot plan a {kind} layer")


def layer_flops(layer, shape, out, params):
    """`(multiply-adds per sample, estimated)` of one planned layer (see `archbuilder.format.planner`)."""
    kind = layer["type"]
    if isinstance(shape, list):
        if kind != "Dot":
            return 0, False
        a = tuple(shape[0])
        axes = layer["axes"] if isinstance(layer["axes"], list) else [layer["axes"]] * 2
        (i,) = _axes(kind, axes[0], a)
        return values(out) * (a[i] or 1), a[i] is None or None in out
    estimated = None in shape
    if kind == "Dense":
        return positions(out) * shape[-1] * layer["units"], estimated
    if "Conv" in kind:
        weights = params - out[-1] * layer.get("use_bias", True)  # one bias per output channel
        return positions(shape if kind.endswith("Transpose") else out) * weights, estimated
    if kind in ("SimpleRNN", "LSTM", "GRU"):
        cell = {"SimpleRNN": "simple"}.get(kind, kind.lower())
        return rnn_params(cell, shape[-1], layer["units"], use_bias=False) * (shape[0] or 1), estimated
    if kind in ("BatchNormalization", "LayerNormalization", "GroupNormalization", "PReLU"):
        return values(shape), estimated
    return 0, False
