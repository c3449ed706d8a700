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
    """The MIME types of what a cell displayed, in order (printed text left out: TensorFlow logs there)."""
    return ["image/png" if "image/png" in o.data else "text/html" if "text/html" in o.data else "text/plain"
            for o in cell.outputs if o.output_type in ("display_data", "execute_result")]


def text(cell):
    """What a cell printed to stdout."""
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def test_no_cell_failed(executed):
    errors = [(name, o.get("evalue")) for name, cell in executed.items() for o in cell.outputs
              if o.output_type == "error"]
    assert errors == []


def test_plt_show_still_draws_after_archbuilder(executed):
    assert kinds(executed["show_after_train"]) == ["image/png"]
    assert text(executed["show_after_train"]).strip() == "True"  # the inline backend is still the backend
    assert kinds(executed["show_after_all"]) == ["image/png"]
    assert text(executed["show_after_all"]).strip() == "True []"  # shown and closed; archbuilder left none open


def test_train_result_shows_its_summary_and_figures(executed):
    shown = kinds(executed["train"])
    assert shown[0] == "text/html" and shown[1:] == ["image/png", "image/png"]  # curves.png, confusion.png
    html = next(o.data["text/html"] for o in executed["train"].outputs if "text/html" in o.get("data", {}))
    assert "tiny: test_accuracy" in html and "test_accuracy" in html
    assert kinds(executed["train_plot"]) == ["image/png"]


def test_tune_result_shows_trials_and_the_score_against_each_hyperparameter(executed):
    assert kinds(executed["tune"]) == ["text/html", "image/png", "image/png"]  # trials.png, the hyperparameters
    html = next(o.data["text/html"] for o in executed["tune"].outputs if "text/html" in o.get("data", {}))
    assert "Best val_accuracy" in html and "2 of 2 trials completed" in html
    assert "trial" not in text(executed["tune"])  # quiet: no trial table
    assert kinds(executed["tune_plot"]) == ["image/png"]


def test_compare_result_shows_its_table_and_chart(executed):
    assert kinds(executed["compare"])[-2:] == ["text/html", "image/png"]
    html = next(o.data["text/html"] for o in executed["compare"].outputs if "text/html" in o.get("data", {}))
    assert "<table" in html and "tiny" in html and "other" in html


def test_no_module_uses_pyplot_or_switches_the_backend():
    import pathlib
    import re

    package = pathlib.Path(__file__).resolve().parents[1] / "archbuilder"
    found = [f"{p.relative_to(package)}: {line.strip()}" for p in package.rglob("*.py")
             for line in p.read_text(encoding="utf-8").splitlines()
             if re.search(r"import matplotlib\.pyplot|from matplotlib import pyplot|matplotlib\.use\(", line)]
    assert found == []
