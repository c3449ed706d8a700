"""`compare`: several specs trained under the same data and budget, side by side.

Answers the question users come with — which architecture, how accurate, how
big — as the table `Architecture | Accuracy | Params | Train time`: Accuracy is
the test accuracy (an autoencoder's: its head's; a regression's test MAE, the
column then headed `MAE`, or `Accuracy / MAE` when both kinds are compared),
Params the trained model's total parameters, Train time the wall seconds of `fit`.

Example:
    >>> table = archbuilder.compare(["specs/mnist1d_cnn.json", "specs/mnist1d_gru.json"], epochs=5)
    >>> print(markdown_table(table))
"""

from archbuilder.errors import ArgumentTypeError
from archbuilder.errors import SpecErrors
from archbuilder.errors import check_int
from archbuilder.errors import check_path
from archbuilder.format import defaults as D
from archbuilder.run.reports import save_figure
from archbuilder.run.rundir import RunDir
from archbuilder.run.train import run_training
from archbuilder.run.train import size_overrides
from archbuilder.run.train import summary_line
from archbuilder.spec.load import load_spec

__all__ = ["compare", "markdown_table", "score_header"]

ARCHITECTURE, PARAMS, SECONDS = "Architecture", "Params", "Train time (s)"


def score_header(kinds):
    """`Accuracy`, `MAE` or `Accuracy / MAE` for the kinds of score in a table."""
    kinds = {k for k in kinds if k}
    if kinds == {"mae"}:
        return "MAE"
    return "Accuracy / MAE" if kinds == {"accuracy", "mae"} else "Accuracy"


def _score(metrics):
    """`(kind, value, metric key)`: accuracy, else MAE, else nothing (a plain autoencoder)."""
    for key in ("test_accuracy", "test_head_accuracy"):
        if key in metrics:
            return "accuracy", metrics[key], key
    for key in ("test_mae", "test_head_mae"):
        if key in metrics:
            return "mae", metrics[key], key
    return None, None, None


def _load_all(specs, overrides):
    loaded, errors = [], []
    for item in specs:
        try:
            spec = load_spec(item, overrides)
        except SpecErrors as e:
            errors += e.errors
            continue
        try:
            spec.require_concrete(f"train {spec.source}")
        except SpecErrors as e:
            errors += e.errors
        loaded.append(spec)
    if errors:
        raise SpecErrors(errors)
    return loaded


def compare(specs, data=None, epochs=D.TRAINING["epochs"], batch_size=D.TRAINING["batch_size"], out=None, *,
            quiet=True, overrides=(), verbose=None, runs_root="runs"):
    """Trains each spec under the same data and budget and tabulates the results.

    Every spec is validated before any training starts. Each run directory is
    `OUT/<name>/`; the folder also gets `comparison.csv`, `comparison.png` and `DONE`.

    Args:
        specs: spec paths, dicts or `Spec`s.
        data: the data every spec trains on (default: each spec's own `data`).
        epochs: epochs for every spec (None: each spec's own).
        batch_size: batch size for every spec (None: each spec's own).
        out: the output folder (default `runs/compare-<YYYYmmdd-HHMMSS>`); refused if it exists.
        quiet: no progress output.
        overrides: `PATH=VALUE` strings applied to every spec.

    Returns:
        A `pandas.DataFrame`, one row per spec: `Architecture`, the score column
        (see `score_header`), `Params`, `Train time (s)`, `Metric` (the metrics.json
        key of the score), `Epochs`, `Run dir`. Its `attrs["out"]` is the folder.
    """
    if isinstance(specs, (str, dict)) or not isinstance(specs, (list, tuple)):
        raise ArgumentTypeError("compare", "specs", f"expected a list of specs (paths, dicts or Specs); got "
                                f"{type(specs).__name__}")
    epochs, batch_size = check_int("compare", "epochs", epochs), check_int("compare", "batch_size", batch_size)
    out = check_path("compare", "out", out, empty=True)
    loaded = _load_all(specs, list(overrides) + size_overrides(epochs, batch_size))
    with RunDir.create("compare", out, root=runs_root, command="compare") as run:
        return _compare_in(run, loaded, data, quiet, verbose)


def _compare_in(run, loaded, data, quiet, verbose):
    import keras
    import pandas as pd

    rows, names = [], set()
    for spec in loaded:
        name, n = spec.name, 1
        while name in names:
            n += 1
            name = f"{spec.name}-{n}"
        names.add(name)
        keras.backend.clear_session()  # every model starts from the same clean Keras state
        result = run_training(spec, data, out=run.file(name), quiet=quiet, verbose=verbose)
        if not quiet:
            print(summary_line(result))
        kind, value, key = _score(result.metrics)
        rows.append({ARCHITECTURE: name, "kind": kind, "score": value, PARAMS: result.metrics["params"],
                     SECONDS: result.metrics["train_seconds"], "Metric": key,
                     "Epochs": result.metrics["epochs_run"], "Run dir": result.run_dir})
    header = score_header(row["kind"] for row in rows)
    frame = pd.DataFrame(rows).rename(columns={"score": header}).drop(columns="kind")
    frame = frame[[ARCHITECTURE, header, PARAMS, SECONDS, "Metric", "Epochs", "Run dir"]]
    frame.attrs["out"] = run.path
    run.write_text("comparison.csv", frame.to_csv(index=False))
    _write_chart(run.file("comparison.png"), frame, header)
    run.finish()
    return frame


def _format_score(value, metric):
    if value is None or value != value:
        return "—"
    return f"{value:.2%}" if metric and metric.endswith("accuracy") else f"{value:.4f}"


def markdown_table(frame):
    """The table as Markdown: `| Architecture | Accuracy | Params | Train time |`."""
    header = frame.columns[1]
    lines = [f"| Architecture | {header} | Params | Train time |", "| --- | ---: | ---: | ---: |"]
    for _, row in frame.iterrows():
        lines.append(f"| {row[ARCHITECTURE]} | {_format_score(row[header], row['Metric'])} | "
                     f"{int(row[PARAMS]):,} | {row[SECONDS]:.1f} s |")
    return "\n".join(lines)


def _write_chart(path, frame, header):
    """comparison.png: one bar per architecture (its score), its parameter count written on it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(frame[ARCHITECTURE])
    scores = [0.0 if v is None or v != v else float(v) for v in frame[header]]
    accuracy = [bool(m) and m.endswith("accuracy") for m in frame["Metric"]]
    heights = [s * 100 if a else s for s, a in zip(scores, accuracy)]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(names) + 1.5), 3.8))
    bars = ax.bar(names, heights, color=["#4a6fa5" if a else "#c46b3c" for a in accuracy])
    for bar, params, score, metric in zip(bars, frame[PARAMS], frame[header], frame["Metric"]):
        ax.annotate(f"{_format_score(score, metric)}\n{int(params):,} params",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel({"Accuracy": "test accuracy (%)", "MAE": "test MAE"}.get(header, "test accuracy (%) / MAE"))
    top = max(heights + [1.0]) * 1.18
    ax.set_ylim(0, max(top, 110.0) if header == "Accuracy" else top)
    ax.set_title("archbuilder compare")
    ax.tick_params(axis="x", labelrotation=15)
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, path)
