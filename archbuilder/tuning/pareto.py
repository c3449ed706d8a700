"""The best trial of a search, and with several objectives its Pareto front: pareto.csv, pareto/, pareto.png.

The candidates are the completed trials (a pruned trial did not finish: it is one
only when no trial finished; failed and infeasible trials have no metrics). A
trial is on the front when no other candidate is at least as good on every
objective and better on one. `best.json` is chosen by `tuning.select`:

- `"knee"` (default): the front's member nearest the ideal point, each objective
  scaled to [0, 1] over the front (0 its best value there); the first trial on a
  tie. With one objective, the trial with the best score.
- `{"max" | "min": METRIC, "subject_to": {METRIC: {"max": N, "min": N}}}`: among
  the candidates within the bounds, the best on METRIC, a front member on a tie.
  When no candidate is within the bounds the knee is taken, and `select` says so.
"""

import math
import os

from archbuilder.format.schema.vocabulary import COSTS
from archbuilder.plotting import new_figure
from archbuilder.run.reports import save_figure

__all__ = ["objective_value", "candidates", "non_dominated", "knee", "select", "write_plot", "write_front"]


def objective_value(row, name, primary):
    """The value of objective or metric `name` in a trials row (`Report.rows`)."""
    if name == primary:
        return row["score"]
    if name in COSTS:
        return row[name]
    return row["metrics"].get(name)


def candidates(rows, objectives, primary):
    """The rows that compete: completed (else pruned) trials with a value for every objective."""
    def complete(row):
        return all(objective_value(row, o.name, primary) is not None for o in objectives)

    for statuses in (("COMPLETED",), ("PRUNED",)):
        found = [r for r in rows if r["status"] in statuses and complete(r)]
        if found:
            return found
    return []


def _framed(row, objectives, primary):
    """The row's objective values, each framed as a minimization."""
    return [(1 if o.direction == "min" else -1) * float(objective_value(row, o.name, primary)) for o in objectives]


def non_dominated(rows, objectives, primary):
    """The rows of `rows` no other row dominates, in their order."""
    points = [_framed(r, objectives, primary) for r in rows]

    def dominates(a, b):
        return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))

    return [r for r, p in zip(rows, points) if not any(dominates(q, p) for q in points if q is not p)]


def knee(front, objectives, primary):
    """The member of `front` nearest the ideal point, objectives scaled to [0, 1] over the front."""
    points = [_framed(r, objectives, primary) for r in front]
    low = [min(column) for column in zip(*points)]
    high = [max(column) for column in zip(*points)]
    scaled = [[(v - lo) / (hi - lo) if hi > lo else 0.0 for v, lo, hi in zip(p, low, high)] for p in points]
    distances = [math.hypot(*s) for s in scaled]
    return front[distances.index(min(distances))]


def _within(row, bounds, primary):
    for name, bound in bounds.items():
        value = objective_value(row, name, primary)
        if value is None or value > bound.get("max", value) or value < bound.get("min", value):
            return False
    return True


def select(rows, objectives, primary, rule):
    """`(best row, front, note)` of the trials `rows` by `tuning.select`'s `rule`; `(None, [], None)` if none.

    `note` is a line saying why the rule could not be followed, or None.
    """
    pool = candidates(rows, objectives, primary)
    if not pool:
        return None, [], None
    front = non_dominated(pool, objectives, primary) if len(objectives) > 1 else []
    if isinstance(rule, dict):
        direction = "max" if "max" in rule else "min"
        name = rule[direction]
        within = [r for r in pool if _within(r, rule.get("subject_to") or {}, primary)
                  and objective_value(r, name, primary) is not None]
        if within:
            sign = -1 if direction == "max" else 1
            on_front = {r["trial_id"] for r in front}
            return min(within, key=lambda r: (sign * objective_value(r, name, primary),
                                              r["trial_id"] not in on_front)), front, None
        note = f"tuning.select: no trial is within {rule.get('subject_to')}; best.json is the knee of the front"
    else:
        note = None
    if len(objectives) == 1:
        sign = -1 if objectives[0].direction == "max" else 1
        return min(pool, key=lambda r: sign * r["score"]), front, note
    return knee(front, objectives, primary), front, note


def _label(objective):
    return f"{objective.name} ({'lower' if objective.direction == 'min' else 'higher'} is better)"


def write_plot(path, rows, front, best, objectives, primary):
    """pareto.png: every trial on the first two objectives, the front as a red line, `best` starred."""
    fig = new_figure(6.4, 4.8)  # matplotlib's object API on its own canvas: pyplot's state is not touched
    ax = fig.add_subplot()
    x_obj, y_obj = objectives[0], objectives[1]

    def xy(chosen):
        return ([objective_value(r, x_obj.name, primary) for r in chosen],
                [objective_value(r, y_obj.name, primary) for r in chosen])

    others = [r for r in candidates(rows, objectives, primary) if r not in front]
    pruned = [r for r in rows if r["status"] == "PRUNED" and r not in front and r not in others
              and None not in xy([r])[0] + xy([r])[1]]
    ax.scatter(*xy(others), color="#9aa5b1", label="trial", zorder=2)
    if pruned:
        ax.scatter(*xy(pruned), color="#9aa5b1", marker="x", label="pruned", zorder=2)
    ordered = sorted(front, key=lambda r: objective_value(r, x_obj.name, primary))
    ax.plot(*xy(ordered), color="#d1495b", marker="o", drawstyle="steps-post", label="Pareto front", zorder=3)
    ax.scatter(*xy([best]), marker="*", s=260, color="#edae49", edgecolor="black", label="best.json", zorder=4)
    for row in front:
        (x,), (y,) = xy([row])
        ax.annotate(row["trial_id"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel(_label(x_obj))
    ax.set_ylabel(_label(y_obj))
    if x_obj.name in ("params", "flops"):
        ax.set_xscale("log")
    if y_obj.name in ("params", "flops"):
        ax.set_yscale("log")
    more = f"; front over {len(objectives)} objectives, the first two shown" if len(objectives) > 2 else ""
    ax.set_title(f"{len(front)} of {len(rows)} trials on the Pareto front{more}", fontsize=10)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def write_front(run, report, rows, front, best, spec_of):
    """pareto.csv (trials.csv's rows of the front), pareto/TRIAL_ID.json (`spec_of(trial_id)`) and pareto.png."""
    ids = {r["trial_id"] for r in front}
    lines = report.csv_text(rows).splitlines(keepends=True)
    kept = [line for row, line in zip(rows, lines[1:]) if row["trial_id"] in ids]
    run.write_text("pareto.csv", "".join([lines[0], *kept]))
    os.makedirs(run.file("pareto"), exist_ok=True)
    for name in os.listdir(run.file("pareto")):  # a resumed search's front may have lost members
        if name.endswith(".json") and name[:-5] not in ids:
            os.remove(os.path.join(run.file("pareto"), name))
    for trial_id in sorted(ids, key=int):
        run.write_json(os.path.join("pareto", f"{trial_id}.json"), spec_of(trial_id))
    write_plot(run.file("pareto.png"), rows, front, best, report.objectives, report.objective.name)
