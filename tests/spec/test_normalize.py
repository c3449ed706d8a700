"""Defaults and normal forms (archbuilder.spec.normalize), read through each family's outputs."""

from archbuilder.spec.load import load_spec
from archbuilder.spec.normalize import infer_objective
from archbuilder.spec.normalize import outputs
from archbuilder.spec.normalize import prediction
from archbuilder.spec.normalize import task_of

AE = {"spec_version": 1, "name": "a", "family": "autoencoder", "input": {"shape": [8]},
      "encoder": [{"units": 4}], "bottleneck": {"units": 2}}


def test_a_classifier_is_told_by_its_output():
    spec = load_spec({"spec_version": 1, "name": "c", "family": "cnn", "input": {"shape": [4]}, "conv": [],
                      "output": {"units": 3}})
    rendered = spec.rendered()
    assert rendered["training"]["loss"] == "sparse_categorical_crossentropy"
    assert rendered["training"]["metrics"] == ["accuracy"] and rendered["tuning"]["objective"] == "val_accuracy"
    assert task_of(rendered) == "classification"


def test_an_autoencoder_reconstructs_and_its_head_classifies():
    plain = load_spec(AE).concrete()
    assert [o.target for o in outputs(plain)] == ["input"] and prediction(plain) is None
    assert task_of(plain) == "reconstruction" and infer_objective(plain) == "val_loss"
    assert plain["training"]["loss"] == "mse" and plain["training"]["metrics"] == ["mae"]
    headed = load_spec({**AE, "head": {"units": 3}}).concrete()
    assert [(o.name, o.target, o.loss_path) for o in outputs(headed)] == [
        ("reconstruction", "input", "$.training.loss"), ("head", "labels", "$.head.loss")]
    assert headed["head"]["loss"] == "sparse_categorical_crossentropy"
    assert infer_objective(headed) == "val_head_accuracy"


def test_a_regression_and_a_null_loss():
    spec = load_spec({"spec_version": 1, "name": "r", "family": "rnn", "input": {"shape": [10, 2]},
                      "rnn": {"cell": "gru", "units": 4}, "output": {"units": 1, "activation": "linear"},
                      "training": {"loss": None}})
    concrete = spec.concrete()
    assert concrete["training"]["loss"] == "mse" and task_of(concrete) == "regression"
    assert concrete["rnn"]["units"] == [4] and concrete["rnn"]["activation"] == "tanh"


def test_a_space_hiding_the_output_leaves_the_loss_to_each_trial():
    spec = load_spec({"spec_version": 1, "name": "s", "family": "cnn", "input": {"shape": [4]}, "conv": [],
                      "output": {"units": {"choice": [1, 3]}}})
    rendered = spec.rendered()
    assert "loss" not in rendered["training"] and "objective" not in rendered["tuning"]
    assert spec.concrete()["training"]["loss"] == "binary_crossentropy"  # the space's default: 1 unit
