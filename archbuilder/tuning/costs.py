"""What a trial's model costs: params and FLOPs from the static plan, latency measured after training.

`params` and `flops` (multiply-adds per sample, `archbuilder.format.planner`) are
known from the concrete spec alone, in milliseconds, so `tuning.constraints` is
decided on them before anything is built (`constraint_problem`). `latency_ms` is
the median time of one inference call on a batch of the training batch size, and
`sample_latency_ms` on a batch of one, timed on the trained model on the trial's
device after two untimed calls (the first one compiles).
"""

import statistics
import time

from archbuilder.format.schema.vocabulary import STATIC_COSTS
from archbuilder.spec.plan import plan_spec
from archbuilder.text import count

__all__ = ["TIMED_CALLS", "static_costs", "constraint_problem", "latency"]

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
