"""`archbuilder new`: the design questions of each family, and the spec they write."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from archbuilder.cli import spec_commands as cli_module
from archbuilder.cli import cli
from archbuilder.spec.questions import ask_spec
from archbuilder.spec.load import load_spec


@pytest.fixture
def terminal(monkeypatch):
    """Makes `new` believe it talks to a terminal, so that CliRunner's input answers the questions."""
    monkeypatch.setattr(cli_module, "_stdin_is_a_terminal", lambda: True)


@pytest.mark.parametrize("family", ["cnn", "rnn", "autoencoder"])
def test_defaults_write_a_valid_spec_to_a_file(tmp_path, family):
    out = tmp_path / f"{family}.json"
    result = CliRunner().invoke(cli, ["new", family, "--defaults", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote {out}" in result.stderr
    spec = load_spec(out)
    assert spec.family == family and spec.name == f"my_{family}"
    assert spec.doc == ask_spec(family)


@pytest.mark.parametrize("family", ["cnn", "rnn", "autoencoder"])
def test_defaults_to_stdout(family):
    result = CliRunner().invoke(cli, ["new", family, "--defaults"])
    assert result.exit_code == 0
    assert load_spec(json.loads(result.stdout)).family == family


def test_no_terminal_and_no_defaults_says_to_pass_defaults(tmp_path):
    out = tmp_path / "x.json"
    result = subprocess.run([sys.executable, "-m", "archbuilder", "new", "cnn", "-o", str(out)],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "no terminal" in result.stderr and "--defaults" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert CliRunner().invoke(cli, ["new", "rnn"], input="x\n").exit_code == 1


def test_cnn_answers_give_the_asked_design(terminal, tmp_path):
    out = tmp_path / "cnn.json"
    answers = ["digits", "32 32 3", "3", "16 32 64", "5", "2", "gelu", "2", "128 64", "7"]
    result = CliRunner().invoke(cli, ["new", "cnn", "-o", str(out)], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "Number of conv layers" in result.stdout
    assert "Number of fully connected layers" in result.stdout
    spec = load_spec(out)
    doc = spec.doc
    assert doc["name"] == "digits"
    assert doc["input"] == {"shape": [32, 32, 3]}
    assert doc["activation"] == "gelu"
    assert doc["conv"] == [{"filters": f, "kernel_size": 5, "pool": 2} for f in (16, 32, 64)]
    assert doc["dense"] == [{"units": 128}, {"units": 64}]
    assert doc["output"] == {"units": 7}
    assert spec.plan.nodes[-1].shape == (7,)


def test_rnn_answers_give_the_asked_design(terminal):
    answers = ["seq", "40 1", "lstm", "32 16", "relu", "3"]
    result = CliRunner().invoke(cli, ["new", "rnn"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout[result.stdout.index("{"):])
    assert doc["rnn"] == {"cell": "lstm", "units": [32, 16], "activation": "relu"}
    assert doc["output"] == {"units": 3}
    assert load_spec(doc).plan.nodes[1].type == "LSTM"


def test_autoencoder_answers_give_the_asked_design(terminal, tmp_path):
    out = tmp_path / "ae.json"
    answers = ["ae", "784", "256 64", "relu", "16", "n", "64 256", "denoising"]
    result = CliRunner().invoke(cli, ["new", "autoencoder", "-o", str(out)], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    doc = load_spec(out).doc
    assert [e["units"] for e in doc["encoder"]] == [256, 64]
    assert doc["bottleneck"] == {"units": 16}
    assert doc["decoder"] == [{"units": 64}, {"units": 256}]
    assert doc["variant"] == "denoising" and "stddev" in doc["noise"]


def test_answers_that_make_an_invalid_spec_are_reported(terminal, tmp_path):
    out = tmp_path / "bad.json"
    answers = ["bad", "40 1", "lstn", "8", "tanh", "2"]
    result = CliRunner().invoke(cli, ["new", "rnn", "-o", str(out)], input="\n".join(answers) + "\n")
    assert result.exit_code == 1
    assert f"{out}: $.rnn.cell: 'lstn' is not one of" in result.stderr
    assert "did you mean 'lstm'" in result.stderr
    assert not out.exists()
