"""What the Bayesian oracle's Gaussian process fits, for several objectives and for infeasible points.

keras-tuner sums a list of objectives into one number. archbuilder does not: with
several objectives `BayesianScores` (a mixin of the Bayesian oracle) draws a weight
vector per trial from the uniform distribution on the simplex (seeded by the search
seed and the trial id, so a resumed search draws the same) and fits the Gaussian
process to the augmented Chebyshev scalarization of the objectives, each framed as a
minimization and scaled to [0, 1] over the completed trials (ParEGO, Knowles 2006):
`max_i(w_i f_i) + 0.05 * sum_i(w_i f_i)`. Each objective is read at the trial's best
epoch (`objective_values`). Over many trials the weights sweep the whole front.

Infeasible trials (`archbuilder.tuning.constraints`) enter the fit with the worst
score seen, so the process learns to keep away from them.
"""

import numpy as np

from archbuilder.tuning.objectives import objective_values

__all__ = ["BayesianScores", "RHO"]

RHO = 0.05


def _vector(oracle, trial):
    """keras-tuner's embedding of a trial's hyperparameters in [0, 1]^d (as `_vectorize_trials` makes it)."""
    hps = trial.hyperparameters
    return [hp.value_to_prob(hps.values[hp.name] if hps.is_active(hp) and hp.name in hps.values else hp.default)
            for hp in oracle._nonfixed_space()]


class BayesianScores:
    """Mixin for `BayesianOptimizationOracle`: ParEGO scores and infeasible rows (see the module docstring)."""

    objectives = ()  # every `keras_tuner.Objective` of `tuning.objective`

    def populate_space(self, trial_id):
        rng = np.random.default_rng([int(self.seed or 0), int(trial_id)])
        self._weights = rng.dirichlet(np.ones(max(1, len(self.objectives))))
        return super().populate_space(trial_id)

    def _scalarized(self, trials):
        matrix = np.array([[v if o.direction == "min" else -v
                            for o, v in zip(self.objectives, objective_values(t, self.objective, self.objectives))]
                           for t in trials], dtype=float)
        low, high = matrix.min(0), matrix.max(0)
        scaled = (matrix - low) / np.where(high > low, high - low, 1.0)
        weighted = self._weights * scaled
        return weighted.max(1) + RHO * weighted.sum(1)

    def _vectorize_trials(self):
        x, y = super()._vectorize_trials()
        x, y = list(x), [float(v) for v in y]
        if len(self.objectives) > 1 and y:
            ongoing = set(self.ongoing_trials.values())
            kept = [t for t in self.trials.values() if t in ongoing or t.status not in ("FAILED", "INVALID")]
            done = [i for i, t in enumerate(kept) if t.status == "COMPLETED" and t not in ongoing]
            if done:
                scores = self._scalarized([kept[i] for i in done])
                worst = float(scores.max())
                y = [worst] * len(kept)  # ongoing rows were hallucinated on another scale: pessimistic
                for i, score in zip(done, scores):
                    y[i] = float(score)
        if y:
            worst = max(y)
            for trial_id in getattr(self, "infeasible", {}):
                x.append(_vector(self, self.trials[trial_id]))
                y.append(worst)
        return np.array(x), np.array(y)
