"""`--mlflow URI`: a finished train run, or each ended tuning trial, as one MLflow run.

Everything goes through one `mlflow.tracking.MlflowClient` bound to the URI, so
archbuilder never touches MLflow's process-wide state (the tracking URI, the
active run): a notebook's own MLflow session is left as it was. Each run is
written once, when the archbuilder run (or trial) has ended: params, metrics
(per epoch where the run has them, with the epoch as step), tags, and JSON
artifacts such as the spec.

A URI that is a local folder (or `file:`) is MLflow's file store, which MLflow
3.13 and later refuse unless `MLFLOW_ALLOW_FILE_STORE=true`; the user asked for
that store by naming it, so archbuilder sets the variable while it opens the
store and restores it after (MLflow keeps one store per URI).
"""

import json
import os
import re
import tempfile

from archbuilder.atomic import atomic_write_json
from archbuilder.environ import environment
from archbuilder.errors import ArchbuilderError

__all__ = ["MlflowRuns", "open_runs", "log_safely", "log_train_run", "param_name", "flat_params"]

_ALLOW_FILE_STORE = "MLFLOW_ALLOW_FILE_STORE"
_PARAM_LIMIT = 6000  # MLflow's longest param value


def param_name(name):
    """A name MLflow accepts (letters, digits, `_ - . / : ` and spaces): `conv[1].filters` -> `conv.1.filters`."""
    name = re.sub(r"\[(\d+)\]", r".\1", str(name))
    return re.sub(r"[^/\w.\- :]", "_", name)


def flat_params(doc, prefix=""):
    """`{"optimizer": {"name": "adam"}}` -> `{"optimizer.name": "adam"}`; lists as JSON text."""
    out = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flat_params(value, f"{name}."))
        else:
            out[param_name(name)] = _text(value)
    return out


def _text(value):
    return (value if isinstance(value, str) else json.dumps(value, default=str))[:_PARAM_LIMIT]


def _is_file_store(uri):
    return uri.startswith("file:") or "://" not in uri and not uri.startswith(("databricks", "sqlite:"))


def _file_store_allowed(uri):
    return environment({_ALLOW_FILE_STORE: "true"} if _is_file_store(uri) else {})


class MlflowRuns:
    """An MLflow experiment at `uri` that archbuilder logs finished runs into.

    Opened before any training, so a missing package, a bad URI or an
    unreachable server is a one-line error before compute is spent.

    Args:
        uri: the tracking URI (`./mlruns`, `file:///abs/mlruns`, `sqlite:///m.db`, `http://host:5000`).
        experiment: the experiment's name (made if absent).

    Raises:
        ArchbuilderError: mlflow is not installed, or the store refused the URI.
    """

    def __init__(self, uri, experiment):
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise ArchbuilderError("--mlflow needs MLflow: pip install 'archbuilder[mlflow]' "
                                   "(mlflow-skinny; full mlflow for sqlite: URIs)") from None
        self.uri = uri
        if _is_file_store(uri) and not uri.startswith("file:"):
            uri = "file://" + os.path.abspath(uri)
        try:
            with _file_store_allowed(uri):
                self.client = MlflowClient(tracking_uri=uri)
                found = self.client.get_experiment_by_name(experiment)
                self.experiment_id = (found.experiment_id if found is not None
                                      else self.client.create_experiment(experiment))
        except Exception as e:  # MLflow raises its own exceptions, requests', OSError...
            first = " ".join(str(e).split())[:200]
            raise ArchbuilderError(f"--mlflow {self.uri}: cannot open the tracking store: {first}") from None
        self.experiment = experiment

    def log_run(self, name, *, params=None, metrics=None, series=None, tags=None, artifacts=None,
                status="FINISHED"):
        """One MLflow run, written whole, ended with `status`; returns its run id.

        Args:
            name: the run's name.
            params: `{name: value}` (names made valid by `param_name`; values other than text as JSON).
            metrics: `{name: number}`, logged at step 0.
            series: `{name: [value per epoch]}`, logged with the epoch as step (None entries skipped).
            tags: `{name: text}`.
            artifacts: `{file name: JSON-able value}`, each a JSON file among the run's artifacts.
            status: `FINISHED` or `FAILED`.
        """
        from mlflow.entities import Metric
        from mlflow.entities import Param

        run = self.client.create_run(self.experiment_id, run_name=name,
                                     tags={k: str(v) for k, v in (tags or {}).items()})
        run_id = run.info.run_id
        stamp = run.info.start_time
        rows = [Metric(param_name(k), float(v), stamp, 0) for k, v in (metrics or {}).items() if v is not None]
        for key, values in (series or {}).items():
            rows += [Metric(param_name(key), float(v), stamp, step) for step, v in enumerate(values) if v is not None]
        self.client.log_batch(run_id, metrics=rows,
                              params=[Param(param_name(k), _text(v)) for k, v in (params or {}).items()])
        if artifacts:
            with tempfile.TemporaryDirectory() as folder:
                for file_name, value in artifacts.items():
                    atomic_write_json(os.path.join(folder, file_name), value)
                self.client.log_artifacts(run_id, folder)
        self.client.set_terminated(run_id, status=status)
        return run_id


def open_runs(uri, name):
    """`MlflowRuns` of `uri` for the experiment `$MLFLOW_EXPERIMENT_NAME`, else `name`; None without a URI."""
    if not uri:
        return None
    return MlflowRuns(uri, os.environ.get("MLFLOW_EXPERIMENT_NAME") or name)


def log_safely(runs, name, **run):
    """`runs.log_run(name, **run)`; a store that fails now is one line on stderr, not a lost run directory."""
    import sys

    try:
        return runs.log_run(name, **run)
    except Exception as e:  # the run directory is complete: report, do not undo it
        first = " ".join(str(e).split())[:200]
        print(f"archbuilder: --mlflow {runs.uri}: could not log {name}: {first}", file=sys.stderr, flush=True)
        return None


def log_train_run(runs, run_dir, spec_doc, concrete, history, metrics):
    """A finished train run: its `training` settings as params, `metrics.json` and the per-epoch history."""
    import keras

    return log_safely(runs, os.path.basename(os.path.normpath(run_dir)),
                      params=flat_params(concrete["training"], "training."), metrics=metrics, series=history,
                      tags={"archbuilder.run_dir": os.path.abspath(run_dir), "archbuilder.backend": keras.backend.backend()},
                      artifacts={"spec.json": spec_doc, "spec.resolved.json": concrete, "metrics.json": metrics})
