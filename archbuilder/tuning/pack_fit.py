"""Packed trials on JAX: several models trained by one compiled program, each exactly as its own `fit` would.

`pack_fit(members)` takes models that are built, compiled and ready to `fit` (one
per trial) with the keyword arguments their `fit` would get
(`archbuilder.run.fit.fit_arguments`), and trains them together:

- **Compiled programs for the pack** (`archbuilder.tuning.pack_programs`). Step by
  step, either one program that runs every member's own, unbatched `train_step` (its
  own graph, its own Python-float settings: learning-rate schedule, optimizer
  arguments, regularizer and penalty weights, dropout rates, loss weights), one host
  dispatch per step for the whole pack; or, when the members differ only in their
  state and L1/L2 factors, one member's step compiled once and run for each member.
  With `scan=True` (the fast path: accelerators) an epoch's steps run inside one
  program with every member's step (`lax.scan` over its batches), so the host
  dispatches once per epoch.
- **Exact.** A member starts from its model's own state (weights, seed-generator
  states, optimizer slots), sees the batches its `fit` would see (NumPy's global
  shuffles replayed from the state captured when the member was made, or its own
  `FullBatches`), and its epoch-level callbacks (early stopping with
  restore_best_weights, stop on NaN, reduce on plateau, keras-tuner's callbacks and
  checkpoint) run on its own model with the logs `fit` would give them. On XLA CPU,
  step by step, every final variable and every history value is bit-identical to
  the member's sequential `fit` (tests/tuning/test_pack_fit.py). Inside `lax.scan`
  XLA compiles convolution gradients another way: equal to float rounding there,
  which a chaotic training run can amplify.
- **Per member.** A member that stops (early stopping, NaN, its own epoch count, an
  error in its callbacks) stops changing; the others go on. `on_member_end` is
  called for it at once, so its trial can be finished before the pack ends.
- **Data on the device.** The training and validation arrays are put on the device
  once; each step gathers its members' batches there.

Not packed (`PackError`): members with different data, batch sizes or validation
settings, `shuffle="batch"`, inputs other than arrays or archbuilder's `FullBatches`.
Batch-level callback hooks are not called (archbuilder's and keras-tuner's have none).
In a program with every member's step, stopped members are still computed until the
pack ends, their results discarded.
"""

import dataclasses
import math

import jax
import jax.numpy as jnp
import keras
import numpy as np

from archbuilder import compat
from archbuilder.run import fast_path
from archbuilder.tuning.pack_programs import Programs
from archbuilder.tuning.pack_programs import shared_programs

__all__ = ["Member", "PackError", "pack_fit"]


class PackError(ValueError):
    """The members cannot share a pack (different data or fit loop, an unsupported setting)."""


@dataclasses.dataclass
class Member:
    """One trial of a pack.

    Attributes:
        model: a built, compiled Keras model with its optimizer built: the model the
            sequential path would call `fit` on.
        arguments: the keyword arguments of that `fit` call (`fit_arguments`).
        np_state: `np.random.get_state()` at the moment that `fit` would start;
            captured when the member is made if not given (make it right after its build).
    """

    model: object
    arguments: dict
    np_state: tuple = None

    def __post_init__(self):
        if self.np_state is None:
            self.np_state = np.random.get_state()


def _draws_at_symbolic_build(model):
    """True when `fit` pulls (and discards) one batch to build the model: a shuffle is drawn for it.

    `Trainer._symbolic_build` iterates once when the model, its compiled metrics or its
    compiled loss are unbuilt: on a model's first `fit` after `compile`.
    """
    model_unbuilt = not all(layer.built for layer in model._flatten_layers())
    metrics_unbuilt = model._compile_metrics is not None and not model._compile_metrics.built
    loss_unbuilt = model._compile_loss is not None and not model._compile_loss.built
    return model_unbuilt or metrics_unbuilt or loss_unbuilt


# ---------------------------------------------------------------- data


def _same_leaf(u, v):
    if u is v:
        return True
    if isinstance(u, np.ndarray) and isinstance(v, np.ndarray):  # views of one array (validation cuts)
        return u.__array_interface__ == v.__array_interface__
    return np.isscalar(u) and np.isscalar(v) and u == v


def _same(a, b):
    """Same data: the same arrays (the same memory) or equal scalars, in the same structure."""
    leaves_a, tree_a = jax.tree.flatten(a, is_leaf=lambda v: v is None)
    leaves_b, tree_b = jax.tree.flatten(b, is_leaf=lambda v: v is None)
    return tree_a == tree_b and all(_same_leaf(u, v) for u, v in zip(leaves_a, leaves_b))


def _slice(tree, rows):
    return jax.tree.map(lambda a: a[rows], tree)


class _Data:
    """A pack's training and validation data, cut as `fit` cuts it, put on the device once."""

    _KEYS = ("batch_size", "validation_split", "validation_batch_size", "class_weight", "shuffle")

    def __init__(self, arguments):
        x = arguments["x"]
        self.full_batches = isinstance(x, fast_path.FullBatches)
        if self.full_batches:
            x, y, sample_weight, batch_size = x.x, x.y, x.sample_weight, x.batch_size
        else:
            y, sample_weight, batch_size = arguments.get("y"), arguments.get("sample_weight"), arguments["batch_size"]
        self.shuffle = arguments.get("shuffle", True)
        if self.shuffle not in (True, False):
            raise PackError(f"shuffle={self.shuffle!r} is not packed")
        validation = arguments.get("validation_data")
        if arguments.get("validation_split") and validation is None:
            (x, y, sample_weight), validation = fast_path.split_validation(x, y, sample_weight,
                                                                          arguments["validation_split"])
        if arguments.get("class_weight") is not None:  # as Keras's data adapters: the training part only
            sample_weight = compat.class_weight_to_sample_weights(y, arguments["class_weight"])
        self.batch_size = int(batch_size)
        self.n_train = len(x)
        self.used = (self.n_train // self.batch_size) * self.batch_size if self.full_batches else self.n_train
        self.first = _slice((x, y, sample_weight), slice(0, self.batch_size))  # for the symbolic build
        self.train = jax.tree.map(jnp.asarray, (x, y, sample_weight))
        self.validation = None
        if validation is not None:
            vx, vy, vsw = (tuple(validation) + (None,))[:3]
            size = arguments.get("validation_batch_size") or self.batch_size
            self.validation = [jax.tree.map(jnp.asarray, _slice((vx, vy, vsw), slice(start, start + size)))
                               for start in range(0, len(vx), size)]

    def check(self, first, other):
        """Raises `PackError` unless `other`'s `fit` arguments read the same data as `first`'s."""
        def data(arguments):
            x = arguments["x"]
            if isinstance(x, fast_path.FullBatches):
                return (x.x, x.y, x.sample_weight, x.batch_size), None
            return (x, arguments.get("y"), arguments.get("sample_weight")), arguments.get("validation_data")

        (train_a, val_a), (train_b, val_b) = data(first), data(other)
        if (not _same(train_a, train_b) or not _same(val_a, val_b)
                or any(first.get(k) != other.get(k) for k in self._KEYS)):
            raise PackError("the members do not train on the same data with the same batch size and validation")


class _Orders:
    """One member's sample order per epoch: what its own `fit` would draw."""

    def __init__(self, member, data):
        self.data = data
        self.batches = member.arguments["x"] if data.full_batches else None
        self.rng = np.random.RandomState()
        self.rng.set_state(member.np_state)
        if data.shuffle and not data.full_batches and _draws_at_symbolic_build(member.model):
            self.rng.permutation(data.n_train)  # fit's symbolic build pulls a batch of a first shuffle

    def next(self):
        if self.batches is not None:  # fit calls on_epoch_end before each epoch (reset, then each epoch's end)
            self.batches.on_epoch_end()
            return self.batches.epoch_order()
        return self.rng.permutation(self.data.n_train) if self.data.shuffle else np.arange(self.data.n_train)


# ---------------------------------------------------------------- the compiled programs


def _model_state(model):
    return (tuple(v.value for v in model.trainable_variables), tuple(v.value for v in model.non_trainable_variables),
            tuple(v.value for v in model.optimizer.variables))


def _assign(model, state, metrics_values):
    variables = (model.trainable_variables, model.non_trainable_variables, model.optimizer.variables,
                 model.metrics_variables)
    for group, values in zip(variables, (*state, metrics_values)):
        for variable, value in zip(group, values):
            variable.assign(value)


def _initial_metrics(model):
    """The metric variables' values after `reset_metrics()`, computed without touching the model."""
    with keras.StatelessScope() as scope:
        for metric in model.metrics:
            metric.reset_state()
    values = []
    for variable in model.metrics_variables:
        value = scope.get_current_value(variable)
        values.append(variable.value if value is None else value)
    return values


# ---------------------------------------------------------------- the fit loop


class _Run:
    """One member inside `pack_fit`: its callbacks, epochs and state, driven as `fit` drives them."""

    def __init__(self, member, data):
        self.model = member.model
        arguments = member.arguments
        self.initial_epoch, self.epochs = int(arguments.get("initial_epoch") or 0), int(arguments["epochs"])
        self.orders = _Orders(member, data)
        first = data.first
        self.model._symbolic_build(data_batch=first)  # fit's first act: build the compiled metrics and loss
        self.metrics0 = tuple(_initial_metrics(self.model))
        self.callbacks = keras.callbacks.CallbackList(
            list(arguments.get("callbacks") or ()), add_history=True, add_progbar=False, verbose=0,
            epochs=self.epochs, steps=math.ceil(data.used / data.batch_size), model=self.model)
        self.model.stop_training = False
        self.logs = {}
        self.done = self.initial_epoch >= self.epochs
        self.error = None

    def running(self, epoch):
        return not self.done and epoch >= self.initial_epoch

    def end_epoch(self, epoch, state, metrics, logs, val):
        """Writes the epoch's state into the model and calls the epoch's callbacks; True once the member is done."""
        _assign(self.model, state, metrics)
        if val is not None:  # fit's evaluate() calls the test hooks of the same callbacks
            self.callbacks.on_test_begin()
            self.callbacks.on_test_end(val)
            logs.update({f"val_{name}": value for name, value in val.items()})
        self.callbacks.on_epoch_end(epoch, logs)
        self.logs = logs
        return self.model.stop_training or epoch + 1 >= self.epochs

    def finish(self):
        self.done = True
        if self.error is None:
            self.model.optimizer.finalize_variable_values(self.model.trainable_weights)
            self.callbacks.on_train_end(logs=self.logs)


def pack_fit(members, *, scan=False, on_member_end=None):
    """Trains the members together, each as `member.model.fit(**member.arguments)` would train it alone.

    Args:
        members: `Member`s whose `fit` arguments read the same data (one search's trials).
        scan: run each epoch's steps inside one program (`lax.scan`); else one dispatch per step.
        on_member_end: called as `on_member_end(index, history, error)` as soon as a member is
            done (its epochs run, or stopped); `error` is the exception its callbacks raised, or None.

    Returns:
        One Keras `History` per member, in order (None for a member whose callbacks raised).

    Raises:
        PackError: the members cannot share a pack.
    """
    if keras.backend.backend() != "jax":
        raise PackError(f"packed trials need the JAX backend, not {keras.backend.backend()}")
    data = _Data(members[0].arguments)
    for member in members[1:]:
        data.check(members[0].arguments, member.arguments)
    runs = [_Run(member, data) for member in members]
    models = [run.model for run in runs]
    programs = (not scan and shared_programs(models, data)) or Programs(models, data, scan)
    for run in runs:
        run.callbacks.on_train_begin()

    def end(index, run, error=None):
        run.error = run.error or error
        try:
            run.finish()
        except Exception as e:  # noqa: BLE001 - one member's callbacks fail only that member
            run.error = e
        if on_member_end is not None:
            on_member_end(index, None if run.error else run.model.history, run.error)

    for index, run in enumerate(runs):
        if run.done:
            end(index, run)
    first, last = min(run.initial_epoch for run in runs), max(run.epochs for run in runs)
    for epoch in range(first, last):
        running = [i for i, run in enumerate(runs) if run.running(epoch)]
        if not running:
            continue
        for i in running:
            runs[i].callbacks.on_epoch_begin(epoch)
        states = [_model_state(run.model) for run in runs]  # as callbacks left them (e.g. a new learning rate)
        orders = np.stack([runs[i].orders.next() if i in running else np.arange(data.used)
                           for i in range(len(runs))]).astype(np.int32)
        trained = programs.train_epoch(states, [run.metrics0 for run in runs], orders, running)
        states = [state for state, _ in trained]
        logs = programs.results([values for _, values in trained], running)
        validated = programs.evaluate(states, [run.metrics0 for run in runs], running) if data.validation else None
        val_logs = programs.results(validated, running) if validated else [None] * len(runs)
        for i in running:
            run = runs[i]
            try:
                metrics = validated[i] if validated else trained[i][1]
                stop = run.end_epoch(epoch, states[i], metrics, logs[i], val_logs[i])
            except Exception as e:  # noqa: BLE001 - one member's callbacks fail only that member
                end(i, run, e)
                continue
            if stop:
                end(i, run)
    return [None if run.error else run.model.history for run in runs]
