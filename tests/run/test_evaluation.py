"""The evaluation report: its numbers against scikit-learn's, its files, and what `train` and `evaluate` write."""

import json
import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.metrics import classification_report
from sklearn.metrics import confusion_matrix
from sklearn.metrics import mean_absolute_error
from sklearn.metrics import mean_squared_error
from sklearn.metrics import r2_score
from sklearn.metrics import top_k_accuracy_score

import archbuilder
from archbuilder.run.evaluation import classification_section
from archbuilder.run.evaluation import evaluation_report
from archbuilder.run.evaluation import regression_section
from archbuilder.run.evaluation import reconstruction_section
from archbuilder.run.evaluation import report_text
from archbuilder.run.figures import write_report_files


def _probabilities(rng, n, classes, labels, skill):
    logits = rng.normal(size=(n, classes)) + skill * np.eye(classes)[labels]
    return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def _check_against_sklearn(section, y, scores, names):
    expected = classification_report(y, scores.argmax(axis=1), labels=range(len(names)), target_names=names,
                                     output_dict=True, zero_division=0)
    for row in section["per_class"]:
        want = expected[row["class"]]
        assert [row["precision"], row["recall"], row["f1"], row["support"]] == pytest.approx(
            [want["precision"], want["recall"], want["f1-score"], want["support"]], abs=1e-12)
    for ours, theirs in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
        assert [section[ours][k] for k in ("precision", "recall", "f1")] == pytest.approx(
            [expected[theirs][k] for k in ("precision", "recall", "f1-score")], abs=1e-12)
    assert section["accuracy"] == pytest.approx(expected["accuracy"], abs=1e-12)
    np.testing.assert_array_equal(section["confusion_matrix"],
                                  confusion_matrix(y, scores.argmax(axis=1), labels=range(len(names))))


def test_classification_numbers_are_scikit_learns():
    rng = np.random.default_rng(0)
    names = [f"class_{i}" for i in range(7)]
    y = rng.integers(0, 6, 300)  # class_6 never occurs, and is never predicted: zero precision and recall
    scores = _probabilities(rng, 300, 7, y, skill=1.5)
    scores[:, 6] = 0.0
    section = classification_section(scores, y, names)
    assert section["classes"] == names and section["per_class"][6]["support"] == 0
    _check_against_sklearn(section, y, scores, names)
    for k in (3, 5):
        assert section["top_k_accuracy"][str(k)] == pytest.approx(
            top_k_accuracy_score(y, scores, k=k, labels=range(7)), abs=1e-12)
    few = classification_section(scores[:, :3] / scores[:, :3].sum(axis=1, keepdims=True), y % 3)
    assert few["top_k_accuracy"] is None and few["classes"] == ["0", "1", "2"]


def test_one_sigmoid_unit_one_hot_rows_and_steps():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 50)
    p = rng.random((50, 1))
    binary = classification_section(p, y, ["no", "yes"])
    _check_against_sklearn(binary, y, np.concatenate([1 - p, p], axis=1), ["no", "yes"])
    labels = rng.integers(0, 4, 40)
    scores = _probabilities(rng, 40, 4, labels, skill=1.0)
    assert classification_section(scores, np.eye(4)[labels], one_hot=True) == classification_section(scores, labels)
    steps = classification_section(scores.reshape(10, 4, 4), labels.reshape(10, 4))
    assert steps == classification_section(scores, labels)  # each step counts as a sample


def test_regression_numbers_are_scikit_learns():
    rng = np.random.default_rng(2)
    y = rng.normal(size=(80, 2)) * [1.0, 30.0]
    predicted = y + rng.normal(size=(80, 2)) * [0.3, 5.0]
    section = regression_section(predicted, y)
    assert section["mae"] == pytest.approx(mean_absolute_error(y, predicted))
    assert section["rmse"] == pytest.approx(np.mean([np.sqrt(mean_squared_error(y[:, j], predicted[:, j]))
                                                     for j in range(2)]))
    assert section["r2"] == pytest.approx(r2_score(y, predicted))
    assert [p["r2"] for p in section["per_output"]] == pytest.approx(r2_score(y, predicted, multioutput="raw_values"))
    one = regression_section(predicted[:, :1], y[:, 0])
    assert one["per_output"] is None and one["r2"] == pytest.approx(r2_score(y[:, 0], predicted[:, 0]))
    constant = np.ones(5)
    assert regression_section(constant + 1, constant)["r2"] == r2_score(constant, constant + 1) == 0.0


def test_reconstruction_error_and_code_sparsity():
    x = np.arange(12, dtype=np.float64).reshape(3, 4)
    reconstruction = x + np.array([[0.0], [1.0], [2.0]])
    codes = np.array([[0.0, 0.5, 0.0005], [0.0, 0.2, 0.3], [0.0, 0.0, 2.0]])
    section = reconstruction_section(reconstruction, x, codes)
    assert section["per_sample"]["mean"] == pytest.approx((0 + 1 + 4) / 3)
    assert section["per_sample"]["max"] == 4.0 and section["worst_samples"][:1] == [2]
    code = section["code"]
    assert code["units"] == 3 and code["dead_units"] == 1  # unit 0 is never active
    assert code["sparsity"] == pytest.approx(5 / 9)  # 0.0005 is below the 1e-3 threshold
    assert code["active_units_per_sample"] == pytest.approx(4 / 3)


def test_report_text_and_files(tmp_path):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 60)
    scores = _probabilities(rng, 60, 3, y, skill=2.0)
    report = evaluation_report("classification", scores, y, class_names=["cat", "dog", "owl"],
                               metrics={"test_loss": 0.5, "test_accuracy": 0.9})
    assert report["samples"] == 60 and report["test_accuracy"] == 0.9
    text = report_text(report, "m.keras: 60 test samples of d.csv").splitlines()
    assert text[:2] == ["m.keras: 60 test samples of d.csv", "test_loss 0.5  test_accuracy 0.9"]
    cat = report["classification"]["per_class"][0]
    assert text[4].split() == ["cat", f"{cat['precision']:.4f}", f"{cat['recall']:.4f}", f"{cat['f1']:.4f}",
                               str(cat["support"])]
    assert text[-4].split() == ["true", "\\", "predicted", "cat", "dog", "owl"]
    written = write_report_files(tmp_path, report, "m")
    assert written == ["report.json", "confusion.csv", "confusion.png"]
    frame = pd.read_csv(tmp_path / "confusion.csv", index_col=0)
    assert list(frame.columns) == list(frame.index) == ["cat", "dog", "owl"]
    np.testing.assert_array_equal(frame.to_numpy(), confusion_matrix(y, scores.argmax(axis=1)))
    with Image.open(tmp_path / "confusion.png") as image:
        assert image.size[0] > 300 and image.size[1] > 300
    assert json.loads((tmp_path / "report.json").read_text())["classification"]["classes"] == ["cat", "dog", "owl"]
    regression = evaluation_report("regression", scores[:, :1], y.astype(float))
    assert write_report_files(tmp_path / "r", regression, "m", y, scores[:, :1]) == ["report.json", "regression.png"]
    assert "MAE " in report_text(regression, "m")


def test_train_writes_the_report_evaluate_gives(tmp_path, wine_csv):
    frame = pd.read_csv(wine_csv).drop(columns="cultivar")
    frame.to_csv(tmp_path / "reg.csv", index=False)
    spec = {"spec_version": 1, "name": "wine_reg", "family": "mlp", "input": {"shape": [12]},
            "dense": [{"units": 8}], "output": {"units": 1, "activation": "linear"},
            "training": {"epochs": 2, "batch_size": 16},
            "data": {"path": str(tmp_path / "reg.csv"), "target": "proline", "normalize": True}}
    run = archbuilder.train(spec, out=str(tmp_path / "run"), quiet=True)
    assert {"report.json", "regression.png"} <= set(os.listdir(run)) and "confusion.csv" not in os.listdir(run)
    saved = json.loads((tmp_path / "run" / "report.json").read_text())
    report = archbuilder.evaluate(run, out=str(tmp_path / "again"))
    keys = ("mae", "rmse", "r2")
    assert [report["regression"][k] for k in keys] == pytest.approx([saved["regression"][k] for k in keys], rel=1e-4)
    assert saved["test_mae"] == pytest.approx(saved["regression"]["mae"], rel=1e-5)  # Keras's MAE is ours
    assert report["files"] == ["report.json", "regression.png"]
    predictions = archbuilder.predict(run, str(tmp_path / "reg.csv"))
    truth = frame["proline"].to_numpy()
    assert set(predictions.columns) == {"prediction"} and len(predictions) == len(truth)


def test_an_autoencoder_report_has_its_code_sparsity(tmp_path):
    spec = {"spec_version": 1, "name": "sparse_ae", "family": "autoencoder", "input": {"shape": [40]},
            "encoder": [{"units": 16}], "bottleneck": {"units": 6}, "variant": "sparse", "sparsity": {"l1": 1e-3},
            "head": {"units": 10}, "training": {"epochs": 1, "batch_size": 64},
            "data": {"dataset": "mnist1d", "max_samples": 300}}
    run = archbuilder.train(spec, out=str(tmp_path / "run"), quiet=True)
    saved = json.loads((tmp_path / "run" / "report.json").read_text())
    assert saved["task"] == "classification" and saved["classification"]["classes"] == [str(i) for i in range(10)]
    assert saved["reconstruction"]["code"]["units"] == 6
    report = archbuilder.evaluate(run)
    assert report["reconstruction"]["code"] == pytest.approx(saved["reconstruction"]["code"], rel=1e-4, abs=1e-6)
    assert report["reconstruction"]["per_sample"] == pytest.approx(saved["reconstruction"]["per_sample"], rel=1e-4)
    assert report["test_reconstruction_loss"] == pytest.approx(saved["reconstruction"]["per_sample"]["mean"],
                                                               rel=1e-4)  # the loss is the mean per-sample MSE
    assert "Code: 6 units, sparsity " in report_text(report, "ae")
