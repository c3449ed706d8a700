"""The evaluation report's files: report.json, confusion.csv, confusion.png and regression.png.

Figures are drawn with matplotlib's object API (`archbuilder.plotting`): no pyplot
state and no backend switch, so a user's notebook keeps its own matplotlib setup.
Every file goes through `RunDir` (written whole or not at all).
"""

import numpy as np

from archbuilder.plotting import new_figure
from archbuilder.plotting import png_bytes
from archbuilder.run.rundir import RunDir

__all__ = ["REPORT_FILES", "confusion_csv", "write_report_files"]

REPORT_FILES = ("report.json", "confusion.csv", "confusion.png", "regression.png")


def confusion_csv(section):
    """The confusion matrix as CSV: one row per true class, one column per predicted class."""
    import pandas as pd

    names = section["classes"]
    frame = pd.DataFrame(section["confusion_matrix"], index=names, columns=names)
    frame.index.name = "true \\ predicted"
    return frame.to_csv()


def _confusion_figure(section, title):
    names, matrix = section["classes"], np.asarray(section["confusion_matrix"])
    n = len(names)
    size = min(max(3.5, 0.45 * n + 2.0), 16.0)
    fig = new_figure(size + 1.0, size)
    ax = fig.add_subplot()
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape, np.float64), where=totals > 0)
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    ax.set_xticks(range(n), names, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if shares[i, j] > 0.5 else "black")
    ax.set_title(f"{title}: accuracy {section['accuracy']:.2%}")
    return fig


def _regression_figure(truth, predicted, section, title):
    truth = np.asarray(truth, np.float64).reshape(-1)
    predicted = np.asarray(predicted, np.float64).reshape(-1)
    fig = new_figure(4.5, 4.2)
    ax = fig.add_subplot()
    ax.scatter(truth, predicted, s=10, alpha=0.6)
    low, high = float(min(truth.min(), predicted.min())), float(max(truth.max(), predicted.max()))
    ax.plot([low, high], [low, high], color="gray", linestyle="--", linewidth=1, label="predicted = true")
    ax.set_xlabel("true value")
    ax.set_ylabel("predicted value")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title(f"{title}: MAE {section['mae']:.4g}, R² {section['r2']:.3f}")
    return fig


def write_report_files(folder, report, title, truth=None, predicted=None):
    """Writes report.json and the files of its sections into `folder`; returns their names.

    Args:
        folder: a folder path or a `RunDir`.
        report: from `archbuilder.run.evaluation.evaluation_report`.
        title: the figures' title (the model's name).
        truth, predicted: a regression's test targets and predictions, for regression.png.
    """
    run = folder if isinstance(folder, RunDir) else RunDir(folder)
    run.write_json("report.json", report)
    written = ["report.json"]
    section = report.get("classification")
    if section and section["confusion_matrix"] is not None:
        run.write_text("confusion.csv", confusion_csv(section))
        run.write_bytes("confusion.png", png_bytes(_confusion_figure(section, title)))
        written += ["confusion.csv", "confusion.png"]
    if report.get("regression") and truth is not None:
        run.write_bytes("regression.png", png_bytes(_regression_figure(truth, predicted, report["regression"], title)))
        written.append("regression.png")
    return written
