"""Checks of the values in data arrays: numbers only, finite, one label per sample."""

import numpy as np

from archbuilder.errors import DataError

__all__ = ["first", "check_finite", "check_inputs"]

_SPLITS = ("train", "val", "test")


def first(mask):
    """The index (a tuple) of the first true entry of `mask`."""
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def check_finite(x, name, source):
    bad = ~np.isfinite(x)
    if bad.any():
        index = first(bad)
        raise DataError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s); "
            f"the first in sample {index[0]} at index {list(index)}",
            source,
        )


def check_inputs(raw, need_y):
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
            check_finite(x, "x_" + split, raw.source)
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
