"""`train`: a spec -> a trained model in a run directory.

The fitting itself is `archbuilder.run.fit.fit_model`, the one fit loop that
`compare` and `tune` use too. This module adds the run directory
(`archbuilder.run.rundir.RunDir`): every file complete or absent, a checkpoint
after every epoch so `resume=True` continues an interrupted run from its last
completed epoch, and `DONE` last.

Example:
    >>> import archbuilder
    >>> result = archbuilder.train("specs/mnist1d_cnn.json", epochs=3)
    >>> result.metrics["test_accuracy"], result.run_dir
"""

import copy
import json
import os
import sys
import time

import numpy as np

from archbuilder.errors import ArchbuilderError
from archbuilder.errors import ArgumentError
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.errors import check_flag
from archbuilder.errors import check_int
from archbuilder.errors import check_path
from archbuilder.format import jsonpath
from archbuilder.model.serving import serving_model
from archbuilder.run import callbacks as ab_callbacks
from archbuilder.run import fast_path
from archbuilder.run import mlflow_runs
from archbuilder.run import reports
from archbuilder.run import tracking
from archbuilder.run.device import precision_scope
from archbuilder.run.evaluation import evaluation_report
from archbuilder.run.figures import write_report_files
from archbuilder.run.device import seed_everything
from archbuilder.run.fit import build_for_training
from archbuilder.run.fit import class_weights
from archbuilder.run.fit import early_stopping_callback
from archbuilder.run.fit import eval_batch_size
from archbuilder.run.fit import fit_model
from archbuilder.run.fit import targets
from archbuilder.run.prepare import adapt_loss
from archbuilder.run.prepare import input_files
from archbuilder.run.prepare import prepare_data
from archbuilder.run.prepare import resolved_data
from archbuilder.run.replay import record
from archbuilder.run.replay import replay
from archbuilder.run.rundir import DONE
from archbuilder.run.rundir import RunDir
from archbuilder.run.train_result import TrainResult
from archbuilder.run.train_result import summary_line
from archbuilder.spec.load import Spec
from archbuilder.spec.load import load_spec
from archbuilder.spec.normalize import outputs
from archbuilder.spec.normalize import task_of
from archbuilder.text import byte_size

__all__ = ["train", "run_training", "finished_line", "size_overrides", "out_of_memory"]


# ---------------------------------------------------------------- train


def finished_line(result):
    """`RUN: already finished (DONE exists); nothing to resume`, with why a larger --epochs did not extend it."""
    return f"{result.run_dir}: already finished ({DONE} exists); nothing to resume{result.reason}"


def size_overrides(epochs=None, batch_size=None):
    """`--epochs` and `--batch-size` as override pairs (none for a flag not given)."""
    pairs = [("training.epochs", epochs), ("training.batch_size", batch_size)]
    return [(path, int(value)) for path, value in pairs if value is not None]


def _load(spec_or_path, overrides, epochs, batch_size):
    """The spec with the overrides applied: a `Spec` given with no overrides is used as it is (loaded once)."""
    overrides = list(overrides) + size_overrides(epochs, batch_size)
    if isinstance(spec_or_path, Spec) and not overrides:
        return spec_or_path
    return load_spec(spec_or_path, overrides)


def _first_difference(a, b, path="$"):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            found = _first_difference(a.get(key), b.get(key), jsonpath.join(path, key))
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            found = _first_difference(x, y, jsonpath.join(path, i))
            if found:
                return found
        return None
    return None if a == b else path


def _check_same_run(run, concrete):
    """On resume: the spec must be the one the run started with (epochs may change)."""
    try:
        saved = run.read_json("spec.resolved.json")
    except ArchbuilderError:
        return
    if saved is None:
        return
    ours, theirs = copy.deepcopy(concrete), copy.deepcopy(saved)
    for doc in (ours, theirs):
        doc.get("training", {}).pop("epochs", None)
    where = _first_difference(json.loads(json.dumps(ours)), theirs)
    if where:
        raise ArchbuilderError(f"{run}: cannot resume: the spec differs from the run's spec.resolved.json at "
                               f"{where}; resume with the same spec (and --data), or start a new run")


def _finished(run, name, reason=""):
    try:
        metrics = run.read_json("metrics.json") or {}
    except ArchbuilderError:
        metrics = {}
    return TrainResult(run_dir=run.path, name=name, metrics=metrics, finished_before=True, reason=reason)


def _not_extended(out, concrete):
    """Why a finished run is not trained further (`""`: nothing to do), or None: extend it to more epochs.

    A run keeps its last checkpoint and state after `DONE`, so `--resume` with a larger
    `--epochs` continues it from its last epoch with its optimizer state, as Keras's
    `fit(initial_epoch=...)` continues a model.
    """
    state = ab_callbacks.read_state(out)
    epochs = concrete["training"]["epochs"]
    done = state["epoch"] if state is not None else None
    if done is None:
        return "" if epochs <= _epochs_run(out) else f"; no checkpoint to continue to {epochs} epochs from"
    if epochs <= done:
        return ""
    if state.get("stopped"):
        return f"; early stopping ended it at epoch {done}, so {epochs} epochs train it no further"
    return None


def _epochs_run(out):
    try:
        return (RunDir(out).read_json("metrics.json") or {}).get("epochs_run", 0)
    except ArchbuilderError:
        return 0


def _default_verbose(quiet):
    if quiet:
        return 0
    interactive = sys.stdout.isatty() or "ipykernel" in sys.modules
    return 1 if interactive else 2


def _arguments(function, out, overwrite, resume, epochs, batch_size):
    """The arguments every run takes, checked: `ArgumentError`/`ArgumentTypeError` name the one at fault."""
    out = check_path(function, "out", out, empty=True)  # RunDir.check says why "" is no folder
    overwrite, resume = check_flag(function, "overwrite", overwrite), check_flag(function, "resume", resume)
    if overwrite and resume:
        raise ArgumentError(function, "resume", "overwrite and resume exclude each other")
    if resume and out is None:
        raise ArchbuilderError("--resume needs --out RUN_DIR: the run directory to continue")
    return out, overwrite, resume, check_int(function, "epochs", epochs), check_int(function, "batch_size", batch_size)


def run_training(spec_or_path, data=None, *, out=None, overwrite=False, resume=False, epochs=None,
                 batch_size=None, quiet=False, overrides=(), defaults=False, callbacks=(), verbose=None,
                 runs_root="runs", mlflow=None):
    """Trains a spec into a run directory; `train` without the printing. Returns a `TrainResult`."""
    out, overwrite, resume, epochs, batch_size = _arguments("train", out, overwrite, resume, epochs, batch_size)
    spec = _load(spec_or_path, overrides, epochs, batch_size)
    if resume:
        spec, data = replay(spec, data, out)  # the run's own --set, --epochs, --data, ... unless given again
    if not defaults:
        spec.require_concrete(f"train {spec.source}")
    concrete = spec.concrete()
    inputs = input_files(spec, concrete, data)
    RunDir.check(out, overwrite=overwrite, resume=resume, inputs=inputs)  # before any data is read
    if resume and RunDir(out).done:
        reason = _not_extended(out, concrete)
        if reason is not None:
            return _finished(RunDir(out), spec.name, reason)
    tracking_runs = mlflow_runs.open_runs(check_path("train", "mlflow", mlflow), spec.name)  # before any data
    run = None
    try:
        dataset = prepare_data(spec, data, concrete)
        concrete = adapt_loss(concrete, dataset)
        concrete["data"] = resolved_data(spec, concrete, data)
        class_weights(concrete, dataset)  # a wrong class name fails before the run directory exists
        early_stopping_callback(concrete)
        run = RunDir.create(spec.name, out, overwrite=overwrite, resume=resume, root=runs_root, inputs=inputs)
        return _train_in(run, spec, concrete, dataset, resume, quiet, callbacks, verbose,
                         concrete["data"] if data is not None else None, tracking_runs)
    except KeyboardInterrupt as e:
        e.run_dir = run.path if run else None  # for the message that says how to resume
        raise
    except SpecError as e:  # found with the data (class_weight) or by Keras: name the file
        raise SpecErrors([SpecError(e.path, e.message, spec.source)]) from None
    finally:
        if run is not None:
            run.release()


def out_of_memory(error, concrete, source):
    """The one line for an out-of-memory error raised while fitting, or None for any other error.

    Says the batch size, the model's activation estimate from the static plan and a
    smaller batch size to try (TensorFlow's `ResourceExhaustedError`, JAX's and PyTorch's
    out-of-memory errors, and a host `MemoryError`).
    """
    text = str(error)
    if not (isinstance(error, MemoryError) or type(error).__name__ in ("ResourceExhaustedError", "OutOfMemoryError")
            or "RESOURCE_EXHAUSTED" in text or "out of memory" in text.lower()):
        return None
    from archbuilder.spec.plan import plan_spec

    batch = concrete["training"]["batch_size"]
    try:
        nodes = plan_spec(concrete).nodes
        per_sample = 4 * sum(int(np.prod([d or 1 for d in node.shape])) for node in nodes)
        params = sum(node.params for node in nodes)
        estimate = (f"the model's activations take about {byte_size(per_sample * batch)} per batch "
                    f"({byte_size(per_sample)} per sample, float32, forward pass) beside its {params:,} "
                    "parameters")
    except ArchbuilderError:
        estimate = "the model's activations could not be estimated"
    suggestion = f"try --batch-size {max(1, batch // 2)}" if batch > 1 else "the model itself is too large"
    return SpecError("$.training.batch_size", f"out of memory while training with batch size {batch}: {estimate}; "
                     f"{suggestion}", source)


def _train_in(run, spec, concrete, dataset, resume, quiet, callbacks, verbose, data=None, tracking_runs=None):
    state = ab_callbacks.read_state(run.path) if resume else None
    if resume:
        _check_same_run(run, concrete)
    record(run, spec, data)  # what `--resume` replays
    if run.done:  # a finished run extended to more epochs: the new DONE comes after them
        os.unlink(run.file(DONE))
    run.write_json("spec.json", spec.doc)
    run.write_json("spec.resolved.json", concrete)
    run.write_json("preprocessing.json", dataset.preprocessing)

    training = concrete["training"]
    seed_everything(training["seed"])
    with precision_scope(training) as precision:
        built = build_for_training(concrete, dataset, spec.source)
        es = early_stopping_callback(concrete, state and state.get("early_stopping"))
        try:
            history, train_seconds = _fit_or_resume(
                built, concrete, dataset, run.path, state, es, callbacks,
                _default_verbose(quiet) if verbose is None else verbose)
        except Exception as e:
            memory = out_of_memory(e, concrete, spec.source)
            if memory is None:
                raise
            raise SpecErrors([memory]) from None
        metrics = _evaluate_test(built, concrete, dataset, history, train_seconds)
        _write_outputs(run, spec, built, concrete, dataset, history, metrics, precision)
    if tracking_runs is not None:
        mlflow_runs.log_train_run(tracking_runs, run.path, spec.doc, concrete, history, metrics)
    return TrainResult(run_dir=run.path, name=spec.name, metrics=metrics)


def _fit_or_resume(built, concrete, dataset, run_dir, state, es, callbacks, verbose):
    """Fits from scratch or from the run's last checkpoint; returns `(history dict, train seconds)`."""
    epochs = concrete["training"]["epochs"]
    initial_epoch, history, seconds = 0, {}, 0.0
    if state is not None:
        ab_callbacks.load_checkpoint(built.model, run_dir, es)
        initial_epoch, history, seconds = state["epoch"], state["history"], state.get("train_seconds", 0.0)
    checkpoint = ab_callbacks.EpochCheckpoint(run_dir, history, seconds, es, interval=fast_path.checkpoint_interval())
    own = [c for c in (es, tracking.tensorboard(run_dir)) if c is not None]
    if initial_epoch < epochs and not (state or {}).get("stopped"):
        start = time.perf_counter()
        fit_model(built, concrete, dataset, callbacks=own + [checkpoint] + list(callbacks), verbose=verbose,
                  initial_epoch=initial_epoch)
        seconds += time.perf_counter() - start
    elif es is not None and es.restore_best_weights and es.best_weights is not None:
        built.model.set_weights(es.best_weights)  # stopped before the kill: finish as EarlyStopping would
    return checkpoint.history, seconds


def _evaluate_test(built, concrete, dataset, history, train_seconds):
    model = built.model
    results = model.evaluate(dataset.x_test, targets(concrete, dataset.x_test, dataset.y_test),
                             batch_size=eval_batch_size(len(dataset.x_test), concrete["training"]["batch_size"]),
                             return_dict=True, verbose=0)
    metrics = {"test_loss": float(results.pop("loss"))}
    metrics.update({f"test_{k}": float(v) for k, v in sorted(results.items())})
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    metrics.update({
        "params": int(model.count_params()),
        "trainable_params": trainable,
        "train_seconds": round(float(train_seconds), 3),
        "epochs_run": len(next(iter(history.values()), [])),
    })  # fmt: skip
    return metrics


def _write_report(run, built, concrete, dataset, metrics):
    """The evaluation report of the test split (what `archbuilder evaluate RUN` gives) and its files."""
    x = dataset.x_test
    batch_size = eval_batch_size(len(x), concrete["training"]["batch_size"])
    outputs = built.model.predict(x, batch_size=batch_size, verbose=0)
    codes = built.encoder.predict(x, batch_size=batch_size, verbose=0) if built.encoder is not None else None
    report = evaluation_report(task_of(concrete), outputs, dataset.y_test, x, class_names=dataset.class_names,
                               one_hot=dataset.one_hot, codes=codes, metrics=metrics)
    labelled = outputs.get("head") if isinstance(outputs, dict) else outputs
    write_report_files(run, report, built.model.name, dataset.y_test, labelled)


def _write_outputs(run, spec, built, concrete, dataset, history, metrics, precision):
    prep = dataset.preprocessing
    code = built.encoder.layers[-1].name if built.encoder is not None else None  # the layer giving the code
    run.save_model("model.keras", serving_model(built.model, prep, code=code))
    if built.encoder is not None:
        run.save_model("encoder.keras", serving_model(built.encoder, prep, task="code"))
    _write_report(run, built, concrete, dataset, metrics)
    run.write_text("summary.txt", reports.summary_text(spec, built, metrics))
    run.write_text("history.csv", reports.history_csv(history))
    run.write_json("metrics.json", metrics)
    reports.write_curves(run.file("curves.png"), history, spec.name)
    if any(output.target == "input" for output in outputs(concrete)):
        reports.write_reconstructions(run.file("reconstructions.png"), built.model, dataset)
    run.write_json("env.json", reports.environment(precision, concrete["training"]["seed"]))
    run.finish()  # checkpoint.keras and state.json stay: a larger --epochs continues the run from them


def train(spec_or_path, data=None, *, out=None, overwrite=False, resume=False, epochs=None, batch_size=None,
          quiet=False, overrides=(), callbacks=(), mlflow=None):
    """Trains a spec and writes its run directory.

    Args:
        spec_or_path: a spec file's path, a dict, a JSON string or a `Spec`.
        data: overrides the spec's `data`: a dict like the spec's, a path or a dataset name.
        out: the run directory (default `runs/<name>-<YYYYmmdd-HHMMSS>`).
        overwrite: replace `out` if it exists.
        resume: continue the interrupted run in `out` from its last completed
            epoch, with the overrides and data it was started with (`archbuilder.run.replay`;
            those given again win); a finished run (holding `DONE`) is extended when
            `epochs` is larger than it ran, else left as it is.
        epochs: overrides `training.epochs`.
        batch_size: overrides `training.batch_size`.
        quiet: no progress bar and no summary line.
        overrides: applied to the spec first: `PATH=VALUE` strings (`--set`) or `(path, value)` pairs.
        callbacks: more Keras callbacks for `fit`.
        mlflow: an MLflow tracking URI (a folder such as `mlruns`, `sqlite:///m.db`,
            `http://host:5000`): the finished run is logged there as one MLflow run.

    Returns:
        A `TrainResult`: `.run_dir`, `.metrics`, `.history`, `.plot()`; it is path-like
        (`os.fspath(result)` is the run directory) and shows its figures in a notebook.

    Raises:
        SpecErrors: an invalid spec, or one with open search spaces (use `tune`).
        DataError: data that is missing or does not fit the spec.
        ArchbuilderError: `out` exists and neither `overwrite` nor `resume` is set, or
            `mlflow` names a store that cannot be opened (or MLflow is not installed).
    """
    result = run_training(spec_or_path, data, out=out, overwrite=overwrite, resume=resume, epochs=epochs,
                          batch_size=batch_size, quiet=quiet, overrides=overrides, callbacks=callbacks,
                          mlflow=mlflow)
    if not quiet:
        if result.finished_before:
            print(finished_line(result))
        else:
            print(summary_line(result))
    return result

