"""The notebooks in notebooks/ run top to bottom, show every figure, and reach the accuracies they print.

Each notebook is executed once in a real Jupyter kernel (nbclient). A code cell tagged
`figure` must produce an `image/png` output, and every cell that draws (`plt.show()`,
`.plot()`, or a train/tune/compare result as the cell's value) is tagged. The numbers the
notebooks print are read back from their outputs and checked.
"""

import math
import os
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
DRAWS = re.compile(r"plt\.show\(\)|\.plot\(\)$|^(result|final|table_run|image_run|trained)$", re.M)


def test_there_are_five_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01_quickstart.ipynb", "02_tuning.ipynb", "03_autoencoders.ipynb",
                                           "04_comparison.ipynb", "05_your_data.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs_and_only_the_public_api(path):
    import archbuilder

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip the outputs"
            assert not re.search(r"(from|import) archbuilder\.", cell.source), f"{path.name}: internal module"
            used = set(re.findall(r"archbuilder\.(\w+)", cell.source))
            assert used <= set(archbuilder.__all__), f"{path.name}: {used - set(archbuilder.__all__)}"
            if DRAWS.search(cell.source):
                assert "figure" in cell.metadata.get("tags", []), f"{path.name}: tag the figure cell\n{cell.source}"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Runs each notebook once (on first use); returns {stem: (notebook, runs folder)}."""
    from nbclient import NotebookClient

    done = {}

    def run(path):
        if path.stem not in done:
            runs = tmp_path_factory.mktemp(path.stem)
            nb = nbformat.read(path, as_version=4)
            saved = os.environ.get("ARCHBUILDER_RUNS")
            os.environ["ARCHBUILDER_RUNS"] = str(runs)  # the notebooks' runs go here, not into the repo
            try:
                NotebookClient(nb, timeout=600, kernel_name="python3",
                               resources={"metadata": {"path": str(path.parent)}}).execute()
            finally:
                if saved is None:
                    os.environ.pop("ARCHBUILDER_RUNS")
                else:
                    os.environ["ARCHBUILDER_RUNS"] = saved
            done[path.stem] = (nb, runs)
        return done[path.stem]

    return run


def printed(nb):
    """Everything the notebook's cells printed to stdout."""
    return "".join(o.text for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
                   if o.output_type == "stream" and o.name == "stdout")


def numbers(pattern, text):
    return [float(v) for v in re.findall(pattern, text, re.M)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom_with_every_figure_shown(path, executed):
    nb, runs = executed(path)
    errors = [o.get("evalue") for cell in nb.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    figures = [cell for cell in nb.cells if "figure" in cell.metadata.get("tags", [])]
    assert figures
    for cell in figures:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert images, f"{path.name}: no image from\n{cell.source}"
        assert all(len(o.data["image/png"]) > 2000 for o in images)  # base64 of a drawn PNG, not an empty one
    assert any(runs.joinpath("notebooks").iterdir())


def test_quickstart_accuracy(executed):
    text = printed(executed(NOTEBOOKS[0])[0])
    (trained,) = numbers(r"^test accuracy: (\d\.\d+)$", text)
    (evaluated,) = numbers(r"evaluated test accuracy: (\d\.\d+) on 1000 samples", text)
    assert trained >= 0.85 and evaluated == trained  # the reloaded model scores what training reported
    (correct,) = numbers(r"correct: (\d+) of 10", text)
    assert correct >= 7


def test_tuning_search_reaches_85_percent(executed):
    text = printed(executed(NOTEBOOKS[1])[0])
    (searched,) = numbers(r"search's best model: test accuracy (\d\.\d+)", text)
    (retrained,) = numbers(r"best spec retrained: test accuracy (\d\.\d+)", text)
    assert searched >= 0.85 and retrained >= 0.85
    assert len(re.findall(r"^\s+\d+\s+0\.\d{4}\s+0\.\d{4}\s+[\d.]+\s+conv\.repeat=", text, re.M)) == 4  # live table
    assert re.search(r"^search: \d+ s, best val_accuracy 0\.\d{4}$", text, re.M)


def test_autoencoder_losses(executed):
    text = printed(executed(NOTEBOOKS[2])[0])
    losses = dict(re.findall(r"^(plain|sparse|contractive)\s+test_loss (\d+\.\d+)", text, re.M))
    assert sorted(losses) == ["contractive", "plain", "sparse"]
    assert all(math.isfinite(float(v)) and float(v) > 0 for v in losses.values())


def test_comparison_accuracies(executed):
    text = printed(executed(NOTEBOOKS[3])[0])
    accuracy = {k: float(v) for k, v in re.findall(r"^(\w+): test accuracy (\d\.\d+)$", text, re.M)}
    assert sorted(accuracy) == ["mnist1d_cnn", "mnist1d_gru", "mnist1d_resmlp"]
    assert accuracy["mnist1d_cnn"] >= 0.8 and all(0.1 < v <= 1 for v in accuracy.values())


def test_your_data_accuracies(executed):
    text = printed(executed(NOTEBOOKS[4])[0])
    (table,) = numbers(r"table: test accuracy (\d\.\d+)", text)
    (images,) = numbers(r"images: test accuracy (\d\.\d+)", text)
    assert table >= 0.85 and images >= 0.9
