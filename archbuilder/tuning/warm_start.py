"""Warm starts: points a search tries first (`tune --warm-start`, `tuning.initial: "defaults"`).

`warm_start_points(source, space)` reads the points of a previous search: a run
directory or its `trials.csv` (its completed trials, best score first; the
hyperparameter columns are those between `score` and the first `tuner/` or cost
column) or a `best.json` (the value at each searched path). Each hyperparameter
must be one the spec searches and each value one its space can take; otherwise a
one-line `ArchbuilderError` names the file, the trial and the name.

`Enqueued` (a mixin of archbuilder's oracles) hands those points out before its
own sampling, each completed with the spaces' defaults where a name is missing
or inactive, and skips one already tried (keras-tuner's hash of the values), so a
resumed search does not try them twice. It hooks `_random_values` (the random
search, the Bayesian oracle's random start, hyperband's new trials, whose bracket
bookkeeping stays keras-tuner's) and, for the Bayesian oracle past its random
start, `populate_space`. The grid search, which walks its grid from the defaults,
takes no warm start.
"""

import csv
import json
import math
import os

import keras_tuner

from archbuilder import compat
from archbuilder.errors import ArchbuilderError
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.format import jsonpath
from archbuilder.format.schema.vocabulary import COSTS
from archbuilder.text import did_you_mean

__all__ = ["Enqueued", "warm_start_points", "enqueued_points", "hyperparameter_columns"]

TrialStatus = compat.TrialStatus


def complete_values(space, point):
    """The active values of `space` for `point`: its values where given, each default elsewhere."""
    hps = keras_tuner.HyperParameters()
    for hp in space.space:
        hps.merge([hp])
        if hps.is_active(hp):
            hps.values[hp.name] = point.get(hp.name, hp.default)
    return hps.values


class Enqueued:
    """Mixin for keras-tuner oracles: `enqueued` points first (see the module docstring)."""

    enqueued = ()

    def _next_enqueued(self):
        position = self.__dict__.get("_enqueued_at", 0)
        while position < len(self.enqueued):
            values = complete_values(self.hyperparameters, self.enqueued[position])
            position += 1
            self._enqueued_at = position
            if not self._duplicate(values):
                return values
        return None

    def _random_values(self):
        values = self._next_enqueued()
        return values if values is not None else super()._random_values()

    def populate_space(self, trial_id):
        if hasattr(self, "gpr") and not getattr(self, "pack_leader", None):  # the Bayesian oracle
            values = self._next_enqueued()
            if values is not None:
                return {"status": TrialStatus.RUNNING, "values": values}
        return super().populate_space(trial_id)


def _encode(space, source, where, point):
    out = {}
    for name, value in point.items():
        if name not in space.spaces:
            raise ArchbuilderError(f"{source}: {where}hyperparameter {name} is not searched by this spec"
                                   f"{did_you_mean(name, space.names)}")
        try:
            out[name] = space.encode(name, value)
        except ValueError as e:
            raise ArchbuilderError(f"{source}: {where}{name} = {e}") from None
    return out


def _cell(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def hyperparameter_columns(header):
    """The hyperparameter columns of a trials table: between `score` and the first cost or `tuner/` column.

    `pack` (a packed trial's pack, after them in tables of earlier versions) is left out.
    """
    header = [str(c) for c in header]
    start = header.index("score") + 1 if "score" in header else 0
    end = next((i for i in range(start, len(header)) if header[i].startswith("tuner/") or header[i] in COSTS),
               len(header))
    return [c for c in header[start:end] if c != "pack"]


def _csv_points(path, space, objective):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0][:3] != ["trial_id", "status", "score"]:
        raise ArchbuilderError(f"{path}: not a trials.csv (its header starts with trial_id,status,score)")
    header = rows[0]
    names = hyperparameter_columns(header)
    missing = [n for n in space.names if n not in names]
    if missing:
        raise ArchbuilderError(f"{path}: the spec searches {missing[0]}, which this search did not"
                               + (f" (it searched {', '.join(names)})" if names else " (it searched nothing)"))
    done = [r for r in rows[1:] if len(r) == len(header) and r[1] == "COMPLETED" and r[2]]
    sign = -1 if objective.direction == "max" else 1
    done.sort(key=lambda r: sign * float(r[2]) if math.isfinite(float(r[2])) else math.inf)
    where = [header.index(n) for n in names]
    return [_encode(space, path, f"trial {r[0]}: ", {n: _cell(r[i]) for n, i in zip(names, where) if r[i] != ""})
            for r in done]


def _spec_point(path, space):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise ArchbuilderError(f"{path}: cannot read it as JSON: {e}") from None
    point = {}
    for name in space.names:
        steps = jsonpath.keys(name)
        if name in space.count_names:
            found = list(jsonpath.walk(doc, steps[:-1]))
            if len(found) == len(steps) - 1 and isinstance(found[-1][1], list):
                point[name] = len(found[-1][1])
                continue
        else:
            found = list(jsonpath.walk(doc, steps))
            if len(found) == len(steps):
                point[name] = found[-1][1]
                continue
        condition = space.condition(name)
        if condition is None or point.get(condition[0]) in condition[1]:
            raise ArchbuilderError(f"{path}: {jsonpath.from_name(name)}: missing; the spec searches it")
    return [_encode(space, path, "", point)]


def warm_start_points(source, space, objective):
    """The points of `source` (a run directory, a trials.csv or a best.json) as keras-tuner values.

    Args:
        source: the path given to `--warm-start`.
        space: the search's `HyperSpace`.
        objective: the primary `keras_tuner.Objective` (orders a trials.csv's trials, best first).

    Raises:
        ArchbuilderError: an unreadable source, or one whose names or values the spec does not search.
    """
    path = os.path.join(source, "trials.csv") if os.path.isdir(source) else source
    if not os.path.isfile(path):
        raise ArchbuilderError(f"{path}: no such file: --warm-start takes a run directory, a trials.csv or a "
                               "best.json")
    if path.endswith(".csv"):
        return _csv_points(path, space, objective)
    return _spec_point(path, space)


def enqueued_points(spec, settings, space, objective, warm_start):
    """The points of `--warm-start` (keras-tuner values) for the search of `spec`, checked before anything runs.

    Raises:
        SpecErrors: a grid search (it walks its grid from the defaults).
        ArchbuilderError: see `warm_start_points`.
    """
    if warm_start is None:
        return []
    if settings["tuner"] == "grid":
        raise SpecErrors([SpecError("$.tuning.tuner", "a grid search walks every point from the defaults: "
                                    "--warm-start needs the random, bayesian or hyperband tuner", spec.source)])
    return warm_start_points(warm_start, space, objective)
