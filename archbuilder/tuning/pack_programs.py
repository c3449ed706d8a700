"""The compiled programs of a pack (`archbuilder.tuning.pack_fit`): every member's step in one, or one shared.

- **`Programs`**: one jitted program per training step (or per epoch, `lax.scan`)
  that runs every member's own, unbatched `train_step`, each with its own graph and
  Python-float settings baked in; one evaluation program likewise. XLA compiles every
  member's copy of the step into it: the compile time grows with the pack.
- **`shared_programs`**: when the members' training steps are one computation except
  for what their state holds (weights, seed-generator states, optimizer slots and
  learning rate) and their L1/L2 regularizer factors — a search over learning rates,
  seeds and regularization — the first member's step is traced once with the factors
  as inputs, compiled once whatever the pack's size, and called for each member with
  its state and factors (one dispatch per member and step; a member that has stopped
  is not computed any more). A factor given as an input multiplies as its baked-in
  constant does: the members stay bit-identical to their sequential `fit`
  (tests/tuning/test_pack_fit.py). Other differences (optimizer arguments, dropout
  rates, penalty and loss weights, schedules) bake values into the step: `Programs`.
"""

import jax
import jax.numpy as jnp
import keras
import numpy as np
from keras import ops

from archbuilder import compat
from archbuilder.model.config_key import DROP
from archbuilder.model.config_key import config_key
from archbuilder.model.config_key import read_at_build

__all__ = ["Programs", "SharedPrograms", "shared_programs"]


def _metric_results(model, values):
    """`model.get_metrics_result()` for metric values, as arrays (traced inside `results`)."""
    results = {}
    with keras.StatelessScope(state_mapping=list(zip(model.metrics_variables, values))):
        for metric in model.metrics:  # Keras's get_metrics_result, less its conversion to Python numbers
            result = metric.result()
            if isinstance(result, dict):
                results.update(result)
            else:
                results[metric.name] = result
    return results


def _tuples(state):
    """A step's state `(variables, ...)` with each group a tuple (Keras returns lists)."""
    return tuple(tuple(group) for group in state)


def _gather(data, orders):
    """Each member's batch: its rows of the device data, gathered inside the step's own program.

    One gather per array for all members (one per member and array compiles ten times slower);
    the steps stay bit-identical to `fit`'s, which gets its batch as an input.
    """
    members, size = orders.shape

    def take(array):
        return jnp.take(array, orders.reshape(-1), axis=0).reshape((members, size) + array.shape[1:])

    taken = jax.tree.map(take, data)
    return tuple(jax.tree.map(lambda a, m=m: a[m], taken) for m in range(members))


class Programs:
    """The pack's jitted programs: a training step (or epoch) and an evaluation step for all members.

    Their arguments and results are tuples, not lists: JAX dispatches a call whose
    pytrees hold lists through its slower Python path.
    """

    def __init__(self, models, data, scan):
        self.models, self.data, self.scan = models, data, scan
        self._step = jax.jit(self._train_all)
        self._epoch = jax.jit(self._train_epoch)
        self._test = jax.jit(self._test_all)
        self._results = jax.jit(self._results_all)

    def _train_batches(self, carry, batches):
        steps = zip(self.models, carry, batches)
        return tuple(_tuples(model.train_step(state, batch)[1]) for model, state, batch in steps)

    def _train_all(self, carry, rows, data):
        return self._train_batches(carry, _gather(data, rows))

    def _test_all(self, carry, batch):
        return tuple(_tuples(model.test_step(state, batch)[1]) for model, state in zip(self.models, carry))

    def _train_epoch(self, carry, orders, data):
        size = self.data.batch_size
        full = self.data.used // size
        rows = orders[:, :full * size].reshape(len(self.models), full, size).transpose(1, 0, 2)
        carry, _ = jax.lax.scan(lambda c, r: (self._train_all(c, r, data), None), carry, rows)
        if full * size < self.data.used:  # Keras's last, smaller batch: one more step in the same program
            carry = self._train_all(carry, orders[:, full * size:], data)
        return carry

    def _results_all(self, metrics):
        return tuple(_metric_results(model, values) for model, values in zip(self.models, metrics))

    def results(self, metrics, running=None):
        """Every member's metric results (`get_metrics_result()`) as Python floats, one program for all."""
        return [{name: float(value) for name, value in member.items()}
                for member in jax.device_get(self._results(tuple(metrics)))]

    def train_epoch(self, states, metrics, orders, running=None):
        """One epoch of every member from `states`; returns their `(state, metric values)`.

        `running`: the members whose results are used (the others are computed all the same).
        """
        carry = tuple((*state, values) for state, values in zip(states, metrics))
        if self.scan:
            carry = self._epoch(carry, jnp.asarray(orders), self.data.train)
        else:
            for start in range(0, self.data.used, self.data.batch_size):
                rows = jnp.asarray(orders[:, start:start + self.data.batch_size])
                carry = self._step(carry, rows, self.data.train)
        return [(tuple(c[:3]), c[3]) for c in carry]

    def evaluate(self, states, metrics, running=None):
        """Every member's metric values on the validation data (the same batches for all)."""
        carry = tuple((state[0], state[1], values) for state, values in zip(states, metrics))
        for batch in self.data.validation:
            carry = self._test(carry, batch)
        return [c[2] for c in carry]


# ---------------------------------------------------------------- one member's step for all


def _is_l1l2(value):
    """Keras's own `L1L2` (a subclass may compute something else)."""
    return type(value) is keras.regularizers.L1L2


def _regularizer_pattern(value):
    """An L1L2 weight regularizer's config as the training step's structure sees it: which factors are not 0."""
    if isinstance(value, dict) and value.get("class_name") == "L1L2" and value.get("module") == "keras.regularizers":
        factors = value.get("config") or {}
        return {"class_name": "L1L2", "nonzero": [float(factors.get(name) or 0.0) != 0.0 for name in ("l1", "l2")]}
    return value


def _rewrite(key, value):
    if read_at_build(key):
        return DROP
    if key.endswith("_regularizer") and key != "activity_regularizer":
        return _regularizer_pattern(value)
    return value


def train_key(model):
    """What a training step of `model` computes, less its state and L1/L2 factors; None when unknown."""
    with compat.serializing_without_tensorflow():
        compiled = model.get_compile_config()
    compiled = dict(compiled or {})
    optimizer = compiled.get("optimizer")
    if isinstance(optimizer, dict) and isinstance(optimizer.get("config"), dict):
        config = {k: v for k, v in optimizer["config"].items() if k != "name"}  # Keras numbers them afresh
        if isinstance(config.get("learning_rate"), (int, float)):  # a variable of the optimizer's state
            del config["learning_rate"]
        compiled["optimizer"] = {**optimizer, "config": config}
    return config_key(model, _rewrite, compiled)


class _Factors:
    """Keras 3.15.1's `L1L2.__call__`, its factors given (Python floats, or a program's inputs)."""

    def __init__(self, l1, l2, nonzero):
        self.l1, self.l2, self.nonzero = l1, l2, nonzero

    def __call__(self, x):
        regularization = ops.convert_to_tensor(0.0, dtype=x.dtype)
        if self.nonzero[0]:
            regularization += ops.cast(self.l1, dtype=x.dtype) * ops.sum(ops.absolute(x))
        if self.nonzero[1]:
            regularization += ops.cast(self.l2, dtype=x.dtype) * ops.sum(ops.square(x))
        return regularization


def shared_programs(models, data):
    """`SharedPrograms` for `models` when their training steps are one computation (see the module), else None."""
    keys = {train_key(model) for model in models}
    if len(keys) != 1 or None in keys:
        return None
    columns = list(zip(*([v.regularizer for v in model.trainable_weights] for model in models)))
    varied = []  # (trainable variable's position, the factors that differ across the members)
    for position, regularizers in enumerate(columns):
        if all(_is_l1l2(r) for r in regularizers):
            names = tuple(n for n in ("l1", "l2") if len({float(getattr(r, n)) for r in regularizers}) > 1)
            if names:
                varied.append((position, names))
    factors = [tuple(np.float32(getattr(columns[position][m], name)) for position, names in varied for name in names)
               for m in range(len(models))]
    return SharedPrograms(models, data, varied, factors)


class SharedPrograms:
    """The first member's training and evaluation steps, compiled once, run for each member (`shared_programs`)."""

    def __init__(self, models, data, varied, factors):
        self.models, self.data, self.varied, self.factors = models, data, varied, factors
        self.template = models[0]
        self._step = jax.jit(self._train_one)
        self._test = jax.jit(self._test_one)
        self._results = jax.jit(lambda values: _metric_results(self.template, values))

    def _with_factors(self, factors, step):
        """`step()` with the template's varied regularizers reading `factors` (restored afterwards)."""
        variables = self.template.trainable_weights
        saved = [variables[position].regularizer for position, _ in self.varied]
        values = iter(factors)
        try:
            for (position, names), regularizer in zip(self.varied, saved):
                given = {name: next(values) for name in names}
                variables[position].regularizer = _Factors(
                    given.get("l1", regularizer.l1), given.get("l2", regularizer.l2),
                    (regularizer.l1 != 0.0, regularizer.l2 != 0.0))
            return step()
        finally:
            for (position, _), regularizer in zip(self.varied, saved):
                variables[position].regularizer = regularizer

    def _train_one(self, state, factors, rows, data):
        batch = jax.tree.map(lambda a: jnp.take(a, rows, axis=0), data)
        return self._with_factors(factors, lambda: _tuples(self.template.train_step(state, batch)[1]))

    def _test_one(self, state, factors, batch):
        return self._with_factors(factors, lambda: _tuples(self.template.test_step(state, batch)[1]))

    def results(self, metrics, running=None):
        """The `running` members' metric results (`get_metrics_result()`) as Python floats (None for the others)."""
        running = range(len(metrics)) if running is None else running
        return [{name: float(value) for name, value in jax.device_get(self._results(tuple(values))).items()}
                if m in running else None for m, values in enumerate(metrics)]

    def train_epoch(self, states, metrics, orders, running=None):
        """One epoch of the `running` members (default all) from `states`; the others' come back unchanged."""
        running = range(len(self.models)) if running is None else running
        carry = [(*state, tuple(values)) for state, values in zip(states, metrics)]
        for start in range(0, self.data.used, self.data.batch_size):
            rows = orders[:, start:start + self.data.batch_size]
            for m in running:
                carry[m] = self._step(carry[m], self.factors[m], rows[m], self.data.train)
        return [(tuple(c[:3]), c[3]) for c in carry]

    def evaluate(self, states, metrics, running=None):
        """The `running` members' metric values on the validation data (the others' as given)."""
        running = range(len(self.models)) if running is None else running
        carry = [(state[0], state[1], tuple(values)) for state, values in zip(states, metrics)]
        for batch in self.data.validation:
            for m in running:
                carry[m] = self._test(carry[m], self.factors[m], batch)
        return [c[2] for c in carry]
