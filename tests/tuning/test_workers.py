"""`tune --workers N`: keras-tuner's distributed mode on loopback, supervised.

The searches run as real `archbuilder tune` subprocesses (a chief and its worker
processes), on 200 random samples saved as .npz so that no process spends time
generating a dataset.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import archbuilder
import tracking_check
from archbuilder.tuning.workers import Supervisor

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the workers")


def write_spec(tmp_path, max_trials):
    rng = np.random.default_rng(0)
    data = tmp_path / "data.npz"
    np.savez(data, x=rng.normal(size=(200, 40, 1)).astype("float32"), y=rng.integers(0, 10, 200))
    spec = {
        "spec_version": 1, "name": "workers", "family": "cnn", "input": {"shape": [40, 1]},
        "conv": {"repeat": {"int": {"min": 1, "max": 2}}, "each": {"filters": {"choice": [4, 8]}, "pool": 2}},
        "dense": [{"units": {"choice": [8, 16]}}], "output": {"units": 10},
        "training": {"epochs": 1, "batch_size": 64},
        "tuning": {"max_trials": max_trials},
        "data": {"path": str(data)},
    }  # fmt: skip
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def read_csv(run_dir):
    with open(os.path.join(run_dir, "trials.csv"), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def start_search(spec, out, workers=2):
    return subprocess.Popen([sys.executable, "-m", "archbuilder", "tune", str(spec), "--out", str(out),
                             "--workers", str(workers)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check_completed(out, process, max_trials, timeout=300):
    stdout, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr[-3000:]
    rows = read_csv(out)
    assert len(rows) == max_trials and all(r["status"] == "COMPLETED" for r in rows)
    assert os.path.exists(os.path.join(out, "DONE")) and os.path.exists(os.path.join(out, "best.json"))
    assert "\n2\n" not in stdout and "\n1\n" not in stdout  # keras-tuner 1.4.8's Condition.to_proto prints
    return rows, stdout, stderr


def test_two_workers_share_the_search(tmp_path):
    out = tmp_path / "run"
    process = start_search(write_spec(tmp_path, 4), out)
    rows, stdout, _ = check_completed(out, process, 4)
    assert {r["worker"] for r in rows} == {"tuner0", "tuner1"}
    table = [line.split()[0] for line in stdout.splitlines() if line.split()[:1] in (["0"], ["1"], ["2"], ["3"])]
    assert sorted(table) == ["0", "1", "2", "3"]  # one table line per trial, nothing else in between
    assert os.path.exists(out / "tuner" / "logs" / "tuner0.log")
    # TensorBoard: the workers wrote each trial's curves, the chief its HParams session.
    board = tracking_check.dashboard(str(out / "logs"))
    assert sorted(board["sessions"]) == [f"trial_{r['trial_id']}" for r in rows]
    for r in rows:
        curves = tracking_check.scalars(str(out / "logs" / f"trial_{r['trial_id']}" / "validation"))
        assert max(v for _, v in curves["epoch_accuracy"]) == pytest.approx(float(r["score"]), rel=1e-6)


def _worker_pid(chief_pid, tuner_id):
    """The child of the chief whose environment names `tuner_id`."""
    try:
        with open(f"/proc/{chief_pid}/task/{chief_pid}/children", encoding="utf-8") as f:
            children = [int(p) for p in f.read().split()]
    except OSError:
        return None
    for pid in children:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if f"KERASTUNER_TUNER_ID={tuner_id}".encode() in env:
            return pid
    return None


def _ongoing(out):
    try:
        with open(os.path.join(out, "tuner", "oracle.json"), encoding="utf-8") as f:
            return json.load(f)["ongoing_trials"]
    except (OSError, ValueError, KeyError):
        return {}


def test_a_killed_worker_is_restarted_and_finishes_its_trial(tmp_path):
    out = tmp_path / "run"
    process = start_search(write_spec(tmp_path, 3), out)
    deadline = time.monotonic() + 240
    killed = None
    try:
        while killed is None and time.monotonic() < deadline and process.poll() is None:
            trial_id = _ongoing(out).get("tuner1")
            pid = _worker_pid(process.pid, "tuner1") if trial_id is not None else None
            if pid is not None:
                time.sleep(0.5)  # midway through its trial
                os.kill(pid, signal.SIGKILL)
                killed = trial_id
            time.sleep(0.2)
        assert killed is not None, "tuner1 never held a trial"
        rows, _, stderr = check_completed(out, process, 3)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "worker tuner1 exited with code -9; restarting it" in stderr
    assert {r["trial_id"]: r["worker"] for r in rows}[killed] == "tuner1"  # its trial, finished by its restart


def test_supervisor_restarts_with_the_same_id(tmp_path):
    marker = tmp_path / "marker"
    # Exits 1 the first time (as a crash would), 0 after, and records the id it ran under.
    script = ("import os, sys, pathlib; p = pathlib.Path(sys.argv[1]); "
              "first = not p.exists(); p.write_text(os.environ['KERASTUNER_TUNER_ID']); sys.exit(1 if first else 0)")
    supervisor = Supervisor([sys.executable, "-c", script, str(marker)], ["tuner7"], "127.0.0.1", 1234,
                            str(tmp_path / "logs"), gpus=["0", "1"])
    assert supervisor._env(0, "tuner7")["CUDA_VISIBLE_DEVICES"] == "0"
    assert supervisor._env(1, "tuner7")["CUDA_VISIBLE_DEVICES"] == "1"
    warnings = []
    supervisor.start_all()
    deadline = time.monotonic() + 30
    while not supervisor.poll(warn=warnings.append):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert supervisor.restarts == {"tuner7": 1} and marker.read_text() == "tuner7"
    assert len(warnings) == 1 and "tuner7" in warnings[0]


@pytest.mark.parametrize("gpus, workers, fraction", [(["0"], 3, "0.30"), (["0", "1"], 4, "0.45"), ([], 2, "0.45"),
                                                     (["0", "1"], 2, None), (["0", "1", "2"], 3, None)])
def test_workers_sharing_a_gpu_split_its_memory(tmp_path, monkeypatch, gpus, workers, fraction):
    monkeypatch.delenv("XLA_PYTHON_CLIENT_MEM_FRACTION", raising=False)
    ids = [f"tuner{i}" for i in range(workers)]
    supervisor = Supervisor(["true"], ids, "127.0.0.1", 1234, str(tmp_path), gpus=gpus)
    envs = [supervisor._env(i, tuner_id) for i, tuner_id in enumerate(ids)]
    assert {env.get("XLA_PYTHON_CLIENT_MEM_FRACTION") for env in envs} == {fraction}
    assert {env.get("TF_FORCE_GPU_ALLOW_GROWTH") for env in envs} == {"true" if fraction else None}


def test_the_chief_does_not_preallocate_the_gpu_its_workers_share(tmp_path, monkeypatch):
    from archbuilder.tuning import workers as workers_module

    monkeypatch.delenv("XLA_PYTHON_CLIENT_PREALLOCATE", raising=False)
    seen = {}

    def chief(*args, **kwargs):
        seen["preallocate"] = os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE")
        raise KeyboardInterrupt  # stop before any worker starts

    monkeypatch.setattr(workers_module, "run_chief", chief)
    with pytest.raises(KeyboardInterrupt):
        archbuilder.tune(str(write_spec(tmp_path, 2)), out=str(tmp_path / "run"), workers=2, quiet=True)
    assert seen == {"preallocate": "false"} and (tmp_path / "run" / "env.json").exists()
    assert "XLA_PYTHON_CLIENT_PREALLOCATE" not in os.environ  # the caller's environment as it was
