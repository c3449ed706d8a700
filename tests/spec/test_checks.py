"""Semantic checks every spec gets (archbuilder.spec.checks): search spaces, tuning, augmentation, losses."""

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
