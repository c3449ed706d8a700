"""The data a spec trains on: loaded for its input and outputs, and recorded for the run directory."""

import copy
import os

from archbuilder.data.load import load_data
from archbuilder.data.parse import parse_data
from archbuilder.data.readers import ARRAY_KEYS
from archbuilder.errors import ArchbuilderError
from archbuilder.families import get_family
from archbuilder.spec.normalize import loss_name
from archbuilder.spec.normalize import prediction
from archbuilder.spec.normalize import set_at
from archbuilder.spec.normalize import task_of

__all__ = ["prepare_data", "resolved_data", "adapt_loss", "input_files"]


def _data_value(spec, concrete, data):
    """`(data, base_dir)`: `data` (relative to the working directory) beats the spec's own."""
    if data is not None:
        return data, None
    return concrete.get("data"), spec.base_dir


def prepare_data(spec, data=None, concrete=None):
    """Loads the training data of a spec, checked against its input and its prediction layer.

    Args:
        spec: a `Spec` (its `base_dir` resolves relative paths of its own `data`).
        data: overrides the spec's `data` (`--data`): a dict, a JSON string, a
            path or a dataset name; relative paths are relative to the working directory.
        concrete: the concrete spec (default `spec.concrete()`).

    Returns:
        An `archbuilder.data.load.Dataset`. Call `adapt_loss` on the concrete spec
        afterwards: one-hot labels switch the loss to `categorical_crossentropy`.

    Raises:
        DataError: no data, or data that does not fit the spec.
    """
    concrete = concrete if concrete is not None else spec.concrete()
    value, base_dir = _data_value(spec, concrete, data)
    training = concrete["training"]
    labels = prediction(concrete)
    return load_data(
        value, concrete["input"]["shape"], input_dtype=concrete["input"]["dtype"], base_dir=base_dir,
        output_units=labels.units if labels else None, task=task_of(concrete),
        sequence_labels=bool(labels and labels.per_step), seed=training["seed"],
        validation_split=training["validation_split"],
    )


def resolved_data(spec, concrete, data):
    """The data a run used, as a dict with absolute paths (what spec.resolved.json records)."""
    value, base_dir = _data_value(spec, concrete, data)
    parsed, _ = parse_data(value, base_dir)
    # As in parse_data: with "path", x/y/... name arrays inside the file; without, they are .npy files.
    for key in ("path",) if "path" in parsed else ARRAY_KEYS:
        if key in parsed:
            parsed[key] = os.path.abspath(parsed[key])
    return parsed


def adapt_loss(concrete, dataset):
    """A copy of the concrete spec whose sparse loss is categorical when the labels are one-hot rows."""
    labels = prediction(concrete)
    if not dataset.one_hot or labels is None or loss_name(labels.loss) != "sparse_categorical_crossentropy":
        return concrete
    concrete = copy.deepcopy(concrete)
    loss = labels.loss
    set_at(concrete, labels.loss_path, {**loss, "type": "categorical_crossentropy"} if isinstance(loss, dict)
           else "categorical_crossentropy")
    return concrete


def input_files(spec, concrete, data):
    """Every file a run of `spec` reads: the spec file, its data files and the files its family names
    (a backbone model), as absolute paths. A run directory is never made where it would remove one."""
    files = [spec.path] if spec.path else []
    try:
        parsed = resolved_data(spec, concrete, data)
    except ArchbuilderError:  # bad data is reported where the data is read
        parsed = {}
    files += [parsed[key] for key in (("path",) if "path" in parsed else ARRAY_KEYS) if key in parsed]
    for keys in get_family(concrete["family"]).files(concrete):
        value = concrete
        for key in keys:
            value = value[key]
        files.append(value)
    return files
