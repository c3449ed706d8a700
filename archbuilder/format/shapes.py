"""Shape and parameter arithmetic of single Keras layers, as Keras computes them."""

from archbuilder.text import shape as _fmt

__all__ = ["ShapeError", "per_axis", "conv_output", "pool_output", "rnn_params"]


class ShapeError(ValueError):
    """A layer that cannot be applied to its input shape."""


def per_axis(value, rank, strict=True):
    """One value per spatial axis: a list as it is, a single value repeated `rank` times.

    Raises:
        ShapeError: with `strict`, a list whose length is not `rank`.
    """
    values = list(value) if isinstance(value, (list, tuple)) else [value] * rank
    if strict and len(values) != rank:
        raise ShapeError(f"{values} has {len(values)} values; the input has {rank} spatial axes")
    return values


def _length(size, kernel, stride, padding, dilation=1):
    if size is None:
        return None
    kernel = (kernel - 1) * dilation + 1
    if padding in ("same", "causal"):
        return -(-size // stride)
    return (size - kernel) // stride + 1 if size >= kernel else 0


def _transposed_length(size, kernel, stride, padding):
    if size is None:
        return None
    return size * stride if padding == "same" else size * stride + max(kernel - stride, 0)


def conv_output(shape, filters, kernel_size, strides, padding, transpose=False, dilation=1):
    """Output shape of a ConvND / ConvNDTranspose; ShapeError when a side reaches 0."""
    rank = len(shape) - 1
    kernels, strides_ = per_axis(kernel_size, rank), per_axis(strides, rank)
    dilations = per_axis(dilation, rank)
    if transpose:
        sides = [_transposed_length(s, k, st, padding) for s, k, st in zip(shape[:-1], kernels, strides_)]
    else:
        sides = [_length(s, k, st, padding, d) for s, k, st, d in zip(shape[:-1], kernels, strides_, dilations)]
    out = (*sides, filters)
    if 0 in sides:
        raise ShapeError(f"kernel {_fmt(kernels)} with padding '{padding}' would shrink the "
                         f"{_fmt(shape[:-1])} feature map to {_fmt(sides)}")
    return out


def pool_output(shape, size, strides, padding):
    """Output shape of a pooling layer; ShapeError when a side reaches 0."""
    rank = len(shape) - 1
    sizes, strides_ = per_axis(size, rank), per_axis(strides if strides is not None else size, rank)
    sides = [_length(s, k, st, padding) for s, k, st in zip(shape[:-1], sizes, strides_)]
    if 0 in sides:
        raise ShapeError(f"pooling {_fmt(sizes)} would shrink the {_fmt(shape[:-1])} feature map to "
                         f"{_fmt(sides)}")
    return (*sides, shape[-1])


def rnn_params(cell, inputs, units, use_bias=True, reset_after=True):
    gates = {"simple": 1, "lstm": 4, "gru": 3}[cell.lower()]
    bias = units * gates * (2 if cell.lower() == "gru" and reset_after else 1) * use_bias
    return gates * units * (inputs + units) + bias
