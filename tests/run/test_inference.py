"""Tests of archbuilder.inference: evaluate and predict reproduce training's preprocessing."""

import json
import os
import shutil

import keras
import numpy as np
import pandas as pd
import pytest

from archbuilder.data.preprocessing import apply_preprocessing
from archbuilder.errors import ArchbuilderError
from archbuilder.errors import DataError
from archbuilder.run.inference import evaluate
from archbuilder.run.inference import predict
from archbuilder.run.inference import prediction_frame
from archbuilder.run.train import train

CLASSES = ["cat", "dog", "owl"]


def write_csv(path, n=90, seed=0):
    """Three separable classes with text labels, features far from zero mean and unit scale."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    x = rng.normal(size=(n, 6)) + labels[:, None] * 2.0
    x = x * 50.0 + 300.0
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(6)])
    frame["label"] = [CLASSES[i] for i in labels]
    frame.to_csv(path, index=False)
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inference")
    x = write_csv(folder / "animals.csv")
    spec = {"spec_version": 1, "name": "animals", "family": "custom", "input": {"shape": [6]},
            "layers": [{"type": "Dense", "units": 8, "activation": "relu"},
                       {"type": "Dense", "units": 3, "activation": "softmax"}],
            "training": {"epochs": 3, "batch_size": 16},
            "data": {"path": "animals.csv", "target": "label", "normalize": True}}
    spec_path = folder / "animals.json"
    spec_path.write_text(json.dumps(spec))
    run_dir = train(str(spec_path), out=str(folder / "run"), quiet=True)
    return {"dir": run_dir, "folder": folder, "x": x}


def test_evaluate_reproduces_the_run_metrics(run):
    with open(os.path.join(run["dir"], "metrics.json"), encoding="utf-8") as f:
        saved = json.load(f)
    metrics = evaluate(run["dir"])
    assert set(metrics) == {"test_loss", "test_accuracy"}
    assert metrics["test_loss"] == pytest.approx(saved["test_loss"], rel=1e-5)
    assert metrics["test_accuracy"] == pytest.approx(saved["test_accuracy"])


def test_evaluate_a_model_file_with_explicit_data(run, monkeypatch):
    monkeypatch.chdir(run["folder"])
    data = json.dumps({"path": "animals.csv", "target": "label", "normalize": True})
    by_file = evaluate(os.path.join(run["dir"], "model.keras"), data)
    assert by_file == pytest.approx(evaluate(run["dir"]))


def test_predict_csv_has_class_names_and_probabilities(run, tmp_path):
    inputs = tmp_path / "x.npy"
    np.save(inputs, run["x"][:5])
    frame = predict(run["dir"], str(inputs), output=str(tmp_path / "p.csv"))
    assert list(frame.columns) == ["prediction"] + CLASSES
    assert set(frame["prediction"]) <= set(CLASSES)
    np.testing.assert_allclose(frame[CLASSES].sum(axis=1), 1.0, atol=1e-5)
    assert (frame["prediction"] == frame[CLASSES].idxmax(axis=1)).all()
    written = pd.read_csv(tmp_path / "p.csv")
    assert list(written.columns) == list(frame.columns) and len(written) == 5


def test_predict_applies_the_saved_normalization(run, tmp_path):
    with open(os.path.join(run["dir"], "preprocessing.json"), encoding="utf-8") as f:
        prep = json.load(f)
    assert prep["normalize"] and prep["class_names"] == CLASSES
    model = keras.saving.load_model(os.path.join(run["dir"], "model.keras"), safe_mode=True)
    raw = run["x"][:5]
    expected = model.predict(apply_preprocessing(raw, prep), verbose=0)
    out = tmp_path / "p.npy"
    predict(run["dir"], raw, output=str(out))
    np.testing.assert_allclose(np.load(out), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(model.predict(raw, verbose=0), expected, atol=1e-3)


def test_bare_model_without_preprocessing_feeds_inputs_as_they_are(run, tmp_path):
    shutil.copy(os.path.join(run["dir"], "model.keras"), tmp_path / "m.keras")
    x = np.zeros((2, 6), np.float32)
    frame = predict(str(tmp_path / "m.keras"), x)
    assert list(frame.columns) == ["prediction", "0", "1", "2"]
    with pytest.raises(DataError, match="no data: pass --data"):
        evaluate(str(tmp_path / "m.keras"))


def test_unfinished_run_directory_says_how_to_continue(tmp_path):
    with pytest.raises(ArchbuilderError, match="no model.keras in this folder .*--resume"):
        evaluate(str(tmp_path))
    with pytest.raises(ArchbuilderError, match="expected a run directory or a .keras file"):
        predict(str(tmp_path / "x.h5"), np.zeros((1, 6)))


def test_prediction_frame_shapes():
    binary = prediction_frame(np.array([[0.2], [0.9]]), "classification", ["no", "yes"])
    assert list(binary["prediction"]) == ["no", "yes"] and list(binary.columns) == ["prediction", "no", "yes"]
    multi = prediction_frame(np.array([[0.7, 0.8, 0.1]]), "classification", ["a", "b", "c"])
    assert multi["prediction"][0] == "a;b"
    regression = prediction_frame(np.array([[1.5], [2.5]]), "regression")
    assert list(regression.columns) == ["prediction"]
    images = prediction_frame(np.eye(2), "classification", ["x", "y"], ids=["a.png", "b.png"])
    assert list(images.columns) == ["id", "prediction", "x", "y"] and list(images["prediction"]) == ["x", "y"]
    steps = prediction_frame(np.eye(2)[None].repeat(2, axis=0), "classification", ["x", "y"])
    assert list(steps["prediction"]) == ["x y", "x y"]
