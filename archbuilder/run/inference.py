"""`evaluate` and `predict`: a trained model, with the preprocessing saved at training.

Both take a run directory (its `model.keras`, `preprocessing.json` and
`spec.resolved.json`) or a bare `.keras` file (with a `preprocessing.json`
beside it when there is one; else inputs are fed as they are). Models are
opened with `archbuilder.layers.safe_load.load_model_safely`: the file's config is
checked before Keras loads it with `safe_mode=True`.

Example:
    >>> archbuilder.evaluate("runs/mnist1d_cnn-20261126-181500")
    {'test_loss': 0.21, 'test_accuracy': 0.935}
    >>> archbuilder.predict("runs/mnist1d_cnn-20261126-181500", "x.npy").head()
"""

import dataclasses
import io
import os

import numpy as np

from archbuilder.atomic import atomic_write
from archbuilder.atomic import atomic_write_text
from archbuilder.data.load import load_data
from archbuilder.data.load import load_inputs
from archbuilder.data.parse import parse_data
from archbuilder.data.preprocessing import apply_preprocessing
from archbuilder.data.preprocessing import numpy_dtype
from archbuilder.errors import ArchbuilderError
from archbuilder.errors import DataError
from archbuilder.errors import check_int
from archbuilder.errors import check_path
from archbuilder.format import defaults as D
from archbuilder.layers.safe_load import load_model_safely
from archbuilder.run.fit import eval_batch_size
from archbuilder.run.rundir import RunDir

__all__ = ["LoadedRun", "open_run", "evaluate", "predict", "prediction_frame"]


@dataclasses.dataclass
class LoadedRun:
    """A model and what was saved beside it.

    Attributes:
        model: the `keras.Model`.
        model_path: its `.keras` file.
        preprocessing: `preprocessing.json` read back, or None.
        concrete: `spec.resolved.json` read back (the concrete spec), or None.
    """

    model: object
    model_path: str
    preprocessing: dict = None
    concrete: dict = None


def open_run(run, max_params=D.MAX_PARAMS):
    """Loads a run directory's model (or a `.keras` file) and the files saved beside it.

    The model file is checked before it is loaded (`load_model_safely`): no code, and no
    more than `max_params` declared parameters (`--max-params`).

    Raises:
        ArchbuilderError: no model there, or a model file that is unsafe or unreadable.
    """
    run = os.fspath(run)
    if os.path.isdir(run):
        model_path = os.path.join(run, "model.keras")
        if not os.path.exists(model_path):
            why = "" if RunDir(run).done else " (the run has not finished: continue it with `archbuilder train --resume`)"
            raise ArchbuilderError(f"{run}: no model.keras in this folder{why}")
    elif run.endswith(".keras"):
        if not os.path.exists(run):
            raise ArchbuilderError(f"{run}: no such file")
        model_path = run
    else:
        raise ArchbuilderError(f"{run}: expected a run directory or a .keras file")
    folder = RunDir(os.path.dirname(model_path))
    model = load_model_safely(model_path, max_params=max_params)
    return LoadedRun(model=model, model_path=model_path, preprocessing=folder.read_json("preprocessing.json"),
                     concrete=folder.read_json("spec.resolved.json"))


# ---------------------------------------------------------------- what the model looks like


def _output_names(model):
    return set(getattr(model, "output_names", None) or [])


def _main_output(model):
    """The output predictions are read from: an autoencoder's head, else the only output."""
    names = _output_names(model)
    outputs = model.outputs
    if "head" in names and len(outputs) > 1:
        return outputs[list(model.output_names).index("head")]
    return outputs[0]


def _task(loaded):
    if loaded.model.name == "encoder":  # an autoencoder's encoder.keras: its outputs are codes
        return "reconstruction"
    if loaded.preprocessing and loaded.preprocessing.get("task"):
        return loaded.preprocessing["task"]
    names = _output_names(loaded.model)
    if "reconstruction" in names and "head" not in names:
        return "reconstruction"
    loss = getattr(loaded.model, "loss", None)
    loss = loss.get("head") if isinstance(loss, dict) else loss
    name = loss if isinstance(loss, str) else type(loss).__name__ if loss is not None else ""
    return "classification" if "crossentropy" in name.lower() else "regression"


def _identity_preprocessing(model):
    """A `preprocessing.json` that feeds inputs as they are (a bare .keras file without one)."""
    shape = [None if d is None else int(d) for d in model.inputs[0].shape[1:]]
    dtype = str(getattr(model.inputs[0], "dtype", "float32"))
    return {"version": 1, "source": None, "task": None, "input_shape": shape, "input_dtype": dtype,
            "sample_shape": shape, "shape": shape, "rescale": 1.0, "normalize": None, "class_names": None,
            "one_hot": False, "features": None, "target": None, "image_size": None, "color_mode": None}


def _targets(model, x, y):
    names = _output_names(model)
    if "reconstruction" in names:
        return {"reconstruction": x, "head": y} if "head" in names else x
    return y


# ---------------------------------------------------------------- evaluate


def _test_data(loaded, data):
    """`(x_test, y_test)` read from `data` and preprocessed as at training."""
    prep = loaded.preprocessing
    model = loaded.model
    base = prep or _identity_preprocessing(model)
    task = _task(loaded)
    main = _main_output(model)
    units = None if task == "reconstruction" else int(main.shape[-1])
    sequence_labels = task != "reconstruction" and len(main.shape) > 2
    seed = ((loaded.concrete or {}).get("training") or {}).get("seed", 42)
    spec, _ = parse_data(data, None)
    integer = numpy_dtype(base["input_dtype"]).kind in "iu"
    if prep and not integer:
        # Load the values unscaled; the training split's scaling and normalization are applied below.
        spec = {k: v for k, v in spec.items() if k != "normalize"}
        spec["rescale"] = 1.0
    dataset = load_data(spec, base["input_shape"], input_dtype=base["input_dtype"], output_units=units,
                        task=task, sequence_labels=sequence_labels, seed=seed)
    x = apply_preprocessing(dataset.x_test, prep) if prep and not integer else dataset.x_test
    y = dataset.y_test
    trained_names = (prep or {}).get("class_names")
    if (y is not None and trained_names and dataset.class_names and dataset.class_names != trained_names
            and not dataset.one_hot):
        unknown = sorted(set(dataset.class_names) - set(trained_names))
        if unknown:
            raise DataError(f"classes unknown to the model: {', '.join(unknown[:5])}", dataset.source)
        lookup = np.array([trained_names.index(n) for n in dataset.class_names])
        y = lookup[y].astype(np.int32)
    return x, y


def evaluate(run, data=None, *, batch_size=None, max_params=D.MAX_PARAMS):
    """Test metrics of a trained model, with the preprocessing saved at training.

    Args:
        run: a run directory or a `.keras` file.
        data: the data to take the test split of (as a spec's `data`, a path or a dataset name); default:
            the data the run was trained on (recorded in `spec.resolved.json`).
        batch_size: default the run's `training.batch_size`, else 128.
        max_params: refuse a model file that declares more parameters (`--max-params`).

    Returns:
        `{"test_loss": ..., "test_<metric>": ...}`, as in `metrics.json`.

    Raises:
        ArchbuilderError: an unsafe or missing model; DataError: no data or data that does not fit.
        ArgumentError: an argument of the wrong type or value (also a TypeError or ValueError).
    """
    run = check_path("evaluate", "run", run, optional=False)
    batch_size = check_int("evaluate", "batch_size", batch_size)
    loaded = open_run(run, max_params)
    if data is None:
        data = (loaded.concrete or {}).get("data")
        if data is None:
            raise DataError("no data: pass --data (nothing beside the model says what it was trained on)")
    if not getattr(loaded.model, "compiled", False):
        raise ArchbuilderError(f"{loaded.model_path}: the model was saved without a loss; cannot evaluate it")
    x, y = _test_data(loaded, data)
    if not batch_size:
        trained = ((loaded.concrete or {}).get("training") or {}).get("batch_size", D.TRAINING["batch_size"])
        batch_size = eval_batch_size(len(x), trained)
    results = loaded.model.evaluate(x, _targets(loaded.model, x, y), batch_size=batch_size, return_dict=True,
                                    verbose=0)
    metrics = {"test_loss": float(results.pop("loss"))}
    metrics.update({f"test_{k}": float(v) for k, v in sorted(results.items())})
    return metrics


# ---------------------------------------------------------------- predict


def prediction_frame(outputs, task, class_names=None, ids=None):
    """Predictions as a `pandas.DataFrame`.

    Classifiers: `prediction` (the class name, or its index) and one
    probability column per class, named after the class. Regression:
    `prediction` (or `prediction_0`, ...). Reconstructions: `value_0`, ....
    An `id` column comes first when the inputs were image files.
    """
    import pandas as pd

    outputs = np.asarray(outputs, np.float32)
    columns = {}
    if ids is not None:
        columns["id"] = list(ids)
    flat = outputs.reshape(len(outputs), -1)
    if task == "classification" and outputs.ndim == 2:
        units = outputs.shape[1]
        known = class_names and len(class_names) == max(units, 2)
        names = list(class_names) if known else [str(i) for i in range(max(units, 2))]
        if units == 1:
            p = outputs[:, 0]
            columns["prediction"] = [names[int(v >= 0.5)] for v in p]
            columns[names[0]], columns[names[1]] = 1.0 - p, p
        elif np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3):
            columns["prediction"] = [names[i] for i in outputs.argmax(axis=1)]
            columns.update({name: outputs[:, j] for j, name in enumerate(names)})
        else:  # independent sigmoids: every class over 0.5
            columns["prediction"] = [";".join(n for n, v in zip(names, row) if v >= 0.5) for row in outputs]
            columns.update({name: outputs[:, j] for j, name in enumerate(names)})
    elif task == "classification" and outputs.ndim == 3:  # one class per step
        names = list(class_names) if class_names else [str(i) for i in range(outputs.shape[-1])]
        columns["prediction"] = [" ".join(names[i] for i in row) for row in outputs.argmax(axis=-1)]
    elif task == "regression" and flat.shape[1] == 1:
        columns["prediction"] = flat[:, 0]
    else:
        prefix = "prediction" if task == "regression" else "value"
        columns.update({f"{prefix}_{j}": flat[:, j] for j in range(flat.shape[1])})
    return pd.DataFrame(columns)


def predict(run, inputs, *, output=None, batch_size=D.TRAINING["batch_size"], max_params=D.MAX_PARAMS):
    """Predicts with a trained model; inputs are preprocessed as at training.

    Args:
        run: a run directory or a `.keras` file.
        inputs: a file (`.npy`, `.npz`, `.csv`, an image or an image folder) or an array.
        output: also write the predictions here: `.npy` (the raw output array:
            an autoencoder's head when it has one) or CSV (anything else).
        batch_size: for `model.predict`.
        max_params: refuse a model file that declares more parameters (`--max-params`).

    Returns:
        A `pandas.DataFrame` (see `prediction_frame`).
    """
    run = check_path("predict", "run", run, optional=False)
    batch_size = check_int("predict", "batch_size", batch_size, optional=False)
    output = check_path("predict", "output", output)
    loaded = open_run(run, max_params)
    prep = loaded.preprocessing or _identity_preprocessing(loaded.model)
    ids = None
    if isinstance(inputs, (str, os.PathLike)):
        x, ids = load_inputs(inputs, prep, return_ids=True)
    else:
        x = apply_preprocessing(np.asarray(inputs), prep, "inputs")
    outputs = loaded.model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(outputs, dict):
        outputs = outputs["head"] if "head" in outputs else outputs["reconstruction"]
    frame = prediction_frame(outputs, _task(loaded), (loaded.preprocessing or {}).get("class_names"), ids)
    if output:
        output = os.fspath(output)
        if output.endswith(".npy"):
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(outputs))
            with atomic_write(output, "wb") as f:
                f.write(buffer.getvalue())
        else:
            atomic_write_text(output, frame.to_csv(index=False, float_format="%.6g"))
    return frame
