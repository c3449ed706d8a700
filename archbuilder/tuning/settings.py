"""A search's settings: its objectives, the rendered `tuning` section, and the CLI flags as overrides.

With a list of objectives the oracle's objective is the first training metric of
the list (the primary one): it picks each trial's best epoch and checkpoint, and
is what pruning compares. The costs (`params`, `flops`, latencies) are the same at
every epoch, and the other metrics are taken at that best epoch.
"""

import keras_tuner

from archbuilder.format import defaults as D
from archbuilder.format.schema.vocabulary import COSTS
from archbuilder.spec.normalize import infer_objective
from archbuilder.spec.overrides import DELETE

__all__ = ["objective_of", "objectives_of", "search_settings", "tuning_overrides"]

# Metrics to minimize, by the end of their name (`val_loss`, `val_head_mae`, ...); anything else is maximized.
_MIN_NAMES = ("loss", "mae", "mse", "mape", "msle", "rmse", "error", "crossentropy", "hinge", "divergence")


def _direction(name):
    base = name.removeprefix("val_")
    return "min" if name in COSTS or base.endswith(_MIN_NAMES) else "max"


def objectives_of(spec):
    """The `keras_tuner.Objective`s of `tuning.objective` (default inferred), directions from their names."""
    given = spec.rendered()["tuning"].get("objective") or infer_objective(spec.concrete())
    out = []
    for item in given if isinstance(given, list) else [given]:
        name = item if isinstance(item, str) else item["name"]
        direction = item.get("direction") if isinstance(item, dict) else None
        out.append(keras_tuner.Objective(name, direction or _direction(name)))
    return out


def objective_of(spec):
    """The oracle's `keras_tuner.Objective`: the first training metric of `tuning.objective`."""
    return next(o for o in objectives_of(spec) if o.name not in COSTS)


def tuning_overrides(tuner=None, max_trials=None, max_time=None, pack=None):
    """`--tuner`, `--max-trials`, `--max-time` and `--pack` as override pairs of `tuning.*`.

    Switching algorithms drops the other algorithm's budget keys rather than refusing the spec.
    """
    pairs = []
    if tuner is not None:
        pairs.append(("tuning.tuner", tuner))
        drop = ("max_trials",) if tuner == "hyperband" else ("max_epochs", "factor", "hyperband_iterations")
        pairs += [(f"tuning.{key}", DELETE) for key in drop]
    if max_trials is not None:
        pairs.append(("tuning.max_trials", int(max_trials)))
    if max_time is not None:
        pairs.append(("tuning.max_time", max_time))
    if pack is not None:
        pairs.append(("tuning.pack", pack))
    return pairs


def search_settings(spec):
    """The rendered `tuning` section: hyperband's `max_epochs` defaulting to `training.epochs`, pruning filled."""
    tuning = spec.rendered()["tuning"]
    if tuning["tuner"] == "hyperband" and "max_epochs" not in tuning:
        tuning["max_epochs"] = spec.concrete()["training"]["epochs"]
    pruning = tuning.get("pruning")
    if pruning:
        tuning["pruning"] = {**(D.MEDIAN_PRUNING if pruning["type"] == "median" else D.ASHA_PRUNING), **pruning}
    return tuning
