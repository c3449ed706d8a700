"""`archbuilder tune`: a keras-tuner search of a spec's spaces, into a run directory.

The run directory holds `spec.json`, `tuner/` (keras-tuner's
own project directory, so `resume=True` continues it), `trials.csv`, `best.json`,
`best_model.keras`, `trials.png` and `DONE`, written last. keras-tuner writes its
state files with plain writes; here the oracle, each trial and each checkpoint go
through `archbuilder.atomic` instead, so a SIGKILL at any moment leaves every file
complete or absent and no finished trial is lost.

A trial that fails (a layer Keras refuses, a pooling that shrinks a feature map to
0, a NaN loss, out of memory) is recorded with a one-line reason naming the spec
path and the search goes on; `tuning.max_consecutive_failed_trials` failures in a
row stop it with `TrialError`.

Example:
    >>> import archbuilder
    >>> result = archbuilder.tune("specs/mnist1d_cnn_tune.json", max_trials=3)
    >>> result.trials[["trial_id", "score", "params"]]
    >>> result.best_spec["conv"]
"""

import contextlib
import dataclasses
import html
import io
import json
import os
import sys
import time
import warnings

import keras

from archbuilder.errors import ArchbuilderError
from archbuilder.errors import ArgumentError
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.errors import TrialError
from archbuilder.errors import check_flag
from archbuilder.errors import check_int
from archbuilder.errors import check_number
from archbuilder.errors import check_path
from archbuilder.layers.safe_load import load_model_safely
from archbuilder.model.serving import serving_model
from archbuilder.plotting import Shown
from archbuilder.plotting import png_bytes
from archbuilder.run import mlflow_runs
from archbuilder.run import reports
from archbuilder.run.device import precision_of
from archbuilder.run.prepare import input_files
from archbuilder.run.prepare import prepare_data
from archbuilder.run.prepare import resolved_data
from archbuilder.run.rundir import DONE
from archbuilder.run.replay import record
from archbuilder.run.replay import replay
from archbuilder.run.rundir import RunDir
from archbuilder.run.train import size_overrides
from archbuilder.spec.load import load_spec
from archbuilder.spec.load import resolve_files
from archbuilder.tuning import workers as workers_module
from archbuilder.tuning.hypermodel import SpecHyperModel
from archbuilder.tuning.job import finished_count
from archbuilder.tuning.job import write_job
from archbuilder.tuning.pack_search import environment as pack_environment
from archbuilder.tuning.pareto import objective_value
from archbuilder.tuning.pareto import select
from archbuilder.tuning.pareto import write_front
from archbuilder.tuning.resume import check_project
from archbuilder.tuning.resume import chosen_score
from archbuilder.tuning.resume import read_finished
from archbuilder.tuning.resume import reloading
from archbuilder.tuning.settings import objective_of
from archbuilder.tuning.settings import objectives_of
from archbuilder.tuning.settings import search_settings
from archbuilder.tuning.settings import tuning_overrides
from archbuilder.tuning.tracking import SearchTracker
from archbuilder.tuning.trials import Report
from archbuilder.tuning.trials import status_counts
from archbuilder.tuning.trials import hyperparameter_figure
from archbuilder.tuning.tuners import PROJECT
from archbuilder.tuning.tuners import is_distributed_worker
from archbuilder.tuning.tuners import make_tuner
from archbuilder.tuning.warm_start import enqueued_points

__all__ = ["TuneResult", "tune", "best_spec"]


@dataclasses.dataclass
class TuneResult(Shown):
    """What `tune` found.

    In a notebook it shows itself: the best score and spec, then trials.png and the
    score against each hyperparameter (`plot()`).

    Attributes:
        trials: one row per finished trial (`trial_id`, `status`, `score`, every
            hyperparameter by name, `params`, `flops`, `latency_ms`, `sample_latency_ms`,
            each other metric listed as an objective, `epochs_run`, `seconds`, `worker`, `error`).
        best_spec: the plain spec of the best trial (what `best.json` holds).
        best_model: the best trial's trained model, taking raw inputs (what `best_model.keras` holds).
        run_dir: the run directory.
        objective: the metric searched (the first of a list), e.g. `val_accuracy`.
        best_score: its value for the best trial (with several objectives, `tuning.select`'s choice).
        direction: `max` or `min`, how the objective is judged.
    """

    trials: object
    best_spec: dict
    best_model: object
    run_dir: str
    objective: str = None
    best_score: float = None
    direction: str = "max"

    def __fspath__(self):
        return self.run_dir

    def plot(self):
        """The objective of each completed trial against each hyperparameter, as a matplotlib `Figure`."""
        return hyperparameter_figure(self.trials, self.objective or "score", self.direction)

    def figures(self):
        found = []
        path = os.path.join(self.run_dir, "trials.png")
        if os.path.exists(path):
            with open(path, "rb") as f:
                found.append(f.read())
        if self.trials is not None and len(self.trials):
            found.append(png_bytes(self.plot()))
        return found

    def _summary_html(self):
        completed = int((self.trials["status"] == "COMPLETED").sum()) if self.trials is not None else 0
        score = "none" if self.best_score is None else f"{self.best_score:.4f}"
        return (f"<p>Best {html.escape(str(self.objective))}: <b>{score}</b> ({completed} of "
                f"{0 if self.trials is None else len(self.trials)} trials completed) in "
                f"<code>{html.escape(self.run_dir)}</code></p>")


# ---------------------------------------------------------------- best.json and best_model.keras


def best_spec(spec, hypermodel, trial, data=None):
    """The plain spec of `trial`: every space at its value, repeat forms expanded, valid as is."""
    # best.json lives in the run directory: files named relative to the spec file become absolute.
    doc = resolve_files(hypermodel.space.resolved(trial.hyperparameters.values), spec.base_dir)
    if data is not None or "data" in doc:
        concrete = spec.concrete()
        doc["data"] = resolved_data(spec, concrete, data)
    return doc


def _best_model(tuner, trial, hypermodel, dataset):
    """The best trial's model with its best epoch's weights; retrained when no checkpoint is at hand."""
    retrained = False
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the checkpoint's optimizer slots are not wanted
            model = tuner.load_model(trial)
    except (OSError, ValueError):
        hp = trial.hyperparameters
        model = tuner._try_build(hp)
        hypermodel.fit(hp, model, dataset, epochs=hp.values.get("tuner/epochs"))
        retrained = True
    if model.optimizer is not None and not model.optimizer.built:
        # Saved with its slots, the model reloads without Keras's optimizer-mismatch warning.
        model.optimizer.build(model.trainable_variables)
    return model, retrained


# ---------------------------------------------------------------- the search


def _without_budget(doc):
    doc = json.loads(json.dumps(doc))
    for key in ("max_trials", "max_time"):
        (doc.get("tuning") or {}).pop(key, None)
    return doc


def _check_same_spec(run_dir, doc):
    """A resumed search must be the same search; only its budget (max_trials, max_time) may change."""
    before = RunDir(run_dir).read_json("spec.json")
    if before is None:
        return
    if _without_budget(before) != _without_budget(doc):
        raise ArchbuilderError(f"{run_dir}: --resume continues the same search, but the spec differs from the "
                               f"run's spec.json; use a new --out, or --overwrite to start again")


def _finished_result(run, objective):
    best, trials = read_finished(run)
    model = load_model_safely(run.file("best_model.keras")) if run.exists("best_model.keras") else None
    best_score = chosen_score(run, best, trials)
    if best_score is None:  # one objective: the best score is the best trial's
        scores = trials.loc[trials["status"] == "COMPLETED", "score"].dropna()
        best_score = None if scores.empty else float(scores.max() if objective.direction == "max" else scores.min())
    return TuneResult(trials=trials, best_spec=best, best_model=model, run_dir=run.path, objective=objective.name,
                      best_score=best_score, direction=objective.direction)


def tune(spec_or_path, data=None, *, tuner=None, max_trials=None, max_time=None, epochs=None, batch_size=None,
         out=None, overwrite=False, resume=False, workers=None, overrides=(), seed=None, quiet=False,
         runs_root="runs", pack=None, mlflow=None, warm_start=None):
    """Searches a spec's search spaces with keras-tuner and writes a run directory.

    Args:
        spec_or_path: a spec file's path, a dict, a JSON string or a `Spec`.
        data: overrides the spec's `data`: a dict like the spec's, a path or a dataset name.
        tuner: `random`, `grid`, `bayesian` or `hyperband` (overrides `tuning.tuner`).
        max_trials: overrides `tuning.max_trials` (not for hyperband).
        max_time: seconds after which no new trial starts (overrides `tuning.max_time`).
        epochs: epochs of each trial (overrides `training.epochs`, as `train` takes it).
        batch_size: overrides `training.batch_size`.
        out: the run directory (default `runs/<name>-<YYYYmmdd-HHMMSS>`).
        overwrite: replace `out` if it exists.
        resume: continue the search in `out`: finished trials are kept, not rerun; the
            overrides and data it was started with apply again (those given again win).
        workers: run keras-tuner's distributed mode: a chief oracle in this
            process and this many supervised worker processes (see `archbuilder.tuning.workers`).
        overrides: applied to the spec first: `PATH=VALUE` strings (`--set`) or `(path, value)` pairs.
        seed: short for the override `training.seed=N`.
        quiet: no trial table.
        pack: trials trained together on JAX, a number or `"auto"` (overrides `tuning.pack`).
        mlflow: an MLflow tracking URI (a folder such as `mlruns`, `sqlite:///m.db`,
            `http://host:5000`): each ended trial is logged there as one MLflow run.
        warm_start: a run directory, `trials.csv` or `best.json` whose points are tried first
            (`archbuilder.tuning.warm_start`).

    Returns:
        A `TuneResult`; in a worker process (`KERASTUNER_TUNER_ID` names a worker), None.

    Raises:
        SpecErrors: an invalid spec.
        DataError: data that is missing or does not fit the spec.
        TrialError: `tuning.max_consecutive_failed_trials` trials failed in a row,
            or no trial finished.
    """
    out = check_path("tune", "out", out, empty=True)
    warm_start = check_path("tune", "warm_start", warm_start)
    overwrite, resume = check_flag("tune", "overwrite", overwrite), check_flag("tune", "resume", resume)
    if overwrite and resume:
        raise ArgumentError("tune", "resume", "overwrite and resume exclude each other")
    max_trials = check_int("tune", "max_trials", max_trials)
    max_time = check_number("tune", "max_time", max_time)
    workers = check_int("tune", "workers", workers, minimum=0)
    seed = check_int("tune", "seed", seed, minimum=0)
    mlflow = check_path("tune", "mlflow", mlflow)
    overrides = list(overrides) + ([("training.seed", seed)] if seed is not None else [])
    overrides += size_overrides(epochs, batch_size)
    spec = load_spec(spec_or_path, overrides + tuning_overrides(tuner, max_trials, max_time, pack))
    policy = keras.config.dtype_policy()  # trials set the global precision policy; give it back after
    try:
        return _tune(spec, data, out, overwrite, resume, workers, quiet, runs_root, mlflow, warm_start)
    finally:
        keras.config.set_dtype_policy(policy)


def _write_environment(run, spec, settings):
    """env.json: as `train` writes it; `precision` is `"searched"` when mixed_precision is a space.

    A packed search adds `pack` (its size and program), and says so where it cannot pack.
    """
    training = spec.rendered()["training"]
    searched = isinstance(training.get("mixed_precision"), dict)
    precision = "searched" if searched else precision_of(training)
    environment = reports.environment(precision, settings["seed"])
    if settings["pack"] != 1:
        environment["pack"], note = pack_environment(settings["pack"])
        if note:
            print(note, file=sys.stderr, flush=True)
    run.write_json("env.json", environment)


def _tune(spec, data, out, overwrite, resume, workers, quiet, runs_root, mlflow=None, warm_start=None):
    if workers is not None and search_settings(spec)["pack"] != 1:
        raise SpecErrors([SpecError("$.tuning.pack", "packed trials run in one process; use tuning.pack or "
                                    "--workers, not both", spec.source)])
    if is_distributed_worker():
        if workers:
            return workers_module.supervise_remote(spec, data, out, workers, quiet)
        return workers_module.run_worker(spec, data, out)
    if resume and out is None:
        raise ArchbuilderError("--resume needs --out RUN_DIR: the run directory to continue")
    if resume:
        spec, data = replay(spec, data, out)  # the search's own --set, --data, ... unless given again
    inputs = input_files(spec, spec.concrete(), data) + ([os.path.abspath(warm_start)] if warm_start else [])
    RunDir.check(out, overwrite=overwrite, resume=resume, inputs=inputs)
    if resume and RunDir(out).done:
        if not quiet:
            print(f"{out}: already finished ({DONE} exists); nothing to resume")
        return _finished_result(RunDir(out), objective_of(spec))
    settings = search_settings(spec)
    objective = objective_of(spec)
    hypermodel = SpecHyperModel(spec)
    chosen = {"objectives": objectives_of(spec),
              "enqueued": enqueued_points(spec, settings, hypermodel.space, objective, warm_start)}
    if resume:
        check_project(out)
    tracking_runs = mlflow_runs.open_runs(mlflow, spec.name)  # a bad URI fails before any trial
    with RunDir.create(spec.name, out, overwrite=overwrite, resume=resume, root=runs_root, inputs=inputs,
                       command="tune") as run:
        try:
            with workers_module.chief_environment() if workers is not None else contextlib.nullcontext():
                return _search(spec, data, run, resume, workers, quiet, settings, hypermodel, objective, chosen,
                               tracking_runs)
        except KeyboardInterrupt as e:
            e.run_dir = run.path  # for the message that says how to resume
            raise


def _search(spec, data, run, resume, workers, quiet, settings, hypermodel, objective, chosen, tracking_runs=None):
    """The search of `_tune` in the run directory `run`; `chosen`: the oracle's objectives and warm-start points."""
    run_dir = run.path
    if resume:
        _check_same_spec(run_dir, spec.doc)
    record(run, spec, resolved_data(spec, spec.concrete(), data) if data is not None else None)
    run.write_json("spec.json", spec.doc)
    _write_environment(run, spec, settings)
    hypermodel.dataset = dataset = prepare_data(spec, data)
    tracker = SearchTracker(run_dir, objective, hypermodel.space, tracking_runs,
                            spec_of=lambda trial: best_spec(spec, hypermodel, trial, data))
    report = Report(run_dir, hypermodel, objective, quiet=quiet, objectives=chosen["objectives"], tracker=tracker)
    deadline = time.monotonic() + settings["max_time"] if settings.get("max_time") else None
    if workers is not None:
        write_job(run_dir, spec, data, quiet)
        tuner_ = workers_module.run_chief(spec, settings, objective, hypermodel, run_dir, report, deadline,
                                          workers, **chosen)
    else:
        with reloading(run_dir):
            tuner_ = make_tuner(settings, objective, hypermodel, run_dir, PROJECT, on_trial_end=report.trial_ended,
                                deadline=deadline, **chosen)
        report.oracle = tuner_.oracle
        report.header(settings, resumed=finished_count(tuner_.oracle))
        tuner_.search(dataset, verbose=0)
    return _finish(spec, hypermodel, tuner_, report, run, data, dataset, quiet, settings)


def _finish(spec, hypermodel, tuner_, report, run, data, dataset, quiet, settings):
    oracle = tuner_.oracle
    run_dir = run.path
    rows = report.write_csv()
    if rows:
        report.write_plot(rows)
    objectives, primary = report.objectives, report.objective.name
    chosen, front, note = select(rows, objectives, primary, settings["select"])
    failed = [r for r in rows if r["status"] == "FAILED"]
    result = TuneResult(trials=report.frame(rows), best_spec=None, best_model=None, run_dir=run_dir,
                        objective=primary, direction=report.objective.direction)
    if note and not quiet:
        print(note, file=sys.stderr, flush=True)
    if chosen is not None:
        best = oracle.trials[chosen["trial_id"]]
        if len(objectives) > 1:
            write_front(run, report, rows, front, chosen,
                        lambda trial_id: best_spec(spec, hypermodel, oracle.trials[trial_id], data))
        result.best_spec = best_spec(spec, hypermodel, best, data)
        run.write_json("best.json", result.best_spec)
        best_model, retrained = _best_model(tuner_, best, hypermodel, dataset)
        result.best_model = serving_model(best_model, dataset.preprocessing)  # raw inputs in, as train saves
        run.save_model("best_model.keras", result.best_model)
        result.best_score = best.score
        values = ", ".join(f"{o.name} = {objective_value(chosen, o.name, primary):.6g}" for o in objectives)
        summary = (f"Best trial {best.trial_id}: {values} ({status_counts(rows)})"
                   + (f"; {len(front)} on the Pareto front (pareto.csv)" if len(objectives) > 1 else "")
                   + f"; wrote {run_dir}/best.json"
                   + (" (best model retrained: no checkpoint)" if retrained else ""))
    infeasible = getattr(oracle, "infeasible_limit", None)
    if infeasible is not None:
        message = (f"the search stopped: the last {infeasible} sampled points broke tuning.constraints "
                   f"(tuning.max_infeasible); see {run_dir}/trials.csv; loosen the constraints or narrow the spaces")
        if chosen is None:
            raise TrialError(message)
        print(f"archbuilder: {message}", file=sys.stderr, flush=True)
    limit = getattr(oracle, "failure_limit", None)
    if limit is not None:
        reasons = sorted({r["error"] for r in failed if r["error"]})
        raise TrialError(f"the search stopped: {limit} trials failed in a row (tuning.max_consecutive_failed_"
                         f"trials); {status_counts(rows)}; see {run_dir}/trials.csv; "
                         f"last reason: {failed[-1]['error'] if failed else '?'}"
                         + (f" ({len(reasons)} distinct reasons)" if len(reasons) > 1 else ""))
    if chosen is None:
        raise TrialError(f"no trial finished ({status_counts(rows) or 'no trials'}); see {run_dir}/trials.csv")
    run.finish()
    if not quiet:
        print(summary, flush=True)
    return result


