"""The `mlp` family: a dense stack for tables and vectors, added as one folder and one registration."""

import json
import pathlib
import shutil

import keras
import pytest
from conftest import write_wine_csv
from keras import layers

import archbuilder
from archbuilder.errors import SpecErrors
from archbuilder.model.build import build_model
from archbuilder.spec.load import load_spec
from archbuilder.spec.questions import ask_spec

ROOT = pathlib.Path(__file__).resolve().parents[2]
BASE = {"spec_version": 1, "name": "m", "family": "mlp", "input": {"shape": [6]}, "output": {"units": 4}}


def params(dense, shape=(6,)):
    spec = load_spec({**BASE, "input": {"shape": list(shape)}, "dense": dense})
    built = build_model(spec.concrete())
    assert built.model.count_params() == spec.plan.params  # the static plan counts what Keras builds
    return built.model.count_params()


def test_parameters_equal_the_hand_written_keras_models():
    inputs = keras.Input((6,))
    x = layers.Dense(8, activation="relu")(inputs)
    plain = keras.Model(inputs, layers.Dense(4, activation="softmax")(layers.Dense(8, activation="relu")(x)))
    assert params([{"units": 8}, {"units": 8}]) == plain.count_params() == 6 * 8 + 8 + 8 * 8 + 8 + 8 * 4 + 4
    # residual with a projection (6 -> 8) and batch norm on both branches
    inputs = keras.Input((6,))
    y = layers.BatchNormalization()(layers.Dense(8)(inputs))
    shortcut = layers.BatchNormalization()(layers.Dense(8)(inputs))
    x = layers.Activation("relu")(layers.Add()([y, shortcut]))
    projected = keras.Model(inputs, layers.Dense(4, activation="softmax")(x))
    assert params([{"units": 8, "residual": True, "batch_norm": True}]) == projected.count_params() == 212


def test_an_image_input_is_flattened_first():
    assert params([{"units": 5}], shape=(4, 3)) == 12 * 5 + 5 + 5 * 4 + 4


def test_the_defaults_and_refusals():
    rendered = load_spec({**BASE, "dense": [{"units": 3}]}).rendered()
    assert rendered["dense"] == [{"units": 3, "dropout": 0.0, "batch_norm": False, "residual": False}]
    with pytest.raises(SpecErrors) as info:
        load_spec({**BASE, "dense": [{"units": 3, "filters": 2}]}, source="m.json")
    assert info.value.lines() == ["m.json: $.dense[0]: unknown key 'filters'"]
    with pytest.raises(SpecErrors) as info:
        load_spec({**BASE, "input": {"shape": [None, 3]}, "dense": []}, source="m.json")
    assert info.value.lines() == ["m.json: $.input.shape: an mlp reads every input value: give every axis a size"]


def test_new_asks_the_design_of_a_table_model():
    answers = iter(["tab", "none", "13", "2", "16 8", "tanh", "3"])
    doc = ask_spec("mlp", ask=lambda question, default=None: next(answers))
    assert doc == {"spec_version": 1, "name": "tab", "family": "mlp", "input": {"shape": [13]},
                   "activation": "tanh", "dense": [{"units": 16}, {"units": 8}], "output": {"units": 3}}
    assert load_spec(doc).plan.params == 13 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3


def test_the_shipped_spec_learns_the_wine_table(tmp_path):
    shutil.copy(ROOT / "specs" / "wine_mlp.json", tmp_path)
    write_wine_csv(tmp_path / "wine.csv")
    run = archbuilder.train(str(tmp_path / "wine_mlp.json"), out=str(tmp_path / "run"), epochs=15, quiet=True)
    metrics = json.loads((pathlib.Path(run) / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.85  # three classes; chance is about 0.4
    assert metrics["params"] == 13 * 32 + 32 + 4 * 32 + 32 * 32 + 32 + 32 * 3 + 3
