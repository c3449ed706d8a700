"""The human-readable files of a run directory: summary.txt, history.csv, curves.png,
reconstructions.png and env.json. Each is written through `archbuilder.atomic`; figures
are drawn with matplotlib's object API (`archbuilder.plotting`), never pyplot."""

import os
import platform

import numpy as np

from archbuilder import __version__
from archbuilder.atomic import atomic_write
from archbuilder.backend import backend_info
from archbuilder.model.summary import model_summary
from archbuilder.plotting import new_figure
from archbuilder.plotting import png_bytes
from archbuilder.run import fast_path

__all__ = ["summary_text", "history_csv", "read_history", "curves_figure", "write_curves", "write_reconstructions",
           "environment", "save_figure"]


def summary_text(spec, built, metrics):
    """The layer table (name, type, output shape, params, spec path), the totals and the test metrics."""
    lines = model_summary(spec, built) + ["", "Test metrics:"]
    lines += [f"  {key}: {value:.6g}" for key, value in metrics.items() if key.startswith("test_")]
    lines.append(f"Epochs: {metrics['epochs_run']}, fit time: {metrics['train_seconds']:.1f} s")
    return "\n".join(lines) + "\n"


def history_csv(history):
    """`epoch,loss,accuracy,val_loss,...`: one row per epoch, epochs counted from 1."""
    keys = list(history)
    rows = len(next(iter(history.values()), []))
    lines = [",".join(["epoch"] + keys)]
    for i in range(rows):
        cells = [str(i + 1)] + ["" if history[k][i] is None else repr(float(history[k][i])) for k in keys]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def read_history(path):
    """history.csv back as `{metric: [value per epoch]}` (None for an empty cell); `{}` when absent."""
    import csv

    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return {}
    keys = [k for k in (rows[0] if rows else {}) if k != "epoch"]
    return {k: [float(row[k]) if row.get(k) else None for row in rows] for k in keys}


def save_figure(fig, path):
    """Saves a figure as PNG through a temporary file and a rename."""
    with atomic_write(path, "wb") as f:
        f.write(png_bytes(fig))


def curve_names(history):
    """The metrics of a history that get a panel: loss first, then each metric (not its `val_` twin)."""
    names = [k for k in history if not k.startswith("val_") and k not in ("epoch", "learning_rate", "epoch_seconds")]
    return ["loss"] + [k for k in names if k != "loss"] if "loss" in names else names


def curves_figure(history, title):
    """The loss and each metric per epoch, training and validation: what curves.png shows."""
    names = curve_names(history)
    fig = new_figure(4.2 * max(len(names), 1), 3.2)
    axes = fig.subplots(1, max(len(names), 1), squeeze=False)
    for ax, name in zip(axes[0], names):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            values = history.get(key)
            if values is not None and len(values):
                epochs = [i + 1 for i, v in enumerate(values) if v is not None and v == v]
                ax.plot(epochs, [v for v in values if v is not None and v == v], marker=".", label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return fig


def write_curves(path, history, title):
    """curves.png: the loss and each metric per epoch, training and validation."""
    save_figure(curves_figure(history, title), path)


def _reconstruction(outputs):
    return outputs["reconstruction"] if isinstance(outputs, dict) else outputs


def _image_shape(x, dataset):
    """The shape to draw samples as images ([H, W] or [H, W, C], of the samples or of the raw data), or None."""
    raw = tuple(dataset.preprocessing.get("sample_shape") or x.shape[1:])
    return next((s for s in (tuple(x.shape[1:]), raw) if len(s) in (2, 3) and min(s[:2]) >= 4
                 and (len(s) == 2 or s[-1] in (1, 3, 4))), None)


def _signal_figure(x, y):
    n = len(x)
    fig = new_figure(2.0 * n, 2.2)
    axes = fig.subplots(1, n, squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.plot(np.asarray(x[i], np.float32).ravel(), linewidth=1, label="input")
        ax.plot(y[i].ravel(), linewidth=1, linestyle="--", label="output")
        ax.set_title(f"#{i}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][0].legend(fontsize=7)
    fig.suptitle("inputs and reconstructions")
    return fig


def _image_figure(x, y, image_shape):
    n = len(x)
    low, high = float(np.min(x)), float(np.max(x))  # one gray scale for inputs and outputs
    fig = new_figure(1.6 * n, 3.4)
    axes = fig.subplots(2, n, squeeze=False)
    for i in range(n):
        for row, sample in enumerate((x[i], y[i])):
            ax = axes[row][i]
            image = np.asarray(sample, np.float32).reshape(image_shape)
            image = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
            if image.ndim == 3:
                ax.imshow(np.clip((image - low) / max(high - low, 1e-12), 0, 1))
            else:
                ax.imshow(image, cmap="gray", vmin=low, vmax=high)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0][i].set_title(f"#{i}", fontsize=8)
    axes[0][0].set_ylabel("input")
    axes[1][0].set_ylabel("output")
    fig.suptitle("inputs (top) and reconstructions (bottom)")
    return fig


def write_reconstructions(path, model, dataset, count=8):
    """reconstructions.png: a few test inputs and the model's reconstructions of them.

    Images (samples whose shape, or raw shape in the data, is [H, W] or
    [H, W, C]) are drawn as images, inputs above outputs, on one gray scale;
    other samples as line plots, input and output overlaid.
    """
    x = dataset.x_test[:count]
    y = np.asarray(_reconstruction(model.predict(x, verbose=0)), np.float32)
    image_shape = _image_shape(x, dataset)
    fig = _signal_figure(x, y) if image_shape is None else _image_figure(x, y, image_shape)
    save_figure(fig, path)


def environment(precision, seed):
    """env.json: archbuilder, Keras, the backend and their versions, the device, precision and seed."""
    info = backend_info()
    return {
        "archbuilder": __version__,
        "keras": info["keras_version"],
        "backend": info["backend"],
        "backend_version": info["backend_version"],
        "device": info["device"],
        "precision": precision,
        **fast_path.choices(),
        "seed": seed,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
