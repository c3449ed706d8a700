"""What a trial's model costs: params and FLOPs from the static plan, latency measured after training.

`params` and `flops` (multiply-adds per sample, `archbuilder.format.planner`) are
known from the concrete spec alone, in milliseconds, so `tuning.constraints` is
decided on them before anything is built (`constraint_problem`). `latency_ms` is
the median time of one inference call on a batch of the training batch size, and
`sample_latency_ms` on a batch of one, timed on the trained model on the trial's
device after two untimed calls (the first one compiles). A search times each
inference graph once (`Latencies`): trials whose models differ only in weights,
regularizers, initializers, dropout rates or seeds compute the same thing at
inference and get the same figure, not two samples of the machine's noise.
"""

import statistics
import time

from archbuilder.format.schema.vocabulary import STATIC_COSTS
from archbuilder.model.config_key import DROP
from archbuilder.model.config_key import config_key
from archbuilder.model.config_key import read_at_build
from archbuilder.spec.plan import plan_spec
from archbuilder.text import count

__all__ = ["TIMED_CALLS", "static_costs", "constraint_problem", "latency", "inference_key", "Latencies"]

TIMED_CALLS = 5  # per batch size; the median is kept
_UNTIMED_CALLS = 2


def static_costs(concrete):
    """`{"params", "flops"}` of a concrete spec, from its static plan."""
    plan = plan_spec(concrete)
    return {"params": plan.params, "flops": plan.flops}


def constraint_problem(costs, constraints):
    """`(json path, message)` of the first bound of `tuning.constraints` that `costs` break, else None."""
    for name in STATIC_COSTS:
        bounds = constraints.get(name) or {}
        value = costs.get(name)
        if value is None:
            continue
        for side, broken in (("max", value > bounds.get("max", value)), ("min", value < bounds.get("min", value))):
            if broken:
                return f"$.tuning.constraints.{name}.{side}", f"{count(value)} {name}, {side} {count(bounds[side])}"
    return None


def _slice(x, rows):
    if isinstance(x, dict):
        return {k: v[:rows] for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(v[:rows] for v in x)
    return x[:rows]


def _median_ms(model, batch):
    for _ in range(_UNTIMED_CALLS):
        model.predict_on_batch(batch)
    times = []
    for _ in range(TIMED_CALLS):
        start = time.perf_counter()
        model.predict_on_batch(batch)  # returns NumPy arrays: the device has finished
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 4)


def latency(model, x, batch_size):
    """`{"latency_ms", "sample_latency_ms"}` of `model` on the first rows of `x`."""
    rows = len(next(iter(x.values()))) if isinstance(x, dict) else len(x[0] if isinstance(x, (list, tuple)) else x)
    return {"latency_ms": _median_ms(model, _slice(x, min(int(batch_size), rows))),
            "sample_latency_ms": _median_ms(model, _slice(x, 1))}


# Layer settings that do not change what an inference call computes (nor its time), besides those
# read only when the model is made (`read_at_build`).
_TRAINING_ONLY = ("rate", "dropout", "recurrent_dropout", "stddev", "trainable")
_TRAINING_ONLY_SUFFIXES = ("_regularizer", "_constraint")


def _training_only(key):
    return read_at_build(key) or key in _TRAINING_ONLY or key.endswith(_TRAINING_ONLY_SUFFIXES)


def inference_key(model, batch_size):
    """What an inference call of `model` on `batch_size` rows computes, as a string; None when unknown.

    The model's config (`archbuilder.model.config_key`) without the settings that only
    training reads (`_TRAINING_ONLY`), and the batch size. None for a model without a
    config (a subclassed model): its latency is timed every time.
    """
    return config_key(model, lambda key, value: DROP if _training_only(key) else value, int(batch_size))


class Latencies:
    """A search's latencies, timed once per inference graph (`inference_key`) on its device."""

    def __init__(self):
        self._known = {}

    def __call__(self, model, x, batch_size):
        """`latency(model, x, batch_size)`, timed only for a graph not timed before."""
        key = inference_key(model, batch_size)
        if key is None:
            return latency(model, x, batch_size)
        if key not in self._known:
            self._known[key] = latency(model, x, batch_size)
        return dict(self._known[key])
