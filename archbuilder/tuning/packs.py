"""Which trials share a pack, how the random and grid searches fill packs, and how large `"auto"` makes one.

- **The pack key** (`pack_key`): what the members of one pack share — the static
  plan's layers (type, output shape, parameters) and the fit loop (batch size,
  epochs, validation split, class weights, precision; under hyperband the round's
  epochs). Trials that differ only in values (learning rate, optimizer arguments,
  regularizer and penalty weights, loss weights, dropout rates that keep the layer,
  seeds, early stopping, schedules) share one.
- **Shape hyperparameters** (`shape_names`): those of a search whose value can
  change the pack key, found once per search from the static plan (no backend):
  each hyperparameter is set, where it is active, to each of its values (a number
  range: its minimum, maximum and default) with the others at their defaults.
- **Full packs** (`PackSampling`, a mixin of archbuilder's oracles): with the random
  search a pack draws every hyperparameter for its first member as usual, and for
  the others only the value hyperparameters, the shape ones copied from the first
  (when no new combination of that shape is left, an ordinary draw starts another
  pack). The grid search walks the same grid with the shape hyperparameters as the
  slow digits and the value ones as the fast digits, so consecutive points share
  shapes. Bayesian optimization and hyperband are asked for several trials at once,
  as keras-tuner's distributed workers ask them; those that share a key are packed.
- **`"auto"`** (`auto_pack_size`): the largest pack whose members' estimated memory
  (weights, gradients and two optimizer slots per parameter; every layer's output
  for a batch, forward and backward) fits half the memory the device has free,
  at most `AUTO_MAX` and at most the trials the search has left.
"""

import json
import math

import keras_tuner
from keras_tuner.engine import hyperparameters as hp_types

from archbuilder import compat
from archbuilder.spec.plan import plan_spec

__all__ = ["AUTO_MAX", "PackSampling", "pack_key", "shape_names", "member_bytes", "auto_pack_size"]

AUTO_MAX = 32  # a pack's program holds one copy of every member's step: XLA's compile time grows with it
_LOOP = ("batch_size", "epochs", "validation_split", "class_weight", "mixed_precision")
_ROUND = ("tuner/epochs", "tuner/initial_epoch")  # hyperband: one round's members train the same epochs


def pack_key(concrete, values=None):
    """The key members of one pack share: the plan's layers and shapes, and the fit loop.

    Args:
        concrete: a trial's concrete spec.
        values: the trial's hyperparameter values (hyperband's round: `tuner/epochs`, ...).
    """
    layers = [[node.type, list(node.shape), node.params, node.non_trainable] for node in plan_spec(concrete).nodes]
    loop = {key: concrete["training"].get(key) for key in _LOOP}
    loop.update({key: (values or {}).get(key) for key in _ROUND})
    return json.dumps([layers, loop], sort_keys=True, default=str)


def _probes(hp):
    """The values tried for `hp` to see whether it changes shapes."""
    if isinstance(hp, (hp_types.Int, hp_types.Float)):
        return [hp.min_value, hp.max_value, hp.default]
    return list(hp.values)


def shape_names(key_of, space):
    """The names of the hyperparameters of `space` whose value can change the pack key.

    Args:
        key_of: `values -> pack key` (raises when the values do not plan).
        space: the oracle's `keras_tuner.HyperParameters`.
    """
    defaults = {hp.name: hp.default for hp in space.space}
    names = set()
    for hp in space.space:
        values = dict(defaults)
        for condition in hp.conditions:  # active: its repeat count at a value that keeps it
            values[condition.name] = condition.values[0]
        try:
            base = key_of(values)
            changed = any(key_of({**values, hp.name: probe}) != base for probe in _probes(hp))
        except Exception:  # noqa: BLE001 - a value that does not plan: not safe to vary within a pack
            changed = True
        if changed:
            names.add(hp.name)
    return names


class PackSampling:
    """Mixin of archbuilder's random and grid oracles: full packs (see the module docstring).

    The pack runner (`archbuilder.tuning.pack_search`) sets `pack_shapes` (the shape
    hyperparameters' names) before the search and `pack_leader` (the values of the
    pack's first member) while it asks for the others.
    """

    pack_shapes = None  # None: the search does not pack
    pack_leader = None

    def populate_space(self, trial_id):
        if self.pack_shapes is None:
            return super().populate_space(trial_id)
        if isinstance(self, keras_tuner.oracles.GridSearchOracle):
            return self._next_grid_point()
        if self.pack_leader is not None and isinstance(self, keras_tuner.oracles.RandomSearchOracle):
            for _ in range(self._max_collisions + 1):
                values = self._member_values()
                if not self._duplicate(values):
                    return {"status": compat.TrialStatus.RUNNING, "values": values}
        return super().populate_space(trial_id)

    def _member_values(self):
        """A random draw of the value hyperparameters, the shape ones as the pack's first member has them."""
        hps = keras_tuner.HyperParameters()
        for hp in self.hyperparameters.space:
            hps.merge([hp])
            if hps.is_active(hp):
                drawn = hp.random_sample(self._seed_state)
                self._seed_state += 1
                shared = hp.name in self.pack_shapes and hp.name in self.pack_leader
                hps.values[hp.name] = self.pack_leader[hp.name] if shared else drawn
        return hps.values

    def _next_grid_point(self):
        """The grid point after the last trial made, shape hyperparameters as the slowest digits."""
        space = self.get_space()
        if not self.start_order:
            return {"status": compat.TrialStatus.RUNNING,
                    "values": {hp.name: hp.default for hp in space.space if space.is_active(hp)}}
        ordered = ([hp for hp in space.space if hp.name in self.pack_shapes]
                   + [hp for hp in space.space if hp.name not in self.pack_shapes])
        space.values = dict(self.trials[self.start_order[-1]].hyperparameters.values)
        for hp in reversed(ordered):  # an odometer, as keras-tuner's grid: the last digit turns fastest
            if space.is_active(hp):
                choices = [hp.default] + [v for v in hp.values if v != hp.default]
                position = choices.index(space.values.get(hp.name, hp.default))
                if position + 1 < len(choices):
                    space.values[hp.name] = choices[position + 1]
                    space.ensure_active_values()
                    return {"status": compat.TrialStatus.RUNNING, "values": space.values}
            space.values[hp.name] = hp.default
        status = compat.TrialStatus.IDLE if self.ongoing_trials else compat.TrialStatus.STOPPED
        return {"status": status, "values": None}


def member_bytes(concrete, sequence_length=1):
    """An estimate of one member's memory in a pack, in bytes (float32).

    Args:
        concrete: the member's concrete spec.
        sequence_length: the length an unknown (`null`) axis of the plan stands for.
    """
    plan = plan_spec(concrete)
    outputs = sum(math.prod(sequence_length if size is None else size for size in node.shape) for node in plan.nodes)
    return 4 * (4 * plan.params + 2 * outputs * int(concrete["training"]["batch_size"]))


def auto_pack_size(concrete, free_bytes, trials_left, sequence_length=1):
    """`"pack": "auto"`: the largest pack that fits half of `free_bytes`, at most `AUTO_MAX` and `trials_left`."""
    fits = int(0.5 * free_bytes // max(member_bytes(concrete, sequence_length), 1))
    cap = AUTO_MAX if trials_left is None else min(AUTO_MAX, trials_left)
    return max(1, min(fits, cap))
