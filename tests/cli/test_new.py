"""`archbuilder new`: the design questions of each family as a person answers them in a terminal.

The interactive tests drive the real command through a pseudo-terminal (pexpect): each
step waits for the question, types the answer, and reads what the person would read,
including the reason a wrong answer is asked again.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pexpect
import pytest
from click.testing import CliRunner

import archbuilder
from archbuilder.cli import cli
from archbuilder.format.schema.vocabulary import ACTIVATIONS
from archbuilder.spec.load import load_spec
from archbuilder.spec.questions import Retry
from archbuilder.spec.questions import ask_spec
from archbuilder.spec.questions import parse_sizes

FAMILIES = ["cnn", "rnn", "autoencoder", "custom", "mlp"]


class Terminal:
    """`archbuilder new ARGS` in a pseudo-terminal, answered step by step."""

    def __init__(self, args, cwd):
        env = {**os.environ, "COLUMNS": "400"}
        self.child = pexpect.spawn(sys.executable, ["-m", "archbuilder", "new", *args], cwd=str(cwd), env=env,
                                   encoding="utf-8", timeout=20, dimensions=(50, 400))
        self.seen = []

    def answer(self, question, text):
        """Waits for the prompt that starts with `question` (its default shown in brackets), types `text`."""
        tail = ": " if question.endswith("]") else r"[^\r\n]*\]: "
        self.child.expect(re.escape(question) + tail)
        self.seen.append(self.child.before + self.child.after)
        self.child.sendline(text)

    def refused(self, reason):
        """The last answer was refused: the next line says why (then the question comes again)."""
        self.child.expect(r"\r\n  ([^\r\n]*); try again\r\n")
        assert self.child.match.group(1) == reason
        return reason

    def finish(self):
        self.child.expect(pexpect.EOF)
        self.child.close()
        self.seen.append(self.child.before)
        return self.child.exitstatus, "".join(self.seen)


def test_sizes_as_people_write_them():
    for text in ("32x32x1", "32 32 1", "[32, 32, 1]", "32,32,1", "(32, 32, 1)", " 32 X 32 x 1 ", "32×32×1"):
        assert parse_sizes(text) == [32, 32, 1], text
    for text, reason in (("32x32x", None), ("", "give at least one size, e.g. 28x28x1"),
                         ("32x-1", "'-1' is not a whole number; write sizes like 28x28x1 or 28 28 1"),
                         ("32x0", "sizes must be from 1 to 2,147,483,647; got 32x0"),
                         ("2.5", "'2.5' is not a whole number; write sizes like 28x28x1 or 28 28 1")):
        if reason is None:
            assert parse_sizes(text) == [32, 32]
            continue
        with pytest.raises(Retry) as info:
            parse_sizes(text)
        assert str(info.value) == reason


def test_cnn_32x32x1_and_layer_counts(tmp_path):
    """The issue's session: 32x32x1, 2 conv layers then three filter values, 'rleu'."""
    t = Terminal(["cnn", "-o", "cnn.json"], tmp_path)
    t.answer("Name of the model [my_cnn]", "digits")
    t.answer("Data: a dataset (mnist1d, fashion_mnist)", "none")
    t.answer("Input size (e.g. 28x28x1 for an image, 40x1 for a sequence) [28x28x1]", "32x32x1")
    t.answer("Number of conv layers [2]", "two")
    t.refused("'two' is not a whole number")
    t.answer("Number of conv layers [2]", "2")
    t.answer("Filters of each of the 2 conv layers [32 64]", "8 16 32")
    t.refused("3 values for 2 conv layers; give 2 (one per conv layer) or one for all")
    t.answer("Filters of each of the 2 conv layers [32 64]", "8 16")
    t.answer("Size of the conv kernels [3]", "3")
    t.answer("Size of the pooling after each conv layer (0: none) [2]", "32")
    t.refused("pooling 32 after each of the 2 conv layers would shrink the 32x32 input to 0x0; use a smaller "
              "size, 0 for none, or fewer conv layers")
    t.answer("Size of the pooling after each conv layer (0: none) [2]", "2")
    t.answer("Activation [relu]", "rleu")
    reason = t.refused("'rleu' is not one of " + ", ".join(f"'{a}'" for a in ACTIVATIONS) + " (did you mean 'relu'?)")
    assert reason.endswith("(did you mean 'relu'?)")
    t.answer("Activation [relu]", "GELU")
    t.answer("Number of fully connected layers [1]", "1")
    t.answer("Units of the fully connected layer [128]", "64")
    t.answer("Number of output units (classes) [10]", "7")
    status, screen = t.finish()
    assert status == 0, screen
    assert "wrote cnn.json" in screen and "internal error" not in screen
    spec = load_spec(tmp_path / "cnn.json")
    assert spec.doc["input"] == {"shape": [32, 32, 1]}
    assert spec.doc["conv"] == [{"filters": 8, "kernel_size": 3, "pool": 2}, {"filters": 16, "kernel_size": 3, "pool": 2}]
    assert spec.doc["activation"] == "gelu"
    assert spec.doc["dense"] == [{"units": 64}] and spec.doc["output"] == {"units": 7}
    assert "data" not in spec.doc  # "none": train asks for --data
    assert spec.plan.nodes[-1].shape == (7,)


def test_the_data_is_asked_and_the_input_size_checked_against_it(tmp_path):
    t = Terminal(["cnn", "-o", "cnn.json"], tmp_path)
    t.answer("Name of the model", "seq")
    t.answer("Data:", "mnist-1d")
    t.refused("mnist-1d: unknown dataset 'mnist-1d' (did you mean 'mnist1d'?); known datasets: mnist1d, "
              "fashion_mnist; or give the path of a .npz, .npy or .csv file or an image folder")
    t.answer("Data:", "MNIST1D")
    t.answer("Input size (e.g. 28x28x1 for an image, 40x1 for a sequence) [40x1]", "32x32x1")
    t.refused("mnist1d gives samples of 40 values; 32x32x1 holds 1,024: e.g. 40x1")
    t.answer("Input size", "40")
    t.refused("40 has 1 axis; a cnn takes steps x channels (40x1), height x width x channels (28x28x1) or "
              "depth x height x width x channels")
    t.answer("Input size", "")  # the default, read from the data
    t.answer("Number of conv layers", "1")
    t.answer("Filters of the conv layer [32]", "")
    t.answer("Size of the conv kernels", "")
    t.answer("Size of the pooling", "")
    t.answer("Activation", "")
    t.answer("Number of fully connected layers", "0")
    t.answer("Number of output units (classes) [10]", "3")
    t.refused("mnist1d has 10 classes: the output needs 10 units")
    t.answer("Number of output units (classes) [10]", "")
    status, screen = t.finish()
    assert status == 0, screen
    spec = load_spec(tmp_path / "cnn.json")
    assert spec.doc["data"] == {"dataset": "mnist1d"}
    assert spec.doc["input"] == {"shape": [40, 1]} and spec.doc["dense"] == []


def test_rnn_cells_in_any_case(tmp_path):
    t = Terminal(["rnn"], tmp_path)
    t.answer("Name of the model [my_rnn]", "")
    t.answer("Data:", "")
    t.answer("Input size: steps x features per step (e.g. 40x1) [40x1]", "[40, 1]")
    t.answer("Type of RNN (simple, lstm, gru) [gru]", "lstn")
    t.refused("'lstn' is not one of 'simple', 'lstm', 'gru' (did you mean 'lstm'?)")
    t.answer("Type of RNN", "LSTM")
    t.answer("Number of recurrent layers [1]", "2")
    t.answer("Units of each of the 2 recurrent layers [64 64]", "32,16")
    t.answer("Activation of the recurrent layers [tanh]", "Tanh")
    t.answer("Number of output units (classes) [10]", "")
    status, screen = t.finish()
    assert status == 0, screen
    doc = json.loads(screen[screen.index("{"):])  # the spec on stdout, after the questions on stderr
    assert doc["rnn"] == {"cell": "lstm", "units": [32, 16], "activation": "tanh"}
    assert doc["data"] == {"dataset": "mnist1d"}
    assert load_spec(doc).plan.nodes[1].type == "LSTM"


def test_a_csv_file_asks_its_label_column_and_trains(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["width,height,weight,kind"] + [f"{w:.3f},{h:.3f},{rng.normal():.3f},{'ab'[int(w > 0)]}"
                                           for w, h in rng.normal(size=(40, 2))]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "specs").mkdir()
    t = Terminal(["mlp", "-o", "specs/table.json"], tmp_path)
    t.answer("Name of the model", "table")
    t.answer("Data:", "t.csv")
    t.answer("Label column (width, height, weight, kind) [kind]", "knd")
    t.refused("'knd' is not one of 'width', 'height', 'weight', 'kind' (did you mean 'kind'?)")
    t.answer("Label column", "KIND")
    t.answer("Input size: the number of features (e.g. 13 for a CSV with 13 feature columns) [3]", "4")
    t.refused("t.csv gives samples of 3 values; 4 holds 4: e.g. 3")
    t.answer("Input size", "3")
    t.answer("Number of hidden layers [2]", "1")
    t.answer("Units of the hidden layer [64]", "8")
    t.answer("Activation", "")
    t.answer("Number of output units (classes; 1 for regression or binary) [2]", "")
    status, screen = t.finish()
    assert status == 0, screen
    path = tmp_path / "specs" / "table.json"
    doc = json.loads(path.read_text())
    assert doc["data"] == {"path": os.path.join("..", "t.csv"), "target": "kind"}  # relative to the spec
    assert doc["output"] == {"units": 2}
    run = archbuilder.train(str(path), out=str(tmp_path / "run"), epochs=1, quiet=True)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert run and 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["params"] == 3 * 8 + 8 + 8 * 2 + 2


def test_an_image_folder_gives_the_size_and_classes_of_a_custom_stack(tmp_path):
    from PIL import Image

    for name in ("cats", "dogs", "owls"):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(np.full((12, 10, 3), 40 * i, np.uint8)).save(tmp_path / "pets" / name / f"{i}.png")
    t = Terminal(["custom", "-o", "pets.json"], tmp_path)
    t.answer("Name of the model", "pets")
    t.answer("Data:", "pets")
    t.answer("Input size (e.g. 40 for a vector of 40 values, 28x28x1 for an image) [12x10x3]", "12x10x2")
    t.refused("pets holds images (resized to the input size): write height x width x channels with 1, 3 or 4 "
              "channels, e.g. 12x10x3")
    t.answer("Input size", "16 16 3")  # images are resized: any height and width
    t.answer("Number of hidden Dense layers [2]", "3")
    t.answer("Units of each of the 3 hidden Dense layers [100 100 100]", "64 32 16")
    t.answer("Activation of the hidden layers [relu]", "Leaky ReLU")
    t.answer("Number of output units (classes) [3]", "")
    status, screen = t.finish()
    assert status == 0, screen
    spec = load_spec(tmp_path / "pets.json")
    assert spec.doc["data"] == {"path": "pets"}
    assert [(layer["type"], layer.get("units"), layer.get("activation")) for layer in spec.doc["layers"]] == [
        ("Flatten", None, None), ("Dense", 64, "leaky_relu"), ("Dense", 32, "leaky_relu"),
        ("Dense", 16, "leaky_relu"), ("Dense", 3, "softmax")]
    assert spec.plan.nodes[-1].shape == (3,)


def test_autoencoder_decoder_and_variant(tmp_path):
    t = Terminal(["autoencoder", "-o", "ae.json"], tmp_path)
    t.answer("Name of the model", "ae")
    t.answer("Data:", "fashion_mnist")
    t.answer("Input size (e.g. 784, or 28x28x1) [28x28]", "784")
    t.answer("Number of encoding layers [2]", "2")
    t.answer("Units of each of the 2 encoding layers [32 16]", "256 64")
    t.answer("Activation", "")
    t.answer("Units in the bottleneck [8]", "16")
    t.answer("Decoding layers mirror the encoding layers? (y, n) [y]", "maybe")
    t.refused("'maybe' is not one of 'y', 'n'")
    t.answer("Decoding layers mirror", "No")
    t.answer("Number of decoding layers [2]", "")
    t.answer("Units of each of the 2 decoding layers [64 256]", "")
    t.answer("Variant (plain, sparse, contractive, denoising) [plain]", "Denoising")
    status, screen = t.finish()
    assert status == 0, screen
    doc = load_spec(tmp_path / "ae.json").doc
    assert [e["units"] for e in doc["encoder"]] == [256, 64] and doc["bottleneck"] == {"units": 16}
    assert doc["decoder"] == [{"units": 64}, {"units": 256}]
    assert doc["variant"] == "denoising" and "stddev" in doc["noise"]
    assert doc["data"] == {"dataset": "fashion_mnist"}


def test_an_existing_output_is_refused_before_any_question(tmp_path):
    existing = tmp_path / "existing.json"
    existing.write_text('{"mine": true}\n')
    t = Terminal(["cnn", "-o", "existing.json"], tmp_path)
    status, screen = t.finish()
    assert status == 1
    assert screen.strip() == "existing.json: exists; pass --overwrite to replace it"
    assert existing.read_text() == '{"mine": true}\n'
    t = Terminal(["cnn", "-o", "existing.json", "--overwrite"], tmp_path)
    t.answer("Name of the model", "")
    t.child.sendeof()  # Ctrl-D: the person leaves; nothing is written
    status, screen = t.finish()
    assert status == 1 and existing.read_text() == '{"mine": true}\n'


@pytest.mark.parametrize("family", FAMILIES)
def test_defaults_write_a_valid_spec_to_a_file(tmp_path, family):
    out = tmp_path / f"{family}.json"
    result = CliRunner().invoke(cli, ["new", family, "--defaults", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote {out}" in result.stderr
    spec = load_spec(out)
    assert spec.family == family and spec.name == f"my_{family}"
    assert spec.doc == ask_spec(family)


@pytest.mark.parametrize("family", FAMILIES)
def test_defaults_to_stdout(family):
    result = CliRunner().invoke(cli, ["new", family.upper(), "--defaults"])
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

