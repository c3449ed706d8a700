"""Spec -> `keras_tuner.HyperModel`: the spec's search spaces as hyperparameters.

Each space becomes one hyperparameter named by its spec path (design.md 1.7):
`choice` -> `hp.Choice`, `int` -> `hp.Int`, `float` -> `hp.Float`, `bool` ->
`hp.Boolean`. Repetition i of a `{"repeat": count, "each": item}` list gets its
own hyperparameters (`conv[i].filters`), declared under
`hp.conditional_scope("conv.repeat", [counts > i])`, so the oracle sees them as
inactive, not just absent, when the count is smaller.

keras-tuner's `Choice` takes values of one type and no `None` (and hands
booleans back as 0/1), so choices are encoded: all-int, all-float and all-str
lists are kept as they are (numbers mixing ints and floats become floats),
anything else — `null`, booleans, lists — becomes JSON text. `decode` turns a
value back into what the spec meant, so `best.json` gets JSON `null`/`true`.

`int` and `float` spaces pass `min`, `max`, `step`, `sampling` and `default` to
keras-tuner as they are, so with `sampling: "log"` a `step` multiplies (keras-tuner's
reading), where with `linear` it adds.

`HyperModel.fit` trains through `fitting.fit_model`, the one fit path shared
with `train` and `compare`.
"""

import contextlib
import copy
import json
import math
import re

import keras_tuner

from archbuilder.errors import SpecError
from archbuilder.search_space import default_value
from archbuilder.search_space import iter_spaces
from archbuilder.search_space import resolve

__all__ = ["HyperSpace", "SpecHyperModel", "NanLossError"]

_REPEAT_SUFFIX = ".repeat"


def _name(path):
    return path[2:] if path.startswith("$.") else path.lstrip("$")


def _count_values(space):
    """Every count a repeat's count space can take."""
    kind, body = next(iter(space.items()))
    if kind == "choice":
        return sorted(int(v) for v in body)
    return list(range(int(body["min"]), int(body["max"]) + 1))


class _Codec:
    """Maps a `choice` list to values keras-tuner accepts, and back."""

    def __init__(self, values):
        kinds = {type(v) for v in values}
        if kinds == {int} or kinds == {str} or kinds == {float}:
            self.encoded = list(values)
        elif kinds == {int, float}:
            self.encoded = [float(v) for v in values]
        else:
            self.encoded = [json.dumps(v) for v in values]
        self._decode = {}
        for encoded, value in zip(self.encoded, values):
            self._decode.setdefault(encoded, value)

    def decode(self, value):
        if isinstance(value, bool) or value is None:  # never an encoded value: pass through
            return value
        return self._decode.get(value, value)


class HyperSpace:
    """The hyperparameters of a spec document: names, conditions and codecs.

    Args:
        doc: a validated spec document (`Spec.doc`), spaces kept.
    """

    def __init__(self, doc):
        self.doc = doc
        self.spaces = {}  # name -> space, every repetition of a repeat body included
        self._repeats = {}  # repeat prefix (`conv`) -> count values, for count spaces only
        self._codecs = {}
        for path, space in iter_spaces(doc):
            if path.endswith(_REPEAT_SUFFIX) and self._is_repeat_count(path):
                self._repeats[_name(path[: -len(_REPEAT_SUFFIX)])] = _count_values(space)
        resolve(doc, self._collect)
        self.names = list(self.spaces)

    def _is_repeat_count(self, path):
        node = self.doc
        for key in re.findall(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]", path[1:])[:-1]:
            node = node[key[0]] if key[0] else node[int(key[1])]
        return isinstance(node, dict) and set(node) == {"repeat", "each"}

    def _collect(self, name, space):
        self.spaces[name] = space
        if name in self.count_names:
            return max(self._repeats[name[: -len(_REPEAT_SUFFIX)]])
        return default_value(space)

    @property
    def count_names(self):
        return {prefix + _REPEAT_SUFFIX for prefix in self._repeats}

    def condition(self, name):
        """`(parent_name, parent_values)` when `name` belongs to a searched repetition, else None."""
        for prefix, counts in self._repeats.items():
            m = re.match(re.escape(prefix) + r"\[(\d+)\]", name)
            if m:
                index = int(m.group(1))
                return prefix + _REPEAT_SUFFIX, [c for c in counts if c > index]
        return None

    def codec(self, name):
        if name not in self._codecs:
            self._codecs[name] = _Codec(self.spaces[name]["choice"])
        return self._codecs[name]

    def _declare(self, hp, name, space):
        kind, body = next(iter(space.items()))
        if kind == "choice":
            return hp.Choice(name, self.codec(name).encoded, default=self.codec(name).encoded[0])
        if kind == "bool":
            return hp.Boolean(name, default=bool(body.get("default", False)))
        args = {"step": body.get("step"), "sampling": body.get("sampling", "linear")}
        if "default" in body:
            args["default"] = body["default"]
        if kind == "int":
            return hp.Int(name, int(body["min"]), int(body["max"]), **args)
        return hp.Float(name, float(body["min"]), float(body["max"]), **args)

    def decode(self, name, value):
        """The spec value of hyperparameter `name` from what keras-tuner returned."""
        kind = next(iter(self.spaces[name]))
        if value is None:
            return None
        if kind == "choice":
            return self.codec(name).decode(value)
        if kind == "bool":
            return bool(value)
        if kind == "int":
            return int(value)
        return float(value)

    def _scope(self, hp, name):
        condition = self.condition(name)
        if condition is None:
            return contextlib.nullcontext()
        return hp.conditional_scope(*condition)

    def declare(self, hp):
        """Registers every hyperparameter of the spec, each repetition under its condition."""
        for name in self.names:
            with self._scope(hp, name):
                self._declare(hp, name, self.spaces[name])

    def picker(self, hp):
        """A `pick(name, space)` for `Spec.concrete` that reads (and declares) `hp`."""

        def pick(name, space):
            with self._scope(hp, name):
                value = self._declare(hp, name, space)
            if value is None:  # an inactive repetition: resolve never asks, but be explicit
                raise SpecError(f"$.{name}", "the hyperparameter is inactive for this count")
            return self.decode(name, value)

        return pick

    def values(self, raw):
        """Decoded values (name -> spec value) of the active hyperparameters in `raw`.

        Args:
            raw: keras-tuner's `HyperParameters.values` dict (as a trial stores it).
        """
        out = {}

        def pick(name, space):
            value = self.decode(name, raw.get(name, default_value(space)))
            out[name] = value
            return value

        resolve(self.doc, pick)
        return out

    def resolved(self, raw):
        """The spec document with each space at its value in `raw` (repeat forms expanded)."""
        return resolve(self.doc, lambda name, space: self.decode(name, raw.get(name, default_value(space))))


class NanLossError(keras_tuner.errors.FailedTrialError):
    """The loss became NaN or infinite: the trial failed, the search goes on."""


def _stop_on_nan():
    """Stops a trial whose loss became NaN or infinite, checked once per epoch.

    Unlike `keras.callbacks.TerminateOnNaN` it prints nothing into the trial table, and
    it has no batch hook: a callback with one makes Keras wait for every step to finish
    before it dispatches the next (the epoch's mean loss is NaN once any batch's was).
    """
    import keras

    class StopOnNaN(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.model.stop_training = True

    return StopOnNaN()


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
    pairs = list(zip(source.variables, target.variables)) + \
        list(zip(source.optimizer.variables, target.optimizer.variables))
    if len(source.variables) != len(target.variables) or \
            len(source.optimizer.variables) != len(target.optimizer.variables) or \
            any(a.shape != b.shape or a.dtype != b.dtype for a, b in pairs):
        return False
    for a, b in pairs:
        b.assign(a)
    return True


class SpecHyperModel(keras_tuner.HyperModel):
    """A keras-tuner `HyperModel` made from a `Spec` with search spaces.

    `build(hp)` makes the trial's concrete spec (`spec.concrete(pick)`), checks
    its static plan (a pooling that shrinks a feature map to 0 fails here with
    its JSON path) and builds it with `archbuilder.model.build_model`. `fit`
    trains with `archbuilder.fitting.fit_model`; `training.epochs` and
    `training.batch_size` come from the trial's concrete spec unless the tuner
    (Hyperband) passes `epochs`.

    Args:
        spec: an `archbuilder.spec.Spec`.
        dataset: the `Dataset` trials train on (from `fitting.prepare_data`);
            one-hot labels switch the trial's loss to categorical (`fitting.adapt_loss`).

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

    def declare_hyperparameters(self, hp):
        self.space.declare(hp)

    def concrete(self, hp):
        """The concrete spec of the trial whose hyperparameters are `hp`."""
        from archbuilder import fitting

        concrete = self.spec.concrete(self.space.picker(hp))
        return fitting.adapt_loss(concrete, self.dataset) if self.dataset is not None else concrete

    def build(self, hp):
        from archbuilder import fitting
        from archbuilder.plan import plan_spec

        self.last_params = None
        concrete = self.concrete(hp)
        plan = plan_spec(concrete)  # a map shrunk to 0 fails here, with its path, before any weight exists
        self.last_params = plan.params
        fitting.seed_everything(int(concrete["training"]["seed"]) + self.execution)
        fitting.set_precision(concrete["training"])
        built = self._reuse(concrete, fitting.build_for_training(concrete, self.dataset, self.spec.source))
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
        if previous is not None and previous[0] == key and _copy_state(fresh.model, previous[1].model):
            fresh = previous[1]
        self._compiled = (key, fresh)
        return fresh

    def fit(self, hp, model, dataset, callbacks=None, epochs=None, initial_epoch=0, verbose=0, **kwargs):
        """Trains `model` on `dataset` through `fitting.fit_model`.

        Raises:
            NanLossError: the loss became NaN or infinite.
        """
        from archbuilder import fitting
        from archbuilder.model import Built

        if self._built is not None and self._built[0] is model:
            _, built, concrete = self._built
        else:
            concrete = self.concrete(hp)
            built = Built(model=model, encoder=None, paths={})
        callbacks = list(callbacks or ()) + [_stop_on_nan()]
        history = fitting.fit_model(built, concrete, dataset, callbacks=callbacks, verbose=verbose,
                                    initial_epoch=initial_epoch, epochs=epochs)
        losses = history.history.get("loss") or []
        if losses and not math.isfinite(float(losses[-1])):
            rate = concrete["training"]["optimizer"].get("learning_rate")
            hint = f" with learning_rate={rate}; try a lower one" if isinstance(rate, (int, float)) else ""
            raise NanLossError(f"$.training: the loss became NaN at epoch {initial_epoch + len(losses)}{hint}")
        return history
