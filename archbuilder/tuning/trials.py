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
from archbuilder.tuning.tuners import PROJECT
from archbuilder.tuning.tuners import RECORD

__all__ = ["Report"]

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

    `oracle` is set once the tuner exists.
    """

    COLUMNS_HEAD = ("trial_id", "status", "score")
    COLUMNS_TAIL = ("params", "seconds", "worker", "error")

    def __init__(self, run_dir, hypermodel, objective, stream=None, quiet=False):
        self.run_dir = run_dir
        self.project_dir = os.path.join(run_dir, PROJECT)
        self.space = hypermodel.space
        self.objective = objective
        self.stream = stream if stream is not None else sys.stdout
        self.quiet = quiet
        self.oracle = None

    def _print(self, text):
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def header(self, settings, resumed=0):
        budget = (f"{settings['max_trials']} trials" if settings["tuner"] != "hyperband"
                  else f"max_epochs {settings['max_epochs']}, factor {settings['factor']}")
        self._print(f"Search: {settings['tuner']}, {budget}, objective {self.objective.name} "
                    f"({self.objective.direction}); run directory {self.run_dir}")
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

    def rows(self):
        """One dict per ended trial, ordered by trial id, values decoded."""
        rows = []
        for trial_id in sorted(self.oracle.trials):
            trial = self.oracle.trials[trial_id]
            if trial.status in ("RUNNING", "IDLE", "STOPPED"):
                continue
            side = self.side_record(trial_id)
            raw = trial.hyperparameters.values
            values = self.space.values(raw)
            extra = {k: v for k, v in raw.items() if k.startswith("tuner/")}
            error = side.get("error") or trial.message
            if trial.status != "COMPLETED" and not error:
                error = f"$: the objective {self.objective.name} was not finite"
            rows.append({"trial_id": trial_id, "status": trial.status,
                         "score": trial.score if trial.status == "COMPLETED" else None,
                         "values": values, "extra": extra, "params": side.get("params"),
                         "seconds": side.get("seconds"), "worker": side.get("worker"), "pack": side.get("pack"),
                         "error": error if trial.status != "COMPLETED" else None})
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
        return list(self.COLUMNS_HEAD) + names + extra + tail, names, extra

    def write_csv(self):
        import csv

        rows = self.rows()
        header, names, extra = self.columns(rows)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            cells = [row["trial_id"], row["status"], "" if row["score"] is None else repr(float(row["score"]))]
            cells += [_cell(row["values"][n]) if n in row["values"] else "" for n in names]
            cells += [_cell(row["extra"][n]) if n in row["extra"] else "" for n in extra]
            cells += ["" if row["params"] is None else str(row["params"]),
                      "" if row["seconds"] is None else f"{row['seconds']:.2f}", row["worker"] or ""]
            cells += [row["pack"] or ""] if "pack" in header else []
            cells += [row["error"] or ""]
            writer.writerow(cells)
        atomic_write_text(os.path.join(self.run_dir, "trials.csv"), text.getvalue())
        return rows

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
        columns["params"] = pd.Series([r["params"] for r in rows], dtype="Int64")
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
        values = " ".join(f"{k}={_table_value(v)}" for k, v in self.space.values(trial.hyperparameters.values).items())
        seconds = side.get("seconds")
        if trial.status == "COMPLETED":
            score = _fmt_score(trial.score)
        else:
            score = "failed"
            values += f"  -- {side.get('error') or trial.message or 'the objective was not finite'}"
        self._print(f"{trial.trial_id:>5}  {score:>8}  {_fmt_score(self.best_score()):>8}  "
                    f"{'-' if seconds is None else f'{seconds:.1f}':>7}  {values}")

    def write_plot(self, rows):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from archbuilder.run.reports import save_figure

        fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
        ids = [r["trial_id"] for r in rows]
        xs = list(range(len(rows)))
        done = [(x, r["score"]) for x, r in zip(xs, rows) if r["score"] is not None]
        if done:
            top.scatter([x for x, _ in done], [s for _, s in done], color="#4a6fa5", label="trial", zorder=3)
            best, line = None, []
            pick = max if self.objective.direction == "max" else min
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
        top.set_ylabel(self.objective.name)
        top.set_title(f"{len(rows)} trials")
        bottom.bar(xs, [r["seconds"] or 0 for r in rows],
                   color=["#4a6fa5" if r["score"] is not None else "gray" for r in rows])
        bottom.set_ylabel("seconds")
        bottom.set_xlabel("trial")
        bottom.set_xticks(xs)
        bottom.set_xticklabels(ids, rotation=90 if len(ids) > 12 else 0, fontsize=7)
        fig.tight_layout()
        save_figure(fig, os.path.join(self.run_dir, "trials.png"))
