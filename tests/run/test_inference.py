"""Tests of archbuilder.run.inference: evaluate and predict feed raw inputs to self-contained models."""

import json
import os
import shutil

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import classification_report
from sklearn.metrics import confusion_matrix

from archbuilder.data.preprocessing import apply
from archbuilder.errors import ArchbuilderError
from archbuilder.errors import DataError
from archbuilder.model.serving import contract_of
from archbuilder.run.inference import evaluate
from archbuilder.run.inference import open_run
from archbuilder.run.inference import raw_test_split
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
    report = evaluate(run["dir"])
    assert report["test_loss"] == pytest.approx(saved["test_loss"], rel=1e-5)
    assert report["test_accuracy"] == pytest.approx(saved["test_accuracy"])
    assert report["task"] == "classification" and report["samples"] == 18
    assert report["classification"]["classes"] == CLASSES
    assert report["classification"]["accuracy"] == pytest.approx(saved["test_accuracy"], abs=1e-6)
    assert report["model"] == os.path.join(run["dir"], "model.keras")


def test_the_report_is_scikit_learns_on_the_same_predictions(run):
    loaded = open_run(run["dir"])
    x, y, _ = raw_test_split(loaded, loaded.concrete["data"])
    predicted = predict(run["dir"], x)[CLASSES].to_numpy().argmax(axis=1)
    report = evaluate(run["dir"])["classification"]
    expected = classification_report(y, predicted, labels=range(3), target_names=CLASSES, output_dict=True,
                                     zero_division=0)
    for row in report["per_class"]:
        want = expected[row["class"]]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx(
            (want["precision"], want["recall"], want["f1-score"], want["support"]))
    assert report["accuracy"] == pytest.approx(expected["accuracy"])
    np.testing.assert_array_equal(report["confusion_matrix"], confusion_matrix(y, predicted, labels=range(3)))


def test_evaluate_a_model_file_with_explicit_data(run, monkeypatch):
    monkeypatch.chdir(run["folder"])
    data = json.dumps({"path": "animals.csv", "target": "label", "normalize": True})
    by_file = evaluate(os.path.join(run["dir"], "model.keras"), data)
    by_run = evaluate(run["dir"])
    assert {k: by_file[k] for k in ("test_loss", "test_accuracy")} == pytest.approx(
        {k: by_run[k] for k in ("test_loss", "test_accuracy")})


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


def test_the_saved_model_standardizes_raw_rows_itself(run, tmp_path):
    with open(os.path.join(run["dir"], "preprocessing.json"), encoding="utf-8") as f:
        prep = json.load(f)
    assert prep["normalize"] and prep["class_names"] == CLASSES
    served = keras.saving.load_model(os.path.join(run["dir"], "model.keras"), safe_mode=True)
    assert [layer.name for layer in served.layers][:3] == ["input", "input_contract", "standardize"]
    raw = run["x"][:5]
    trained = served.layers[-1]  # the trained graph: preprocessed arrays in
    expected = trained.predict(apply(raw, prep, "x"), verbose=0)
    out = tmp_path / "p.npy"
    predict(run["dir"], raw, output=str(out))
    np.testing.assert_allclose(np.load(out), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(served.predict(raw, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(trained.predict(raw, verbose=0), expected, atol=1e-3)


def test_a_copied_model_file_keeps_its_classes_and_columns(run, tmp_path):
    shutil.copy(os.path.join(run["dir"], "model.keras"), tmp_path / "m.keras")
    columns = [f"f{i}" for i in (5, 3, 1, 0, 2, 4)]  # another column order, and an extra column
    frame = pd.DataFrame(run["x"][:4], columns=[f"f{i}" for i in range(6)])[columns]
    frame["note"] = "x"
    frame.to_csv(tmp_path / "new.csv", index=False)
    bare = predict(str(tmp_path / "m.keras"), str(tmp_path / "new.csv"))
    in_run = predict(run["dir"], run["x"][:4])
    assert list(bare.columns) == ["prediction"] + CLASSES
    pd.testing.assert_frame_equal(bare, in_run)
    contract = contract_of(keras.saving.load_model(tmp_path / "m.keras", safe_mode=True))
    assert contract["features"] == [f"f{i}" for i in range(6)] and contract["class_names"] == CLASSES


def test_bare_model_without_preprocessing_says_so_once(tmp_path, capsys):
    inputs = keras.Input((6,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
    model.compile(loss="sparse_categorical_crossentropy")  # the loss tells a classifier
    model.optimizer.build(model.trainable_variables)
    model.save(tmp_path / "m.keras")
    capsys.readouterr()
    x = np.zeros((2, 6), np.float32)
    frame = predict(str(tmp_path / "m.keras"), x)
    assert list(frame.columns) == ["prediction", "0", "1", "2"]
    np.testing.assert_allclose(frame[["0", "1", "2"]].to_numpy(), model.predict(x, verbose=0), rtol=1e-6)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{tmp_path / 'm.keras'}: no preprocessing recorded (neither archbuilder's input layers nor a "
                   "preprocessing.json beside it); inputs go into the model as they are"]
    with pytest.raises(DataError, match="no data: pass --data"):
        evaluate(str(tmp_path / "m.keras"))


def test_unfinished_run_directory_says_how_to_continue(tmp_path):
    with pytest.raises(ArchbuilderError, match="no model.keras in this folder .*--resume"):
        evaluate(str(tmp_path))
    (tmp_path / "trials.csv").write_text("trial_id\n")
    with pytest.raises(ArchbuilderError, match="no best_model.keras in this tune run .*tune --resume"):
        predict(str(tmp_path), np.zeros((1, 6)))
    with pytest.raises(ArchbuilderError, match="expected a run directory or a .keras file"):
        predict(str(tmp_path / "x.h5"), np.zeros((1, 6)))


def test_raw_inputs_that_do_not_fit_are_one_line_errors(run):
    with pytest.raises(DataError, match=r"^inputs: samples of shape 5 \(5 values\) do not fit input.shape 6"):
        predict(run["dir"], np.zeros((2, 5)))
    with pytest.raises(DataError, match=r"^inputs: inputs holds 1 NaN or infinite value"):
        predict(run["dir"], np.where(np.arange(12).reshape(2, 6) == 7, np.nan, 1.0))


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
    codes = prediction_frame(np.ones((2, 3)), "code")
    assert list(codes.columns) == ["value_0", "value_1", "value_2"]
