"""The `data` value: the one rule for what a spec's `data` (and `--data`) may say.

`KEYS` is the table of every key, the value it takes and where it applies; the
spec's `data` section is checked by `check_data` (through `validate`), `--data` by
`parse_data`, and the schema's `data` section, which editors show, is generated
from the same table (`archbuilder.spec.schema`).

A source is one of `{"dataset": name}`, `{"path": file or folder, ...}`, or
`{"x": "x.npy", "y": "y.npy", ...}` (NumPy files named one by one).
"""

import json
import math
import os

from archbuilder.data.datasets import DATASETS
from archbuilder.data.datasets import IMAGE_EXTENSIONS
from archbuilder.data.datasets import dataset_key
from archbuilder.data.datasets import unknown_dataset
from archbuilder.data.readers import ARRAY_KEYS
from archbuilder.data.readers import COLOR_MODES
from archbuilder.errors import DataError
from archbuilder.text import did_you_mean

__all__ = ["KEYS", "ARRAY_KEYS", "check_data", "parse_data", "applies_to"]

_PATH_SUFFIXES = (".npz", ".npy", ".csv", ".tsv") + IMAGE_EXTENSIONS


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_text(value):
    return isinstance(value, str) and bool(value)


def _array_description(key):
    what = "inputs" if key.startswith("x") else "labels"
    if "_" not in key:
        return f"Key of the {what} in a .npz, or the .npy file of the {what}."
    return f"Key (.npz) or .npy file of the {key.split('_')[1]} {what}."


# key -> (valid(value), what the value must be, its JSON Schema, description, what it applies to: any
# source, or only data files, or only one kind of file; a named dataset takes only the keys of any source).
_ANY = "any source"
_FILES = "data files"
KEYS = {
    "dataset": (_is_text, "a non-empty string", {"type": "string", "enum": list(DATASETS)},
                "A built-in dataset: " + "; ".join(f"{k} ({v})" for k, v in DATASETS.items()) + ".", ("dataset",)),
    "path": (_is_text, "a non-empty string", {"type": "string", "minLength": 1},
             "A .npz, .npy, .csv file, or a folder of images with one subfolder per class.", _FILES),
    **{key: (_is_text, "a non-empty string", {"type": "string", "minLength": 1}, _array_description(key), _FILES)
       for key in ARRAY_KEYS},
    "target": (_is_text, "a non-empty string", {"type": "string", "minLength": 1},
               "CSV: the column holding the labels.", "CSV files"),
    "features": (lambda v: isinstance(v, list) and v and all(isinstance(c, str) for c in v),
                 "a non-empty list of column names", {"type": "array", "minItems": 1, "items": {"type": "string"}},
                 "CSV: the feature columns to use (default: every column but the target).", "CSV files"),
    "image_size": (lambda v: isinstance(v, list) and len(v) == 2 and all(_is_int(d) and d > 0 for d in v),
                   "[height, width] in pixels",
                   {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "integer", "minimum": 1}},
                   "Image folder: [height, width] every image is resized to.", "image folders"),
    "color_mode": (lambda v: v in COLOR_MODES, '"grayscale", "rgb" or "rgba"', {"enum": list(COLOR_MODES)},
                   "Image folder: channels to read (default: from input.shape).", "image folders"),
    "rescale": (lambda v: _is_number(v) and v > 0, "a positive number, the factor inputs are multiplied by",
                {"type": "number", "exclusiveMinimum": 0},
                "Multiply inputs by this factor (like keras.layers.Rescaling), e.g. 0.00392 for 8-bit pixels "
                "stored as int64.", _ANY),
    "test_split": (lambda v: _is_number(v) and 0 < v < 1, "a number between 0 and 1 (exclusive)",
                   {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                   "Fraction held out for testing when the source has no test set, in (0, 1).", _ANY),
    "normalize": (lambda v: isinstance(v, bool), "true or false", {"type": "boolean"},
                  "Standardize each feature with the mean and deviation of the training split.", _ANY),
    "max_samples": (lambda v: _is_int(v) and v > 0, "a positive integer", {"type": "integer", "minimum": 1},
                    "Use at most this many samples of each split (a seeded random subset): quick experiments on "
                    "big data.", _ANY),
    "seed": (lambda v: _is_int(v) and v >= 0, "a non-negative integer", {"type": "integer", "minimum": 0},
             "Seed of the test split and of max_samples (default 42).", _ANY),
}


def _shown(value):
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def check_data(data, where="$.data"):
    """Checks a `data` object against `KEYS`; returns a copy (an int `image_size` becomes `[n, n]`).

    Raises:
        DataError: an unknown key, a key that does not apply to the source, a value of
            the wrong kind, or no source (or two).
    """
    if not isinstance(data, dict):
        raise DataError(f"expected an object, a path or a dataset name; got {type(data).__name__}", where)
    spec = dict(data)
    for key in spec:
        if key not in KEYS:
            raise DataError(f"unknown key '{key}'{did_you_mean(key, KEYS)}", where)
    sources = [k for k in ("dataset", "path") if k in spec]
    sources += ["x"] if "x" in spec and "path" not in spec else []
    if len(sources) != 1:
        what = "only one of" if sources else "one of"
        raise DataError(f'needs {what} "dataset", "path", or "x" and "y" (.npy files)', where)
    if _is_int(spec.get("image_size")):
        spec["image_size"] = [spec["image_size"]] * 2
    for key, value in spec.items():
        valid, expected, _, _, _ = KEYS[key]
        if not valid(value):
            raise DataError(f'"{key}" must be {expected}; got {_shown(value)}', where)
    if "dataset" in spec:
        if dataset_key(spec["dataset"]) not in DATASETS:
            raise DataError(unknown_dataset(spec["dataset"]), str(spec["dataset"]))
        for key in spec:
            if applies_to(key) != _ANY and key != "dataset":
                raise DataError(f'"{key}" applies to {applies_to(key)} only', str(spec["dataset"]))
    return spec


def applies_to(key):
    """What a `data` key applies to: `any source`, `data files`, `CSV files` or `image folders`."""
    return KEYS[key][4]


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
    spec = check_data(data, where)
    for key in ("path",) if "path" in spec else ARRAY_KEYS:
        if key in spec and base_dir is not None and not os.path.isabs(spec[key]):
            spec[key] = os.path.normpath(os.path.join(base_dir, spec[key]))
    return spec, where
