"""The trials of a search: `trials.csv`, the live trial table and `trials.png`.

Whoever runs a trial (this process or a worker) leaves `archbuilder.json` in the
trial's folder (worker, seconds, params, error, and the pack of a packed trial); the oracle holds the
hyperparameters, status and score. The process that owns the oracle merges both,
after every trial: one table line on stdout and `trials.csv` rewritten whole
(through `archbuilder.atomic`, so it is complete or absent).
"""

import io
import json
import os
import sys

from archbuilder.atomic import atomic_write_text
from archbuilder.format.schema.vocabulary import COSTS
from archbuilder.format.schema.vocabulary import STATIC_COSTS
from archbuilder.plotting import new_figure
from archbuilder.run.reports import save_figure
from archbuilder.tuning.objectives import metric_value
from archbuilder.tuning.tuners import PROJECT
from archbuilder.tuning.tuners import RECORD
from archbuilder.tuning.warm_start import hyperparameter_columns

__all__ = ["Report", "trials_figure", "hyperparameter_figure", "hyperparameter_names", "status_counts"]

def _cell(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _table_value(value):
    return f"{value:.4g}" if isinstance(value, float) else _cell(value)


def _number(value):
    """A count as an int, a measure as Python's shortest float text, nothing as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _fmt_score(value):
    return "-" if value is None else f"{value:.4f}"


class Report:
    """Collects trial records: `trials.csv`, the live table, `trials.png`, the `TuneResult` frame.

    Args:
        run_dir: the run directory (`tuner/` inside it is keras-tuner's project).
        hypermodel: the `SpecHyperModel` (its `space` names and decodes values).
        objective: the `keras_tuner.Objective`.
        stream: where the table goes (default: stdout at construction).
        quiet: no table.
        tracker: an `archbuilder.tuning.tracking.SearchTracker` told of the search's start and each ended trial.

    `oracle` is set once the tuner exists.
    """

    COLUMNS_HEAD = ("trial_id", "status", "score")
    COLUMNS_TAIL = ("epochs_run", "seconds", "worker", "error")

    def __init__(self, run_dir, hypermodel, objective, stream=None, quiet=False, objectives=(), tracker=None):
        self.run_dir = run_dir
        self.project_dir = os.path.join(run_dir, PROJECT)
        self.space = hypermodel.space
        self.objective = objective
        self.objectives = list(objectives) or [objective]
        # Metrics listed as objectives get their own column (at the trial's best epoch); `score` is the first.
        self.metric_names = [o.name for o in self.objectives if o.name not in COSTS and o.name != objective.name]
        self.stream = stream if stream is not None else sys.stdout
        self.quiet = quiet
        self.oracle = None
        self.tracker = tracker

    def _print(self, text):
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def header(self, settings, resumed=0):
        if self.tracker is not None:
            self.tracker.begin(self.oracle.get_space())
        budget = (f"{settings['max_trials']} trials" if settings["tuner"] != "hyperband"
                  else f"max_epochs {settings['max_epochs']}, factor {settings['factor']}")
        named = ", ".join(f"{o.name} ({o.direction})" for o in self.objectives)
        self._print(f"Search: {settings['tuner']}, {budget}, objective{'s' if len(self.objectives) > 1 else ''} "
                    f"{named}; run directory {self.run_dir}")
        if not self.space.names:
            self._print("The spec has no search spaces: every trial trains the same model")
        if resumed:
            self._print(f"Resuming: {resumed} finished trial(s) kept")
        self._print(f"{'trial':>5}  {'score':>8}  {'best':>8}  {'seconds':>7}  hyperparameters")

    def side_record(self, trial_id):
        path = os.path.join(self.project_dir, f"trial_{trial_id}", RECORD)
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def status(self, trial, side):
        """keras-tuner's status, or `INFEASIBLE` (decided from the plan) or `PRUNED` (stopped early)."""
        if trial.status == "INVALID" and trial.trial_id in getattr(self.oracle, "infeasible", {}):
            return "INFEASIBLE"
        if trial.status == "COMPLETED" and (side.get("pruned") or trial.trial_id in getattr(self.oracle, "pruned", {})):
            return "PRUNED"
        return trial.status

    def rows(self):
        """One dict per ended trial, ordered by trial number, values decoded."""
        rows = []
        for trial_id in sorted(self.oracle.trials, key=int):
            trial = self.oracle.trials[trial_id]
            if trial.status in ("RUNNING", "IDLE", "STOPPED"):
                continue
            side = self.side_record(trial_id)
            status = self.status(trial, side)
            scored = status in ("COMPLETED", "PRUNED")
            raw = trial.hyperparameters.values
            values = self.space.values(raw)
            extra = {k: v for k, v in raw.items() if k.startswith("tuner/")}
            error = side.get("error") or trial.message
            if not scored and not error:
                error = f"$: the objective {self.objective.name} was not finite"
            costs = {name: side.get(name, metric_value(trial, name)) for name in COSTS}
            epochs = side.get("epochs_run", getattr(self.oracle, "pruned", {}).get(trial_id))
            rows.append({"trial_id": trial_id, "status": status, "score": trial.score if scored else None,
                         "values": values, "extra": extra, **costs,
                         "metrics": {n: metric_value(trial, n) if scored else None for n in self.metric_names},
                         "epochs_run": epochs, "seconds": side.get("seconds"), "worker": side.get("worker"),
                         "pack": side.get("pack"), "error": None if scored else error})
        return rows

    def columns(self, rows):
        """`(header, hyperparameter names, extra names)`; `pack` (the pack's first trial) once a trial was packed."""
        names = list(self.space.names)
        extra = []
        for row in rows:
            extra += [k for k in row["extra"] if k not in extra]
        tail = list(self.COLUMNS_TAIL)
        if any(row["pack"] is not None for row in rows):
            tail.insert(tail.index("error"), "pack")
        return list(self.COLUMNS_HEAD) + names + extra + list(COSTS) + self.metric_names + tail, names, extra

    def write_csv(self):
        """Rewrites trials.csv; returns its rows."""
        rows = self.rows()
        atomic_write_text(os.path.join(self.run_dir, "trials.csv"), self.csv_text(rows))
        return rows

    def csv_text(self, rows):
        """trials.csv's text for `rows`: a header line, then one line per row."""
        import csv

        header, names, extra = self.columns(rows)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            cells = [row["trial_id"], row["status"], "" if row["score"] is None else repr(float(row["score"]))]
            cells += [_cell(row["values"][n]) if n in row["values"] else "" for n in names]
            cells += [_cell(row["extra"][n]) if n in row["extra"] else "" for n in extra]
            cells += [_number(row[n]) for n in COSTS] + [_number(row["metrics"][n]) for n in self.metric_names]
            cells += [_number(row["epochs_run"]), "" if row["seconds"] is None else f"{row['seconds']:.2f}",
                      row["worker"] or ""]
            cells += [row["pack"] or ""] if "pack" in header else []
            cells += [row["error"] or ""]
            writer.writerow(cells)
        return text.getvalue()

    def frame(self, rows=None):
        import pandas as pd

        rows = self.rows() if rows is None else rows
        header, names, extra = self.columns(rows)
        columns = {"trial_id": [r["trial_id"] for r in rows], "status": [r["status"] for r in rows],
                   "score": pd.Series([r["score"] for r in rows], dtype="float64")}
        for n in names:  # object columns: null stays None, 2 stays 2 (not NaN and 2.0)
            columns[n] = pd.Series([r["values"].get(n) for r in rows], dtype=object)
        for n in extra:
            columns[n] = pd.Series([r["extra"].get(n) for r in rows], dtype=object)
        for n in COSTS:
            columns[n] = pd.Series([r[n] for r in rows], dtype="Int64" if n in STATIC_COSTS else "float64")
        for n in self.metric_names:
            columns[n] = pd.Series([r["metrics"][n] for r in rows], dtype="float64")
        columns["epochs_run"] = pd.Series([r["epochs_run"] for r in rows], dtype="Int64")
        columns["seconds"] = pd.Series([r["seconds"] for r in rows], dtype="float64")
        columns["worker"] = [r["worker"] for r in rows]
        if "pack" in header:
            columns["pack"] = [r["pack"] for r in rows]
        columns["error"] = [r["error"] for r in rows]
        return pd.DataFrame(columns, columns=header)

    def best_score(self):
        scores = [t.score for t in self.oracle.trials.values() if t.status == "COMPLETED" and t.score is not None]
        if not scores:
            return None
        return max(scores) if self.objective.direction == "max" else min(scores)

    def trial_ended(self, trial):
        """Called by the oracle after each trial: one table line, and trials.csv rewritten."""
        try:
            self.write_csv()
        except OSError as e:  # a full disk must not take the oracle down with it
            print(f"archbuilder: could not write trials.csv: {e}", file=sys.stderr)
        side = self.side_record(trial.trial_id)
        if self.tracker is not None:
            self.tracker.trial_ended(trial, side)
        values = " ".join(f"{k}={_table_value(v)}" for k, v in self.space.values(trial.hyperparameters.values).items())
        seconds = side.get("seconds")
        status = self.status(trial, side)
        if status in ("COMPLETED", "PRUNED"):
            score = _fmt_score(trial.score)
            if status == "PRUNED":
                values += f"  -- pruned after {side.get('epochs_run') or self.oracle.pruned.get(trial.trial_id)} epochs"
        else:
            score = "infeasible" if status == "INFEASIBLE" else "failed"
            values += f"  -- {side.get('error') or trial.message or 'the objective was not finite'}"
        self._print(f"{trial.trial_id:>5}  {score:>8}  {_fmt_score(self.best_score()):>8}  "
                    f"{'-' if seconds is None else f'{seconds:.1f}':>7}  {values}")

    def write_plot(self, rows):
        """trials.png: the score of each trial with the best so far, and each trial's seconds."""
        save_figure(trials_figure(rows, self.objective.name, self.objective.direction),
                    os.path.join(self.run_dir, "trials.png"))


def trials_figure(rows, objective, direction):
    """The score of each trial (failed ones marked), the best so far, and each trial's seconds."""
    fig = new_figure(7, 5.5)
    top, bottom = fig.subplots(2, 1, sharex=True)
    ids = [r["trial_id"] for r in rows]
    xs = list(range(len(rows)))
    done = [(x, r["score"]) for x, r in zip(xs, rows) if r["score"] is not None]
    if done:
        top.scatter([x for x, _ in done], [s for _, s in done], color="#4a6fa5", label="trial", zorder=3)
        best, line = None, []
        pick = max if direction == "max" else min
        for x, r in zip(xs, rows):
            if r["score"] is not None:
                best = r["score"] if best is None else pick(best, r["score"])
            line.append(best)
        top.step(xs, [float("nan") if b is None else b for b in line], where="post", color="#d1495b",
                 label="best so far")
        floor = min(s for _, s in done)
        failed = [x for x, r in zip(xs, rows) if r["score"] is None]
        if failed:
            top.scatter(failed, [floor] * len(failed), marker="x", color="gray", label="failed", zorder=3)
        top.legend(loc="best", fontsize=8)
    top.set_ylabel(objective)
    top.set_title(f"{len(rows)} trials")
    bottom.bar(xs, [r["seconds"] or 0 for r in rows],
               color=["#4a6fa5" if r["score"] is not None else "gray" for r in rows])
    bottom.set_ylabel("seconds")
    bottom.set_xlabel("trial")
    bottom.set_xticks(xs)
    bottom.set_xticklabels(ids, rotation=90 if len(ids) > 12 else 0, fontsize=7)
    fig.tight_layout()
    return fig


def hyperparameter_names(frame):
    """The hyperparameter columns of a trials table (between `score` and the costs; `pack` and keras-tuner's own
    `tuner/...` left out): `warm_start.hyperparameter_columns`."""
    return hyperparameter_columns(frame.columns)


def _missing(value):
    """An inactive hyperparameter: None in a fresh table, NaN in one read back from trials.csv."""
    return value is None or (isinstance(value, float) and value != value)


def _positions(values):
    """x positions of a panel's values and its tick labels (None for a number line)."""
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], None
    labels = sorted({_cell(v) for v in values})
    return [labels.index(_cell(v)) for v in values], labels


def hyperparameter_figure(frame, objective, direction="max", columns=4):
    """The score of every completed trial against each hyperparameter, one panel each; the best trial in red.

    Numbers are drawn on a number line (a log scale when they span more than 50x), other
    values (strings, booleans, null) as categories. A trial where a hyperparameter is
    inactive (a repetition beyond the searched count) has no point in that panel.
    """
    import pandas as pd

    names = hyperparameter_names(frame) or ["trial_id"]
    done = frame[(frame["status"] == "COMPLETED") & pd.to_numeric(frame["score"], errors="coerce").notna()]
    scores = done["score"].astype(float).tolist()
    best = (max if direction == "max" else min)(range(len(scores)), key=scores.__getitem__) if scores else None
    columns = min(columns, len(names))
    fig = new_figure(3.2 * columns, 2.6 * -(-len(names) // columns))
    axes = fig.subplots(-(-len(names) // columns), columns, squeeze=False, sharey=True)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names):
        points = [(v, s, j == best) for j, (v, s) in enumerate(zip(done[name].tolist(), scores)) if not _missing(v)]
        xs, labels = _positions([v for v, _, _ in points])
        if labels is not None:
            ax.set_xticks(range(len(labels)), labels, fontsize=8)
            ax.set_xlim(-0.5, len(labels) - 0.5)
        elif xs and min(xs) > 0 and max(xs) / min(xs) > 50:
            ax.set_xscale("log")
        ax.scatter(xs, [s for _, s, _ in points], color="#4a6fa5", zorder=3)
        ax.scatter([x for x, (_, _, b) in zip(xs, points) if b], [s for _, s, b in points if b], color="#d1495b",
                   zorder=4, label="best")
        ax.set_xlabel(name, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel(objective)
    fig.suptitle(f"{objective} of {len(scores)} completed trials against each hyperparameter", fontsize=10)
    fig.tight_layout()
    return fig


def status_counts(rows):
    """`5 completed, 2 pruned, 1 infeasible`: the rows' statuses, counted in order of first appearance."""
    counted = {}
    for row in rows:
        counted[row["status"].lower()] = counted.get(row["status"].lower(), 0) + 1
    return ", ".join(f"{n} {status}" for status, n in counted.items())
