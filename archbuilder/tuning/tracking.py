"""A search's tracking: TensorBoard's HParams dashboard in `RUN/logs/`, and one MLflow run per trial.

Each trial's per-epoch scalars are written by whoever trains it
(`archbuilder.run.tracking.trial_scalars`, in `RUN/logs/trial_ID/train` and
`.../validation`). The process that owns the oracle adds the rest, without
TensorFlow, in the layout the HParams plugin reads:

- `RUN/logs/` (the root run): the experiment, every hyperparameter of the space
  with its domain (conditional ones included) and the metrics shown as columns,
  written when the search starts;
- `RUN/logs/trial_ID/`: the trial's session (its hyperparameter values, its
  status: COMPLETED is success, anything else failure) and `best_<objective>`,
  the score keras-tuner ranks trials by, written when the trial ends.

With `--mlflow URI`, each ended trial also becomes one MLflow run: its
hyperparameters as params, its per-epoch metrics (read back from its event
files, as Keras names them: `loss`, `val_loss`, ...) with the epoch as step,
`score`, `params` and `seconds`, tags for its status and error, and its plain
spec (`best.json`-style) as the artifact `spec.json`.
"""

import numbers
import os
import sys
import time

from archbuilder.errors import ArchbuilderError
from archbuilder.run import mlflow_runs
from archbuilder.run import tracking

__all__ = ["SearchTracker", "hparam_domains"]


def hparam_domains(space):
    """One HParams `HParam` per hyperparameter of a keras-tuner space, with its domain."""
    from tensorboard.plugins.hparams import summary_v2 as hp_api

    out = []
    for h in space.space:
        kind = type(h).__name__  # keras-tuner's Boolean, Choice, Fixed, Int, Float
        if kind == "Boolean":
            domain = hp_api.Discrete([True, False])
        elif kind == "Choice":
            domain = hp_api.Discrete(list(h.values))
        elif kind == "Fixed":
            domain = hp_api.Discrete([h.value])
        elif kind == "Int":
            domain = hp_api.IntInterval(int(h.min_value), int(h.max_value))
        else:
            domain = hp_api.RealInterval(float(h.min_value), float(h.max_value))
        out.append(hp_api.HParam(h.name, domain))
    return out


def _metrics(objective):
    """The dashboard's columns: the trial's score, and the last epoch's losses (and objective)."""
    from tensorboard.plugins.hparams import summary_v2 as hp_api

    metrics = [hp_api.Metric(f"best_{objective.name}", display_name=f"best {objective.name}"),
               hp_api.Metric("epoch_loss", group="validation", display_name="val_loss (last epoch)"),
               hp_api.Metric("epoch_loss", group="train", display_name="loss (last epoch)")]
    base = objective.name.removeprefix("val_")
    if base != "loss":
        group = "validation" if objective.name.startswith("val_") else "train"
        metrics.insert(1, hp_api.Metric(f"epoch_{base}", group=group, display_name=f"{objective.name} (last epoch)"))
    return metrics


def _plain(value):
    """A Python bool, int, float or str (the bayesian oracle hands out NumPy numbers)."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    return float(value)


def _session_end(status):
    """The HParams session-end summary (what `hparams.summary.session_end_pb` makes, which imports TensorFlow)."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import metadata
    from tensorboard.plugins.hparams import plugin_data_pb2

    info = plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=time.time())
    content = metadata.create_summary_metadata(plugin_data_pb2.HParamsPluginData(session_end_info=info))
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=metadata.SESSION_END_INFO_TAG, metadata=content,
                                                                tensor=metadata.NULL_TENSOR)])


class SearchTracker:
    """Writes a search's HParams experiment and sessions, and (with `mlflow`) an MLflow run per trial.

    Args:
        run_dir: the search's run directory.
        objective: the `keras_tuner.Objective`.
        space: the `HyperSpace` (decodes values for MLflow's params).
        mlflow: an `archbuilder.run.mlflow_runs.MlflowRuns`, or None.
        spec_of: `trial -> plain spec` (the artifact of each MLflow run).
    """

    def __init__(self, run_dir, objective, space, mlflow=None, spec_of=None):
        self.run_dir = run_dir
        self.logdir = os.path.join(run_dir, tracking.LOGS)
        self.objective = objective
        self.space = space
        self.mlflow = mlflow
        self.spec_of = spec_of

    def begin(self, hyperparameters):
        """Writes the experiment (once: a resumed search keeps the one it has)."""
        from tensorboard.plugins.hparams import summary_v2 as hp_api

        if os.path.isdir(self.logdir) and any(n.startswith("events.") for n in os.listdir(self.logdir)):
            return
        writer = tracking.EventWriter(self.logdir)
        writer.add_summary(hp_api.hparams_config_pb(hparam_domains(hyperparameters), _metrics(self.objective)))
        writer.close()

    def trial_ended(self, trial, record):
        """The trial's session (and MLflow run); `record` is the trial's side record (params, seconds, error)."""
        try:
            self._session(trial)
        except OSError as e:  # a full disk must not take the oracle down with it
            print(f"archbuilder: could not write {self.logdir}: {e}", file=sys.stderr)
        if self.mlflow is not None:
            self._mlflow_run(trial, record)

    def _session(self, trial):
        from tensorboard.plugins.hparams import api_pb2
        from tensorboard.plugins.hparams import summary_v2 as hp_api

        hps = trial.hyperparameters
        values = {name: _plain(value) for name, value in hps.values.items()
                  if name in self.space.names and hps.is_active(name) and value is not None}
        writer = tracking.EventWriter(tracking.trial_logdir(self.run_dir, trial.trial_id))
        writer.add_summary(hp_api.hparams_pb(values, trial_id=f"trial_{trial.trial_id}"))
        if trial.status == "COMPLETED" and trial.score is not None:
            writer.add_summary(tracking.scalar_summary(f"best_{self.objective.name}", trial.score))
        status = api_pb2.STATUS_SUCCESS if trial.status == "COMPLETED" else api_pb2.STATUS_FAILURE
        writer.add_summary(_session_end(status))
        writer.close()

    def _series(self, trial):
        """The trial's per-epoch metrics under Keras's history names, from its event files."""
        logdir = tracking.trial_logdir(self.run_dir, trial.trial_id)
        series = {}
        for split, prefix in (("train", ""), ("validation", "val_")):
            for tag, values in tracking.read_scalars(os.path.join(logdir, split)).items():
                series[prefix + tag.removeprefix("epoch_")] = values
        return series

    def _mlflow_run(self, trial, record):
        try:
            series = self._series(trial)
        except OSError:  # unreadable curves: the run is logged with what the oracle holds
            series = {}
        metrics = {"score": trial.score if trial.status == "COMPLETED" else None, "params": record.get("params"),
                   "seconds": record.get("seconds")}
        if not series:  # trained elsewhere (a worker with its own folder): what the oracle holds
            metrics.update({name: trial.metrics.get_last_value(name) for name in trial.metrics.metrics})
        error = record.get("error") or trial.message
        tags = {"archbuilder.run_dir": os.path.abspath(self.run_dir), "archbuilder.trial_id": trial.trial_id,
                "archbuilder.status": trial.status, **({"archbuilder.error": error} if error else {})}
        try:
            spec = self.spec_of(trial) if self.spec_of is not None else None
        except ArchbuilderError:  # a trial whose values make no valid spec: logged without one
            spec = None
        mlflow_runs.log_safely(self.mlflow, f"trial_{trial.trial_id}",
                               params=self.space.values(trial.hyperparameters.values), metrics=metrics, series=series,
                               tags=tags, artifacts={"spec.json": spec} if spec is not None else None,
                               status="FINISHED" if trial.status == "COMPLETED" else "FAILED")
