"""archbuilder never touches a notebook's plotting state, and its results show their figures inline.

The cells run in a real Jupyter kernel (nbclient), as a user's notebook would: the
inline backend stays on after `train`, `tune` and `compare`, `plt.show()` still
draws, and the results display as HTML plus `image/png` outputs.
"""

import nbformat
import pytest

SETUP = """
%matplotlib inline
import json
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import archbuilder

backend = matplotlib.get_backend()
rng = np.random.default_rng(0)
y = np.arange(120) % 3
np.savez("tiny.npz", x=(rng.normal(size=(120, 8)) + y[:, None]).astype(np.float32), y=y)
SPEC = {"spec_version": 1, "name": "tiny", "family": "custom", "input": {"shape": [8]},
        "layers": [{"type": "Dense", "units": {"choice": [4, 8]}, "activation": "relu"},
                   {"type": "Dense", "units": 3, "activation": "softmax"}],
        "training": {"epochs": 2, "batch_size": 32}, "data": {"path": "tiny.npz"},
        "tuning": {"tuner": "random", "max_trials": 2, "seed": 1}}
fixed = json.loads(json.dumps(SPEC))
fixed["layers"][0]["units"] = 8
"""

CELLS = {
    "train": 'trained = archbuilder.train(fixed, out="run", quiet=True)\ntrained',
    "show_after_train": "fig, ax = plt.subplots()\nax.plot([1, 3, 2])\nplt.show()\nprint(matplotlib.get_backend() == backend)",
    "train_plot": "trained.plot()",
    "tune": 'tuned = archbuilder.tune(SPEC, out="tune", quiet=True)\ntuned',
    "tune_plot": "tuned.plot()",
    "compare": 'compared = archbuilder.compare([fixed, dict(fixed, name="other")], epochs=1, out="cmp")\ncompared',
    "show_after_all": "plt.plot([0, 1])\nplt.show()\nprint(matplotlib.get_backend() == backend, plt.get_fignums())",
}


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    from nbclient import NotebookClient

    folder = tmp_path_factory.mktemp("kernel")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(src) for src in CELLS.values()]
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return dict(zip(CELLS, nb.cells[1:]))


def kinds(cell):
    """The MIME types of a cell's outputs, in order (`stream` for printed text, `error`)."""
    found = []
    for output in cell.outputs:
        if output.output_type in ("display_data", "execute_result"):
            found.append("image/png" if "image/png" in output.data else
                         "text/html" if "text/html" in output.data else "text/plain")
        elif output.get("name") != "stderr":  # TensorFlow's and keras-tuner's log lines are not shown results
            found.append(output.output_type)
    return found


def text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_no_cell_failed(executed):
    errors = [(name, o.get("evalue")) for name, cell in executed.items() for o in cell.outputs
              if o.output_type == "error"]
    assert errors == []


def test_plt_show_still_draws_after_archbuilder(executed):
    assert kinds(executed["show_after_train"]) == ["image/png", "stream"]
    assert text(executed["show_after_train"]).strip() == "True"  # the inline backend is still the backend
    assert kinds(executed["show_after_all"]) == ["image/png", "stream"]
    assert text(executed["show_after_all"]).strip() == "True []"  # shown and closed; archbuilder left none open


def test_train_result_shows_its_summary_and_figures(executed):
    shown = kinds(executed["train"])
    assert shown[0] == "text/html" and shown[1:] == ["image/png", "image/png"]  # curves.png, confusion.png
    html = executed["train"].outputs[0].data["text/html"]
    assert "tiny: test_accuracy" in html and "test_accuracy" in html
    assert kinds(executed["train_plot"]) == ["image/png"]


def test_tune_result_shows_trials_and_the_score_against_each_hyperparameter(executed):
    assert kinds(executed["tune"]) == ["text/html", "image/png", "image/png"]  # trials.png, the hyperparameters
    assert "Best val_accuracy" in executed["tune"].outputs[0].data["text/html"]
    assert kinds(executed["tune_plot"]) == ["image/png"]


def test_compare_result_shows_its_table_and_chart(executed):
    assert kinds(executed["compare"])[-2:] == ["text/html", "image/png"]
    assert "<table" in executed["compare"].outputs[-2].data["text/html"]

