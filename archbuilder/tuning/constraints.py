"""`tuning.constraints`: sampled points outside the bounds are decided from the static plan, never built.

`ConstraintSampling` (a mixin of archbuilder's oracles) checks each trial it
creates: `costs_of(values)` plans the trial's concrete spec (no backend, a few
milliseconds) and a trial whose `params` or `flops` break a bound becomes an
`INVALID` keras-tuner trial with the reason and its costs as metrics. It is never
handed to a tuner, so no model of it is built, and the oracle samples the next
point at once. keras-tuner records its values as tried (the random search never
draws it again; the Bayesian oracle gets it as a worst-score row,
`archbuilder.tuning.bayes`), and counts only FAILED trials as failures, so it does
not count against `max_consecutive_failed_trials`. `max_trials` counts the
feasible trials: the budget grows by one per infeasible trial. After
`tuning.max_infeasible` infeasible points in a row the search stops
(`infeasible_limit`).
"""

from archbuilder import compat
from archbuilder.tuning.costs import constraint_problem

__all__ = ["ConstraintSampling"]

synchronized = compat.synchronized
TrialStatus = compat.TrialStatus


class ConstraintSampling:
    """Mixin for keras-tuner oracles: infeasible points recorded without training (see the module docstring)."""

    constraints = None  # tuning.constraints
    costs_of = None  # values -> {"params", "flops"}, or None when the point does not plan
    max_infeasible = 100
    base_max_trials = None
    infeasible_limit = None  # set (to the count) when max_infeasible points in a row were infeasible

    @property
    def infeasible(self):
        """`{trial_id: {"path", "message", costs...}}` of the infeasible trials (kept in oracle.json)."""
        if "_infeasible" not in self.__dict__:
            self._infeasible = {}
        return self._infeasible

    def _in_a_row(self):
        count = 0
        for trial_id in reversed(self.start_order):
            if trial_id not in self.infeasible:
                break
            count += 1
        return count

    def _stop(self, tuner_id):
        self.stopped = True
        self.tuner_ids.discard(tuner_id)
        return compat.kt_trial.Trial(self.get_space(), status=TrialStatus.STOPPED)

    @synchronized
    def create_trial(self, tuner_id):
        if not self.constraints or self.costs_of is None:
            return super().create_trial(tuner_id)
        while True:
            if self.base_max_trials is not None:
                self.max_trials = self.base_max_trials + len(self.infeasible)
            if tuner_id not in self.ongoing_trials and self._in_a_row() >= self.max_infeasible:
                self.infeasible_limit = self._in_a_row()
                return self._stop(tuner_id)
            trial = super().create_trial(tuner_id)
            if trial.status != TrialStatus.RUNNING or self._run_times.get(trial.trial_id):
                return trial  # stopped, idle, or a retry of a trial checked when it was made
            costs = self.costs_of(trial.hyperparameters.values)
            problem = constraint_problem(costs, self.constraints) if costs else None
            if problem is None:
                return trial
            self._record_infeasible(tuner_id, trial, costs, problem)

    def _record_infeasible(self, tuner_id, trial, costs, problem):
        path, message = problem
        trial.status = TrialStatus.INVALID
        trial.message = f"{path}: {message}"
        for name, value in costs.items():
            trial.metrics.update(name, value)
        self.infeasible[trial.trial_id] = {"path": path, "message": message, **costs}
        self.ongoing_trials.pop(tuner_id, None)
        self.end_order.append(trial.trial_id)
        self._run_times[trial.trial_id] += 1
        if hasattr(self, "_populate_next"):  # the grid walks on from every trial it made
            self._populate_next.append(trial.trial_id)
        self._save_trial(trial)
        self.save()
        if self.on_trial_end is not None:
            self.on_trial_end(trial)

    def get_state(self):
        return {**super().get_state(), "infeasible": self.infeasible}

    def set_state(self, state):
        super().set_state(state)
        self._infeasible = dict(state.get("infeasible", {}))
