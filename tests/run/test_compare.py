"""Tests of archbuilder.comparison: the table, comparison.csv and comparison.png."""

import os

import pandas as pd
import pytest

from archbuilder.run.compare import CompareResult
from archbuilder.run.compare import chart_figure
from archbuilder.run.compare import compare
from archbuilder.run.compare import data_labels
from archbuilder.run.compare import markdown_table
from archbuilder.run.compare import score_columns
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
    result = compare([MLP, CNN, AE, MLP], data=DATA, epochs=1, batch_size=64, out=out)
    assert isinstance(result, CompareResult) and result.out == out
    assert result.notes == []  # one task, one data set: nothing to warn about
    frame = result.table
    assert list(frame["Architecture"]) == ["mlp", "cnn", "ae", "mlp-2"]
    assert list(frame.columns[:4]) == ["Architecture", "Accuracy", "Params", "Train time (s)"]
    assert list(frame["Metric"]) == ["test_accuracy", "test_accuracy", "test_head_accuracy", "test_accuracy"]
    assert (frame["Epochs"] == 1).all() and frame["Accuracy"].between(0, 1).all()
    assert set(frame["Data"]) == {"mnist1d (max 200)"}
    assert frame.loc[0, "Params"] == 40 * 8 + 8 + 8 * 10 + 10
    assert sorted(os.listdir(out)) == ["DONE", "ae", "cnn", "comparison.csv", "comparison.png", "mlp", "mlp-2", "run.json"]
    for name in ("mlp", "cnn", "ae", "mlp-2"):
        assert os.path.exists(os.path.join(out, name, "DONE"))
    written = pd.read_csv(os.path.join(out, "comparison.csv"))
    assert list(written["Architecture"]) == list(frame["Architecture"])
    assert written["Params"].tolist() == frame["Params"].tolist()
    assert os.path.getsize(os.path.join(out, "comparison.png")) > 1000
    lines = markdown_table(frame).splitlines()
    assert result.markdown() == markdown_table(frame)
    assert len(chart_figure(frame).axes) == 1
    assert lines[0] == "| Architecture | Accuracy | Params | Train time |"
    assert len(lines) == 6 and lines[2].startswith("| mlp | ") and lines[2].endswith(" s |")
    assert f"| {frame.loc[0, 'Accuracy']:.2%} | 418 |" in lines[2]


def test_every_spec_is_validated_before_any_training(tmp_path):
    bad = dict(MLP, layers=[{"type": "Dense", "units": 0}])
    with pytest.raises(SpecErrors) as info:
        compare([MLP, bad, dict(MLP, name="x y")], epochs=1, out=str(tmp_path / "cmp"))
    assert len(info.value.errors) >= 2
    assert not (tmp_path / "cmp").exists()


def test_score_columns_and_markdown_for_regression():
    assert score_columns(["accuracy"]) == ["Accuracy"]
    assert score_columns(["mae", "mae"]) == ["MAE"]
    assert score_columns(["accuracy", "mae", None]) == ["Accuracy", "MAE"]
    frame = pd.DataFrame([
        {"Architecture": "clf", "Accuracy": 0.9312, "MAE": None, "Params": 1234, "Train time (s)": 12.34,
         "Metric": "test_accuracy", "Data": "a"},
        {"Architecture": "reg", "Accuracy": None, "MAE": 0.12345, "Params": 99, "Train time (s)": 1.0,
         "Metric": "test_mae", "Data": "a"},
        {"Architecture": "ae", "Accuracy": None, "MAE": None, "Params": 5, "Train time (s)": 1.0, "Metric": None,
         "Data": "a"},
    ])
    assert markdown_table(frame).splitlines() == [
        "| Architecture | Accuracy | MAE | Params | Train time |",
        "| --- | ---: | ---: | ---: | ---: |",
        "| clf | 93.12% | — | 1,234 | 12.3 s |",
        "| reg | — | 0.1235 | 99 | 1.0 s |",
        "| ae | — | — | 5 | 1.0 s |",
    ]
    assert [ax.get_title() for ax in chart_figure(frame).axes] == ["accuracy", "MAE", "no score"]


def test_a_classifier_and_a_regressor_on_different_data_are_kept_apart(tmp_path, wine_csv):
    """The reproduction: a classifier's accuracy and a regressor's MAE were one column and one bar chart."""
    table = pd.read_csv(wine_csv).drop(columns="cultivar")
    table.to_csv(tmp_path / "reg.csv", index=False)
    regressor = {"spec_version": 1, "name": "reg", "family": "mlp", "input": {"shape": [12]},
                 "dense": [{"units": 4}], "output": {"units": 1, "activation": "linear"},
                 "data": {"path": str(tmp_path / "reg.csv"), "target": "proline", "normalize": True}}
    result = compare([MLP, regressor], epochs=1, batch_size=32, out=str(tmp_path / "cmp"))
    frame = result.table
    assert list(frame.columns[:5]) == ["Architecture", "Accuracy", "MAE", "Params", "Train time (s)"]
    assert 0 <= frame.loc[0, "Accuracy"] <= 1 and pd.isna(frame.loc[0, "MAE"])
    assert pd.isna(frame.loc[1, "Accuracy"]) and frame.loc[1, "MAE"] > 0
    assert list(frame["Data"]) == ["mnist1d (max 200)", "reg.csv"]
    assert result.notes == [
        "the specs are judged by different scores, which are not comparable: accuracy: mlp; MAE: reg; "
        "the table and the chart keep them apart",
        "the specs trained on different data, so their scores are not comparable: mnist1d (max 200): mlp; "
        "reg.csv: reg; pass --data to train every spec on the same data"]
    lines = result.markdown().splitlines()
    assert lines[0] == "| Architecture | Accuracy | MAE | Data | Params | Train time |"
    assert lines[2].startswith(f"| mlp | {frame.loc[0, 'Accuracy']:.2%} | — | mnist1d (max 200) | 418 |")
    assert lines[3].startswith(f"| reg | — | {frame.loc[1, 'MAE']:.4f} | reg.csv | ")
    titles = [ax.get_title() for ax in result.plot().axes]
    assert titles == ["accuracy on mnist1d (max 200)", "MAE on reg.csv"]  # one panel each, never one bar chart
    html = result._repr_html_()
    assert "not comparable" in html and html.count("data:image/png;base64,") == 1


def test_data_labels_name_the_data_and_stay_distinct():
    assert data_labels([{"dataset": "mnist1d", "max_samples": 200}, {"path": "/a/wine.csv"}]) == [
        "mnist1d (max 200)", "wine.csv"]
    same_name = [{"path": "/a/data.csv", "target": "y"}, {"path": "/b/data.csv", "target": "y"}]
    assert data_labels(same_name) == ['{"path": "/a/data.csv", "target": "y"}', '{"path": "/b/data.csv", "target": "y"}']
