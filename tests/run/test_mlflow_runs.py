"""`train --mlflow URI`: the finished run as one MLflow run in a local file store, read back with MlflowClient."""

import csv
import json
import os
import sys

import pytest
from click.testing import CliRunner

from archbuilder.cli import cli
from archbuilder.run import mlflow_runs

SPEC = {"spec_version": 1, "name": "ml_train", "family": "mlp", "input": {"shape": [40]},
        "dense": [{"units": 8}], "output": {"units": 10},
        "training": {"epochs": 2, "batch_size": 64, "optimizer": {"type": "adam", "learning_rate": 0.003}},
        "data": {"dataset": "mnist1d", "max_samples": 200}}


def client_of(store):
    from mlflow.tracking import MlflowClient

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # the reader's own opt-in (monkeypatched by the tests)
    return MlflowClient(tracking_uri="file://" + str(store))


def test_train_logs_one_mlflow_run_with_params_per_epoch_metrics_and_the_spec(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    out, store = tmp_path / "run", tmp_path / "mlruns"
    result = CliRunner().invoke(cli, ["train", str(spec), "--out", str(out), "--mlflow", str(store), "-q"])
    assert result.exit_code == 0, result.output
    assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ  # opted in while opening the store only
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = client_of(store)
    experiment = client.get_experiment_by_name("ml_train")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "run" and run.info.status == "FINISHED"
    assert run.data.params["training.epochs"] == "2"
    assert run.data.params["training.optimizer.learning_rate"] == "0.003"
    assert run.data.tags["archbuilder.run_dir"] == str(out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert run.data.metrics["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert run.data.metrics["params"] == metrics["params"]
    with open(out / "history.csv", newline="") as f:
        history = list(csv.DictReader(f))
    curve = client.get_metric_history(run.info.run_id, "val_loss")
    assert [m.step for m in curve] == [0, 1]
    assert [m.value for m in curve] == pytest.approx([float(r["val_loss"]) for r in history])
    assert sorted(a.path for a in client.list_artifacts(run.info.run_id)) == ["metrics.json", "spec.json",
                                                                            "spec.resolved.json"]
    local = client.download_artifacts(run.info.run_id, "spec.json", str(tmp_path))
    assert json.loads(open(local).read()) == SPEC


def test_without_mlflow_installed_train_refuses_before_any_run_directory(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    result = CliRunner().invoke(cli, ["train", str(spec), "--out", str(tmp_path / "run"), "--mlflow", "mlruns"])
    assert result.exit_code == 1
    assert result.output.strip() == ("--mlflow needs MLflow: pip install 'archbuilder[mlflow]' "
                                     "(mlflow-skinny; full mlflow for sqlite: URIs)")
    assert not (tmp_path / "run").exists()


def test_a_store_that_cannot_be_opened_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where the store's folder should be
    with pytest.raises(mlflow_runs.ArchbuilderError, match=r"^--mlflow .*file/mlruns: cannot open the tracking store: "):
        mlflow_runs.MlflowRuns(str(blocker / "mlruns"), "x")


def test_param_names_mlflow_accepts():
    assert mlflow_runs.param_name("conv[1].filters") == "conv.1.filters"
    assert mlflow_runs.param_name("a$b") == "a_b"
    assert mlflow_runs.flat_params({"optimizer": {"type": "adam", "betas": [0.9, 0.99]}, "seed": None}) == {
        "optimizer.type": "adam", "optimizer.betas": "[0.9, 0.99]", "seed": "null"}
