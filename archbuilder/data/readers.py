"""Data files as `RawData`: NumPy arrays (.npy, .npz), CSV tables and image folders.

Every reader returns the arrays as stored, neither scaled nor reshaped, with the
class names and reader settings `predict` needs to read new inputs the same way.
Nothing here runs code from a file: `.npy`/`.npz` files are read with
`allow_pickle=False`.
"""

import csv
import os
from pathlib import Path

import numpy as np

from archbuilder.data.datasets import IMAGE_EXTENSIONS
from archbuilder.data.datasets import load_dataset
from archbuilder.data.raw import RawData
from archbuilder.data.raw import one_line
from archbuilder.errors import DataError
from archbuilder.text import did_you_mean
from archbuilder.text import shape as fmt_shape

__all__ = ["COLOR_MODES", "ARRAY_KEYS", "image_options", "read_source", "read_npz", "read_npy", "read_npz_inputs", "read_csv", "list_images", "read_images",
           "read_image_folder"]

COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}  # data.color_mode -> Pillow's mode
ARRAY_KEYS = ("x", "y", "x_test", "y_test", "x_val", "y_val")  # the NumPy arrays a `data` value may name


def _load_numpy(path, source):
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise DataError(
                "holds pickled Python objects, which archbuilder does not load; "
                "save plain numeric arrays (numpy.save / numpy.savez)",
                source,
            ) from None
        raise DataError(f"cannot read: {one_line(e)}", source) from None
    except Exception as e:  # corrupt zip, truncated file, bad header, ...
        raise DataError(f"cannot read: {one_line(e)}", source) from None


def read_npy(path, source):
    """Reads one array from a `.npy` file."""
    array = _load_numpy(path, source)
    if not isinstance(array, np.ndarray):
        raise DataError("expected a .npy array file; this is a .npz archive", source)
    return array


def read_npz(path, source, names=None, need_y=True):
    """Reads a `.npz` archive: `x_train`/`y_train`/`x_test`/`y_test` (Keras's
    convention, optional `x_val`/`y_val`) or `x`/`y` (optional `x_test`/`y_test`).

    Args:
        names: key overrides, e.g. `{"x": "features", "y": "labels"}`.
        need_y: whether labels are required (false for autoencoders).
    """
    archive = _load_numpy(path, source)
    if isinstance(archive, np.ndarray):
        raise DataError("expected a .npz archive; this is a single .npy array", source)
    with archive:
        keys = list(archive.files)
        found = ", ".join(keys) if keys else "none"
        names = dict(names or {})
        if "x" not in names:
            prefix = "x_train" if "x_train" in keys else "x" if "x" in keys else None
            if prefix is None:
                raise DataError(
                    "no input array: expected keys x_train, y_train, x_test, y_test or x, y "
                    f'(or name them with "x" and "y"); found keys: {found}',
                    source,
                )
            names["x"] = prefix
            for k in ("y", "x_test", "y_test", "x_val", "y_val"):
                default = "y_train" if k == "y" and prefix == "x_train" else k
                if default in keys:
                    names.setdefault(k, default)
        for k, key in names.items():
            if key not in keys:
                raise DataError(
                    f"no array '{key}' (for \"{k}\"){did_you_mean(key, keys)}; found keys: {found}",
                    source,
                )
        if need_y and "y" not in names:
            raise DataError(
                f"no labels: expected a 'y_train' or 'y' array (or name it with \"y\"); found keys: {found}",
                source,
            )
        for x_key, y_key in (("x_test", "y_test"), ("x_val", "y_val")):
            if need_y and (x_key in names) != (y_key in names):
                have, lack = (x_key, y_key) if x_key in names else (y_key, x_key)
                raise DataError(f"has '{names[have]}' but no '{lack}'; found keys: {found}", source)
        fields = {"x": "x_train", "y": "y_train"}
        try:
            arrays = {fields.get(k, k): archive[key] for k, key in names.items()}
        except ValueError as e:
            if "allow_pickle" in str(e):
                raise DataError(
                    "holds pickled Python objects, which archbuilder does not load; "
                    "save plain numeric arrays",
                    source,
                ) from None
            raise DataError(f"cannot read: {one_line(e)}", source) from None
        except Exception as e:
            raise DataError(f"cannot read: {one_line(e)}", source) from None
    return RawData(source, **arrays)


def read_npz_inputs(path, source):
    """Reads the inputs of a `.npz` for `predict`: `x`, else `x_test`, else its only array."""
    archive = _load_numpy(path, source)
    if isinstance(archive, np.ndarray):
        return archive
    with archive:
        keys = list(archive.files)
        key = next((k for k in ("x", "x_test") if k in keys), keys[0] if len(keys) == 1 else None)
        if key is None:
            found = ", ".join(keys) or "none"
            raise DataError(f"no input array: expected key 'x' or 'x_test'; found keys: {found}", source)
        try:
            return archive[key]
        except Exception as e:
            raise DataError(f"cannot read '{key}': {one_line(e)}", source) from None


# ---------------------------------------------------------------- CSV


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv(path, source, target=None, features=None, need_target=True):
    """Reads a CSV (`.tsv`: tab-separated) with a header row.

    Feature columns must be numeric; a text target becomes class ids with the
    sorted distinct values as class names.
    """
    import pandas as pd

    sep = "\t" if str(path).endswith(".tsv") else ","
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            first = next(csv.reader(f, delimiter=sep), None)
        frame = pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty; expected a header row and data rows", source) from None
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as e:
        raise DataError(f"cannot read CSV: {one_line(e)}", source) from None
    if not first:
        raise DataError("the file is empty; expected a header row and data rows", source)
    if all(_is_number(cell) for cell in first):
        raise DataError(
            f"no header row: the first line ({','.join(first[:4])}{',...' if len(first) > 4 else ''}) "
            "holds numbers; add a first line naming the columns, e.g. x1,x2,label",
            source,
        )
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if len(frame) == 0:
        raise DataError("no data rows after the header", source)
    if target is None and need_target:
        guess = next((c for c in columns if c.lower() in ("label", "labels", "target", "class", "y")), None)
        hint = f' e.g. "target": "{guess}"' if guess else ""
        raise DataError(
            f'needs "target", the name of the label column{hint}; columns: {", ".join(columns)}',
            source,
        )
    if target is not None and target not in columns:
        raise DataError(
            f"no column '{target}'{did_you_mean(target, columns)}; columns: {', '.join(columns)}",
            source,
        )
    if features is None:
        features = [c for c in columns if c != target]
    missing = [c for c in features if c not in columns]
    if missing:
        raise DataError(
            f"no feature column '{missing[0]}'{did_you_mean(missing[0], columns)}; "
            f"columns: {', '.join(columns)}",
            source,
        )
    if not features:
        raise DataError("no feature columns besides the target", source)
    x = _numeric_features(frame, features, source)
    info = {"features": list(features), "target": target}
    if target is None:
        return RawData(source, x, info=info)
    labels = frame[target]
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise DataError(
            f"target column '{target}' has {int(labels.isna().sum())} empty cell(s); "
            f"the first at line {row + 2}",
            source,
        )
    if labels.dtype.kind in "biuf":
        return RawData(source, x, labels.to_numpy(), info=info)
    values = labels.astype(str).to_numpy()
    class_names = sorted(set(values))
    y = np.searchsorted(np.array(class_names), values)
    return RawData(source, x, y, class_names=class_names, info=info, text_labels=True)


def _numeric_features(frame, features, source):
    import pandas as pd

    bad = [c for c in features if frame[c].dtype.kind not in "biuf"]
    if bad:
        column = frame[bad[0]]
        coerced = pd.to_numeric(column, errors="coerce")
        rows = np.flatnonzero((coerced.isna() & column.notna()).to_numpy())
        example = f" (line {rows[0] + 2}: {column.iloc[rows[0]]!r})" if len(rows) else ""
        names = ", ".join(f"'{c}'" for c in bad[:5]) + (", ..." if len(bad) > 5 else "")
        raise DataError(
            f"feature column{'s' if len(bad) > 1 else ''} {names} not numeric{example}; "
            'encode them as numbers, or list the numeric columns in "features"',
            source,
        )
    x = frame[features].to_numpy()
    if x.dtype.kind == "f":
        bad_cells = ~np.isfinite(x)
        if bad_cells.any():
            row, col = np.argwhere(bad_cells)[0]
            raise DataError(
                f"{int(bad_cells.sum())} empty, NaN or infinite cell(s) in feature columns; "
                f"the first at line {row + 2}, column '{features[col]}'",
                source,
            )
    return x


# ---------------------------------------------------------------- images

_SPLIT_FOLDERS = {"train": "train", "test": "test", "validation": "val", "val": "val"}


def _subfolders(folder):
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def list_images(folder):
    """Image files under `folder` (recursively), sorted."""
    return sorted(
        p for p in Path(folder).rglob("*")
        if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )  # fmt: skip


def read_images(paths, image_size, color_mode):
    """Reads image files into a uint8 array of shape (N, height, width, channels)."""
    from PIL import Image

    height, width = image_size
    mode = COLOR_MODES[color_mode]
    out = np.empty((len(paths), height, width, len(mode)), np.uint8)
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                image = image.convert(mode)
                if image.size != (width, height):
                    image = image.resize((width, height), Image.Resampling.BILINEAR)
                out[i] = np.asarray(image, np.uint8).reshape(height, width, len(mode))
        except Exception as e:  # Pillow raises many types for corrupt files
            raise DataError(f"cannot read image: {one_line(e)}", str(path)) from None
    return out


def _read_class_folders(folder, source, image_size, color_mode, class_names=None):
    classes = _subfolders(folder)
    if not classes:
        images = list_images(folder)
        if images and class_names is None:
            return read_images(images, image_size, color_mode), None, None
        raise DataError(
            ("holds images but no class subfolders" if images else "no images found")
            + f"; expected one subfolder per class holding {'/'.join(IMAGE_EXTENSIONS[:3])} files",
            source,
        )
    names = [c.name for c in classes]
    if class_names is not None:
        unknown = [n for n in names if n not in class_names]
        if unknown:
            raise DataError(
                f"class folder '{unknown[0]}' in {folder.name}/ is not a class of train/ "
                f"({', '.join(class_names)})",
                source,
            )
    else:
        class_names = names
    paths, labels = [], []
    for folder_ in classes:
        images = list_images(folder_)
        if not images:
            raise DataError(f"class folder '{folder_.name}' holds no images", source)
        paths += images
        labels += [class_names.index(folder_.name)] * len(images)
    return read_images(paths, image_size, color_mode), np.array(labels, np.int64), class_names


def read_image_folder(path, source, image_size, color_mode, need_labels=True):
    """Reads an image folder: one subfolder per class (sorted names are the
    classes), or `train/` and `test/` (optional `validation/`) each holding
    the class subfolders. Without labels (autoencoders) a flat folder works too.
    """
    folder = Path(path)
    subfolders = {p.name: p for p in _subfolders(folder)}
    info = {"image_size": list(image_size), "color_mode": color_mode}
    if "train" in subfolders and set(subfolders) <= set(_SPLIT_FOLDERS):
        x, y, names = _read_class_folders(subfolders["train"], source, image_size, color_mode)
        raw = RawData(source, x, y, class_names=names, info=info, sorted_by_class=True)
        for name, sub in subfolders.items():
            if name != "train":
                xs, ys, _ = _read_class_folders(sub, source, image_size, color_mode, names)
                split = _SPLIT_FOLDERS[name]
                setattr(raw, "x_" + split, xs)
                setattr(raw, "y_" + split, ys)
        return raw
    x, y, names = _read_class_folders(folder, source, image_size, color_mode)
    if y is None and need_labels:
        raise DataError(
            "holds images but no class subfolders; expected one subfolder per class", source
        )
    return RawData(source, x, y, class_names=names, info=info, sorted_by_class=True)


# ---------------------------------------------------------------- a parsed `data` value


def image_options(spec, shape, source):
    """The image size and color mode: from `data`, else from `input.shape`."""
    size = spec.get("image_size")
    if size is None:
        if len(shape) not in (2, 3) or not all(isinstance(d, int) for d in shape[:2]):
            message = f'needs "image_size": [height, width]; input.shape {fmt_shape(shape)} does not give it'
            raise DataError(message, source)
        size = list(shape[:2])
    mode = spec.get("color_mode")
    if mode is None:
        channels = shape[-1] if len(shape) == 3 else 1 if len(shape) == 2 else None
        if len(shape) == 1 and shape[0] and shape[0] % (size[0] * size[1]) == 0:
            channels = shape[0] // (size[0] * size[1])
        mode = {1: "grayscale", 3: "rgb", 4: "rgba"}.get(channels, "rgb")
    return size, mode


def read_source(spec, shape, task):
    """The `RawData` of a parsed `data` value (see `archbuilder.data.parse`) for `input.shape` `shape`."""
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
        return load_dataset(spec["dataset"])
    if not os.path.exists(path):
        raise DataError("no such file or folder", source)
    if is_images:
        size, mode = image_options(spec, shape, source)
        return read_image_folder(path, source, size, mode, need_labels=need_y)
    if is_csv:
        return read_csv(path, source, spec.get("target"), spec.get("features"), need_target=need_y)
    if suffix == ".npz":
        names = {k: spec[k] for k in ARRAY_KEYS if k in spec}
        return read_npz(path, source, names, need_y=need_y)
    if suffix == ".npy":
        raw = RawData(source, read_npy(path, source))
        for key in ARRAY_KEYS[1:]:
            if key in spec:
                if not os.path.exists(spec[key]):
                    raise DataError("no such file or folder", spec[key])
                setattr(raw, "y_train" if key == "y" else key, read_npy(spec[key], spec[key]))
        if need_y and raw.y_train is None:
            message = 'no labels: name the label file with "y", e.g. {"x": "x.npy", "y": "y.npy"}'
            raise DataError(message, source)
        return raw
    kind = suffix or Path(path).name
    raise DataError(f"unsupported file type '{kind}'; expected .npz, .npy, .csv or an image folder", source)
