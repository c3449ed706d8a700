"""Labels: class ids, one-hot rows or regression targets, checked against the output layer."""

import math

import numpy as np

from archbuilder.data.checks import check_finite
from archbuilder.data.checks import first
from archbuilder.data.limits import DEBUG_HINT
from archbuilder.data.limits import debug
from archbuilder.data.limits import shown
from archbuilder.errors import DataError

__all__ = ["SPLITS", "prepare_labels"]

SPLITS = ("train", "val", "test")


def _class_ids(y, name, output_units, class_names, source, show_names=False):
    """Class ids checked in the labels' own dtype (a uint64 or float64 label never wraps around), as int32.

    Class names are shown when they are not a file's content (image folder names), or with debug.
    """
    if y.dtype.kind == "f" and not np.array_equal(y, np.round(y)):
        index = first(y != np.round(y))
        raise DataError(
            f"class labels must be integers; {name} holds a fractional value (sample {index[0]}{shown(y[index])}); "
            "for real-valued targets use a linear output (regression)",
            source,
        )
    units = output_units or 0
    bad = (y < 0) | (y >= max(units, 2)) if units else y < 0
    if y.dtype.kind in "iuf" and not units:
        bad = bad | (y > np.iinfo(np.int32).max)
    if bad.any():
        if class_names and len(class_names) > units:
            names = f" ({', '.join(class_names[:5])}{', ...' if len(class_names) > 5 else ''})" if (
                show_names or debug()) else ""
            raise DataError(
                f"{len(class_names)} classes{names} but the output has {units} unit(s); "
                f"set the output units to {len(class_names)}",
                source,
            )
        index = first(bad)
        need = {0: "non-negative class ids", 1: "0 or 1 (one sigmoid unit)"}.get(units, f"0..{units - 1}")
        raise DataError(
            f"a label of {name} (sample {index[0]}{shown(y[index], 'label')}) is out of range for {units} output "
            f"unit(s); labels must be {need}" + ("" if debug() else f" ({DEBUG_HINT})"),
            source,
        )
    return y.astype(np.int32)


def _class_labels(y, name, output_units, base_rank, class_names, source, show_names):
    """Checks one split's class labels; returns (labels, rows_are_one_hot)."""
    if y.dtype.kind == "f":
        check_finite(y, name, source)
    if y.ndim == base_rank + 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.ndim == base_rank:
        return _class_ids(y, name, output_units, class_names, source, show_names), False
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


def prepare_labels(raw, task, output_units, sequence_labels):
    """Checks and converts the labels of every split in place; returns `one_hot`."""
    source = raw.source
    ys = {s: getattr(raw, "y_" + s) for s in SPLITS}
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
            check_finite(y, "y_" + s, source)
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
            ys[s], one_hot = _class_labels(y, "y_" + s, output_units, base_rank, raw.class_names, source,
                                           show_names=not raw.text_labels)
            kinds.add((ys[s].ndim > base_rank, one_hot))
        if len(kinds) > 1:
            raise DataError("label formats differ between splits (one-hot in one, class ids in another)", source)
    for s, y in ys.items():
        setattr(raw, "y_" + s, y)
    return one_hot
