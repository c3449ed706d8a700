"""`archbuilder tune`: run directory, trials.csv, best.json, failures, tuners, kill and resume.

Every search is tiny: 200 mnist1d samples, one epoch, models of a few thousand
parameters, two to five trials.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

import archbuilder
from archbuilder.cli import cli
from archbuilder.errors import TrialError
from archbuilder.spec.load import load_spec

DATA = {"dataset": "mnist1d", "max_samples": 200}


def tiny_spec(**tuning):
    return {
        "spec_version": 1, "name": "tiny_tune", "family": "cnn", "input": {"shape": [40, 1]},
        "conv": {"repeat": {"int": {"min": 1, "max": 2}},
                 "each": {"filters": {"choice": [4, 8]}, "pool": {"choice": [None, 2]},
                          "batch_norm": {"bool": {"default": False}}}},
        "dense": [{"units": {"choice": [8, 16]}}],
        "output": {"units": 10},
        "training": {"epochs": 1, "batch_size": 64,
                     "optimizer": {"type": "adam", "learning_rate": {"float": {"min": 1e-3, "max": 1e-2,
                                                                              "sampling": "log"}}}},
        "tuning": {"max_trials": 2, **tuning},
        "data": DATA,
    }  # fmt: skip


def shrink_spec(**tuning):
    """Pools of 4 on a length-3 input: (null, 4) shrinks the map to 0, (null, null) does not."""
    return {
        "spec_version": 1, "name": "shrink", "family": "cnn", "input": {"shape": [3, 1]},
        "conv": [{"filters": 2, "pool": {"choice": [None, 4]}}, {"filters": 2, "pool": {"choice": [None, 4]}}],
        "output": {"units": 10},
        "training": {"epochs": 1, "batch_size": 64},
        "tuning": {"tuner": "grid", "max_trials": 4, "max_consecutive_failed_trials": 3, **tuning},
    }  # fmt: skip


def shrink_data(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(path, x=rng.normal(size=(60, 3, 1)).astype("float32"), y=rng.integers(0, 10, 60))
    return {"path": str(path)}


def read_csv(run_dir):
    with open(os.path.join(run_dir, "trials.csv"), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_tune_writes_the_run_directory_and_best_json_builds(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(tiny_spec(max_trials=5)))
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(cli, ["tune", str(path), "--out", str(out), "--max-trials", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    for name in ("spec.json", "trials.csv", "best.json", "best_model.keras", "trials.png", "DONE"):
        assert (out / name).exists(), name
    assert (out / "tuner" / "oracle.json").exists()
    table = [line.split() for line in result.output.splitlines()]
    assert [cells[0] for cells in table if cells[:1] in (["0"], ["1"])] == ["0", "1"]  # one line per trial
    assert "Best trial" in result.output
    assert json.loads((out / "spec.json").read_text())["training"]["seed"] == 3

    rows = read_csv(out)
    assert len(rows) == 2
    head = list(rows[0])
    assert head[:3] == ["trial_id", "status", "score"] and head[-4:] == ["epochs_run", "seconds", "worker", "error"]
    assert head[-8:-4] == ["params", "flops", "latency_ms", "sample_latency_ms"]
    assert {"conv.repeat", "conv[0].filters", "conv[1].filters", "dense[0].units",
            "training.optimizer.learning_rate"} <= set(head)
    for row in rows:
        assert row["status"] == "COMPLETED" and float(row["score"]) >= 0 and int(row["params"]) > 0
        assert row["worker"] == "tuner0" and row["error"] == ""
        assert row["conv[0].pool"] in ("null", "2") and row["conv[0].batch_norm"] in ("true", "false")
        if row["conv.repeat"] == "1":  # repetition 1 is inactive: no value at all
            assert row["conv[1].filters"] == ""

    # best.json: a plain spec that build accepts as is, with the parameter count trials.csv reports.
    best = json.loads((out / "best.json").read_text())
    spec = load_spec(best)
    assert not spec.has_spaces and isinstance(best["conv"], list)
    assert best["conv"][0]["pool"] in (None, 2) and isinstance(best["conv"][0]["batch_norm"], bool)
    best_row = max(rows, key=lambda r: float(r["score"]))
    built = runner.invoke(cli, ["build", str(out / "best.json"), "-o", str(tmp_path / "best.keras")])
    assert built.exit_code == 0, built.output
    if len({r["score"] for r in rows}) == len(rows):  # a unique best: its row is best.json's
        assert f"Total params: {int(best_row['params']):,}" in built.output
    import keras

    model = keras.saving.load_model(out / "best_model.keras", safe_mode=True)
    assert f"Total params: {model.count_params():,}" in built.output


def test_cli_refusals(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(tiny_spec()))
    out = tmp_path / "run"
    out.mkdir()
    (out / "x").write_text("")
    runner = CliRunner()
    again = runner.invoke(cli, ["tune", str(path), "--out", str(out)])
    assert again.exit_code == 1 and "--overwrite" in again.output
    both = runner.invoke(cli, ["tune", str(path), "--out", str(out), "--overwrite", "--resume"])
    assert both.exit_code == 2
    hyperband = runner.invoke(cli, ["tune", str(path), "--out", str(out), "--tuner", "hyperband",
                                    "--max-trials", "3"])
    assert hyperband.exit_code == 1 and "$.tuning.max_trials" in hyperband.output


def test_impossible_trials_fail_and_the_search_goes_on(tmp_path):
    out = str(tmp_path / "run")
    result = archbuilder.tune(shrink_spec(max_consecutive_failed_trials=5), data=shrink_data(tmp_path), out=out,
                              quiet=True)
    rows = read_csv(out)
    assert len(rows) == 4
    failed = [r for r in rows if r["status"] == "FAILED"]
    assert len(failed) == 3  # every grid point with a pool of 4
    for row in failed:
        assert row["score"] == "" and row["error"].startswith("$.conv[")
        assert "shrink" in row["error"] and "\n" not in row["error"]
    ok = [r for r in rows if r["status"] == "COMPLETED"]
    assert [(r["conv[0].pool"], r["conv[1].pool"]) for r in ok] == [("null", "null")]
    assert result.best_spec["conv"][0]["pool"] is None and result.best_spec["conv"][1]["pool"] is None
    assert os.path.exists(os.path.join(out, "DONE"))


def test_consecutive_failures_stop_the_search_with_exit_1(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({**shrink_spec(max_consecutive_failed_trials=1), "data": shrink_data(tmp_path)}))
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["tune", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 1
    assert "1 trials failed in a row" in result.output and "trials.csv" in result.output
    rows = read_csv(out)
    assert [r["status"] for r in rows] == ["COMPLETED", "FAILED"]  # stopped before trials 2 and 3
    assert rows[1]["error"].startswith("$.conv[1].pool:")
    assert not (out / "DONE").exists()
    with pytest.raises(TrialError):
        archbuilder.tune(str(path), out=str(tmp_path / "again"), quiet=True)


@pytest.mark.parametrize("tuner", ["bayesian", "hyperband"])  # grid: the shrink tests
def test_other_tuners(tmp_path, tuner):
    spec = tiny_spec()
    spec["conv"] = [{"filters": {"choice": [2, 4]}, "pool": 2}]
    spec["dense"] = [{"units": 8}]
    spec["training"]["optimizer"]["learning_rate"] = 0.01
    spec["training"]["epochs"] = 2
    extra = {"hyperband": {"tuner": "hyperband", "max_epochs": 2, "factor": 2}}.get(tuner, {"tuner": tuner})
    spec["tuning"] = {"max_trials": 2, **extra}
    spec["tuning"].pop("max_trials") if tuner == "hyperband" else None
    result = archbuilder.tune(spec, out=str(tmp_path / "run"), quiet=True)
    assert len(result.trials) >= 2 and (result.trials["status"] == "COMPLETED").all()
    assert result.best_spec["conv"][0]["filters"] in (2, 4)
    if tuner == "hyperband":
        assert "tuner/epochs" in result.trials.columns and "tuning" in result.best_spec
        load_spec(result.best_spec)


def test_max_time_stops_starting_trials(tmp_path):
    # Data loading alone takes longer than 1 ms: no trial may start.
    with pytest.raises(TrialError, match="no trial finished"):
        archbuilder.tune(tiny_spec(max_trials=10), out=str(tmp_path / "run"), max_time=0.001, quiet=True)


def _wait_for_rows(run_dir, count, process, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(run_dir, "trials.csv")) and len(read_csv(run_dir)) >= count:
            return
        assert process.poll() is None, "the search ended before it could be killed"
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} trials finished in {timeout} s")


def test_sigkill_then_resume_keeps_finished_trials(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)  # an .npz: the subprocess spends no time generating mnist1d
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(200, 40, 1)).astype("float32"), y=rng.integers(0, 10, 200))
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({**tiny_spec(max_trials=4), "data": {"path": str(tmp_path / "d.npz")}}))
    out = str(tmp_path / "run")
    process = subprocess.Popen([sys.executable, "-m", "archbuilder", "tune", str(path), "--out", out, "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_rows(out, 2, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    before = {r["trial_id"]: r for r in read_csv(out)}
    assert len(before) >= 2 and not os.path.exists(os.path.join(out, "DONE"))
    for name in ("oracle.json", "tuner0.json"):  # complete, not truncated
        with open(os.path.join(out, "tuner", name), encoding="utf-8") as f:
            json.load(f)

    result = archbuilder.tune(str(path), out=out, resume=True, quiet=True)
    after = {r["trial_id"]: r for r in read_csv(out)}
    assert len(after) == 4 and len(result.trials) == 4
    for trial_id, row in before.items():
        assert after[trial_id] == row  # kept, not rerun
    assert os.path.exists(os.path.join(out, "DONE"))
    again = archbuilder.tune(str(path), out=out, resume=True, quiet=True)  # finished: nothing to do
    assert len(again.trials) == 4
