"""A quick look at a data source: one sample's shape and the number of classes, without reading it all.

`archbuilder new` checks the input size it is given against the data as soon as it
is typed. Only what is cheap to read is read: a named dataset's table entry, the
header of a `.npy` file or of an array inside a `.npz`, a CSV's header row (and its
label column when the file is small), an image folder's class subfolders and the
size of its first image. Whatever is not cheap stays unknown (None) and unchecked.
"""

import csv
import dataclasses
import os
import zipfile
from pathlib import Path

import numpy as np

from archbuilder.data.datasets import DATASET_SAMPLES
from archbuilder.data.datasets import dataset_key
from archbuilder.data.raw import one_line
from archbuilder.data.image_files import list_images
from archbuilder.errors import DataError

__all__ = ["Glance", "glance", "csv_columns", "SMALL_FILE"]

SMALL_FILE = 20 * 2**20  # bytes: a label column or label array this small is read whole to count classes
_LABEL_COLUMNS = ("label", "labels", "target", "class", "y")  # as read_csv guesses one


@dataclasses.dataclass(frozen=True)
class Glance:
    """What a quick look at a data source found.

    Attributes:
        source: the dataset name or path, as messages name it.
        shape: one sample's shape as stored (None when not read quickly); for an
            image folder, its first image's height, width and channels.
        classes: the number of classes, or None (unknown, or not classification).
        images: an image folder: images are resized to `input.shape`, so any height
            and width fit.
        label_guess: a CSV's likely label column (for a default), or None.
    """

    source: str
    shape: tuple = None
    classes: int = None
    images: bool = False
    label_guess: str = None


def glance(spec):
    """A quick look at a parsed `data` value (`archbuilder.data.parse.parse_data`).

    Raises:
        DataError: the file or folder is missing, or cannot be read.
    """
    if "dataset" in spec:
        shape, classes = DATASET_SAMPLES[dataset_key(spec["dataset"])]
        return Glance(str(spec["dataset"]), shape, classes)
    path = spec.get("path", spec.get("x"))
    if not os.path.exists(path):
        raise DataError("no such file or folder", path)
    if os.path.isdir(path):
        return _image_folder(Path(path))
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _csv(path, spec.get("target"), spec.get("features"))
    if suffix == ".npy":
        shape = _npy_shape(path)
        y = spec.get("y")
        return Glance(path, shape[1:], _classes_of_array(np.load(y, allow_pickle=False)) if y and _small(y) else None)
    if suffix == ".npz":
        return _npz(path, spec)
    return Glance(path)


def _small(path):
    return os.path.isfile(path) and os.path.getsize(path) <= SMALL_FILE


def _classes_of_array(y):
    """Class ids 0..k-1 in a 1-D integer array -> k; anything else (regression, one-hot) -> None."""
    if y.ndim == 1 and y.dtype.kind in "iu" and len(y) and y.min() >= 0:
        return int(y.max()) + 1
    return None


def _npy_shape(path):
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False).shape
    except Exception as e:  # a bad header, a pickle, a truncated file: one line naming the file
        raise DataError(f"cannot read: {one_line(e)}", path) from None


def _npz(path, spec):
    try:
        with zipfile.ZipFile(path) as archive:
            names = {n[:-4]: n for n in archive.namelist() if n.endswith(".npy")}
            x = spec.get("x") or next((k for k in ("x_train", "x") if k in names), None)
            if x not in names:
                return Glance(path)
            with archive.open(names[x]) as f:
                version = np.lib.format.read_magic(f)
                header = {(1, 0): np.lib.format.read_array_header_1_0}.get(version, np.lib.format.read_array_header_2_0)
                shape = header(f)[0]
            y = spec.get("y") or {"x_train": "y_train", "x": "y"}.get(x)
            classes = None
            if y in names and archive.getinfo(names[y]).file_size <= SMALL_FILE:
                with archive.open(names[y]) as f:
                    classes = _classes_of_array(np.lib.format.read_array(f, allow_pickle=False))
    except Exception as e:  # not a zip, a corrupt member: one line naming the file
        raise DataError(f"cannot read: {one_line(e)}", path) from None
    return Glance(path, tuple(shape[1:]), classes)


def csv_columns(path):
    """The header row of a CSV (`.tsv`: tab-separated).

    Raises:
        DataError: the file cannot be read or has no header.
    """
    sep = "\t" if str(path).endswith(".tsv") else ","
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            first = next(csv.reader(f, delimiter=sep), None)
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read CSV: {one_line(e)}", path) from None
    if not first:
        raise DataError("the file is empty; expected a header row and data rows", path)
    return first


def _csv(path, target, features):
    columns = csv_columns(path)
    guess = next((c for c in columns if c.lower() in _LABEL_COLUMNS), columns[-1])
    if features is None:
        features = [c for c in columns if c != target]
    classes = _csv_classes(path, columns.index(target)) if target in columns and _small(path) else None
    return Glance(path, (len(features),), classes, label_guess=guess)


def _csv_classes(path, column):
    """The number of distinct text labels in `column`; None when every label is a number (maybe regression)."""
    sep = "\t" if str(path).endswith(".tsv") else ","
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f, delimiter=sep)
        next(rows, None)
        labels = {row[column] for row in rows if len(row) > column and row[column] != ""}
    try:
        [float(v) for v in labels]
    except ValueError:
        return len(labels)
    return None


def _image_folder(folder):
    from PIL import Image

    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if "train" in [p.name for p in subfolders]:
        subfolders = sorted(p for p in (folder / "train").iterdir() if p.is_dir() and not p.name.startswith("."))
    images = list_images(folder)
    if not images:
        raise DataError("no images found; expected one subfolder per class holding image files", str(folder))
    try:
        with Image.open(images[0]) as image:
            width, height = image.size
            mode = image.mode
    except Exception as e:  # Pillow raises many types for corrupt files
        raise DataError(f"cannot read image: {one_line(e)}", str(images[0])) from None
    channels = 1 if mode in ("1", "L", "LA", "I", "I;16", "F") else 4 if mode in ("RGBA", "PA") else 3
    return Glance(str(folder), (height, width, channels), len(subfolders) or None, images=True)
