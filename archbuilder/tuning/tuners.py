"""keras-tuner's tuners and oracles, made safe to kill and quiet to run.

keras-tuner 1.4 writes `oracle.json`, `trial.json`, the tuner's own state and
each trial's best-epoch checkpoint with plain writes: a SIGKILL mid-write leaves
truncated JSON and the project cannot be reloaded. The classes here write every
one of those files through `archbuilder.atomic` (temporary file, fsync, rename),
repair the one window keras-tuner leaves between a trial's file and the oracle's
on reload, stop handing out trials after `max_time` or after too many failures in
a row (instead of raising inside the oracle, which loses the last trial's
record), and turn a failed trial's traceback into one line naming the spec path.

Used by `archbuilder.tuning.search` (single process and chief) and by workers alike.
"""

import contextlib
import copy
import gc
import io
import json
import os
import time
import warnings

import keras
import keras_tuner

from archbuilder import compat
from archbuilder.atomic import atomic_write_json
from archbuilder.atomic import atomic_write_text
from archbuilder.errors import ArchbuilderError
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.format.schema.vocabulary import TUNERS
from archbuilder.run import tracking

__all__ = ["PROJECT", "RECORD", "make_tuner", "make_oracle", "is_distributed_worker", "is_chief", "trial_reason"]

PROJECT = "tuner"  # keras-tuner's project directory inside a run directory
RECORD = "archbuilder.json"  # per-trial record written by whoever ran the trial
trial_module = compat.kt_trial
tuner_utils = compat.kt_tuner_utils
synchronized = compat.synchronized


# ---------------------------------------------------------------- distributed roles


def is_chief():
    """True when the `KERASTUNER_*` variables make this process keras-tuner's chief."""
    return "KERASTUNER_ORACLE_IP" in os.environ and "chief" in os.environ.get("KERASTUNER_TUNER_ID", "chief")


def is_distributed_worker():
    """True when the `KERASTUNER_*` variables make this process a worker of some chief."""
    return "KERASTUNER_ORACLE_IP" in os.environ and not is_chief()


def _parent_to_proto(self):
    """`Parent.to_proto` without keras-tuner 1.4.8's stray `print(self.values[0])`."""
    proto = compat.kt_protos.get_proto()
    first = self.values[0]
    if isinstance(first, str):
        values = [proto.Value(string_value=v) for v in self.values]
    elif isinstance(first, bool):
        values = [proto.Value(boolean_value=v) for v in self.values]
    elif isinstance(first, int):
        values = [proto.Value(int_value=v) for v in self.values]
    else:
        values = [proto.Value(float_value=v) for v in self.values]
    return proto.Condition(parent=proto.Condition.Parent(name=self.name, values=values))


# In distributed mode every conditional hyperparameter sent over gRPC printed a line
# into the chief's stdout, in the middle of the trial table.
compat.kt_conditions.Parent.to_proto = _parent_to_proto


# ---------------------------------------------------------------- failure reasons


def trial_reason(error):
    """One line saying why a trial failed, starting with the spec path at fault."""
    if isinstance(error, SpecErrors) and error.errors:
        error = error.errors[0]
    if isinstance(error, SpecError):
        return f"{error.path}: {error.message}"
    text = " ".join(str(error).split()) or type(error).__name__
    name = type(error).__name__
    if "ResourceExhausted" in name or "out of memory" in text.lower() or isinstance(error, MemoryError):
        return f"$.training.batch_size: out of memory ({text[:160]}); lower the batch size or the layer sizes"
    if text.startswith("$"):
        return text[:300]
    return f"$: {name}: {text}"[:300]


# ---------------------------------------------------------------- oracles


class _SafeOracle:
    """Mixin for keras-tuner oracles: atomic state files, soft stops, a hook per ended trial."""

    deadline = None  # time.monotonic() after which no trial starts
    on_trial_end = None  # called with the oracle's Trial after each end_trial
    failure_limit = None  # set (to the count) when too many trials failed in a row
    stopped = False  # True once any tuner has been told to stop

    def _stop_reason(self):
        if self.failure_limit is not None:
            return "failures"
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
    return type(oracle, (_SafeOracle, getattr(keras_tuner.oracles, oracle)), {})


def make_oracle(settings, objective):
    """The oracle of `settings` (a rendered `tuning` section)."""
    common = {"objective": objective, "seed": settings["seed"],
              "max_consecutive_failed_trials": settings["max_consecutive_failed_trials"]}
    name = settings["tuner"]
    if name == "hyperband":
        budget = {key: settings[key] for key in ("max_epochs", "factor", "hyperband_iterations")}
    else:
        budget = {"max_trials": settings["max_trials"]}
    return _oracle_class(name)(**budget, **common)


# ---------------------------------------------------------------- tuners


class _AtomicSaveBestEpoch(tuner_utils.SaveBestEpoch):
    def _save_model(self):
        folder, base = os.path.split(self.filepath)
        tmp = os.path.join(folder, f".{os.getpid()}.{base}")
        self.model.save_weights(tmp)
        os.replace(tmp, self.filepath)


class _EpochTunerCallback(tuner_utils.TunerCallback):
    """keras-tuner's `TunerCallback` without its batch hooks (the tuner's are no-ops).

    A callback with a batch hook makes Keras wait for every training step to finish
    before dispatching the next one: on an accelerator the device idles meanwhile.
    """

    on_batch_begin = keras.callbacks.Callback.on_batch_begin
    on_batch_end = keras.callbacks.Callback.on_batch_end


class _SafeTuner(keras_tuner.Tuner):
    """Tuner with atomic files, one-line failure reasons and a record per trial."""

    def _populate_initial_space(self):
        # The hypermodel declares every hyperparameter with its condition up front,
        # so keras-tuner's build-until-all-scopes-seen loop is not needed.
        if self.hypermodel is None:
            return
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)

    def on_search_begin(self):
        # keras-tuner reloads a project only when the tuner's own state file exists, and
        # writes it first after a trial: written now, a kill during trial 0 loses nothing.
        super().on_search_begin()
        self.save()

    def save(self):
        if not self._is_worker():
            self.oracle.save()
        atomic_write_text(self._get_tuner_fname(), json.dumps(self.get_state()))

    def run_trial(self, trial, *args, **kwargs):
        checkpoint = _AtomicSaveBestEpoch(objective=self.oracle.objective,
                                          filepath=self._get_checkpoint_fname(trial.trial_id))
        original_callbacks = kwargs.pop("callbacks", [])
        histories = []
        for execution in range(self.executions_per_trial):
            copied = copy.copy(kwargs)
            callbacks = self._deepcopy_callbacks(original_callbacks)
            callbacks += [_EpochTunerCallback(self, trial), checkpoint, self._epoch_scalars(trial, execution)]
            copied["callbacks"] = callbacks
            self.hypermodel.execution = execution
            histories.append(self._build_and_fit_model(trial, *args, **copied))
        return histories

    def _epoch_scalars(self, trial, execution):
        """The trial's TensorBoard scalars, `RUN/logs/trial_ID` (`execution<k>` inside it after the first)."""
        return tracking.trial_scalars(os.path.dirname(self.project_dir), trial.trial_id, execution)

    def _try_build(self, hp):
        # keras-tuner's: clear_session() collects garbage and then collects it again (a
        # quarter of a second each with a backend loaded); one full collection suffices.
        keras.backend.clear_session(free_memory=False)
        gc.collect()
        model = self._build_hypermodel(hp)
        if not isinstance(model, keras.Model):
            raise keras_tuner.errors.FatalTypeError(f"HyperModel.build() returned {type(model).__name__}, not a Model")
        return model

    def _build_and_fit_model(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        with warnings.catch_warnings():
            # Hyperband continues a model from its checkpoint without the optimizer state.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model = self._try_build(hp)
        results = self.hypermodel.fit(hp, model, *args, **kwargs)
        atomic_write_json(self._get_build_config_fname(trial.trial_id), model.get_build_config())
        tuner_utils.validate_trial_results(results, self.oracle.objective, "HyperModel.fit()")
        return results

    def _try_run_and_update_trial(self, trial, *args, **kwargs):
        start = time.monotonic()
        self.hypermodel.last_params = None
        error = None
        try:
            self._run_and_update_trial(trial, *args, **kwargs)
            trial.status = trial_module.TrialStatus.COMPLETED
        except Exception as e:  # any failure of one trial is that trial's, not the search's
            if isinstance(e, keras_tuner.errors.FatalError):
                raise
            trial.status = trial_module.TrialStatus.FAILED
            error = trial.message = trial_reason(e)
        record = {"trial_id": trial.trial_id, "worker": self.tuner_id, "status": trial.status,
                  "seconds": round(time.monotonic() - start, 3), "params": self.hypermodel.last_params,
                  "error": error}
        atomic_write_json(os.path.join(self.get_trial_dir(trial.trial_id), RECORD), record)


class RandomSearch(_SafeTuner):
    pass


class GridSearch(_SafeTuner):
    pass


class BayesianOptimization(_SafeTuner):
    pass


class Hyperband(keras_tuner.Hyperband, _SafeTuner):
    """keras-tuner's Hyperband `run_trial`/`_build_hypermodel` over `_SafeTuner`."""

    def __init__(self, oracle, **kwargs):
        _SafeTuner.__init__(self, oracle=oracle, **kwargs)


_CLASSES = {cls.__name__: cls for cls in (RandomSearch, GridSearch, BayesianOptimization, Hyperband)}


def make_tuner(settings, objective, hypermodel, directory, project_name, on_trial_end=None, deadline=None):
    """The tuner of `settings` over `hypermodel`, its project in `directory/project_name`.

    An existing project is reloaded (keras-tuner's own resume); nothing is ever
    overwritten here: clearing a run directory is `rundir.make_run_dir`'s job.
    """
    oracle = make_oracle(settings, objective)
    oracle.verbose = 0  # keras-tuner's own display; archbuilder prints its trial table
    oracle.on_trial_end = on_trial_end
    oracle.deadline = deadline
    with contextlib.redirect_stdout(io.StringIO()):  # "Reloading Tuner from ..."
        tuner = _CLASSES[TUNERS[settings["tuner"]]](oracle=oracle, hypermodel=hypermodel, directory=directory,
                                           project_name=project_name, overwrite=False,
                                           executions_per_trial=settings["executions_per_trial"])
    return tuner
