"""Tests of archbuilder.comparison: the table, comparison.csv and comparison.png."""

import os

import pandas as pd
import pytest

from archbuilder.run.compare import compare
from archbuilder.run.compare import markdown_table
from archbuilder.run.compare import score_header
from archbuilder.errors import SpecErrors

DATA = {"dataset": "mnist1d", "max_samples": 200}
MLP = {"spec_version": 1, "name": "mlp", "family": "custom", "input": {"shape": [40]},
       "layers": [{"type": "Dense", "units": 8, "activation": "relu"},
                  {"type": "Dense", "units": 10, "activation": "softmax"}], "data": DATA}
CNN = {"spec_version": 1, "name": "cnn", "family": "cnn", "input": {"shape": [40, 1]},
       "conv": [{"filters": 2, "kernel_size": 3, "pool": 4}], "output": {"units": 10},
       "training": {"epochs": 30, "batch_size": 8}}  # compare's budget replaces these
AE = {"spec_version": 1, "name": "ae", "family": "autoencoder", "input": {"shape": [40]},
      "encoder": [{"units": 8}], "bottleneck": {"units": 4}, "output": {"activation": "linear"},
      "head": {"units": 10}, "data": {"dataset": "mnist1d", "max_samples": 50}}


def test_compare_trains_each_spec_under_one_budget(tmp_path):
    out = str(tmp_path / "cmp")
    frame = compare([MLP, CNN, AE, MLP], data=DATA, epochs=1, batch_size=64, out=out)
    assert list(frame["Architecture"]) == ["mlp", "cnn", "ae", "mlp-2"]
    assert list(frame.columns[:4]) == ["Architecture", "Accuracy", "Params", "Train time (s)"]
    assert list(frame["Metric"]) == ["test_accuracy", "test_accuracy", "test_head_accuracy", "test_accuracy"]
    assert (frame["Epochs"] == 1).all() and frame["Accuracy"].between(0, 1).all()
    assert frame.loc[0, "Params"] == 40 * 8 + 8 + 8 * 10 + 10
    assert sorted(os.listdir(out)) == ["DONE", "ae", "cnn", "comparison.csv", "comparison.png", "mlp", "mlp-2", "run.json"]
    for name in ("mlp", "cnn", "ae", "mlp-2"):
        assert os.path.exists(os.path.join(out, name, "DONE"))
    written = pd.read_csv(os.path.join(out, "comparison.csv"))
    assert list(written["Architecture"]) == list(frame["Architecture"])
    assert written["Params"].tolist() == frame["Params"].tolist()
    assert os.path.getsize(os.path.join(out, "comparison.png")) > 1000
    lines = markdown_table(frame).splitlines()
    assert lines[0] == "| Architecture | Accuracy | Params | Train time |"
    assert len(lines) == 6 and lines[2].startswith("| mlp | ") and lines[2].endswith(" s |")
    assert f"| {frame.loc[0, 'Accuracy']:.2%} | 418 |" in lines[2]


def test_every_spec_is_validated_before_any_training(tmp_path):
    bad = dict(MLP, layers=[{"type": "Dense", "units": 0}])
    with pytest.raises(SpecErrors) as info:
        compare([MLP, bad, dict(MLP, name="x y")], epochs=1, out=str(tmp_path / "cmp"))
    assert len(info.value.errors) >= 2
    assert not (tmp_path / "cmp").exists()


def test_score_header_and_markdown_for_regression():
    assert score_header(["accuracy"]) == "Accuracy"
    assert score_header(["mae", "mae"]) == "MAE"
    assert score_header(["accuracy", "mae", None]) == "Accuracy / MAE"
    frame = pd.DataFrame([
        {"Architecture": "clf", "Accuracy / MAE": 0.9312, "Params": 1234, "Train time (s)": 12.34,
         "Metric": "test_accuracy"},
        {"Architecture": "reg", "Accuracy / MAE": 0.12345, "Params": 99, "Train time (s)": 1.0, "Metric": "test_mae"},
        {"Architecture": "ae", "Accuracy / MAE": None, "Params": 5, "Train time (s)": 1.0, "Metric": None},
    ])
    assert markdown_table(frame).splitlines() == [
        "| Architecture | Accuracy / MAE | Params | Train time |",
        "| --- | ---: | ---: | ---: |",
        "| clf | 93.12% | 1,234 | 12.3 s |",
        "| reg | 0.1235 | 99 | 1.0 s |",
        "| ae | — | 5 | 1.0 s |",
    ]
