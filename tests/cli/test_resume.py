"""`--resume` replays the run's own command: the Ctrl-C hint works as printed, overrides and --data
come back from the run directory, and a larger --epochs extends a finished run."""

import json
import os
import shlex
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pandas as pd
from click.testing import CliRunner

from archbuilder.cli import cli


def write_spec(folder, samples=60):
    """A spec whose own data file does not exist: only the --data the run was started with has the data."""
    rng = np.random.default_rng(0)
    y = np.arange(samples) % 3
    np.savez(folder / "given.npz", x=(rng.normal(size=(samples, 4)) + y[:, None]).astype("float32"), y=y)
    spec = {"spec_version": 1, "name": "replayed", "family": "custom", "input": {"shape": [4]},
            "layers": [{"type": "Dense", "units": 16, "activation": "relu"},
                       {"type": "Dense", "units": 3, "activation": "softmax"}],
            "training": {"epochs": 1, "batch_size": 16}, "data": {"path": "not_here.npz"}}
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_the_ctrl_c_hint_continues_the_run_as_it_was_started(tmp_path):
    spec = write_spec(tmp_path, samples=3000)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "archbuilder", "train", str(spec), "--set", "layers[0].units=5", "--epochs",
               "4", "--batch-size", "4", "--data", str(tmp_path / "given.npz"), "--out", str(out), "--quiet"]
    # A terminal delivers Ctrl-C to a process that handles it; a test runner's worker may ignore
    # SIGINT, which its children would inherit (and Python then installs no KeyboardInterrupt).
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 180
    while not (out / "state.json").exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)  # Ctrl-C after the first epoch
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    hint = stderr.strip().splitlines()[-1]
    assert hint == f"archbuilder: interrupted; continue with: archbuilder train {spec} --out {out} --resume"
    assert not (out / "DONE").exists()

    words = shlex.split(hint.split("continue with: ", 1)[1])
    resumed = subprocess.run([sys.executable, "-m", "archbuilder", *words[1:]], capture_output=True, text=True,
                             timeout=300, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith("replayed: test_accuracy ") and " 4 epochs in " in resumed.stdout
    resolved = json.loads((out / "spec.resolved.json").read_text())
    assert resolved["layers"][0]["units"] == 5 and resolved["training"]["batch_size"] == 4
    assert resolved["data"]["path"] == str(tmp_path / "given.npz")
    assert pd.read_csv(out / "history.csv")["epoch"].tolist() == [1, 2, 3, 4]
    assert json.loads((out / "metrics.json").read_text())["params"] == 4 * 5 + 5 + 5 * 3 + 3
    marker = json.loads((out / "run.json").read_text())
    assert {"path": "layers[0].units", "value": 5} in marker["overrides"]
    assert {"path": "training.epochs", "value": 4} in marker["overrides"]


class _Start(keras.callbacks.Callback):
    """Records the first epoch a fit runs and the optimizer's step count then."""

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self, "first"):
            self.first, self.iterations = epoch, int(self.model.optimizer.iterations.numpy())


def test_a_larger_epochs_extends_a_finished_run(tmp_path):
    import archbuilder

    spec = write_spec(tmp_path)
    out = tmp_path / "run"
    data = str(tmp_path / "given.npz")
    first = invoke("train", spec, "--data", data, "--epochs", "2", "--out", out)
    assert first.exit_code == 0, first.stderr
    before = pd.read_csv(out / "history.csv")
    same = invoke("train", spec, "--out", out, "--resume")  # the recorded --epochs 2: nothing to do
    assert same.exit_code == 0 and same.stdout.strip() == f"{out}: already finished (DONE exists); nothing to resume"

    start = _Start()
    run = archbuilder.train(str(spec), out=str(out), resume=True, epochs=5, quiet=True, callbacks=[start])
    assert str(run) == str(out) and (out / "DONE").exists()
    assert start.first == 2 and start.iterations == 2 * 3  # from epoch 3, with the optimizer's state (3 steps/epoch)
    history = pd.read_csv(out / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3, 4, 5]
    assert history.iloc[:2]["loss"].tolist() == before["loss"].tolist()
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 5
    again = invoke("train", spec, "--out", out, "--resume")  # the extension's --epochs 5 is the record now
    assert again.stdout.strip() == f"{out}: already finished (DONE exists); nothing to resume"


def test_an_early_stopped_run_says_why_it_is_not_extended(tmp_path):
    spec = write_spec(tmp_path)
    out = tmp_path / "run"
    stop = json.dumps({"monitor": "loss", "patience": 0, "min_delta": 100})  # stops after its first epoch
    first = invoke("train", spec, "--data", tmp_path / "given.npz", "--epochs", "3", "--out", out,
                   "--set", f"training.early_stopping={stop}")
    assert first.exit_code == 0, first.stderr
    epochs = json.loads((out / "metrics.json").read_text())["epochs_run"]
    assert epochs < 3
    result = invoke("train", spec, "--out", out, "--resume", "--epochs", "6")
    assert result.exit_code == 0
    assert result.stdout.strip() == (f"{out}: already finished (DONE exists); nothing to resume; early stopping "
                                     f"ended it at epoch {epochs}, so 6 epochs train it no further")


def test_tune_prints_its_resume_command_and_replays_its_overrides(tmp_path, monkeypatch):
    spec = write_spec(tmp_path)
    doc = json.loads(spec.read_text())
    doc["layers"][0]["units"] = {"choice": [2, 4]}
    spec.write_text(json.dumps(doc))
    out = tmp_path / "search"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C after the last trial, before best.json and DONE

    with monkeypatch.context() as patch:
        patch.setattr("archbuilder.tuning.search._finish", interrupted)
        result = invoke("tune", spec, "--data", tmp_path / "given.npz", "--set", "training.batch_size=8",
                        "--max-trials", "1", "--out", out, "--quiet")
    assert result.exit_code == 130
    assert result.stderr.strip() == f"archbuilder: interrupted; continue with: archbuilder tune {spec} --out {out} --resume"
    assert not (out / "DONE").exists()

    resumed = invoke("tune", spec, "--max-trials", "2", "--out", out, "--resume", "--quiet")  # no --set, no --data
    assert resumed.exit_code == 0, resumed.stderr
    assert len(pd.read_csv(out / "trials.csv")) == 2 and (out / "DONE").exists()
    assert json.loads((out / "spec.json").read_text())["training"]["batch_size"] == 8
