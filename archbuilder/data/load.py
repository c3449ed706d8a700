"""Training data: a spec's `data` value -> arrays ready for the model.

`load_data` reads a source (`archbuilder.data.readers`), checks it, splits it,
scales and reshapes it to `input.shape`, and records every step in a JSON-able
`preprocessing` dict (`archbuilder.data.preprocessing`); `load_inputs` reads a
file for `predict` as the raw input of a saved model (which preprocesses it itself).

Example:

```python
data = load_data("mnist1d", [40, 1], output_units=10)
data.x_train.shape  # (4000, 40, 1)
```
"""

import dataclasses
import math
import os
from pathlib import Path

import numpy as np

from archbuilder.data.checks import check_inputs
from archbuilder.data.datasets import IMAGE_EXTENSIONS
from archbuilder.data.labels import SPLITS
from archbuilder.data.labels import prepare_labels
from archbuilder.data.parse import parse_data
from archbuilder.data.preprocessing import apply
from archbuilder.data.preprocessing import conform_inputs
from archbuilder.data.preprocessing import fit_preprocessing
from archbuilder.data.csv_files import read_csv
from archbuilder.data.image_files import list_images
from archbuilder.data.image_files import read_images
from archbuilder.data.limits import regular_file
from archbuilder.data.numpy_files import read_npy
from archbuilder.data.numpy_files import read_npz_inputs
from archbuilder.data.readers import image_options
from archbuilder.data.readers import read_source
from archbuilder.errors import DataError

__all__ = ["TASKS", "Dataset", "load_data", "load_inputs"]

TASKS = ("classification", "regression", "reconstruction")
DEFAULT_TEST_SPLIT = 0.2
DEFAULT_SEED = 42


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
    for split in SPLITS:
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
    raw = read_source(spec, pattern, task)
    check_inputs(raw, need_y=task != "reconstruction")
    one_hot = prepare_labels(raw, task, output_units, sequence_labels)  # sample indices as in the file
    _split(raw, spec, np.random.default_rng(spec.get("seed", seed)), validation_split)
    prep = fit_preprocessing(raw, spec, pattern, input_dtype, task, one_hot)
    x = {s: getattr(raw, "x_" + s) for s in SPLITS}
    x = {s: None if v is None else apply(v, prep, raw.source, f"x_{s}") for s, v in x.items()}
    return Dataset(
        x_train=x["train"], y_train=raw.y_train, x_val=x["val"], y_val=raw.y_val,
        x_test=x["test"], y_test=raw.y_test, class_names=prep["class_names"],
        one_hot=prep["one_hot"], preprocessing=prep, source=raw.source,
    )  # fmt: skip


def load_inputs(path, contract, *, return_ids=False):
    """Reads inputs for `predict` as a saved model's raw input (see `conform_inputs`).

    Reads a `.npy` array, a `.npz` archive (its `x`, else `x_test`, else its
    only array), a `.csv` (the training feature columns by name, else every
    column), an image file or a folder of images (searched recursively).

    Args:
        path: the file or folder.
        contract: the model's input contract (`archbuilder.data.preprocessing.input_contract`).
        return_ids: also return the image file names.

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
    if path.is_dir() or suffix in IMAGE_EXTENSIONS:
        size, mode = contract.get("image_size"), contract.get("color_mode")
        if size is None:
            size, mode = image_options({}, tuple(contract["trained_input"]["shape"]), source)
        if not path.is_dir():
            regular_file(path, source)
        files = [path] if not path.is_dir() else list_images(path)
        if not files:
            raise DataError("no images found", source)
        x = read_images(files, size, mode, source)
        ids = [f.name if path.is_file() else f.relative_to(path).as_posix() for f in files]
    elif suffix == ".npy":
        x = read_npy(path, source)
    elif suffix == ".npz":
        x = read_npz_inputs(path, source)
    elif suffix in (".csv", ".tsv"):
        x = read_csv(path, source, None, contract.get("features"), need_target=False).x_train
    else:
        expected = ".npy, .npz, .csv, an image or an image folder"
        raise DataError(f"unsupported file type '{suffix or path.name}'; expected {expected}", source)
    x = conform_inputs(x, contract, source)
    return (x, ids) if return_ids else x
