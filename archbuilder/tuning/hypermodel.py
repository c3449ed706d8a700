"""Spec -> `keras_tuner.HyperModel`: a trial's hyperparameters -> its concrete spec -> a compiled model.

The hyperparameters themselves are `archbuilder.tuning.space.HyperSpace`'s.
`HyperModel.fit` trains with the arguments of `archbuilder.run.fit.fit_arguments`,
the one fit path shared with `train` and `compare` (and with packed trials,
`archbuilder.tuning.pack_search`).
"""

import copy
import json
import math

import keras
import keras_tuner

from archbuilder.run.device import seed_everything
from archbuilder.run.device import set_precision
from archbuilder.run.fit import build_for_training
from archbuilder.run.fit import draw_first_fit_shuffle
from archbuilder.run.fit import fit_arguments
from archbuilder.run.prepare import adapt_loss
from archbuilder.spec.plan import plan_spec
from archbuilder.tuning.costs import static_costs
from archbuilder.tuning.space import HyperSpace

__all__ = ["SpecHyperModel", "NanLossError", "check_finite"]


class NanLossError(keras_tuner.errors.FailedTrialError):
    """The loss became NaN or infinite: the trial failed, the search goes on."""


def _stop_on_nan():
    """Stops a trial whose loss became NaN or infinite, checked once per epoch.

    Unlike `keras.callbacks.TerminateOnNaN` it prints nothing into the trial table, and
    it has no batch hook: a callback with one makes Keras wait for every step to finish
    before it dispatches the next (the epoch's mean loss is NaN once any batch's was).
    """
    class StopOnNaN(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.model.stop_training = True

    return StopOnNaN()


def check_finite(history, concrete, initial_epoch=0):
    """Raises `NanLossError` when the last epoch's loss of `history` is NaN or infinite."""
    losses = history.history.get("loss") or []
    if losses and not math.isfinite(float(losses[-1])):
        rate = concrete["training"]["optimizer"].get("learning_rate")
        hint = f" with learning_rate={rate}; try a lower one" if isinstance(rate, (int, float)) else ""
        raise NanLossError(f"$.training: the loss became NaN at epoch {initial_epoch + len(losses)}{hint}")


def _reuse_key(concrete):
    """What a compiled model depends on: the concrete spec less what only sets variables or the fit loop."""
    key = copy.deepcopy(concrete)
    training = key["training"]
    for name in ("epochs", "batch_size", "seed", "early_stopping"):
        training.pop(name, None)
    optimizer = training.get("optimizer")
    if isinstance(optimizer, dict) and isinstance(optimizer.get("learning_rate"), (int, float)):
        optimizer["learning_rate"] = None  # a float rate lives in the optimizer's learning_rate variable
    return json.dumps(key, sort_keys=True, default=str)


def _copy_state(source, target):
    """Copies every variable of `source` (model and optimizer) into `target`; False if they do not match."""
    pairs = (list(zip(source.variables, target.variables))
             + list(zip(source.optimizer.variables, target.optimizer.variables)))
    if (len(source.variables) != len(target.variables)
            or len(source.optimizer.variables) != len(target.optimizer.variables)
            or any(a.shape != b.shape or a.dtype != b.dtype for a, b in pairs)):
        return False
    for a, b in pairs:
        b.assign(a)
    return True


class SpecHyperModel(keras_tuner.HyperModel):
    """A keras-tuner `HyperModel` made from a `Spec` with search spaces.

    `build(hp)` makes the trial's concrete spec (`spec.concrete(pick)`), checks
    its static plan (a pooling that shrinks a feature map to 0 fails here with
    its JSON path) and builds it with `archbuilder.run.fit.build_for_training`. `fit`
    trains with `archbuilder.run.fit.fit_arguments`'s arguments; `training.epochs` and
    `training.batch_size` come from the trial's concrete spec unless the tuner
    (Hyperband) passes `epochs`.

    Args:
        spec: an `archbuilder.spec.load.Spec`.
        dataset: the `Dataset` trials train on (from `archbuilder.run.prepare.prepare_data`);
            one-hot labels switch the trial's loss to categorical (`adapt_loss`).

    Example:
        >>> hypermodel = SpecHyperModel(load_spec("specs/mnist1d_cnn_tune.json"))
        >>> tuner = keras_tuner.RandomSearch(hypermodel, objective="val_accuracy", max_trials=3)
    """

    def __init__(self, spec, dataset=None):
        super().__init__(name=spec.name, tunable=True)
        self.spec = spec
        self.dataset = dataset
        self.space = HyperSpace(spec.doc)
        self.execution = 0  # executions_per_trial: each execution seeds differently
        self.last_params = None
        self._built = None  # (model, Built, concrete) of the last build
        self._compiled = None  # (reuse key, Built) of the last model built, whose steps are compiled
        self.reuse = True  # off while a pack is built: each member needs its own model
        self._handed_back = None  # the compiled model the last build handed back instead of a fresh one

    def declare_hyperparameters(self, hp):
        self.space.declare(hp)

    def concrete(self, hp):
        """The concrete spec of the trial whose hyperparameters are `hp`."""
        concrete = self.spec.concrete(self.space.picker(hp))
        return adapt_loss(concrete, self.dataset) if self.dataset is not None else concrete

    def build(self, hp):
        self.last_params = None
        concrete = self.concrete(hp)
        plan = plan_spec(concrete)  # a map shrunk to 0 fails here, with its path, before any weight exists
        self.last_params = plan.params
        seed_everything(int(concrete["training"]["seed"]) + self.execution)
        set_precision(concrete["training"])
        built = build_for_training(concrete, self.dataset, self.spec.source)
        if self.reuse:
            built = self._reuse(concrete, built)
        self.last_params = built.model.count_params()
        self._built = (built.model, built, concrete)
        return built.model

    def _reuse(self, concrete, fresh):
        """The last trial's model in the state of `fresh` when only values held in variables differ, else `fresh`.

        Keras compiles a model's training and evaluation steps once per model object (an
        XLA compilation on JAX, a trace on TensorFlow). A trial whose model differs from
        the last one only in its learning rate, seed or fit-loop settings (epochs, batch
        size, early stopping) gets the last model back with every variable — weights,
        batch-norm statistics, random-seed states, optimizer slots, step count and
        learning rate — copied from `fresh`, a model built for this trial: it trains
        exactly as `fresh` would, without compiling again.
        """
        key = _reuse_key(concrete)
        previous = self._compiled
        self._handed_back = None
        if previous is not None and previous[0] == key and _copy_state(fresh.model, previous[1].model):
            fresh = previous[1]
            self._handed_back = fresh.model
        self._compiled = (key, fresh)
        return fresh

    @property
    def last_model(self):
        """The model the last `build` returned (the one the last trial trained)."""
        return self._built[0] if self._built is not None else None

    def costs_of(self, values):
        """`{"params", "flops"}` of the trial whose keras-tuner values are `values`, from its static plan.

        None when the trial's spec does not plan: its own run reports why.
        """
        hp = keras_tuner.HyperParameters()
        self.declare_hyperparameters(hp)
        hp.values = dict(values)
        try:
            return static_costs(self.concrete(hp))
        except Exception:  # noqa: BLE001 - decided when the trial runs, with its one-line reason
            return None

    def trial_concrete(self, hp, model):
        """The concrete spec `model` was built from (the last build's), else the one of `hp`."""
        if self._built is not None and self._built[0] is model:
            return self._built[2]
        return self.concrete(hp)

    def fit_arguments(self, hp, model, dataset, callbacks=None, epochs=None, initial_epoch=0, verbose=0):
        """The keyword arguments of the trial's `model.fit` (`fit_arguments`, plus a stop on a NaN loss)."""
        callbacks = list(callbacks or ()) + [_stop_on_nan()]
        return fit_arguments(self.trial_concrete(hp, model), dataset, callbacks=callbacks, verbose=verbose,
                             initial_epoch=initial_epoch, epochs=epochs)

    def fit(self, hp, model, dataset, callbacks=None, epochs=None, initial_epoch=0, verbose=0, **kwargs):
        """Trains `model` on `dataset` with `fit_arguments`'s arguments.

        Raises:
            NanLossError: the loss became NaN or infinite.
        """
        concrete = self.trial_concrete(hp, model)
        arguments = self.fit_arguments(hp, model, dataset, callbacks, epochs, initial_epoch, verbose)
        if model is self._handed_back:
            draw_first_fit_shuffle(arguments)  # the shuffle a fresh model's first fit would draw
        history = model.fit(**arguments)
        check_finite(history, concrete, initial_epoch)
        return history
