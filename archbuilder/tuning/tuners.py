"""keras-tuner's tuners, made safe to kill and quiet to run, and able to train trials in packs.

keras-tuner 1.4 writes the tuner's own state and each trial's best-epoch checkpoint
with plain writes: a SIGKILL mid-write leaves a truncated file. The tuners here
write them through `archbuilder.atomic` (temporary file, fsync, rename), turn a
failed trial's traceback into one line naming the spec path, and with
`tuning.pack` above 1 run the search a pack of trials at a time
(`archbuilder.tuning.pack_search`). Their oracles are `archbuilder.tuning.oracles`'.

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
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.format.schema.vocabulary import TUNERS
from archbuilder.run import tracking
from archbuilder.tuning.costs import Latencies
from archbuilder.tuning.costs import static_costs
from archbuilder.tuning.hypermodel import check_finite
from archbuilder.tuning.oracles import make_oracle
from archbuilder.tuning.pack_search import search_in_packs

__all__ = ["PROJECT", "RECORD", "make_tuner", "make_oracle", "is_distributed_worker", "is_chief", "trial_reason"]

PROJECT = "tuner"  # keras-tuner's project directory inside a run directory
RECORD = "archbuilder.json"  # per-trial record written by whoever ran the trial
trial_module = compat.kt_trial
tuner_utils = compat.kt_tuner_utils


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


# ---------------------------------------------------------------- tuners


class _AtomicSaveBestEpoch(tuner_utils.SaveBestEpoch):
    """keras-tuner's best-epoch checkpoint, written atomically, once per training, when it ends.

    keras-tuner writes the weights at every epoch that improves the objective (on a
    CPU, 40 ms each for the reference CNN: 147 writes in a 16-trial search). Nothing
    reads the file before its trial ends — a trial killed on the way is run again
    from its start — so the best epoch's weights are kept in memory and written
    when training ends.
    """

    def on_train_begin(self, logs=None):
        self._best_weights = None

    def _save_model(self):
        self._best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        if self._best_weights is None:
            return
        current = self.model.get_weights()
        self.model.set_weights(self._best_weights)
        folder, base = os.path.split(self.filepath)
        tmp = os.path.join(folder, f".{os.getpid()}.{base}")
        try:
            self.model.save_weights(tmp)
            os.replace(tmp, self.filepath)
        finally:
            self.model.set_weights(current)
            self._best_weights = None


class _EpochTunerCallback(tuner_utils.TunerCallback):
    """keras-tuner's `TunerCallback` without its batch hooks (the tuner's are no-ops).

    A callback with a batch hook makes Keras wait for every training step to finish
    before dispatching the next one: on an accelerator the device idles meanwhile.
    """

    on_batch_begin = keras.callbacks.Callback.on_batch_begin
    on_batch_end = keras.callbacks.Callback.on_batch_end


class _SafeTuner(keras_tuner.Tuner):
    """Tuner with atomic files, one-line failure reasons, a record per trial, and packs of trials.

    `pack` (`tuning.pack`: a number of trials, or `"auto"`) above 1 runs the search
    with `archbuilder.tuning.pack_search.search_in_packs`, which builds, ends and
    records each member through the methods below (`pack_member`, `end_packed_trial`).
    """

    pack = 1
    prunes = False  # tuning.pruning: report every epoch to the oracle, stop when it says so

    @property
    def pruned_here(self):
        """The ids of the trials this tuner stopped because the oracle said so."""
        if "_pruned_here" not in self.__dict__:
            self._pruned_here = set()
        return self._pruned_here

    @property
    def latencies(self):
        """The search's latencies, each inference graph timed once (`archbuilder.tuning.costs.Latencies`)."""
        if "_latencies" not in self.__dict__:
            self._latencies = Latencies()
        return self._latencies

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

    def search(self, *fit_args, **fit_kwargs):
        if self.pack == 1:
            return super().search(*fit_args, **fit_kwargs)
        return search_in_packs(self, fit_args, fit_kwargs)

    def trial_fit_kwargs(self, trial, kwargs):
        """The keyword arguments `HyperModel.fit` gets for `trial` (hyperband adds its round's epochs)."""
        return dict(kwargs)

    def _callbacks(self, trial, checkpoint, callbacks, execution):
        # The trial's TensorBoard scalars: RUN/logs/trial_ID (execution<k> inside it after the first).
        scalars = tracking.trial_scalars(os.path.dirname(self.project_dir), trial.trial_id, execution)
        return self._deepcopy_callbacks(callbacks) + [_EpochTunerCallback(self, trial), checkpoint, scalars]

    def checkpoint(self, trial):
        """The callback that keeps `trial`'s best epoch's weights (one per trial, shared by its executions)."""
        return _AtomicSaveBestEpoch(objective=self.oracle.objective,
                                    filepath=self._get_checkpoint_fname(trial.trial_id))

    def run_trial(self, trial, *args, **kwargs):
        checkpoint = self.checkpoint(trial)
        original_callbacks = kwargs.pop("callbacks", [])
        histories = []
        for execution in range(self.executions_per_trial):
            copied = copy.copy(kwargs)
            copied["callbacks"] = self._callbacks(trial, checkpoint, original_callbacks, execution)
            self.hypermodel.execution = execution
            histories.append(self._build_and_fit_model(trial, *args, **copied))
        return histories

    def _try_build(self, hp, collect=True):
        # keras-tuner's: clear_session() collects garbage and then collects it again (a
        # quarter of a second each with a backend loaded); one full collection suffices.
        keras.backend.clear_session(free_memory=False)
        if collect:
            gc.collect()
        model = self._build_hypermodel(hp)
        if not isinstance(model, keras.Model):
            raise keras_tuner.errors.FatalTypeError(f"HyperModel.build() returned {type(model).__name__}, not a Model")
        return model

    def _build(self, hp, collect=True):
        with warnings.catch_warnings():
            # Hyperband continues a model from its checkpoint without the optimizer state.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            return self._try_build(hp, collect)

    def _build_and_fit_model(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        model = self._build(hp)
        results = self.hypermodel.fit(hp, model, *args, **kwargs)
        atomic_write_json(self._get_build_config_fname(trial.trial_id), model.get_build_config())
        tuner_utils.validate_trial_results(results, self.oracle.objective, "HyperModel.fit()")
        return results

    def on_epoch_end(self, trial, model, epoch, logs=None):
        """With `tuning.pruning`: the epoch's logs to the oracle, and a stop when it answers STOPPED."""
        logs = {k: float(v) for k, v in (logs or {}).items()}
        if not self.prunes or self.oracle.objective.name not in logs:  # validation_freq > 1: no value this epoch
            return
        if self.oracle.update_trial(trial.trial_id, logs, step=epoch).status == trial_module.TrialStatus.STOPPED:
            model.stop_training = True
            self.pruned_here.add(trial.trial_id)

    def _measure(self, model, concrete, histories):
        """The trial's costs (`archbuilder.tuning.costs`) and epochs run, into its record and metrics."""
        x = self.hypermodel.dataset.x_train if self.hypermodel.dataset is not None else None
        costs = {"params": model.count_params(), "flops": static_costs(concrete)["flops"]}
        if x is not None:
            costs.update(self.latencies(model, x, concrete["training"]["batch_size"]))
        self._extra.update(costs)
        self._extra["epochs_run"] = max(len(h.history.get("loss") or ()) for h in histories)
        return costs

    def _report(self, trial, histories, costs):
        """The trial's best-epoch metrics and its costs to the oracle (keras-tuner's update, costs added)."""
        tuner_utils.validate_trial_results(histories, self.oracle.objective, "HyperModel.fit()")
        metrics = tuner_utils.convert_to_metrics_dict(histories, self.oracle.objective)
        self.oracle.update_trial(trial.trial_id, {**metrics, **costs},
                                 step=tuner_utils.get_best_step(histories, self.oracle.objective))

    def _run_and_update_trial(self, trial, *args, **kwargs):
        histories = self.run_trial(trial, *args, **self.trial_fit_kwargs(trial, kwargs))
        model = self.hypermodel.last_model
        self._report(trial, histories, self._measure(model, self.hypermodel.trial_concrete(trial.hyperparameters,
                                                                                            model), histories))

    def _try_run_and_update_trial(self, trial, *args, **kwargs):
        start = time.monotonic()
        self.hypermodel.last_params = None
        self._extra = {}
        self._settle(trial, lambda: self._run_and_update_trial(trial, *args, **kwargs), start)

    def _settle(self, trial, work, start, params=None, share=1, pack=None):
        """Runs `work` for `trial`: its status (COMPLETED, else FAILED with a one-line reason), then its record.

        `share`: the trials `start`'s time is shared by (a pack's members); `pack`: the pack's label.
        """
        error = None
        try:
            work()
            trial.status = trial_module.TrialStatus.COMPLETED
        except Exception as e:  # any failure of one trial is that trial's, not the search's
            if isinstance(e, keras_tuner.errors.FatalError):
                raise
            trial.status = trial_module.TrialStatus.FAILED
            error = trial.message = trial_reason(e)
        record = {"trial_id": trial.trial_id, "worker": self.tuner_id, "status": trial.status,
                  "seconds": round((time.monotonic() - start) / share, 3),
                  "params": self.hypermodel.last_params if params is None else params, "error": error,
                  **self._extra}
        if trial.trial_id in self.pruned_here:
            record["pruned"] = True
        if pack is not None:
            record["pack"] = pack
        atomic_write_json(os.path.join(self.get_trial_dir(trial.trial_id), RECORD), record)

    # ---------------------------------------------------------------- packs (archbuilder.tuning.pack_search)

    @contextlib.contextmanager
    def building_pack(self):
        """While a pack is built: one model per member (no compiled model handed back), one garbage collection."""
        keras.backend.clear_session(free_memory=False)
        gc.collect()
        self.hypermodel.reuse = False
        try:
            yield
        finally:
            self.hypermodel.reuse = True

    def pack_member(self, trial, execution, checkpoint, fit_args, fit_kwargs):
        """Execution `execution` of `trial`, built for a pack: `(model, its fit arguments, its concrete spec)`."""
        hp = trial.hyperparameters
        self.hypermodel.execution = execution
        model = self._build(hp, collect=False)
        concrete = self.hypermodel.trial_concrete(hp, model)  # before the next build replaces the last one
        kwargs = self.trial_fit_kwargs(trial, fit_kwargs)
        kwargs["callbacks"] = self._callbacks(trial, checkpoint, kwargs.pop("callbacks", []), execution)
        return model, self.hypermodel.fit_arguments(hp, model, *fit_args, **kwargs), concrete

    def end_packed_trial(self, trial, histories, concretes, model, params, error, start, share, pack):
        """Ends a packed trial as `_try_run_and_update_trial` and `on_trial_end` end one run alone."""

        def work():
            if error is not None:
                raise error
            initial_epoch = self.trial_fit_kwargs(trial, {}).get("initial_epoch", 0)
            for history, concrete in zip(histories, concretes):
                check_finite(history, concrete, initial_epoch)
            atomic_write_json(self._get_build_config_fname(trial.trial_id), model.get_build_config())
            self._report(trial, histories, self._measure(model, concretes[-1], histories))

        self._extra = {}
        self._settle(trial, work, start, params=params, share=share, pack=pack)
        self.on_trial_end(trial)


class RandomSearch(_SafeTuner):
    pass


class GridSearch(_SafeTuner):
    pass


class BayesianOptimization(_SafeTuner):
    pass


class Hyperband(keras_tuner.Hyperband, _SafeTuner):
    """keras-tuner's Hyperband `_build_hypermodel` over `_SafeTuner`; its round's epochs from `trial_fit_kwargs`."""

    def __init__(self, oracle, **kwargs):
        _SafeTuner.__init__(self, oracle=oracle, **kwargs)

    run_trial = _SafeTuner.run_trial

    def trial_fit_kwargs(self, trial, kwargs):
        values = trial.hyperparameters.values
        if "tuner/epochs" in values:
            return {**kwargs, "epochs": values["tuner/epochs"], "initial_epoch": values["tuner/initial_epoch"]}
        return dict(kwargs)


_CLASSES = {cls.__name__: cls for cls in (RandomSearch, GridSearch, BayesianOptimization, Hyperband)}


def make_tuner(settings, objective, hypermodel, directory, project_name, on_trial_end=None, deadline=None,
               objectives=(), enqueued=()):
    """The tuner of `settings` over `hypermodel`, its project in `directory/project_name`; packs per `tuning.pack`.

    An existing project is reloaded (keras-tuner's own resume); nothing is ever
    overwritten here: clearing a run directory is `rundir.make_run_dir`'s job.
    `objectives` (all of `tuning.objective`) and `enqueued` (warm-start points) go to the oracle.
    """
    oracle = make_oracle(settings, objective, objectives, costs_of=hypermodel.costs_of, enqueued=enqueued)
    oracle.verbose = 0  # keras-tuner's own display; archbuilder prints its trial table
    oracle.on_trial_end = on_trial_end
    oracle.deadline = deadline
    with contextlib.redirect_stdout(io.StringIO()):  # "Reloading Tuner from ..."
        tuner = _CLASSES[TUNERS[settings["tuner"]]](oracle=oracle, hypermodel=hypermodel, directory=directory,
                                           project_name=project_name, overwrite=False,
                                           executions_per_trial=settings["executions_per_trial"])
    tuner.pack = settings.get("pack", 1)
    tuner.prunes = bool(settings.get("pruning"))
    return tuner
