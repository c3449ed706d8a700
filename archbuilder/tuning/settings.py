"""A search's settings: its objective, the rendered `tuning` section, and the CLI flags as overrides."""

import keras_tuner

from archbuilder.spec.normalize import infer_objective
from archbuilder.spec.overrides import DELETE

__all__ = ["objective_of", "search_settings", "tuning_overrides"]

# Metrics to minimize, by the end of their name (`val_loss`, `val_head_mae`, ...); anything else is maximized.
_MIN_NAMES = ("loss", "mae", "mse", "mape", "msle", "rmse", "error", "crossentropy", "hinge", "divergence")


def objective_of(spec):
    """`keras_tuner.Objective` of `tuning.objective` (default inferred), direction from its name."""
    name = spec.rendered()["tuning"].get("objective") or infer_objective(spec.concrete())
    base = name.removeprefix("val_")
    direction = "min" if base.endswith(_MIN_NAMES) else "max"
    return keras_tuner.Objective(name, direction)


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
    """The rendered `tuning` section, with hyperband's `max_epochs` defaulting to `training.epochs`."""
    tuning = spec.rendered()["tuning"]
    if tuning["tuner"] == "hyperband" and "max_epochs" not in tuning:
        tuning["max_epochs"] = spec.concrete()["training"]["epochs"]
    return tuning
