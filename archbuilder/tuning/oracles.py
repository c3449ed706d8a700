"""archbuilder's keras-tuner oracles: atomic state files, soft stops, full packs.

keras-tuner 1.4 writes `oracle.json` and each `trial.json` with plain writes: a
SIGKILL mid-write leaves truncated JSON. `_SafeOracle` writes both through
`archbuilder.atomic`, repairs the one window keras-tuner leaves between a trial's
file and the oracle's on reload, and stops handing out trials after `max_time` or
after too many failures in a row (instead of raising inside the oracle, which loses
the last trial's record). The random and grid oracles also fill packs of trials
(`archbuilder.tuning.packs.PackSampling`). Every oracle also decides constraints
(`archbuilder.tuning.constraints`), pruning (`archbuilder.tuning.pruning`) and warm
starts (`archbuilder.tuning.warm_start`); the Bayesian one scalarizes several
objectives (`archbuilder.tuning.bayes`).
"""

import json
import os
import time

import keras_tuner

from archbuilder import compat
from archbuilder.atomic import atomic_write_text
from archbuilder.errors import ArchbuilderError
from archbuilder.format.schema.vocabulary import TUNERS
from archbuilder.tuning.bayes import BayesianScores
from archbuilder.tuning.constraints import ConstraintSampling
from archbuilder.tuning.packs import PackSampling
from archbuilder.tuning.pruning import Pruning
from archbuilder.tuning.warm_start import Enqueued

__all__ = ["make_oracle"]

trial_module = compat.kt_trial
synchronized = compat.synchronized


class _SafeOracle:
    """Mixin for keras-tuner oracles: atomic state files, soft stops, a hook per ended trial."""

    deadline = None  # time.monotonic() after which no trial starts
    on_trial_end = None  # called with the oracle's Trial after each end_trial
    failure_limit = None  # set (to the count) when too many trials failed in a row
    stopped = False  # True once any tuner has been told to stop

    def _stop_reason(self):
        if self.failure_limit is not None:
            return "failures"
        if getattr(self, "infeasible_limit", None) is not None:
            return "infeasible"
        if self.deadline is not None and time.monotonic() > self.deadline:
            return "max_time"
        return None

    @synchronized
    def create_trial(self, tuner_id):
        if tuner_id not in self.ongoing_trials and self._stop_reason():
            self.stopped = True
            self.tuner_ids.discard(tuner_id)
            return trial_module.Trial(self.get_space(), status=trial_module.TrialStatus.STOPPED)
        trial = super().create_trial(tuner_id)
        if trial.status == trial_module.TrialStatus.STOPPED:
            self.stopped = True
        return trial

    def _check_consecutive_failures(self):
        count = 0
        for trial_id in self.end_order:
            count = count + 1 if self.trials[trial_id].status == trial_module.TrialStatus.FAILED else 0
        if count >= self.max_consecutive_failed_trials:
            self.failure_limit = count

    @synchronized
    def end_trial(self, trial):
        super().end_trial(trial)
        if self.on_trial_end is not None:
            self.on_trial_end(self.trials[trial.trial_id])

    def save(self):
        atomic_write_text(self._get_oracle_fname(), json.dumps(self.get_state()))

    def _save_trial(self, trial):
        path = os.path.join(self._get_trial_dir(trial.trial_id), "trial.json")
        atomic_write_text(path, json.dumps(trial.get_state()))

    def reload(self):
        super().reload()
        # keras-tuner saves a trial's file, then the oracle's: a kill in between leaves
        # a finished trial queued for a rerun, or a started one unknown to the oracle.
        for trial_id, trial in self.trials.items():
            if trial.status in ("COMPLETED", "FAILED"):
                while trial_id in self._retry_queue:
                    self._retry_queue.remove(trial_id)
                if trial_id not in self.end_order:
                    self.end_order.append(trial_id)
            elif trial.status == "RUNNING" and trial_id not in self._retry_queue:
                self._retry_queue.append(trial_id)
                if trial_id not in self.start_order:
                    self.start_order.append(trial_id)
        self._check_consecutive_failures()


def _oracle_class(name):
    """`_SafeOracle` over keras-tuner's oracle of tuner `name` (`RandomSearchOracle`, ...)."""
    if name == "bayesian":
        try:
            import sklearn  # noqa: F401  (keras-tuner's Gaussian process)
        except ImportError:
            raise ArchbuilderError("the bayesian tuner needs scikit-learn: pip install scikit-learn "
                                   "(or keras-tuner[bayesian])") from None
    oracle = f"{TUNERS[name]}Oracle"
    sampling = (PackSampling,) if name in ("random", "grid") else ()  # full packs (archbuilder.tuning.packs)
    scores = (BayesianScores,) if name == "bayesian" else ()
    bases = (_SafeOracle, ConstraintSampling, Pruning, Enqueued, *scores, *sampling,
             getattr(keras_tuner.oracles, oracle))
    return type(oracle, bases, {})


def make_oracle(settings, objective, objectives=(), costs_of=None, enqueued=()):
    """The oracle of `settings` (a rendered `tuning` section).

    Args:
        settings: `search_settings`'s dict.
        objective: the primary `keras_tuner.Objective` (`objective_of`).
        objectives: every objective (`objectives_of`), for the Bayesian oracle's scores.
        costs_of: `values -> {"params", "flops"}` (or None), for `tuning.constraints`.
        enqueued: points (keras-tuner values) to try first.
    """
    common = {"objective": objective, "seed": settings["seed"],
              "max_consecutive_failed_trials": settings["max_consecutive_failed_trials"]}
    name = settings["tuner"]
    if name == "hyperband":
        budget = {key: settings[key] for key in ("max_epochs", "factor", "hyperband_iterations")}
    else:
        budget = {"max_trials": settings["max_trials"]}
    oracle = _oracle_class(name)(**budget, **common)
    oracle.objectives = list(objectives) or [objective]
    oracle.constraints, oracle.costs_of = settings.get("constraints") or {}, costs_of
    oracle.max_infeasible, oracle.base_max_trials = settings.get("max_infeasible", 100), budget.get("max_trials")
    oracle.pruning = settings.get("pruning")
    initial = [{}] if settings.get("initial") == "defaults" else []
    oracle.enqueued = initial + list(enqueued)
    return oracle


