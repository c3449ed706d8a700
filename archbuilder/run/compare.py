"""`compare`: several specs trained under the same data and budget, side by side.

Answers the question users come with — which architecture, how accurate, how
big — as the table `Architecture | Accuracy | Params | Train time`: Accuracy is
the test accuracy (an autoencoder's: its head's), Params the trained model's total
parameters, Train time the wall seconds of `fit`. A regression's score is its test
MAE, in a column headed `MAE`. Scores that cannot be compared are kept apart: when
classifiers and regressors are compared, each kind has its own column and its own
panel of the chart, and when the specs trained on different data the table gets a
`Data` column, the chart one panel per data set, and the result a note saying so.

Example:
    >>> result = archbuilder.compare(["specs/mnist1d_cnn.json", "specs/mnist1d_gru.json"], epochs=5)
    >>> print(result.markdown())
    >>> result.table          # a pandas DataFrame
    >>> result.plot()         # the chart, as a matplotlib Figure
"""

import dataclasses
import html
import json
import os

from archbuilder.errors import ArgumentTypeError
from archbuilder.errors import SpecErrors
from archbuilder.errors import check_int
from archbuilder.errors import check_path
from archbuilder.format import defaults as D
from archbuilder.plotting import Shown
from archbuilder.plotting import new_figure
from archbuilder.plotting import png_bytes
from archbuilder.run.reports import save_figure
from archbuilder.run.rundir import RunDir
from archbuilder.run.train import run_training
from archbuilder.run.train import size_overrides
from archbuilder.run.train_result import summary_line
from archbuilder.spec.load import load_spec

__all__ = ["CompareResult", "compare", "markdown_table", "score_columns", "data_label", "data_labels"]

ARCHITECTURE, PARAMS, SECONDS, DATA = "Architecture", "Params", "Train time (s)", "Data"
HEADERS = {"accuracy": "Accuracy", "mae": "MAE"}


def score_columns(kinds):
    """The score columns of a table holding these kinds of score: `Accuracy`, `MAE`, or both."""
    kinds = {k for k in kinds if k}
    return [HEADERS[k] for k in ("accuracy", "mae") if k in kinds] or ["Accuracy"]


def _score(metrics):
    """`(kind, value, metric key)`: accuracy, else MAE, else nothing (a plain autoencoder)."""
    for key in ("test_accuracy", "test_head_accuracy"):
        if key in metrics:
            return "accuracy", metrics[key], key
    for key in ("test_mae", "test_head_mae"):
        if key in metrics:
            return "mae", metrics[key], key
    return None, None, None


def data_label(data):
    """A short name of the data a run used (its spec.resolved.json `data`): `mnist1d`, `wine.csv (max 500)`."""
    data = data or {}
    name = data.get("dataset") or os.path.basename(str(data.get("path") or data.get("x") or "")) or "?"
    return name + (f" (max {data['max_samples']})" if data.get("max_samples") else "")


def data_labels(datas):
    """`data_label` of each run's data, in full (JSON) where two different data would get one short name."""
    labels = [data_label(d) for d in datas]
    keys = [json.dumps(d, sort_keys=True) for d in datas]
    if len(set(keys)) > len(set(labels)):
        return keys
    return labels


@dataclasses.dataclass
class CompareResult(Shown):
    """What `compare` found.

    Attributes:
        table: a `pandas.DataFrame`, one row per spec: `Architecture`, the score columns
            (`Accuracy` and/or `MAE`), `Params`, `Train time (s)`, `Metric` (the metrics.json
            key of the score), `Epochs`, `Data`, `Run dir`.
        out: the folder holding every run, `comparison.csv` and `comparison.png`.
        notes: one line for each way the scores are not comparable (tasks or data that differ).
    """

    table: object
    out: str
    notes: list = dataclasses.field(default_factory=list)

    def markdown(self):
        """The table as Markdown (what `archbuilder compare` prints)."""
        return markdown_table(self.table)

    def plot(self):
        """The chart (what comparison.png shows), as a matplotlib `Figure`."""
        return chart_figure(self.table)

    def figures(self):
        return [png_bytes(self.plot())]

    def _summary_html(self):
        notes = "".join(f"<p><b>Note:</b> {html.escape(n)}</p>" for n in self.notes)
        shown = self.table.drop(columns=["Run dir"]).to_html(index=False, na_rep="—")
        return notes + shown + f"<p>Runs in <code>{html.escape(str(self.out))}</code></p>"


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
        A `CompareResult`: `.table` (a DataFrame), `.notes`, `.out`, `.markdown()`, `.plot()`;
        in a notebook it shows its notes, table and chart.
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
        trained_on = (RunDir(result.run_dir).read_json("spec.resolved.json") or {}).get("data")
        rows.append({ARCHITECTURE: name, "kind": kind, "score": value, PARAMS: result.metrics["params"],
                     SECONDS: result.metrics["train_seconds"], "Metric": key,
                     "Epochs": result.metrics["epochs_run"], DATA: trained_on, "Run dir": result.run_dir})
    for row, label in zip(rows, data_labels([row[DATA] for row in rows])):
        row[DATA] = label
    columns = score_columns(row["kind"] for row in rows)
    for row in rows:
        for kind, header in HEADERS.items():
            if header in columns:
                row[header] = row["score"] if row["kind"] == kind else None
    frame = pd.DataFrame(rows)[[ARCHITECTURE, *columns, PARAMS, SECONDS, "Metric", "Epochs", DATA, "Run dir"]]
    frame.attrs["out"] = run.path
    run.write_text("comparison.csv", frame.to_csv(index=False))
    save_figure(chart_figure(frame), run.file("comparison.png"))
    run.finish()
    return CompareResult(table=frame, out=run.path, notes=_notes(rows))


def _notes(rows):
    """One line per way the scores are not comparable: kinds of task, data sets."""
    notes = []
    kinds = {}
    for row in rows:
        kinds.setdefault({"accuracy": "accuracy", "mae": "MAE"}.get(row["kind"], "no score (plain autoencoder)"),
                         []).append(row[ARCHITECTURE])
    if len(kinds) > 1:
        notes.append("the specs are judged by different scores, which are not comparable: "
                     + "; ".join(f"{kind}: {', '.join(names)}" for kind, names in kinds.items())
                     + "; the table and the chart keep them apart")
    data = {}
    for row in rows:
        data.setdefault(row[DATA], []).append(row[ARCHITECTURE])
    if len(data) > 1:
        notes.append("the specs trained on different data, so their scores are not comparable: "
                     + "; ".join(f"{label}: {', '.join(names)}" for label, names in data.items())
                     + "; pass --data to train every spec on the same data")
    return notes


def _format_score(value, metric):
    if value is None or value != value:
        return "—"
    return f"{value:.2%}" if metric and metric.endswith("accuracy") else f"{value:.4f}"


def _score_headers(frame):
    return [h for h in HEADERS.values() if h in frame.columns]


def markdown_table(frame):
    """The table as Markdown: `| Architecture | Accuracy | Params | Train time |`.

    Args:
        frame: a `CompareResult` or its `.table`. A `MAE` column joins (or replaces)
            `Accuracy` for regressions; a `Data` column is shown when the specs trained on
            different data.
    """
    frame = frame.table if isinstance(frame, CompareResult) else frame
    headers = _score_headers(frame)
    data = DATA in frame.columns and frame[DATA].nunique() > 1
    lines = ["| Architecture | " + " | ".join(headers) + (" | Data" if data else "") + " | Params | Train time |",
             "| --- |" + " ---: |" * len(headers) + (" --- |" if data else "") + " ---: | ---: |"]
    for _, row in frame.iterrows():
        scores = " | ".join(_format_score(row[h], row["Metric"]) for h in headers)
        lines.append(f"| {row[ARCHITECTURE]} | {scores} |{f' {row[DATA]} |' if data else ''} "
                     f"{int(row[PARAMS]):,} | {row[SECONDS]:.1f} s |")
    return "\n".join(lines)


def _panels(frame):
    """`(kind header, data label or None, rows)`: one chart panel per kind of score and data set."""
    data = DATA in frame.columns and frame[DATA].nunique() > 1
    panels = {}
    for _, row in frame.iterrows():
        header = next((h for h in _score_headers(frame) if row[h] is not None and row[h] == row[h]), None)
        panels.setdefault((header, row[DATA] if data else None), []).append(row)
    return [(header, label, rows) for (header, label), rows in panels.items()]


def chart_figure(frame):
    """comparison.png: one bar per architecture (its score, its parameter count written on it).

    Scores of different kinds (accuracy, MAE) or on different data are drawn in separate panels.
    """
    panels = _panels(frame)
    widths = [max(3.0, 1.4 * len(rows) + 1.2) for _, _, rows in panels]
    fig = new_figure(sum(widths) + 0.5, 3.8)
    axes = fig.subplots(1, len(panels), squeeze=False, gridspec_kw={"width_ratios": widths})[0]
    for ax, (header, label, rows) in zip(axes, panels):
        accuracy = header == "Accuracy"
        scores = [0.0 if header is None else float(row[header]) for row in rows]
        heights = [s * 100 if accuracy else s for s in scores]
        bars = ax.bar([row[ARCHITECTURE] for row in rows], heights, color="#4a6fa5" if accuracy else "#c46b3c")
        for bar, row in zip(bars, rows):
            score = _format_score(row[header], row["Metric"]) if header else "no score"
            ax.annotate(f"{score}\n{int(row[PARAMS]):,} params",
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=8)
        ax.set_ylabel({"Accuracy": "test accuracy (%)", "MAE": "test MAE (lower is better)"}.get(header, ""))
        top = max(heights + [1.0]) * 1.25
        ax.set_ylim(0, max(top, 110.0) if accuracy else top)
        ax.set_title(" ".join(filter(None, [{"Accuracy": "accuracy", "MAE": "MAE"}.get(header, "no score"),
                                            f"on {label}" if label else None])), fontsize=10)
        ax.tick_params(axis="x", labelrotation=15)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("archbuilder compare")
    return fig
