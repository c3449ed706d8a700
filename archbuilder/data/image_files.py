"""Image folders: one subfolder per class (or `train/`, `test/`, `validation/` of them), read with Pillow.

Only regular image files are read (`Path.is_file`: a link to a device is skipped), and
the array is allocated only when it fits in the memory available.
"""

from pathlib import Path

import numpy as np

from archbuilder.data.datasets import IMAGE_EXTENSIONS
from archbuilder.data.limits import check_allocation
from archbuilder.data.raw import RawData
from archbuilder.data.raw import one_line
from archbuilder.errors import DataError
from archbuilder.text import shape as fmt_shape

__all__ = ["COLOR_MODES", "list_images", "read_images", "read_image_folder"]

COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}  # data.color_mode -> Pillow's mode

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


def read_images(paths, image_size, color_mode, source=None):
    """Reads image files into a uint8 array of shape (N, height, width, channels).

    Raises:
        DataError: an unreadable image, or an array larger than the memory available
            (checked before anything is allocated).
    """
    from PIL import Image

    height, width = image_size
    mode = COLOR_MODES[color_mode]
    check_allocation(len(paths) * height * width * len(mode),
                     f"{len(paths):,} image(s) of {fmt_shape((height, width, len(mode)))}", source or str(paths[0]),
                     'use a smaller "image_size"')
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
            return read_images(images, image_size, color_mode, source), None, None
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
    return read_images(paths, image_size, color_mode, source), np.array(labels, np.int64), class_names


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
