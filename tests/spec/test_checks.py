"""Semantic checks every spec gets (archbuilder.spec.checks): search spaces, tuning, augmentation, losses."""

import json
import subprocess
import sys

import pytest

from archbuilder.spec.checks import check_document

BASE = {"spec_version": 1, "name": "x", "family": "cnn", "input": {"shape": [8, 8, 1]},
        "conv": [{"filters": 2}], "output": {"units": 3}}


def problems(**changes):
    return check_document({**BASE, **changes})


def test_a_valid_spec_has_no_problem():
    assert problems() == []


@pytest.mark.parametrize("changes, expected", [
    ({"output": {"units": {"choice": [2, "three"]}}},
     ("$.output.units.choice", "choice values must all be of one JSON type (or null); got number, string")),
    ({"output": {"units": {"int": {"min": 5, "max": 2}}}}, ("$.output.units.int", "min 5 is greater than max 2")),
    ({"tuning": {"tuner": "random", "factor": 3}}, ("$.tuning.factor", "factor applies only to tuner 'hyperband'")),
    ({"tuning": {"tuner": "hyperband", "max_trials": 3}},
     ("$.tuning.max_trials", "hyperband takes max_epochs, factor and hyperband_iterations, not max_trials")),
    ({"input": {"shape": [8]}, "conv": [], "training": {"augmentation": {"flip": "horizontal"}}},
     ("$.training.augmentation", "augmentation applies to image inputs [height, width, channels]")),
    ({"output": {"units": 1}, "training": {"loss": "sparse_categorical_crossentropy"}},
     ("$.training.loss", "sparse_categorical_crossentropy needs one output unit per class; with 1 unit use "
                         "binary_crossentropy")),
])
def test_each_rule_names_its_entry(changes, expected):
    assert expected in problems(**changes)


def test_the_loss_rule_reads_the_prediction_layer_of_every_family():
    custom = {"spec_version": 1, "name": "c", "family": "custom", "input": {"shape": [4]},
              "layers": [{"type": "Dense", "units": 3}], "training": {"loss": "categorical_crossentropy"}}
    assert check_document(custom) == [("$.training.loss", "categorical_crossentropy on a 'linear' output needs "
                                                          "\"from_logits\": true (or a softmax/sigmoid output)")]
    head = {"spec_version": 1, "name": "a", "family": "autoencoder", "input": {"shape": [8]},
            "encoder": [{"units": 4}], "bottleneck": {"units": 2},
            "head": {"units": 1, "loss": "categorical_crossentropy"}}
    assert ("$.head.loss", "categorical_crossentropy needs one output unit per class; with 1 unit use "
                           "binary_crossentropy") in check_document(head)


def test_an_integer_input_needs_a_first_layer_that_reads_integers(tmp_path):
    """uint8 images into a cnn failed inside Keras; it is one line at validation, an embedding still reads ints."""
    message = ("the first layer of this cnn model cannot take uint8 values (only an embedding reads integers); "
               "leave input.dtype at float32: 8-bit images are read as uint8 and divided by 255 into float32 "
               "all the same")
    assert problems(input={"shape": [8, 8, 1], "dtype": "uint8"}) == [("$.input.dtype", message)]
    assert problems(input={"shape": [8, 8, 1], "dtype": "float16"}) == []
    rnn = {"spec_version": 1, "name": "r", "family": "rnn", "input": {"shape": [None], "dtype": "int32"},
           "embedding": {"input_dim": 50, "output_dim": 4}, "rnn": {"cell": "lstm", "units": [4]},
           "output": {"units": 2}}
    assert check_document(rnn) == []
    custom = {"spec_version": 1, "name": "c", "family": "custom", "input": {"shape": [4], "dtype": "int32"},
              "layers": [{"type": "Embedding", "input_dim": 10, "output_dim": 2}, {"type": "Flatten"},
                         {"type": "Dense", "units": 3, "activation": "softmax"}]}
    assert check_document(custom) == []
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({**BASE, "input": {"shape": [8, 8, 1], "dtype": "uint8"}}))
    result = subprocess.run([sys.executable, "-m", "archbuilder", "validate", str(path)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 1 and result.stderr.strip().splitlines()[-1] == f"{path}: $.input.dtype: {message}"
