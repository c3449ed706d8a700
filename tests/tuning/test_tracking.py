"""A search's tracking: one MLflow run per ended trial (local file store), and the HParams sessions' statuses."""

import csv
import json
import os

import pytest

import archbuilder
import tracking_check

SPEC = {
    "spec_version": 1, "name": "ml_tune", "family": "cnn", "input": {"shape": [40, 1]},
    "conv": [{"filters": 2, "pool": {"choice": [None, 64]}}, {"filters": 2, "pool": {"choice": [None, 2]}}],
    "output": {"units": 10},
    "training": {"epochs": 2, "batch_size": 64},
    "tuning": {"tuner": "grid", "max_trials": 4, "max_consecutive_failed_trials": 4},
    "data": {"dataset": "mnist1d", "max_samples": 100},
}  # fmt: skip


def test_each_trial_is_an_mlflow_run_and_an_hparams_session(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    out, store = tmp_path / "run", tmp_path / "mlruns"
    archbuilder.tune(SPEC, out=str(out), quiet=True, mlflow=str(store))
    with open(out / "trials.csv", newline="") as f:
        trials = {row["trial_id"]: row for row in csv.DictReader(f)}
    statuses = sorted(row["status"] for row in trials.values())
    assert statuses == ["COMPLETED", "COMPLETED", "FAILED", "FAILED"]  # a pool of 64 shrinks the length-40 input to 0

    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri="file://" + str(store))
    experiment = client.get_experiment_by_name("ml_tune")
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert sorted(runs) == [f"trial_{i}" for i in sorted(trials)]
    for trial_id, row in trials.items():
        run = runs[f"trial_{trial_id}"]
        assert run.data.tags["archbuilder.status"] == row["status"]
        assert run.data.tags["archbuilder.run_dir"] == str(out)
        assert run.data.params == {"conv.0.pool": row["conv[0].pool"], "conv.1.pool": row["conv[1].pool"]}
        spec = json.loads(open(client.download_artifacts(run.info.run_id, "spec.json", str(tmp_path / trial_id))).read())
        assert [c["pool"] for c in spec["conv"]] == [json.loads(row["conv[0].pool"]), json.loads(row["conv[1].pool"])]
        if row["status"] == "COMPLETED":
            assert run.info.status == "FINISHED"
            assert run.data.metrics["score"] == pytest.approx(float(row["score"]))
            assert run.data.metrics["params"] == int(row["params"])
            curve = client.get_metric_history(run.info.run_id, "val_accuracy")
            assert [m.step for m in curve] == [0, 1]
            assert max(m.value for m in curve) == pytest.approx(float(row["score"]))
        else:
            assert run.info.status == "FAILED"
            assert run.data.tags["archbuilder.error"] == row["error"]
            assert "score" not in run.data.metrics

    board = tracking_check.dashboard(os.path.join(out, "logs"))
    seen = {name: session["status"] for name, session in board["sessions"].items()}
    assert seen == {f"trial_{i}": ["STATUS_SUCCESS" if row["status"] == "COMPLETED" else "STATUS_FAILURE"]
                    for i, row in trials.items()}
