"""Training data: a spec's `data` value -> arrays ready for the model (design.md section 4).

`load_data` reads a source (`archbuilder.datasets`), checks it, splits it,
scales and reshapes it to `input.shape`, and records every step in a JSON-able
`preprocessing` dict. `apply_preprocessing` replays that dict, so `evaluate`
and `predict` see inputs exactly as training did; `load_inputs` reads a file
for `predict`.

Example:

```python
data = load_data("mnist1d", [40, 1], output_units=10)
data.x_train.shape  # (4000, 40, 1)
```
"""

import dataclasses
import json
import math
import os
from pathlib import Path

import numpy as np

from archbuilder import datasets
from archbuilder.datasets import did_you_mean
from archbuilder.errors import DataError

__all__ = ["Dataset", "load_data", "parse_data", "apply_preprocessing", "load_inputs"]

TASKS = ("classification", "regression", "reconstruction")
DEFAULT_TEST_SPLIT = 0.2
DEFAULT_SEED = 42
ARRAY_KEYS = ("x", "y", "x_test", "y_test", "x_val", "y_val")
DATA_KEYS = (
    ("dataset", "path") + ARRAY_KEYS
    + ("target", "features", "image_size", "color_mode")
    + ("test_split", "normalize", "rescale", "max_samples", "seed")
)  # fmt: skip
_PATH_SUFFIXES = (".npz", ".npy", ".csv", ".tsv") + datasets.IMAGE_EXTENSIONS
_SPLITS = ("train", "val", "test")


@dataclasses.dataclass
class Dataset:
    """Arrays ready for `fit`, `evaluate` and `predict`.

    `y_*` are None for an autoencoder's data without labels (the targets are
    the inputs); `x_val`/`y_val` are None unless the source has a validation
    set. `one_hot` tells that labels are one-hot rows (categorical losses).
    `preprocessing` is what `preprocessing.json` stores.
    """

    x_train: np.ndarray
    y_train: np.ndarray = None
    x_val: np.ndarray = None
    y_val: np.ndarray = None
    x_test: np.ndarray = None
    y_test: np.ndarray = None
    class_names: list = None
    one_hot: bool = False
    preprocessing: dict = dataclasses.field(default_factory=dict)
    source: str = ""

    @property
    def num_classes(self):
        return len(self.class_names) if self.class_names else None


# ---------------------------------------------------------------- the `data` value


def parse_data(data, base_dir=None):
    """Normalizes a `data` value into a dict with its paths resolved.

    Args:
        data: a dict (the spec's `data`), a str (`--data`: JSON when it starts
            with `{`, else a path when one exists, else a dataset name) or a path.
        base_dir: folder that relative paths inside a dict are relative to
            (the spec file's folder); None: the working directory.

    Returns:
        `(spec, where)`: the dict, and how errors name it (`$.data` or `--data`).

    Raises:
        DataError: invalid JSON, unknown keys, wrong types, missing files.
    """
    where = "$.data"
    if data is None:
        raise DataError('no data: set "data" in the spec or pass --data (e.g. --data mnist1d)', where)
    if isinstance(data, os.PathLike):
        data, base_dir = {"path": os.fspath(data)}, None
    elif isinstance(data, str):
        where, text = "--data", data.strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                message = f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
                raise DataError(message, where) from None
        elif text and os.path.exists(text):
            data, base_dir = {"path": text}, None
        elif not text or os.sep in text or "/" in text or text.lower().endswith(_PATH_SUFFIXES):
            raise DataError("no such file or folder", text or where)
        else:
            data = {"dataset": text}
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise DataError(f"expected an object, a path or a dataset name; got {kind}", where)
    spec = dict(data)
    for key in spec:
        if key not in DATA_KEYS:
            raise DataError(f"unknown key '{key}'{did_you_mean(key, DATA_KEYS)}", where)
    sources = [k for k in ("dataset", "path") if k in spec]
    sources += ["x"] if "x" in spec and "path" not in spec else []
    if len(sources) != 1:
        what = "only one of" if sources else "one of"
        raise DataError(f'needs {what} "dataset", "path", or "x" and "y" (.npy files)', where)
    _check_types(spec, where)
    for key in ("path",) if "path" in spec else ARRAY_KEYS:
        if key in spec and base_dir is not None and not os.path.isabs(spec[key]):
            spec[key] = os.path.normpath(os.path.join(base_dir, spec[key]))
    return spec, where


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_TYPES = {
    "test_split": (lambda v: _is_number(v) and 0 < v < 1, "a number between 0 and 1 (exclusive)"),
    "normalize": (lambda v: isinstance(v, bool), "true or false"),
    "rescale": (lambda v: _is_number(v) and v > 0, "a positive number, the factor inputs are multiplied by"),
    "max_samples": (lambda v: _is_int(v) and v > 0, "a positive integer"),
    "seed": (lambda v: _is_int(v) and v >= 0, "a non-negative integer"),
    "features": (
        lambda v: isinstance(v, list) and v and all(isinstance(c, str) for c in v),
        "a non-empty list of column names",
    ),
    "image_size": (
        lambda v: isinstance(v, list) and len(v) == 2 and all(_is_int(d) and d > 0 for d in v),
        "[height, width] in pixels",
    ),
    "color_mode": (lambda v: v in datasets.COLOR_MODES, '"grayscale", "rgb" or "rgba"'),
}


def _check_types(spec, where):
    if _is_int(spec.get("image_size")):
        spec["image_size"] = [spec["image_size"]] * 2
    for key, value in spec.items():
        valid, expected = _TYPES.get(key, (lambda v: isinstance(v, str) and v, "a non-empty string"))
        if not valid(value):
            try:
                shown = json.dumps(value)
            except (TypeError, ValueError):
                shown = repr(value)
            raise DataError(f'"{key}" must be {expected}; got {shown}', where)


# ---------------------------------------------------------------- reading


def _image_options(spec, shape, source):
    """The image size and color mode: from `data`, else from `input.shape`."""
    size = spec.get("image_size")
    if size is None:
        if len(shape) not in (2, 3) or not all(isinstance(d, int) for d in shape[:2]):
            message = f'needs "image_size": [height, width]; input.shape {_fmt(shape)} does not give it'
            raise DataError(message, source)
        size = list(shape[:2])
    mode = spec.get("color_mode")
    if mode is None:
        channels = shape[-1] if len(shape) == 3 else 1 if len(shape) == 2 else None
        if len(shape) == 1 and shape[0] and shape[0] % (size[0] * size[1]) == 0:
            channels = shape[0] // (size[0] * size[1])
        mode = {1: "grayscale", 3: "rgb", 4: "rgba"}.get(channels, "rgb")
    return size, mode


def _read_source(spec, shape, task):
    need_y = task != "reconstruction"
    path = spec.get("path", spec.get("x"))
    source = spec.get("dataset", path)
    suffix = Path(path).suffix.lower() if path else ""
    is_csv, is_images = suffix in (".csv", ".tsv"), bool(path) and os.path.isdir(path)
    for key, applies, what in (
        ("target", is_csv, "CSV files"),
        ("features", is_csv, "CSV files"),
        ("image_size", is_images, "image folders"),
        ("color_mode", is_images, "image folders"),
    ):
        if key in spec and not applies:
            raise DataError(f'"{key}" applies to {what} only', source)
    if "dataset" in spec:
        return datasets.load_dataset(spec["dataset"])
    if not os.path.exists(path):
        raise DataError("no such file or folder", source)
    if is_images:
        size, mode = _image_options(spec, shape, source)
        return datasets.read_image_folder(path, source, size, mode, need_labels=need_y)
    if is_csv:
        return datasets.read_csv(path, source, spec.get("target"), spec.get("features"), need_target=need_y)
    if suffix == ".npz":
        names = {k: spec[k] for k in ARRAY_KEYS if k in spec}
        return datasets.read_npz(path, source, names, need_y=need_y)
    if suffix == ".npy":
        raw = datasets.RawData(source, datasets.read_npy(path, source))
        for key in ARRAY_KEYS[1:]:
            if key in spec:
                if not os.path.exists(spec[key]):
                    raise DataError("no such file or folder", spec[key])
                setattr(raw, "y_train" if key == "y" else key, datasets.read_npy(spec[key], spec[key]))
        if need_y and raw.y_train is None:
            message = 'no labels: name the label file with "y", e.g. {"x": "x.npy", "y": "y.npy"}'
            raise DataError(message, source)
        return raw
    kind = suffix or Path(path).name
    raise DataError(f"unsupported file type '{kind}'; expected .npz, .npy, .csv or an image folder", source)


# ---------------------------------------------------------------- checks and shapes


def _fmt(shape):
    return "[" + ", ".join("None" if d is None else str(d) for d in shape) + "]"


def _first(mask):
    """The index (a tuple) of the first true entry of `mask`."""
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def _check_finite(x, name, source):
    bad = ~np.isfinite(x)
    if bad.any():
        index = _first(bad)
        raise DataError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s); "
            f"the first in sample {index[0]} at index {list(index)}",
            source,
        )


def _check_inputs(raw, need_y):
    for split in _SPLITS:
        x, y = getattr(raw, "x_" + split), getattr(raw, "y_" + split)
        if x is None:
            continue
        x = np.asarray(x)
        x = x.astype(np.uint8) if x.dtype.kind == "b" else x
        if x.dtype.kind not in "iuf":
            raise DataError(f"x_{split} holds {x.dtype} values; expected numbers", raw.source)
        if x.ndim == 0 or len(x) == 0:
            raise DataError(f"x_{split} has no samples", raw.source)
        if x.dtype.kind == "f":
            _check_finite(x, "x_" + split, raw.source)
        if y is not None:
            y = np.asarray(y)
            if y.ndim == 0 or len(y) != len(x):
                count = len(y) if y.ndim else "no"
                message = f"x_{split} has {len(x)} samples but y_{split} has {count} labels"
                raise DataError(message, raw.source)
        elif need_y:
            raise DataError(f"no labels for x_{split}", raw.source)
        setattr(raw, "x_" + split, x)
        setattr(raw, "y_" + split, y)


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


def _shape_error(sample_shape, pattern, source):
    need = "" if None in pattern else f" ({math.prod(pattern)} values)"
    return DataError(
        f"samples of shape {_fmt(sample_shape)} ({math.prod(sample_shape)} values) do not fit "
        f"input.shape {_fmt(pattern)}{need}; change input.shape or the data",
        source,
    )


# ---------------------------------------------------------------- splitting


def _take(raw, split, index):
    for name in ("x_" + split, "y_" + split):
        if getattr(raw, name) is not None:
            setattr(raw, name, getattr(raw, name)[index])


def _split(raw, spec, rng, validation_split):
    source = raw.source
    if raw.x_test is None:
        test_split = spec.get("test_split", DEFAULT_TEST_SPLIT)
        total = len(raw.x_train)

        def n_test(n):
            return int(math.floor(n * test_split + 0.5))

        if n_test(total) < 1 or total - n_test(total) < 2:
            need = next((n for n in range(3, 10**6) if n_test(n) >= 1 and n - n_test(n) >= 2), None)
            raise DataError(
                f"{total} samples are too few for test_split {test_split}: it leaves {n_test(total)} test "
                f"and {total - n_test(total)} training samples; need at least {need} samples",
                source,
            )
        order = rng.permutation(total)
        raw.x_test, raw.y_test = raw.x_train, raw.y_train
        _take(raw, "test", order[: n_test(total)])
        _take(raw, "train", order[n_test(total) :])
    elif raw.sorted_by_class:
        # Keras's validation_split takes the last samples unshuffled: never hand it one class.
        _take(raw, "train", rng.permutation(len(raw.x_train)))
    for split in _SPLITS:
        x = getattr(raw, "x_" + split)
        if "max_samples" in spec and x is not None and len(x) > spec["max_samples"]:
            _take(raw, split, np.sort(rng.choice(len(x), spec["max_samples"], replace=False)))
    n_train = len(raw.x_train)
    if n_train < 2:
        raise DataError(f"{n_train} training sample is too few; need at least 2", source)
    if raw.x_val is None and validation_split:
        split_at = int(math.floor(n_train * (1.0 - validation_split)))  # as keras.Model.fit does
        if split_at in (0, n_train):
            raise DataError(
                f"{n_train} training samples are too few for validation_split {validation_split}: "
                f"it leaves {split_at} training and {n_train - split_at} validation samples",
                source,
            )


# ---------------------------------------------------------------- labels


def _class_ids(y, name, output_units, class_names, source):
    if y.dtype.kind == "f" and not np.array_equal(y, np.round(y)):
        index = _first(y != np.round(y))
        raise DataError(
            f"class labels must be integers; {name} holds {y[index]} (sample {index[0]}); "
            "for real-valued targets use a linear output (regression)",
            source,
        )
    y = y.astype(np.int64)
    units = output_units or 0
    bad = (y < 0) | (y >= max(units, 2)) if units else y < 0
    if bad.any():
        if class_names and len(class_names) > units:
            shown = ", ".join(class_names[:5]) + (", ..." if len(class_names) > 5 else "")
            raise DataError(
                f"{len(class_names)} classes ({shown}) but the output has {units} unit(s); "
                f"set the output units to {len(class_names)}",
                source,
            )
        index = _first(bad)
        need = {0: "non-negative class ids", 1: "0 or 1 (one sigmoid unit)"}.get(units, f"0..{units - 1}")
        raise DataError(
            f"label {y[index]} (sample {index[0]} of {name}) is out of range for {units} output unit(s); "
            f"labels must be {need}",
            source,
        )
    return y.astype(np.int32)


def _class_labels(y, name, output_units, base_rank, class_names, source):
    """Checks one split's class labels; returns (labels, rows_are_one_hot)."""
    if y.dtype.kind == "f":
        _check_finite(y, name, source)
    if y.ndim == base_rank + 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.ndim == base_rank:
        return _class_ids(y, name, output_units, class_names, source), False
    if y.ndim != base_rank + 1:
        expected = "[N] class ids or [N, units] one-hot rows"
        expected = "[N, steps] class ids (one per step)" if base_rank == 2 else expected
        raise DataError(f"{name} has shape {list(y.shape)}; expected {expected}", source)
    if output_units is not None and y.shape[-1] != output_units:
        message = f"{name} has {y.shape[-1]} label columns (one-hot rows) for {output_units} output units"
        raise DataError(message, source)
    if y.min() < 0 or y.max() > 1:
        raise DataError(f"{name} has label rows with values outside [0, 1]", source)
    one_hot = bool(np.allclose(y.sum(axis=-1), 1.0, atol=1e-3))
    if not one_hot and not np.isin(y, (0, 1)).all():
        raise DataError(f"{name} rows are neither one-hot (summing to 1) nor multi-hot (0/1)", source)
    return y.astype(np.float32), one_hot


def _prepare_labels(raw, task, output_units, sequence_labels):
    """Checks and converts the labels of every split in place; returns `one_hot`."""
    source = raw.source
    ys = {s: getattr(raw, "y_" + s) for s in _SPLITS}
    ys = {s: np.asarray(y) for s, y in ys.items() if y is not None}
    if any(y.dtype.kind in "US" for y in ys.values()):
        raw.class_names = sorted(set().union(*(y.astype(str).ravel().tolist() for y in ys.values())))
        ys = {s: np.searchsorted(np.array(raw.class_names), y.astype(str)) for s, y in ys.items()}
        raw.text_labels = True
    for s, y in ys.items():
        ys[s] = y = y.astype(np.int32) if y.dtype.kind == "b" else y
        if y.dtype.kind not in "iuf":
            raise DataError(f"y_{s} holds {y.dtype} values; expected numbers", source)
    one_hot = False
    if task == "regression":
        if raw.text_labels:
            target = f"target '{raw.info['target']}'" if raw.info.get("target") else "labels"
            raise DataError(f"{target} holds text; regression needs numbers", source)
        for s, y in ys.items():
            ys[s] = y = y.astype(np.float32)
            _check_finite(y, "y_" + s, source)
            width = math.prod(y.shape[1:])
            if output_units is not None and width != output_units and not sequence_labels:
                message = f"y_{s} has {width} target value(s) per sample but the output has"
                raise DataError(f"{message} {output_units} unit(s)", source)
    elif task == "reconstruction" and output_units is None:
        # Labels ride along (plots, an autoencoder's head); nothing to check them against.
        ys = {s: y.astype(np.int32) if y.dtype.kind in "iu" else y for s, y in ys.items()}
    else:
        base_rank = 2 if sequence_labels else 1
        kinds = set()
        for s, y in ys.items():
            ys[s], one_hot = _class_labels(y, "y_" + s, output_units, base_rank, raw.class_names, source)
            kinds.add((ys[s].ndim > base_rank, one_hot))
        if len(kinds) > 1:
            raise DataError("label formats differ between splits (one-hot in one, class ids in another)", source)
    for s, y in ys.items():
        setattr(raw, "y_" + s, y)
    return one_hot


# ---------------------------------------------------------------- preprocessing


def _numpy_dtype(name):
    try:
        return np.dtype(name)
    except TypeError:  # e.g. bfloat16: the model casts; the arrays stay float32
        return np.dtype(np.float32)


def _apply(x, prep, source):
    pattern = tuple(prep["input_shape"])
    shape = resolve_shape(pattern, x.shape[1:])
    if shape is None:
        raise _shape_error(x.shape[1:], pattern, source)
    x = x.reshape((len(x),) + shape)
    dtype = _numpy_dtype(prep["input_dtype"])
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
        _check_finite(x, "inputs", source)
    return _apply(x, preprocessing, source)


def _fit_preprocessing(raw, spec, pattern, input_dtype, task, one_hot):
    shape = resolve_shape(pattern, raw.x_train.shape[1:])
    if shape is None:
        raise _shape_error(raw.x_train.shape[1:], pattern, raw.source)
    integer = _numpy_dtype(input_dtype).kind in "iu"
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
        x = _apply(raw.x_train, prep, raw.source)
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


# ---------------------------------------------------------------- entry points


def load_data(
    data,
    input_shape,
    *,
    input_dtype="float32",
    base_dir=None,
    output_units=None,
    task="classification",
    sequence_labels=False,
    seed=DEFAULT_SEED,
    validation_split=None,
):
    """Reads, checks, splits, scales and reshapes training data.

    Args:
        data: the spec's `data`, or `--data` (see `parse_data`).
        input_shape: `input.shape`, one int or None per axis (no batch axis).
        input_dtype: `input.dtype`; integer dtypes (token ids) are never scaled.
        base_dir: the spec file's folder; relative paths in a dict are relative to it.
        output_units: the output layer's units (an autoencoder's head units)
            to check the labels against; None skips the range check.
        task: `"classification"`, `"regression"` or `"reconstruction"`.
        sequence_labels: labels carry a time axis (RNN with `return_sequences`).
        seed: seed of the test split and subsampling (`data.seed` overrides it).
        validation_split: when given and the source has no validation set,
            checks that `fit(validation_split=...)` leaves samples on both sides.

    Returns:
        A `Dataset`.

    Raises:
        DataError: one line naming the file or dataset and the problem.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; received: task={task!r}")
    pattern = tuple(None if d is None else int(d) for d in input_shape)
    spec, _ = parse_data(data, base_dir)
    raw = _read_source(spec, pattern, task)
    _check_inputs(raw, need_y=task != "reconstruction")
    one_hot = _prepare_labels(raw, task, output_units, sequence_labels)  # sample indices as in the file
    _split(raw, spec, np.random.default_rng(spec.get("seed", seed)), validation_split)
    prep = _fit_preprocessing(raw, spec, pattern, input_dtype, task, one_hot)
    x = {s: getattr(raw, "x_" + s) for s in _SPLITS}
    x = {s: None if v is None else _apply(v, prep, raw.source) for s, v in x.items()}
    return Dataset(
        x_train=x["train"], y_train=raw.y_train, x_val=x["val"], y_val=raw.y_val,
        x_test=x["test"], y_test=raw.y_test, class_names=prep["class_names"],
        one_hot=prep["one_hot"], preprocessing=prep, source=raw.source,
    )  # fmt: skip


def load_inputs(path, preprocessing, *, return_ids=False):
    """Reads inputs for `predict` and preprocesses them as at training.

    Reads a `.npy` array, a `.npz` archive (its `x`, else `x_test`, else its
    only array), a `.csv` (the training feature columns by name, else every
    column), an image file or a folder of images (searched recursively).

    Returns:
        The array; with `return_ids`, `(array, ids)` where ids are the image
        file names (relative to the folder) or None.

    Raises:
        DataError: one line naming the file and the problem.
    """
    source = os.fspath(path)
    path = Path(path)
    if not path.exists():
        raise DataError("no such file or folder", source)
    suffix, ids = path.suffix.lower(), None
    if path.is_dir() or suffix in datasets.IMAGE_EXTENSIONS:
        size, mode = preprocessing.get("image_size"), preprocessing.get("color_mode")
        if size is None:
            size, mode = _image_options({}, tuple(preprocessing["shape"]), source)
        files = [path] if path.is_file() else datasets.list_images(path)
        if not files:
            raise DataError("no images found", source)
        x = datasets.read_images(files, size, mode)
        ids = [f.name if path.is_file() else f.relative_to(path).as_posix() for f in files]
    elif suffix == ".npy":
        x = datasets.read_npy(path, source)
    elif suffix == ".npz":
        x = datasets.read_npz_inputs(path, source)
    elif suffix in (".csv", ".tsv"):
        x = datasets.read_csv(path, source, None, preprocessing.get("features"), need_target=False).x_train
    else:
        expected = ".npy, .npz, .csv, an image or an image folder"
        raise DataError(f"unsupported file type '{suffix or path.name}'; expected {expected}", source)
    x = apply_preprocessing(x, preprocessing, source)
    return (x, ids) if return_ids else x
