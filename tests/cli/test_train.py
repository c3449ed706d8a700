"""`archbuilder train / evaluate / predict / compare` through CliRunner, and once as real subprocesses."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from archbuilder.cli import run_commands as cli_train
from archbuilder.cli import cli

SUMMARY = re.compile(r"^(?P<name>\w+): test_accuracy (?P<acc>\d\.\d{4}), (?P<params>[\d,]+) params, "
                     r"(?P<epochs>\d+) epochs in (?P<seconds>[\d.]+) s -> (?P<dir>\S+)$")


def write_spec(folder, name="clf", epochs=1, samples=120, batch_size=16, **extra):
    rng = np.random.default_rng(0)
    y = np.arange(samples) % 3
    x = (rng.normal(size=(samples, 8)) + y[:, None]).astype(np.float32)
    np.savez(folder / f"{name}.npz", x=x, y=y)
    spec = {"spec_version": 1, "name": name, "family": "custom", "input": {"shape": [8]},
            "layers": [{"type": "Dense", "units": 16, "activation": "relu"},
                       {"type": "Dense", "units": 3, "activation": "softmax"}],
            "training": {"epochs": epochs, "batch_size": batch_size}, "data": {"path": f"{name}.npz"}, **extra}
    path = folder / f"{name}.json"
    path.write_text(json.dumps(spec))
    return str(path)


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    spec = write_spec(folder)
    out = str(folder / "run")
    result = invoke("train", spec, "--out", out)
    return {"folder": folder, "spec": spec, "out": out, "result": result}


def test_train_prints_one_summary_line_on_stdout(trained):
    result = trained["result"]
    assert result.exit_code == 0, result.stderr
    m = SUMMARY.match(result.stdout.strip())
    assert m and m["name"] == "clf" and m["epochs"] == "1" and m["dir"] == trained["out"], result.stdout
    assert " - accuracy: " in result.stderr and " - accuracy: " not in result.stdout  # progress: stderr
    with open(os.path.join(trained["out"], "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    assert m["acc"] == f"{metrics['test_accuracy']:.4f}" and m["params"] == f"{metrics['params']:,}"


def test_existing_run_directory_is_refused(trained):
    result = invoke("train", trained["spec"], "--out", trained["out"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == (f"{trained['out']}: the run directory exists; pass --overwrite to replace "
                                     "it or --resume to continue it")


def test_resume_of_a_finished_run_exits_0(trained):
    result = invoke("train", trained["spec"], "--out", trained["out"], "--resume")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"{trained['out']}: already finished (DONE exists); nothing to resume"


def test_evaluate_prints_the_report(trained, tmp_path):
    result = invoke("evaluate", trained["out"], "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    with open(os.path.join(trained["out"], "metrics.json"), encoding="utf-8") as f:
        saved = json.load(f)
    assert report["test_loss"] == pytest.approx(saved["test_loss"], rel=1e-5)
    assert report["task"] == "classification" and report["samples"] == 24
    assert [row["class"] for row in report["classification"]["per_class"]] == ["0", "1", "2"]
    text = invoke("evaluate", trained["out"], "--out", str(tmp_path / "report"))
    assert text.exit_code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == f"{trained['out']}/model.keras: 24 test samples of {trained['folder'] / 'clf.npz'}"
    assert lines[1].split()[::2] == ["test_loss", "test_accuracy"]
    assert lines[3].split() == ["precision", "recall", "f1-score", "support"]
    assert "Confusion matrix (rows: true class, columns: predicted class):" in lines
    assert sorted(os.listdir(tmp_path / "report")) == ["confusion.csv", "confusion.png", "report.json"]
    assert text.stderr.strip().startswith(f"wrote {tmp_path / 'report' / 'report.json'}, ")


def test_predict_csv_on_stdout_and_npy_file(trained, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((4, 8), np.float32))
    result = invoke("predict", trained["out"], str(tmp_path / "x.npy"))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "prediction,0,1,2" and len(lines) == 5
    result = invoke("predict", trained["out"], str(tmp_path / "x.npy"), "-o", str(tmp_path / "p.npy"))
    assert result.exit_code == 0 and result.stdout == "" and "wrote" in result.stderr
    assert np.load(tmp_path / "p.npy").shape == (4, 3)


def test_usage_and_user_errors(trained, tmp_path):
    result = invoke("train", trained["spec"], "--out", str(tmp_path / "r"), "--overwrite", "--resume")
    assert result.exit_code == 2 and "--overwrite and --resume exclude each other" in result.stderr
    result = invoke("train", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = invoke("train", trained["spec"], "--epochs", "0")
    assert result.exit_code == 2
    result = invoke("train", trained["spec"], "--set", "layers[0].units=0", "--out", str(tmp_path / "r"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{trained['spec']}: $.layers[0].units: ")
    result = invoke("train", trained["spec"], "--data", "nope.npz", "--out", str(tmp_path / "r2"))
    assert result.exit_code == 2  # a file named on the command line that is not there, as a missing SPEC
    assert result.stderr.splitlines()[-1] == "Error: Invalid value for '--data': nope.npz: no such file or folder"
    result = invoke("evaluate", str(tmp_path))
    assert result.exit_code == 1 and "no model.keras" in result.stderr


def test_search_spaces_point_to_tune(tmp_path):
    spec = write_spec(tmp_path)
    with open(spec, encoding="utf-8") as f:
        doc = json.load(f)
    doc["layers"][0]["units"] = {"choice": [4, 8]}
    with open(spec, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    for command in ("train", "compare"):
        result = invoke(command, spec, "--out", str(tmp_path / command))
        assert result.exit_code == 1
        assert f"{spec}: $: the spec has open search spaces: run `archbuilder tune {spec}`" in result.stderr


def test_interrupt_exits_130_with_the_resume_command(trained, monkeypatch):
    def interrupted(*args, **kwargs):
        error = KeyboardInterrupt()
        error.run_dir = "runs/x"
        raise error

    monkeypatch.setattr("archbuilder.run.train.run_training", interrupted)
    result = invoke("train", trained["spec"])
    assert result.exit_code == 130
    assert result.stderr.strip() == (f"archbuilder: interrupted; continue with: archbuilder train "
                                     f"{trained['spec']} --out runs/x --resume")


def test_compare_prints_the_markdown_table(tmp_path):
    a = write_spec(tmp_path, name="small")
    b = write_spec(tmp_path, name="wide")
    out = str(tmp_path / "cmp")
    result = invoke("compare", a, b, "--data", str(tmp_path / "small.npz"), "--epochs", "1", "--batch-size", "32",
                    "--out", out, "--quiet")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["| Architecture | Accuracy | Params | Train time |", "| --- | ---: | ---: | ---: |"]
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| small", "| wide"]
    assert f"wrote {out}/comparison.csv, {out}/comparison.png" in result.stderr
    assert "Epoch" not in result.stderr and "note:" not in result.stderr  # --quiet; one data set
    assert len(pd.read_csv(os.path.join(out, "comparison.csv"))) == 2


def test_compare_says_when_the_specs_trained_on_different_data(tmp_path):
    a = write_spec(tmp_path, name="small")
    b = write_spec(tmp_path, name="wide")  # its own wide.npz
    result = invoke("compare", a, b, "--epochs", "1", "--batch-size", "32", "--out", str(tmp_path / "c"), "--quiet")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "| Architecture | Accuracy | Data | Params | Train time |"
    assert [line.split(" | ")[2] for line in lines[2:]] == ["small.npz", "wide.npz"]
    assert ("note: the specs trained on different data, so their scores are not comparable: small.npz: small; "
            "wide.npz: wide; pass --data to train every spec on the same data") in result.stderr.splitlines()


def test_commands_are_exported():
    assert [c.name for c in cli_train.COMMANDS] == ["train", "evaluate", "predict", "compare", "export"]


def _complete(path):
    """Every file of a run directory is complete: JSON parses, .keras archives open."""
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if name.endswith(".json"):
            with open(full, encoding="utf-8") as f:
                json.load(f)
        elif name.endswith(".keras"):
            with zipfile.ZipFile(full) as archive:
                assert archive.testzip() is None


def test_sigkill_then_resume_as_real_subprocesses(tmp_path):
    spec = write_spec(tmp_path, name="killed", epochs=6, samples=1500, batch_size=8)
    out = str(tmp_path / "run")
    command = [sys.executable, "-m", "archbuilder", "train", spec, "--out", out, "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    state = os.path.join(out, "state.json")
    deadline = time.time() + 120
    while not os.path.exists(state) and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert os.path.exists(state), process.stderr.read().decode()
    assert not os.path.exists(os.path.join(out, "DONE"))
    _complete(out)
    with open(state, encoding="utf-8") as f:
        done = json.load(f)["epoch"]
    assert 1 <= done < 6

    resumed = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    m = SUMMARY.match(resumed.stdout.strip())
    assert m and m["epochs"] == "6" and m["dir"] == out, resumed.stdout
    history = pd.read_csv(os.path.join(out, "history.csv"))
    assert history["epoch"].tolist() == list(range(1, 7))
    assert os.path.exists(os.path.join(out, "DONE")) and os.path.exists(state)  # kept: --epochs can extend it
    _complete(out)
