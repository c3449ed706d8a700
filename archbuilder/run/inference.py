"""`evaluate` and `predict`: a trained model fed raw inputs, as a user has them.

Both take a run directory (its `model.keras`; a tune run's `best_model.keras`) or a
bare `.keras` file. A model archbuilder saved carries its preprocessing as layers and
its input contract (`archbuilder.model.serving`), so the raw inputs go straight into
it. A model from archbuilder 0.1.0 gets the same layers in memory from the
`preprocessing.json` beside it. A model with neither is fed inputs as they are, and
archbuilder says so once on stderr. Models are opened with
`archbuilder.layers.safe_load.load_model_safely`: the file's config is checked before
Keras loads it with `safe_mode=True`.

Example:
    >>> archbuilder.evaluate("runs/mnist1d_cnn-20261126-181500")["classification"]["accuracy"]
    0.935
    >>> archbuilder.predict("runs/mnist1d_cnn-20261126-181500", "x.npy").head()
"""

import dataclasses
import io
import os
import sys

import numpy as np

from archbuilder.atomic import atomic_write
from archbuilder.atomic import atomic_write_text
from archbuilder.data.load import load_data
from archbuilder.data.load import load_inputs
from archbuilder.data.parse import parse_data
from archbuilder.data.preprocessing import conform_inputs
from archbuilder.data.preprocessing import numpy_dtype
from archbuilder.errors import ArchbuilderError
from archbuilder.errors import DataError
from archbuilder.errors import check_int
from archbuilder.errors import check_path
from archbuilder.format import defaults as D
from archbuilder.layers.safe_load import load_model_safely
from archbuilder.model.serving import contract_of
from archbuilder.model.serving import model_output
from archbuilder.model.serving import open_served
from archbuilder.run.evaluation import evaluation_report
from archbuilder.run.figures import write_report_files
from archbuilder.run.fit import eval_batch_size
from archbuilder.run.rundir import RunDir

__all__ = ["MODEL_FILES", "LoadedRun", "open_run", "raw_test_split", "evaluate", "predict", "prediction_frame"]

MODEL_FILES = ("model.keras", "best_model.keras")  # a train run's, a tune run's


@dataclasses.dataclass
class LoadedRun:
    """A model ready for raw inputs and what was saved beside it.

    Attributes:
        serving: the `archbuilder.model.serving.Serving` (`.model`, `.contract`, `.trained`).
        model_path: its `.keras` file.
        concrete: the spec the run trained (`spec.resolved.json`, a tune run's `best.json`), or None.
        in_memory: the preprocessing layers were added at loading, from `preprocessing.json` (a 0.1.0 run).
    """

    serving: object
    model_path: str
    concrete: dict = None
    in_memory: bool = False
    max_params: int = D.MAX_PARAMS

    @property
    def model(self):
        return self.serving.model

    @property
    def training(self):
        return (self.concrete or {}).get("training") or {}


def _model_file(folder):
    for name in MODEL_FILES:
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    run = RunDir(folder)
    if run.exists("trials.csv") or run.exists("tuner"):
        raise ArchbuilderError(f"{folder}: no best_model.keras in this tune run (no trial has finished: continue "
                               "it with `archbuilder tune --resume`)")
    why = "" if run.done else " (the run has not finished: continue it with `archbuilder train --resume`)"
    raise ArchbuilderError(f"{folder}: no model.keras in this folder{why}")


def _legacy_task(model, prep):
    """The task of a model without a contract: from preprocessing.json, else from its loss."""
    if model.name == "encoder":  # an autoencoder's encoder.keras: its outputs are codes
        return "code"
    if prep and prep.get("task"):
        return prep["task"]
    output = model_output(model)
    if isinstance(output, dict) and "reconstruction" in output and "head" not in output:
        return "reconstruction"
    loss = getattr(model, "loss", None)
    loss = loss.get("head") if isinstance(loss, dict) else loss
    name = loss if isinstance(loss, str) else type(loss).__name__ if loss is not None else ""
    return "classification" if "crossentropy" in name.lower() else "regression"


def open_run(run, *, quiet=False, max_params=D.MAX_PARAMS):
    """Loads a run directory's model (or a `.keras` file), ready for raw inputs.

    The model file is checked before it is loaded (`load_model_safely`): no code, and no
    more than `max_params` declared parameters (`--max-params`).

    Args:
        run: a run directory (train, compare or tune) or a `.keras` file.
        quiet: no stderr note about a model without recorded preprocessing.
        max_params: refuse a model file that declares more parameters.

    Raises:
        ArchbuilderError: no model there, or a model file that is unsafe or unreadable.
    """
    run = os.fspath(run)
    if os.path.isdir(run):
        model_path = _model_file(run)
    elif run.endswith(".keras"):
        if not os.path.exists(run):
            raise ArchbuilderError(f"{run}: no such file")
        model_path = run
    else:
        raise ArchbuilderError(f"{run}: expected a run directory or a .keras file")
    folder = RunDir(os.path.dirname(model_path))
    model = load_model_safely(model_path, max_params=max_params)
    prep = folder.read_json("preprocessing.json") if contract_of(model) is None else None
    serving = open_served(model, prep, task=_legacy_task(model, prep), source=model_path)
    if not serving.recorded and not quiet:
        print(f"{model_path}: no preprocessing recorded (neither archbuilder's input layers nor a "
              "preprocessing.json beside it); inputs go into the model as they are", file=sys.stderr)
    spec_file = "best.json" if os.path.basename(model_path) == "best_model.keras" else "spec.resolved.json"
    return LoadedRun(serving=serving, model_path=model_path, concrete=folder.read_json(spec_file),
                     in_memory=prep is not None, max_params=max_params)


# ---------------------------------------------------------------- evaluate


def raw_test_split(loaded, data):
    """`(x_test, y_test, source)`: the test split of `data`, as the model's raw input, labels in its class order."""
    serving = loaded.serving
    contract = serving.contract
    task = serving.task
    model_dtype = contract["trained_input"]["dtype"]
    spec, _ = parse_data(data, None)
    integer = numpy_dtype(model_dtype).kind in "iu"
    if serving.recorded and not integer:
        # The raw values: the model scales and standardizes them as training did.
        spec = {k: v for k, v in spec.items() if k != "normalize"}
        spec["rescale"] = 1.0
    head = model_output(serving.trained)
    head = head.get("head", head.get("reconstruction")) if isinstance(head, dict) else head
    labelled = task in ("classification", "regression")
    units = int(head.shape[-1]) if labelled else None
    dataset = load_data(spec, contract["input"]["shape"], input_dtype=model_dtype, output_units=units,
                        task=task if labelled else "reconstruction", sequence_labels=labelled and len(head.shape) > 2,
                        seed=loaded.training.get("seed", D.TRAINING["seed"]))
    x = conform_inputs(dataset.x_test, contract, dataset.source)
    y = dataset.y_test
    trained_names = contract.get("class_names")
    if (y is not None and trained_names and dataset.class_names and dataset.class_names != trained_names
            and not dataset.one_hot):
        unknown = sorted(set(dataset.class_names) - set(trained_names))
        if unknown:
            raise DataError(f"classes unknown to the model: {', '.join(unknown[:5])}", dataset.source)
        lookup = np.array([trained_names.index(n) for n in dataset.class_names])
        y = lookup[y].astype(np.int32)
    return x, y, dataset.source


def _targets(model, task, x, y):
    """What the loss compares each output with: the labels, or the (preprocessed) input for a reconstruction."""
    output = model_output(model)
    if isinstance(output, dict):
        return {name: x if name == "reconstruction" else y for name in output}
    return x if task == "reconstruction" else y


def _codes(loaded, x):
    """An autoencoder's codes of the preprocessed inputs `x`, or None.

    The contract names the code layer; a 0.1.0 run has its `encoder.keras` (preprocessed inputs in) beside.
    """
    name = loaded.serving.contract.get("code")
    trained = loaded.serving.trained
    if name and name in [layer.name for layer in trained.layers]:
        import keras

        encoder = keras.Model(trained.inputs, trained.get_layer(name).output)
    elif loaded.in_memory and os.path.exists(os.path.join(os.path.dirname(loaded.model_path), "encoder.keras")):
        encoder = load_model_safely(os.path.join(os.path.dirname(loaded.model_path), "encoder.keras"),
                                    max_params=loaded.max_params)
    else:
        return None
    return np.asarray(encoder.predict(x, verbose=0))


def evaluate(run, data=None, *, batch_size=None, out=None, max_params=D.MAX_PARAMS):
    """The evaluation report of a trained model on a test split.

    Args:
        run: a run directory (train, compare or tune) or a `.keras` file.
        data: the data to take the test split of (as a spec's `data`, a path or a dataset name); default:
            the data the run was trained on (recorded in `spec.resolved.json`, or a tune run's `best.json`).
        batch_size: default the run's `training.batch_size`, else 128.
        out: a folder to write the report's files into (`report.json`, `confusion.csv`,
            `confusion.png`, `regression.png`); None writes nothing.
        max_params: refuse a model file that declares more parameters (`--max-params`).

    Returns:
        The report (see `archbuilder.run.evaluation`): `test_loss` and `test_<metric>` as in
        `metrics.json`, `task`, `samples`, `model`, `data`, and its `classification`,
        `regression` or `reconstruction` section.

    Raises:
        ArchbuilderError: an unsafe or missing model; DataError: no data or data that does not fit.
        ArgumentError: an argument of the wrong type or value (also a TypeError or ValueError).
    """
    run = check_path("evaluate", "run", run, optional=False)
    batch_size = check_int("evaluate", "batch_size", batch_size)
    out = check_path("evaluate", "out", out)
    loaded = open_run(run, max_params=max_params)
    if data is None:
        data = (loaded.concrete or {}).get("data")
        if data is None:
            raise DataError("no data: pass --data (nothing beside the model says what it was trained on)")
    model = loaded.model
    if not getattr(model, "compiled", False):
        raise ArchbuilderError(f"{loaded.model_path}: the model was saved without a loss; cannot evaluate it")
    x, y, source = raw_test_split(loaded, data)
    if not batch_size:
        batch_size = eval_batch_size(len(x), loaded.training.get("batch_size", D.TRAINING["batch_size"]))
    seen = loaded.serving.preprocess(x, batch_size)
    targets = _targets(model, loaded.serving.task, seen, y)
    results = model.evaluate(x, targets, batch_size=batch_size, return_dict=True, verbose=0)
    metrics = {"test_loss": float(results.pop("loss"))}
    metrics.update({f"test_{k}": float(v) for k, v in sorted(results.items())})
    outputs = model.predict(x, batch_size=batch_size, verbose=0)
    contract = loaded.serving.contract
    report = evaluation_report(loaded.serving.task, outputs, y, seen, class_names=contract.get("class_names"),
                               one_hot=contract.get("one_hot"), codes=_codes(loaded, seen), metrics=metrics)
    report.update(model=loaded.model_path, data=source)
    if out:
        labelled = outputs.get("head") if isinstance(outputs, dict) else outputs
        report["files"] = write_report_files(os.fspath(out), report, model.name, y, labelled)
    return report


# ---------------------------------------------------------------- predict


def prediction_frame(outputs, task, class_names=None, ids=None):
    """Predictions as a `pandas.DataFrame`.

    Classifiers: `prediction` (the class name, or its index) and one
    probability column per class, named after the class. Regression:
    `prediction` (or `prediction_0`, ...). Reconstructions and codes: `value_0`, ....
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
    """Predicts with a trained model from raw inputs (the model preprocesses them as training did).

    Args:
        run: a run directory (train, compare or tune) or a `.keras` file.
        inputs: a file (`.npy`, `.npz`, `.csv` — feature columns matched by name —, an image
            or an image folder) or an array.
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
    loaded = open_run(run, max_params=max_params)
    contract = loaded.serving.contract
    ids = None
    if isinstance(inputs, (str, os.PathLike)):
        x, ids = load_inputs(inputs, contract, return_ids=True)
    else:
        x = conform_inputs(inputs, contract, "inputs")
    outputs = loaded.model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(outputs, dict):
        outputs = outputs["head"] if "head" in outputs else outputs["reconstruction"]
    frame = prediction_frame(outputs, loaded.serving.task, contract.get("class_names"), ids)
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
