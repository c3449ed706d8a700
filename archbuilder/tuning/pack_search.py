"""`tuning.pack`: a keras-tuner search that trains its trials in packs.

keras-tuner's `search` asks its oracle for one trial, runs it, ends it and asks
again. `search_in_packs` asks for up to `pack` trials at once (each under its own
tuner id, `tuner0`, `tuner0-pack1`, ..., as distributed workers would), groups them
by `packs.pack_key`, and on JAX trains each group of two or more as one pack
(`archbuilder.tuning.pack_fit`). A trial alone in its group, one whose spec does not
plan, and every trial on TensorFlow or PyTorch run as keras-tuner runs them, one
after another.

Each member stays a keras-tuner trial — its own callbacks and best-epoch checkpoint,
`trial.json`, record and `trials.csv` row (with the pack's first trial id in the
`pack` column) — and is ended as soon as its own training ends (its epochs done,
early stopping, a NaN loss). A search killed mid-pack therefore keeps every trial
that finished; `--resume` gets the unfinished ones back first (keras-tuner's retry
queue) and packs them together again.
"""

import os
import time

import keras

from archbuilder.backend import device_memory
from archbuilder.run import fast_path
from archbuilder.tuning.packs import PackSampling
from archbuilder.tuning.packs import auto_pack_size
from archbuilder.tuning.packs import pack_key
from archbuilder.tuning.packs import shape_names

__all__ = ["SCAN_ENV", "search_in_packs", "packs_trials", "scans_epochs", "environment"]

IDLE_SECONDS = 0.1  # between two asks while the oracle waits (hyperband between rounds)
SCAN_ENV = "ARCHBUILDER_PACK_SCAN"  # on / off: an epoch's steps in one program (lax.scan); default: the fast path


def packs_trials():
    """True where trials can be packed: the JAX backend."""
    return keras.backend.backend() == "jax"


def scans_epochs():
    """Whether a pack runs each epoch as one program (`lax.scan`): `ARCHBUILDER_PACK_SCAN`, else on the fast path.

    On a CPU XLA runs convolutions inside a loop on a slower path, with other rounding
    (tests/tuning/test_pack_fit.py): there each step is one program, bit-exact.
    """
    setting = os.environ.get(SCAN_ENV, "auto").strip().lower()
    if setting in ("on", "1", "true"):
        return True
    if setting in ("off", "0", "false"):
        return False
    return fast_path.enabled()


def environment(pack):
    """env.json's `pack` entry and the one-line note a search that cannot pack prints (or None)."""
    if packs_trials():
        steps = "one program per epoch (lax.scan)" if scans_epochs() else "one program per step"
        return {"size": pack, "program": steps}, None
    backend = keras.backend.backend()
    note = (f"archbuilder: tuning.pack {pack}: packed trials need the JAX backend; on {backend} the trials of "
            f"each pack run one after another")
    return {"size": pack, "program": f"none: {backend} runs the members one after another"}, note


def _concrete(tuner, values):
    hp = tuner.oracle.get_space()
    hp.values = dict(values)
    return tuner.hypermodel.concrete(hp)


def _key(tuner, values):
    return pack_key(_concrete(tuner, values), values)


def _size(tuner, trial):
    """The pack's size: `tuning.pack`, or for `"auto"` what the leader's estimate allows."""
    if tuner.pack != "auto":
        return int(tuner.pack)
    left = tuner.oracle.remaining_trials()
    x = tuner.hypermodel.dataset.x_train
    return auto_pack_size(_concrete(tuner, trial.hyperparameters.values), device_memory(),
                          None if left is None else left + 1, x.shape[1] if x.ndim > 1 else 1)


def _next_trials(tuner):
    """Up to a pack's worth of new trials; `(trials, stopped)`."""
    oracle, trials, size = tuner.oracle, [], None
    try:
        while size is None or len(trials) < size:
            tuner.pre_create_trial()
            member = tuner.tuner_id if not trials else f"{tuner.tuner_id}-pack{len(trials)}"
            trial = oracle.create_trial(member)
            if trial.status == "STOPPED":
                return trials, True
            if trial.status == "IDLE":
                break
            trials.append(trial)
            if size is None:
                oracle.pack_leader = dict(trial.hyperparameters.values)  # the others draw its shapes
                size = _size(tuner, trial)
    finally:
        oracle.pack_leader = None
    return trials, False


def _groups(tuner, trials):
    """The trials grouped by pack key, in order; a trial that does not plan is alone."""
    groups = {}
    for trial in trials:
        try:
            key = _key(tuner, trial.hyperparameters.values)
        except Exception:  # noqa: BLE001 - its own run reports why it does not build
            key = ("alone", trial.trial_id)
        groups.setdefault(key, []).append(trial)
    return list(groups.values())


def _run_alone(tuner, trial, fit_args, fit_kwargs):
    tuner.on_trial_begin(trial)
    tuner._try_run_and_update_trial(trial, *fit_args, **fit_kwargs)
    tuner.on_trial_end(trial)


class _Packed:
    """One trial of a pack: its executions' models and histories until all are done."""

    def __init__(self, trial):
        self.trial, self.members, self.histories, self.concretes = trial, [], [], []
        self.params, self.model, self.error, self.left = None, None, None, 0


def _run_pack(tuner, trials, fit_args, fit_kwargs):
    """Trains `trials` (one pack key) together; each trial is ended as soon as its members are."""
    from archbuilder.tuning.pack_fit import Member
    from archbuilder.tuning.pack_fit import PackError
    from archbuilder.tuning.pack_fit import pack_fit

    start = time.monotonic()
    label, share = trials[0].trial_id, len(trials)
    owners, members, packed = [], [], []

    def end(one):
        tuner.end_packed_trial(one.trial, one.histories, one.concretes, one.model, one.params, one.error,
                               start=start, share=share, pack=label)

    with tuner.building_pack():
        for trial in trials:
            tuner.on_trial_begin(trial)
            one, checkpoint = _Packed(trial), tuner.checkpoint(trial)
            try:
                for execution in range(tuner.executions_per_trial):
                    model, arguments, concrete = tuner.pack_member(trial, execution, checkpoint, fit_args, fit_kwargs)
                    one.members.append(Member(model, arguments))  # NumPy's state now: where its fit would start
                    one.concretes.append(concrete)
            except Exception as error:  # noqa: BLE001 - a trial that fails to build fails alone
                one.error = error
                end(one)
                continue
            one.model, one.params = one.members[-1].model, one.members[-1].model.count_params()
            one.histories, one.left = [None] * len(one.members), len(one.members)
            owners += [(one, execution) for execution in range(len(one.members))]
            members += one.members
            packed.append(one)

    def on_member_end(index, history, error):
        one, execution = owners[index]
        one.histories[execution] = history
        one.error = one.error or error
        one.left -= 1
        if one.left == 0:
            end(one)

    try:
        if members:
            pack_fit(members, scan=scans_epochs(), on_member_end=on_member_end)
    except PackError:  # refused before any member trained: they train one after another instead
        for one in packed:
            _run_alone(tuner, one.trial, fit_args, fit_kwargs)
    except Exception as error:  # noqa: BLE001 - the pack's program failed (out of memory, ...): its trials fail
        for one in packed:
            if one.left:
                one.left, one.error = 0, one.error or error
                end(one)


def search_in_packs(tuner, fit_args, fit_kwargs):
    """`keras_tuner.Tuner.search`'s loop, a pack of trials at a time (see the module docstring)."""
    tuner.on_search_begin()
    oracle = tuner.oracle
    if isinstance(oracle, PackSampling):
        oracle.pack_shapes = shape_names(lambda values: _key(tuner, values), oracle.get_space())
    stopped = False
    while not stopped:
        trials, stopped = _next_trials(tuner)
        if not trials and not stopped:
            time.sleep(IDLE_SECONDS)
        for group in _groups(tuner, trials):
            if len(group) > 1 and packs_trials():
                _run_pack(tuner, group, fit_args, fit_kwargs)
            else:
                for trial in group:
                    _run_alone(tuner, trial, fit_args, fit_kwargs)
    tuner.on_search_end()

