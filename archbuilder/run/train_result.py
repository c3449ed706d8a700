"""`TrainResult`: what `archbuilder.train` returns — the run directory, its metrics, its figures.

It stands for the run directory wherever a path is taken (`os.fspath(result)`,
`Path(result)`, `archbuilder.evaluate(result)`), and in a notebook it shows itself: the
summary line and test metrics, then the run's figures (curves, confusion matrix or
regression plot, reconstructions) as images.
"""

import dataclasses
import html
import os

from archbuilder.plotting import Shown
from archbuilder.plotting import html_table
from archbuilder.run.reports import curves_figure
from archbuilder.run.reports import read_history

__all__ = ["TrainResult", "FIGURES", "headline", "summary_line"]

FIGURES = ("curves.png", "confusion.png", "regression.png", "reconstructions.png")


def headline(metrics):
    """`(key, value)` of the figure a run is judged by: test accuracy, else MAE, else loss."""
    for key in ("test_accuracy", "test_head_accuracy", "test_mae", "test_head_mae"):
        if key in metrics:
            return key, metrics[key]
    accuracy = sorted(k for k in metrics if k.startswith("test_") and k.endswith("accuracy"))
    if accuracy:
        return accuracy[0], metrics[accuracy[0]]
    return "test_loss", metrics.get("test_loss")


def summary_line(result):
    """`name: test_accuracy 0.9312, 872,234 params, 10 epochs in 612.3 s -> RUN_DIR`."""
    m = result.metrics
    key, value = headline(m)
    figure = f"{key} {value:.4f}" if isinstance(value, (int, float)) else f"{key} n/a"
    return (f"{result.name}: {figure}, {m.get('params', 0):,} params, {m.get('epochs_run', 0)} epochs in "
            f"{m.get('train_seconds', 0.0):.1f} s -> {result.run_dir}")


@dataclasses.dataclass
class TrainResult(Shown):
    """A trained run.

    Attributes:
        run_dir: the run directory (also what `os.fspath(result)` and `str(result)` give).
        name: the spec's name.
        metrics: `metrics.json`: `test_loss`, `test_<metric>`, `params`, `epochs_run`, ...
        finished_before: True when `resume` found the run already finished and trained nothing.
        reason: why a finished run was not trained further (empty when `resume` was not asked
            for more epochs).

    Example:
        >>> result = archbuilder.train("specs/mnist1d_cnn.json", epochs=3)
        >>> result.metrics["test_accuracy"]
        >>> result.plot()                      # the curves, as a matplotlib Figure
        >>> archbuilder.evaluate(result)       # a path wherever one is taken
    """

    run_dir: str
    name: str
    metrics: dict
    finished_before: bool = False
    reason: str = ""

    def __fspath__(self):
        return self.run_dir

    def __str__(self):
        return self.run_dir

    @property
    def history(self):
        """`history.csv` as `{metric: [value per epoch]}` (`loss`, `val_loss`, `accuracy`, ...)."""
        return read_history(os.path.join(self.run_dir, "history.csv"))

    def plot(self):
        """The loss and metric curves per epoch (what curves.png shows), as a matplotlib `Figure`."""
        return curves_figure(self.history, self.name)

    def figures(self):
        """The PNG files of the run directory, in the order a notebook shows them."""
        found = []
        for name in FIGURES:
            path = os.path.join(self.run_dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    found.append(f.read())
        return found

    def _summary_html(self):
        rows = [(k, f"{v:.4f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else v)
                for k, v in self.metrics.items()]
        return f"<p><code>{html.escape(summary_line(self))}</code></p>" + html_table(rows)
