"""`tuning.pruning`: trials stopped early, decided by the oracle from the objective reported each epoch.

The tuner reports every epoch's logs with `oracle.update_trial(trial_id, logs,
step=epoch)` (`_SafeTuner.on_epoch_end`); `Pruning` (a mixin of archbuilder's
oracles) answers with a copy of the trial whose status is `STOPPED` when it should
stop, and the tuner sets `model.stop_training`. The decision is made where the
oracle lives — the chief with `--workers` (the answer travels back over keras-tuner's
gRPC), this process otherwise, packed trials included (each member stops alone) —
so every worker sees the same rungs. The trial then ends as a completed trial with
its best epoch so far; `pruned` (trial id -> epochs run) and `rungs` are kept in
`oracle.json`, so a resumed search keeps them.

- `median` (the median stopping rule of Google Vizier): after epoch k (k >=
  `warmup_epochs`), stop when the trial's best objective up to k is worse than the
  median of the best values up to k of the finished trials that reached epoch k
  (at least `min_trials` of them).
- `asha` (asynchronous successive halving, Li et al. 2018, as Optuna's pruner):
  rungs at `min_epochs * reduction_factor**i` epochs; a trial reaching a rung
  records its objective there and goes on only while it is in the top
  `1/reduction_factor` of the values recorded at that rung so far (the first
  arrivals always go on).
"""

import math
import statistics

from archbuilder import compat

__all__ = ["Pruning"]

synchronized = compat.synchronized
TrialStatus = compat.TrialStatus


class Pruning:
    """Mixin for keras-tuner oracles: per-epoch pruning decisions (see the module docstring)."""

    pruning = None  # the filled `tuning.pruning`, or None

    @property
    def pruned(self):
        if "_pruned" not in self.__dict__:
            self._pruned = {}
        return self._pruned

    @property
    def rungs(self):
        if "_rungs" not in self.__dict__:
            self._rungs = {}
        return self._rungs

    def _curve(self, trial):
        """`{step: value}` of the objective, framed as a minimization."""
        name = self.objective.name
        if not trial.metrics.exists(name):
            return {}
        sign = 1.0 if self.objective.direction == "min" else -1.0
        return {o.step: sign * o.mean() for o in trial.metrics.get_history(name)}

    def _median_stops(self, trial, step, curve):
        if step + 1 < self.pruning["warmup_epochs"]:
            return False
        mine = min(v for s, v in curve.items() if s <= step)
        others = []
        for other in self.trials.values():
            if other.trial_id == trial.trial_id or other.status != TrialStatus.COMPLETED:
                continue
            theirs = self._curve(other)
            if theirs and max(theirs) >= step:
                others.append(min(v for s, v in theirs.items() if s <= step))
        return len(others) >= self.pruning["min_trials"] and mine > statistics.median(others)

    def _asha_stops(self, trial, step, curve):
        epochs, first, factor = step + 1, self.pruning["min_epochs"], self.pruning["reduction_factor"]
        if epochs < first:
            return False
        rung = math.log(epochs / first, factor)
        if abs(rung - round(rung)) > 1e-9:
            return False
        values = self.rungs.setdefault(str(epochs), {})
        values[trial.trial_id] = curve[step]
        ranked = sorted(values.values())
        keep = max(1, len(ranked) // factor)
        return len(ranked) > 1 and curve[step] > ranked[keep - 1]

    @synchronized
    def update_trial(self, trial_id, metrics, step=0):
        trial = super().update_trial(trial_id, metrics, step=step)
        if not self.pruning or self.objective.name not in metrics:
            return trial
        if trial_id not in self.pruned:
            curve = self._curve(trial)
            rule = self._median_stops if self.pruning["type"] == "median" else self._asha_stops
            stops = step in curve and rule(trial, step, curve)
            if stops:
                self.pruned[trial_id] = step + 1
            if stops or self.pruning["type"] == "asha":  # what a resumed search must know
                self.save()
        if trial_id in self.pruned:
            # A copy: the stored trial stays RUNNING until it ends, so a kill never leaves a STOPPED one.
            out = compat.kt_trial.Trial.from_state(trial.get_state())
            out.status = TrialStatus.STOPPED
            return out
        return trial

    def get_state(self):
        return {**super().get_state(), "pruning": {"rungs": self.rungs, "pruned": self.pruned}}

    def set_state(self, state):
        super().set_state(state)
        saved = state.get("pruning", {})
        self._rungs, self._pruned = dict(saved.get("rungs", {})), dict(saved.get("pruned", {}))
