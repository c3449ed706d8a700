"""A trial's value of each objective: the metrics at its best epoch, the costs it recorded."""

__all__ = ["metric_value", "objective_values"]


def metric_value(trial, name):
    """`name`'s value in `trial` at its best epoch (the primary objective's), else its last; None if absent."""
    if not trial.metrics.exists(name):
        return None
    history = trial.metrics.get_history(name)
    if not history:
        return None
    at_best = [o for o in history if o.step == trial.best_step]
    return float((at_best or history)[-1].mean())


def objective_values(trial, primary, objectives):
    """The values of `objectives` (keras-tuner `Objective`s) for `trial`; the primary one is its score."""
    return [trial.score if o.name == primary.name and trial.score is not None else metric_value(trial, o.name)
            for o in objectives]
