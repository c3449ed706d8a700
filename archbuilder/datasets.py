"""Where raw arrays come from: the named datasets and data files (design.md section 4).

Every reader returns a `RawData`: the arrays as stored, neither scaled nor
reshaped, with the class names and reader settings `predict` needs to read new
inputs the same way. `archbuilder.data` turns a `RawData` into a `Dataset`.

Nothing here runs code from a file: `.npy`/`.npz` files are read with
`allow_pickle=False`, and IDX files are parsed with `gzip` and NumPy.
"""

import csv
import dataclasses
import difflib
import gzip
import os
from pathlib import Path

import numpy as np

from archbuilder.errors import DataError

__all__ = [
    "DATASETS",
    "IMAGE_EXTENSIONS",
    "RawData",
    "load_dataset",
    "read_idx",
    "read_npz",
    "read_npy",
    "read_npz_inputs",
    "read_csv",
    "read_image_folder",
    "read_images",
]

DATASETS = ("mnist1d", "fashion_mnist")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}

FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
FASHION_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_HELP = (
    "install it with `apt-get install dataset-fashion-mnist`, or put the four IDX .gz "
    "files (train-images-idx3-ubyte.gz, ...) in a folder and set ARCHBUILDER_DATA to it"
)

# IDX type codes -> big-endian NumPy dtypes (http://yann.lecun.com/exdb/mnist/).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

_CACHE = {}  # per-process cache of generated / parsed datasets (arrays are read-only)


@dataclasses.dataclass
class RawData:
    """Arrays as a source stores them, before splitting, scaling and reshaping.

    `x_train`/`y_train` hold all samples when the source has no test split.
    `info` holds the reader settings that go into `preprocessing.json`
    (`features`, `target`, `image_size`, `color_mode`); `text_labels` is true
    when the labels were text turned into class ids.
    """

    source: str
    x_train: np.ndarray
    y_train: np.ndarray = None
    x_test: np.ndarray = None
    y_test: np.ndarray = None
    x_val: np.ndarray = None
    y_val: np.ndarray = None
    class_names: list = None
    info: dict = dataclasses.field(default_factory=dict)
    text_labels: bool = False
    sorted_by_class: bool = False


def did_you_mean(word, choices):
    """Returns ` (did you mean 'x'?)` for the closest of `choices`, or ``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _one_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _read_only(*arrays):
    for a in arrays:
        a.flags.writeable = False
    return arrays


# ---------------------------------------------------------------- named datasets


def load_dataset(name):
    """Returns the `RawData` of a named dataset (`mnist1d` or `fashion_mnist`).

    Raises:
        DataError: unknown name, or the dataset's files cannot be found or read.
    """
    key = str(name).strip().lower().replace("-", "_")
    if key == "mnist1d":
        return _mnist1d()
    if key == "fashion_mnist":
        return _fashion_mnist()
    raise DataError(
        f"unknown dataset '{name}'{did_you_mean(key, DATASETS)}; known datasets: "
        f"{', '.join(DATASETS)}; or give the path of a .npz, .npy or .csv file or an image folder",
        str(name),
    )


def _mnist1d():
    if "mnist1d" not in _CACHE:
        import mnist1d.data

        # make_dataset reseeds Python's and NumPy's global RNGs: training seeds after loading.
        data = mnist1d.data.make_dataset(mnist1d.data.get_dataset_args())
        _CACHE["mnist1d"] = _read_only(
            np.asarray(data["x"]), np.asarray(data["y"]),
            np.asarray(data["x_test"]), np.asarray(data["y_test"]),
        )  # fmt: skip
    x, y, x_test, y_test = _CACHE["mnist1d"]
    return RawData(
        "mnist1d", x, y, x_test, y_test, class_names=[str(i) for i in range(10)]
    )


def fashion_mnist_folders():
    """Folders searched for the Fashion-MNIST IDX files, in order."""
    folders = []
    env = os.environ.get("ARCHBUILDER_DATA")
    if env:
        folders += [Path(env), Path(env) / "fashion-mnist", Path(env) / "fashion_mnist"]
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    folders.append(Path(keras_home) / "datasets" / "fashion-mnist")
    folders.append(Path(DEBIAN_FASHION_MNIST))
    return folders


def _idx_file(folder, stem):
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _fashion_mnist():
    for folder in fashion_mnist_folders():
        files = {k: _idx_file(folder, stem) for k, stem in FASHION_MNIST_FILES.items()}
        if all(files.values()):
            key = ("fashion_mnist", str(folder))
            if key not in _CACHE:
                arrays = {k: read_idx(p) for k, p in files.items()}
                _check_idx_pair(arrays, files)
                _CACHE[key] = arrays
            arrays = _CACHE[key]
            return RawData(
                f"fashion_mnist ({folder})", arrays["x_train"], arrays["y_train"],
                arrays["x_test"], arrays["y_test"], class_names=list(FASHION_MNIST_CLASSES),
            )  # fmt: skip
    try:
        (x, y), (x_test, y_test) = _download_fashion_mnist()
    except Exception as e:  # any failure of the download means: tell the user how to get it
        searched = ", ".join(str(f) for f in fashion_mnist_folders())
        raise DataError(
            f"Fashion-MNIST not found in {searched} and the download failed "
            f"({_one_line(e)}); {FASHION_MNIST_HELP}",
            "fashion_mnist",
        ) from None
    return RawData(
        "fashion_mnist (keras download)", x, y, x_test, y_test,
        class_names=list(FASHION_MNIST_CLASSES),
    )  # fmt: skip


def _download_fashion_mnist():
    import keras  # only here: the last resort needs Keras's downloader

    return keras.datasets.fashion_mnist.load_data()


def _check_idx_pair(arrays, files):
    for split in ("train", "test"):
        x, y = arrays["x_" + split], arrays["y_" + split]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(
                f"expected images of shape (N, 28, 28) and N labels; found {x.shape} images "
                f"and {y.shape} labels in {files['y_' + split]}",
                str(files["x_" + split]),
            )


def read_idx(path):
    """Parses an IDX file (optionally gzipped) into a read-only array.

    Raises:
        DataError: the file cannot be read, is not IDX, or is truncated.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise DataError(f"cannot read IDX file: {_one_line(e)}", str(path)) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError("not an IDX file (bad magic number)", str(path))
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError("truncated IDX header", str(path))
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(
            f"corrupt IDX file: shape {dims} needs {expected} bytes, the file holds {len(raw)}",
            str(path),
        )
    array = np.frombuffer(raw, dtype, offset=header).reshape(dims)
    return _read_only(array.astype(dtype.newbyteorder("="), copy=False))[0]


# ---------------------------------------------------------------- array files


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
        raise DataError(f"cannot read: {_one_line(e)}", source) from None
    except Exception as e:  # corrupt zip, truncated file, bad header, ...
        raise DataError(f"cannot read: {_one_line(e)}", source) from None


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
            raise DataError(f"cannot read: {_one_line(e)}", source) from None
        except Exception as e:
            raise DataError(f"cannot read: {_one_line(e)}", source) from None
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
            raise DataError(f"cannot read '{key}': {_one_line(e)}", source) from None


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
        raise DataError(f"cannot read CSV: {_one_line(e)}", source) from None
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
            raise DataError(f"cannot read image: {_one_line(e)}", str(path)) from None
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
