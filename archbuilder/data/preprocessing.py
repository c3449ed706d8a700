"""Preprocessing: `input.shape`, scaling and standardization, fitted on the training split.

`fit_preprocessing` records every step in a JSON-able dict (`preprocessing.json`);
`apply` replays it on the training arrays. Saved models apply the same steps as Keras
layers at their input (`archbuilder.model.serving`): `input_contract` describes the raw
inputs such a model takes, and `conform_inputs` turns a user's array into them.
"""

import math

import numpy as np

from archbuilder.data.checks import check_finite
from archbuilder.data.checks import first
from archbuilder.errors import DataError
from archbuilder.text import shape as fmt_shape

__all__ = ["resolve_shape", "shape_error", "numpy_dtype", "apply", "fit_preprocessing",
           "raw_dtype", "input_contract", "identity_contract", "conform_inputs", "CONTRACT_FORMAT"]

CONTRACT_FORMAT = 1


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
    return check_cast(_apply(x, prep, source), name, source, " and scaled")


def check_cast(x, name, source, how=""):
    """`x`, refused in one line if the cast to its (float) dtype made any value infinite."""
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            index = first(bad)
            raise DataError(f"{name} holds {int(bad.sum())} value(s) that are infinite once cast to {x.dtype}{how} "
                            f"(over {float(np.finfo(x.dtype).max):.3g} in size); the first in sample {index[0]} "
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
        "raw_dtype": "uint8" if raw.x_train.dtype == np.uint8 and not integer else numpy_dtype(input_dtype).name,
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


# ---------------------------------------------------------------- the raw inputs of a saved model


def raw_dtype(prep):
    """The dtype a saved model's raw input takes: `uint8` for 8-bit data, else the model's input dtype.

    Files written by archbuilder 0.1.0 do not record it; float32 takes every value their
    float models were trained on (uint8 pixels included), token ids keep their dtype.
    """
    if prep.get("raw_dtype"):
        return prep["raw_dtype"]
    return numpy_dtype(prep["input_dtype"]).name


def input_contract(prep, task=None, code=None):
    """What a saved model takes and predicts, as a JSON-able dict (the config of its `InputContract` layer).

    Args:
        prep: `Dataset.preprocessing` (or `preprocessing.json` read back).
        task: `classification`, `regression`, `reconstruction` or `code` (an encoder); default `prep["task"]`.
        code: the name of an autoencoder's code layer, for the code sparsity of `evaluate`.

    Returns:
        `{"format", "task", "input": {"shape", "dtype"}, "trained_input": {"shape", "dtype"},
        "class_names", "one_hot", "features", "target", "image_size", "color_mode",
        "preprocessing": {"reshape", "rescale", "standardize"}, "code"}`. `input` is the raw
        sample (the training data's own shape, or `input.shape` with its open axes when the data
        needs no reshape); `trained_input` is what the trained graph takes (the training samples' shape).
    """
    shape, sample = [int(d) for d in prep["shape"]], [int(d) for d in prep["sample_shape"]]
    reshaped = sample != shape
    return {
        "format": CONTRACT_FORMAT,
        "task": task or prep.get("task"),
        "input": {"shape": sample if reshaped else list(prep["input_shape"]), "dtype": raw_dtype(prep)},
        "trained_input": {"shape": shape, "dtype": str(prep["input_dtype"])},
        "class_names": prep.get("class_names"),
        "one_hot": bool(prep.get("one_hot")),
        **{key: prep.get(key) for key in ("features", "target", "image_size", "color_mode")},
        "preprocessing": {"reshape": shape if reshaped else None, "rescale": float(prep["rescale"]),
                          "standardize": bool(prep.get("normalize"))},
        "code": code,
    }


def identity_contract(shape, dtype, task=None):
    """The contract of a model saved without archbuilder's preprocessing: inputs are fed as they are."""
    shape = [None if d is None else int(d) for d in shape]
    return {"format": CONTRACT_FORMAT, "task": task, "input": {"shape": shape, "dtype": str(dtype)},
            "trained_input": {"shape": shape, "dtype": str(dtype)}, "class_names": None, "one_hot": False,
            "features": None, "target": None, "image_size": None, "color_mode": None, "preprocessing": None,
            "code": None}


def _is_one_sample(x, contract):
    shape = contract["input"]["shape"]
    fits = x.ndim == len(shape) and all(d is None or d == n for d, n in zip(shape, x.shape))
    return fits or list(x.shape) == list(contract["trained_input"]["shape"])


def conform_inputs(x, contract, source=None):
    """A user's array as a saved model's raw input: a batch of the raw sample shape, in the raw dtype.

    Samples of the trained shape (or any shape with the same number of values) are
    reshaped; one sample becomes a batch of one. Nothing is scaled: the model does that.

    Args:
        x: an array of samples, or one sample.
        contract: the model's `input_contract`.
        source: the file name to use in errors.

    Returns:
        An array of shape `(N, *contract["input"]["shape"])` and the raw dtype.

    Raises:
        DataError: non-numeric or non-finite values, a shape that does not fit, or values
            the raw dtype cannot hold (fractions or values over 255 for uint8 pixels).
    """
    x = np.asarray(x)
    x = x.astype(np.uint8) if x.dtype.kind == "b" else x
    if x.dtype.kind not in "iuf":
        raise DataError(f"inputs hold {x.dtype} values; expected numbers", source)
    if x.ndim and _is_one_sample(x, contract):
        x = x[None]
    if x.ndim == 0 or len(x) == 0:
        raise DataError("no input samples", source)
    if x.dtype.kind == "f":
        check_finite(x, "inputs", source)
    pattern = tuple(contract["input"]["shape"])
    shape = resolve_shape(pattern, x.shape[1:])
    if shape is None:
        raise shape_error(x.shape[1:], pattern, source)
    x = x.reshape((len(x),) + shape)
    dtype = numpy_dtype(contract["input"]["dtype"])
    if dtype.kind in "iu":
        what = "uint8 values 0..255 (8-bit pixels)" if dtype == np.uint8 else f"integer token ids ({dtype.name})"
        if x.dtype.kind == "f" and not np.array_equal(x, np.round(x)):
            raise DataError(f"the model takes {what}; the inputs hold fractions", source)
        info = np.iinfo(dtype)
        low, high = x.min(), x.max()
        if low < info.min or high > info.max:
            raise DataError(f"the model takes {what}; the inputs hold values from {low:g} to {high:g}", source)
    return check_cast(x.astype(dtype), "inputs", source)
