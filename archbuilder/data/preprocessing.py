"""Preprocessing: `input.shape`, scaling and standardization, fitted on the training split.

`fit_preprocessing` records every step in a JSON-able dict (`preprocessing.json`);
`apply_preprocessing` replays it, so `evaluate` and `predict` see inputs exactly as
training did.
"""

import math

import numpy as np

from archbuilder.data.checks import check_finite
from archbuilder.data.checks import first
from archbuilder.errors import DataError
from archbuilder.text import shape as fmt_shape

__all__ = ["resolve_shape", "shape_error", "numpy_dtype", "apply", "apply_preprocessing", "fit_preprocessing"]


def resolve_shape(pattern, sample_shape):
    """Returns the concrete sample shape for the `input.shape` `pattern`, or None.

    The samples' own shape is kept when it fits the pattern (same rank, equal
    known axes); else the values are reshaped when their count matches, one
    `None` axis taking what is left.
    """
    sample_shape = tuple(int(d) for d in sample_shape)
    if len(sample_shape) == len(pattern) and all(p in (None, d) for p, d in zip(pattern, sample_shape)):
        return sample_shape
    values = math.prod(sample_shape)
    known = math.prod(d for d in pattern if d is not None)
    unknown = pattern.count(None)
    if unknown == 0:
        return tuple(pattern) if known == values else None
    if unknown > 1 or known == 0 or values == 0 or values % known:
        return None
    return tuple(values // known if d is None else d for d in pattern)


def shape_error(sample_shape, pattern, source):
    need = "" if None in pattern else f" ({math.prod(pattern)} values)"
    return DataError(
        f"samples of shape {fmt_shape(sample_shape)} ({math.prod(sample_shape)} values) do not fit "
        f"input.shape {fmt_shape(pattern)}{need}; change input.shape or the data",
        source,
    )



def numpy_dtype(name):
    try:
        return np.dtype(name)
    except TypeError:  # e.g. bfloat16: the model casts; the arrays stay float32
        return np.dtype(np.float32)


def apply(x, prep, source, name="inputs"):
    """`x` reshaped, scaled and cast as `prep` says; its values checked finite after the cast.

    A float64 value such as 1e300 is finite, but not once cast to float32 (or scaled):
    the check runs on what the model will see.
    """
    x = _apply(x, prep, source)
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            index = first(bad)
            raise DataError(f"{name} holds {int(bad.sum())} value(s) that are infinite once cast to {x.dtype} and "
                            f"scaled (over {float(np.finfo(x.dtype).max):.3g} in size); the first in sample {index[0]} "
                            f"at index {list(index)}; rescale the data", source)
    return x


def _apply(x, prep, source):
    pattern = tuple(prep["input_shape"])
    shape = resolve_shape(pattern, x.shape[1:])
    if shape is None:
        raise shape_error(x.shape[1:], pattern, source)
    x = x.reshape((len(x),) + shape)
    dtype = numpy_dtype(prep["input_dtype"])
    if dtype.kind in "iu":
        if x.dtype.kind == "f" and not np.array_equal(x, np.round(x)):
            raise DataError(f"input.dtype is {dtype.name}: inputs must be integer token ids", source)
        return x.astype(dtype)
    x = x.astype(np.float32)
    if prep["rescale"] != 1.0:
        x *= np.float32(prep["rescale"])
    if prep["normalize"]:
        x -= np.asarray(prep["normalize"]["mean"], np.float32)
        x /= np.asarray(prep["normalize"]["std"], np.float32)
    return x.astype(dtype, copy=False)


def apply_preprocessing(x, preprocessing, source=None):
    """Reshapes, rescales and normalizes raw inputs exactly as training did.

    Args:
        x: a batch of raw samples, or one sample (its shape equal to the
            training samples' raw or final shape).
        preprocessing: `Dataset.preprocessing` (or `preprocessing.json` read back).
        source: the file name to use in errors.

    Returns:
        A new array of shape `(N, *input.shape)` and the input's dtype.

    Raises:
        DataError: non-numeric or non-finite values, or a shape that does not fit.
    """
    source = source or preprocessing.get("source")
    x = np.asarray(x)
    x = x.astype(np.uint8) if x.dtype.kind == "b" else x
    if x.dtype.kind not in "iuf":
        raise DataError(f"inputs hold {x.dtype} values; expected numbers", source)
    if x.shape in (tuple(preprocessing["shape"]), tuple(preprocessing["sample_shape"])):
        x = x[None]
    if x.ndim == 0 or len(x) == 0:
        raise DataError("no input samples", source)
    if x.dtype.kind == "f":
        check_finite(x, "inputs", source)
    return apply(x, preprocessing, source)


def fit_preprocessing(raw, spec, pattern, input_dtype, task, one_hot):
    shape = resolve_shape(pattern, raw.x_train.shape[1:])
    if shape is None:
        raise shape_error(raw.x_train.shape[1:], pattern, raw.source)
    integer = numpy_dtype(input_dtype).kind in "iu"
    if integer and (spec.get("normalize") or "rescale" in spec):
        message = f'"normalize" and "rescale" apply to float inputs; input.dtype {input_dtype}'
        raise DataError(f"{message} takes token ids as they are", raw.source)
    auto = 1 / 255 if raw.x_train.dtype == np.uint8 else 1.0
    class_names = raw.class_names if task != "regression" and raw.y_train is not None else None
    prep = {
        "version": 1,
        "source": raw.source,
        "task": task,
        "input_shape": list(pattern),
        "input_dtype": str(input_dtype),
        "sample_shape": [int(d) for d in raw.x_train.shape[1:]],
        "shape": list(shape),
        "rescale": 1.0 if integer else float(spec.get("rescale", auto)),
        "normalize": None,
        "class_names": list(class_names) if class_names else None,
        "one_hot": bool(one_hot),
        **{k: raw.info.get(k) for k in ("features", "target", "image_size", "color_mode")},
    }
    if spec.get("normalize"):
        x = apply(raw.x_train, prep, raw.source, "x_train")
        flat = x.reshape(-1, x.shape[-1])
        mean = flat.mean(axis=0, dtype=np.float64)
        std = flat.std(axis=0, dtype=np.float64)
        std[std == 0] = 1.0  # constant features are centred, never divided by 0
        prep["normalize"] = {
            "axis": -1,
            "mean": [float(v) for v in mean.astype(np.float32)],
            "std": [float(v) for v in std.astype(np.float32)],
        }
    return prep
