"""Data files as `RawData`: NumPy arrays (.npy, .npz), CSV tables and image folders.

Every reader returns the arrays as stored, neither scaled nor reshaped, with the
class names and reader settings `predict` needs to read new inputs the same way:
`archbuilder.data.numpy_files` (read with `allow_pickle=False`), `csv_files` and
`image_files`; `read_source` picks one for a parsed `data` value. Nothing here runs
code from a file, reads anything but regular files, or allocates more than the
memory available (`archbuilder.data.limits`).
"""

import os
from pathlib import Path

from archbuilder.data.csv_files import read_csv
from archbuilder.data.datasets import load_dataset
from archbuilder.data.image_files import COLOR_MODES
from archbuilder.data.image_files import read_image_folder
from archbuilder.data.limits import regular_file
from archbuilder.data.numpy_files import read_npy
from archbuilder.data.numpy_files import read_npz
from archbuilder.data.raw import RawData
from archbuilder.errors import DataError
from archbuilder.text import shape as fmt_shape

__all__ = ["COLOR_MODES", "ARRAY_KEYS", "image_options", "read_source"]

ARRAY_KEYS = ("x", "y", "x_test", "y_test", "x_val", "y_val")  # the NumPy arrays a `data` value may name


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
    if "path" not in spec and suffix == ".npz":
        raise DataError('"x" names a .npz archive; write {"path": "%s"} (and "x", "y" for the names of arrays '
                        "inside it)" % os.path.basename(path), source)
    if not is_images:
        regular_file(path, source)
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
                regular_file(spec[key], spec[key])
                setattr(raw, "y_train" if key == "y" else key, read_npy(spec[key], spec[key]))
        if need_y and raw.y_train is None:
            message = 'no labels: name the label file with "y", e.g. {"x": "x.npy", "y": "y.npy"}'
            raise DataError(message, source)
        return raw
    kind = suffix or Path(path).name
    raise DataError(f"unsupported file type '{kind}'; expected .npz, .npy, .csv or an image folder", source)
