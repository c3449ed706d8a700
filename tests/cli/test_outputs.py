"""No output over an input: `-o`/`--out` never replaces a spec, a data file or a file named on the
command line, and an existing output file needs --overwrite; exit codes as the README says."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from archbuilder.cli import cli

SPEC = {"spec_version": 1, "name": "tiny", "family": "custom", "input": {"shape": [4]},
        "layers": [{"type": "Dense", "units": 3, "activation": "softmax"}],
        "training": {"epochs": 1, "batch_size": 8}, "data": {"path": "tiny.npz"}}


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def spec(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "tiny.npz", x=rng.normal(size=(30, 4)).astype("float32"), y=np.arange(30) % 3)
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(SPEC))
    return path


def _run_dir(tmp_path):
    """A folder laid out as a run directory (what the guard looks at; nothing is loaded from it)."""
    run = tmp_path / "run"
    run.mkdir()
    for name in ("spec.json", "model.keras", "report.json", "history.csv"):
        (run / name).write_text("kept")
    return run


def test_build_never_writes_over_its_spec(spec):
    before = spec.read_bytes()
    for args in (["-o", spec], ["-o", spec, "--overwrite"], ["--plot", spec, "-o", spec.with_suffix(".keras")]):
        result = invoke("build", spec, *args)
        assert result.exit_code == 1
        option = "--plot" if "--plot" in args else "-o"
        assert result.stderr.strip() == (f"{spec}: {option} would write over {spec}, an input of this command; "
                                         "choose another path")
    assert spec.read_bytes() == before
    assert not spec.with_suffix(".keras").exists()


def test_build_needs_overwrite_for_an_existing_model(spec, tmp_path):
    out = tmp_path / "model.keras"
    out.write_text("an older model")
    result = invoke("build", spec, "-o", out)
    assert result.exit_code == 1 and result.stderr.strip() == f"{out}: exists; pass --overwrite to replace it"
    assert out.read_text() == "an older model"
    result = invoke("build", spec, "-o", out, "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:2] == b"PK"  # a .keras zip now


def test_run_folders_that_hold_an_input_are_not_replaced(spec, tmp_path):
    for command in ("train", "tune"):
        result = invoke(command, spec, "--out", tmp_path, "--overwrite")
        assert result.exit_code == 1
        assert result.stderr.startswith(f"{tmp_path}: --overwrite refused: it is where an input of this run lives")
    assert json.loads(spec.read_text()) == SPEC and (tmp_path / "tiny.npz").exists()


def test_predict_and_evaluate_keep_the_run_and_the_inputs(tmp_path):
    run = _run_dir(tmp_path)
    inputs = tmp_path / "x.npy"
    np.save(inputs, np.zeros((2, 4), np.float32))
    cases = [
        (["predict", run, inputs, "-o", inputs, "--overwrite"], f"{inputs}: -o would write over {inputs}"),
        (["predict", run, inputs, "-o", run / "model.keras", "--overwrite"],
         f"{run / 'model.keras'}: -o would write over {run}"),
        (["evaluate", run, "--out", run, "--overwrite"], f"{run / 'report.json'}: --out would write over {run}"),
        (["predict", run, inputs, "-o", run / "history.csv"], f"{run / 'history.csv'}: exists; pass --overwrite"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == 1, args
        assert result.stderr.startswith(message), (args, result.stderr)
    assert all((run / name).read_text() == "kept" for name in ("spec.json", "model.keras", "report.json",
                                                                 "history.csv"))
    assert np.load(inputs).shape == (2, 4)


def test_exit_codes(spec, tmp_path):
    """0 success; 1 a problem with a spec, data or an output; 2 usage, including a missing file named on the
    command line (SPEC, RUN, INPUTS, a --data path)."""
    assert invoke("validate", spec).exit_code == 0
    assert invoke("validate", tmp_path / "missing.json").exit_code == 2
    assert invoke("evaluate", tmp_path / "missing_run").exit_code == 2
    for command in ("train", "tune", "compare"):
        result = invoke(command, spec, "--data", tmp_path / "missing.csv")
        assert result.exit_code == 2, command
        assert result.stderr.splitlines()[-1] == (f"Error: Invalid value for '--data': {tmp_path / 'missing.csv'}: "
                                                  "no such file or folder")
    result = invoke("train", spec, "--data", json.dumps({"path": str(tmp_path / "gone.npz")}))
    assert result.exit_code == 2 and "gone.npz: no such file or folder" in result.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**SPEC, "layers": [{"type": "Dense", "units": 0}]}))
    assert invoke("validate", bad).exit_code == 1
    result = invoke("train", spec, "--data", "mnist_1d", "--out", tmp_path / "r")
    assert result.exit_code == 1 and "unknown dataset 'mnist_1d'" in result.stderr
    (tmp_path / "tiny.npz").unlink()  # the spec's own data path: a problem with the spec's data
    result = invoke("train", spec, "--out", tmp_path / "r2")
    assert result.exit_code == 1 and result.stderr.strip() == f"{tmp_path / 'tiny.npz'}: no such file or folder"
