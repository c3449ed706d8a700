"""The trial table's cells (archbuilder.tuning.trials): JSON-like text a spreadsheet reads back."""

from archbuilder.tuning.trials import _cell
from archbuilder.tuning.trials import _table_value


def test_cells_are_json_like_and_floats_keep_their_digits():
    assert [_cell(v) for v in (None, True, False, 0.1 + 0.2, [1, None], "relu", 3)] == [
        "null", "true", "false", "0.30000000000000004", "[1, null]", "relu", "3"]
    assert _table_value(0.000123456) == "0.0001235" and _table_value("gru") == "gru"


def test_the_score_against_each_hyperparameter():
    import pandas as pd

    from archbuilder.tuning.trials import hyperparameter_figure

    frame = pd.DataFrame([
        {"trial_id": "0", "status": "COMPLETED", "score": 0.75, "conv.repeat": 2, "conv[2].filters": None,
         "activation": "relu", "lr": 0.001, "params": 10, "seconds": 1.0, "worker": None, "error": None},
        {"trial_id": "1", "status": "COMPLETED", "score": 0.92, "conv.repeat": 3, "conv[2].filters": 64,
         "activation": "gelu", "lr": 0.1, "params": 20, "seconds": 1.0, "worker": None, "error": None},
        {"trial_id": "2", "status": "FAILED", "score": None, "conv.repeat": 3, "conv[2].filters": 32,
         "activation": "relu", "lr": 0.01, "params": None, "seconds": 1.0, "worker": None, "error": "OOM"},
        {"trial_id": "3", "status": "COMPLETED", "score": 0.80, "conv.repeat": 3, "conv[2].filters": float("nan"),
         "activation": "relu", "lr": 0.003, "params": 20, "seconds": 1.0, "worker": None, "error": None},
    ])
    frame.insert(len(frame.columns) - 1, "pack", ["0", "0", None, None])  # a packed search's column
    frame["conv[2].filters"] = pd.Series([None, 64, 32, float("nan")], dtype=object)  # as the live table holds it
    fig = hyperparameter_figure(frame, "val_accuracy")
    panels = {ax.get_xlabel(): ax for ax in fig.axes if ax.get_visible()}
    assert list(panels) == ["conv.repeat", "conv[2].filters", "activation", "lr"]

    def points(ax):
        blue, red = (c.get_offsets().tolist() for c in ax.collections)
        return blue, red

    assert points(panels["conv.repeat"]) == ([[2, 0.75], [3, 0.92], [3, 0.8]], [[3, 0.92]])  # best in red
    assert points(panels["conv[2].filters"]) == ([[64, 0.92]], [[64, 0.92]])  # inactive (None, NaN): no point
    assert [t.get_text() for t in panels["activation"].get_xticklabels()] == ["gelu", "relu"]  # categories
    assert panels["lr"].get_xscale() == "log"  # 0.001 .. 0.1 spans over 50x
    assert hyperparameter_figure(frame, "val_loss", "min").axes[0].collections[1].get_offsets().tolist() == [[2, 0.75]]
