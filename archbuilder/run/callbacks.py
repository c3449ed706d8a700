"""Keras callbacks of a run directory: a checkpoint every epoch, resumable early stopping.

After each epoch `EpochCheckpoint` writes `checkpoint.keras` (weights and
optimizer state), then `state.json` (the number of epochs done, the history so
far, early stopping's counters), each through `archbuilder.atomic`, so a kill at
any moment leaves a checkpoint and a state that `resume` can continue from.
A kill between the two files leaves a checkpoint one epoch ahead of the state:
the resumed run then repeats that epoch starting from its end weights — one
extra epoch of training, never a broken file. TensorBoard's event files are
`archbuilder.run.tracking`'s.
"""

import json
import os
import time

import keras

from archbuilder.atomic import atomic_write_json
from archbuilder.errors import ArchbuilderError
from archbuilder.layers.model_file import ModelFileError
from archbuilder.layers.model_file import check_archive
from archbuilder.model.saving import save_model

__all__ = ["CHECKPOINT", "BEST", "STATE", "ResumableEarlyStopping", "EpochCheckpoint", "read_state",
           "load_checkpoint"]

CHECKPOINT = "checkpoint.keras"
BEST = "best.keras"
STATE = "state.json"


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """`keras.callbacks.EarlyStopping` that can start from a saved `state()` (a resumed run)."""

    def __init__(self, state=None, **kwargs):
        super().__init__(**kwargs)
        self.resume_state = state
        self.resume_weights = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.resume_state:
            self.wait = self.resume_state["wait"]
            self.best = self.resume_state["best"]
            self.best_epoch = self.resume_state["best_epoch"]
            self.best_weights = self.resume_weights

    def state(self):
        best = None if self.best is None else float(self.best)
        return {"wait": int(self.wait), "best": best, "best_epoch": int(self.best_epoch)}


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves `checkpoint.keras` and then `state.json` at the end of every epoch (or every `interval` s).

    Args:
        run_dir: the run directory.
        history: the history of the epochs before this fit (a resumed run), `{key: [values]}`.
        train_seconds: fit seconds before this fit.
        early_stopping: the `ResumableEarlyStopping` in use, or None; with
            `restore_best_weights`, the best epoch's model is kept in `best.keras`.
        interval: None to save after every epoch; else seconds: an epoch's end saves
            only when that long has passed since the last save, and the last epoch
            (or one that stops training) always saves. A resumed run repeats the
            epochs after the last save. `archbuilder.run.fast_path` sets it on a GPU,
            where epochs are short and a checkpoint per epoch is a visible share.
    """

    def __init__(self, run_dir, history=None, train_seconds=0.0, early_stopping=None, interval=None):
        super().__init__()
        self.run_dir = run_dir
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.train_seconds = float(train_seconds)
        self.early_stopping = early_stopping
        self.interval = interval
        self._start = None
        self._last_save = None
        self._best_saved = None  # the best epoch whose weights best.keras holds

    def on_train_begin(self, logs=None):
        self._start = self._last_save = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def _due(self, epoch):
        if self.interval is None or self.model.stop_training or epoch + 1 >= self.params.get("epochs", 0):
            return True
        return time.perf_counter() - self._last_save >= self.interval

    def _save_best(self, epoch):
        """best.keras: the best epoch's weights, as early stopping holds them (saved with the checkpoint)."""
        es = self.early_stopping
        if es is None or not es.restore_best_weights or es.best_weights is None or es.best_epoch == self._best_saved:
            return
        current = None if es.best_epoch == epoch else self.model.get_weights()
        if current is not None:
            self.model.set_weights(es.best_weights)
        save_model(self.model, os.path.join(self.run_dir, BEST))
        if current is not None:
            self.model.set_weights(current)
        self._best_saved = es.best_epoch

    def on_epoch_end(self, epoch, logs=None):
        due = self._due(epoch)
        if due:
            save_model(self.model, os.path.join(self.run_dir, CHECKPOINT))
            self._save_best(epoch)
        # Wall seconds of the epoch, its checkpoint included (history.csv; bench/train_throughput.py reads it).
        logs = {**(logs or {}), "epoch_seconds": time.perf_counter() - self._epoch_start}
        done = len(next(iter(self.history.values()), []))
        for key, value in logs.items():
            self.history.setdefault(key, [None] * done).append(float(value))
        for values in self.history.values():
            values.extend([None] * (done + 1 - len(values)))
        if not due:
            return
        es = self.early_stopping
        atomic_write_json(os.path.join(self.run_dir, STATE), {
            "epoch": epoch + 1,
            "stopped": bool(self.model.stop_training),
            "train_seconds": self.train_seconds + time.perf_counter() - self._start,
            "early_stopping": es.state() if es is not None else None,
            "history": self.history,
        })  # fmt: skip
        self._last_save = time.perf_counter()


def _state_problem(state):
    """What is wrong with a `state.json` read back, or None: each field of the type `EpochCheckpoint` writes,
    and a history of exactly `epoch` epochs."""
    if not isinstance(state, dict):
        return "not a JSON object"
    epoch = state.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        return f"epoch must be a whole number of epochs done (>= 0); it is {json.dumps(epoch)[:40]}"
    history = state.get("history")
    if not isinstance(history, dict):
        return "history must be an object of lists"
    for key, values in history.items():
        if not isinstance(values, list) or any(
                v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))) for v in values):
            return f"history[{json.dumps(key)[:40]}] must be a list of numbers"
        if len(values) != epoch:
            return f"history[{json.dumps(key)[:40]}] has {len(values)} epochs, but epoch says {epoch}"
    if not isinstance(state.get("stopped", False), bool):
        return "stopped must be true or false"
    seconds = state.get("train_seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < float("inf"):
        return "train_seconds must be a number of seconds (>= 0)"
    es = state.get("early_stopping")
    if es is not None:
        if not isinstance(es, dict) or set(es) != {"wait", "best", "best_epoch"}:
            return "early_stopping must be null or an object with wait, best and best_epoch"
        if any(isinstance(es[k], bool) or not isinstance(es[k], int) or not 0 <= es[k] <= epoch
               for k in ("wait", "best_epoch")):
            return f"early_stopping.wait and best_epoch must be whole numbers between 0 and {epoch}"
        if es["best"] is not None and (isinstance(es["best"], bool) or not isinstance(es["best"], (int, float))):
            return "early_stopping.best must be a number or null"
    return None


def read_state(run_dir):
    """The run's `state.json`, checked, or None when no epoch finished before the interruption.

    Raises:
        ArchbuilderError: `state.json` unreadable, of the wrong shape (a field of the wrong type,
            a history that does not have `epoch` epochs), or without its `checkpoint.keras`.
    """
    path = os.path.join(run_dir, STATE)
    if not os.path.exists(path):
        return None
    afresh = "--overwrite starts the run afresh"
    try:
        with open(path, encoding="utf-8") as f:
            state = json.loads(f.read(64 * 1024 * 1024))
    except (OSError, ValueError, RecursionError) as e:
        first = (str(e).splitlines() or [type(e).__name__])[0][:200]
        raise ArchbuilderError(f"{path}: cannot resume: unreadable state ({first}); {afresh}") from None
    problem = _state_problem(state)
    if problem:
        raise ArchbuilderError(f"{path}: cannot resume: {problem}; {afresh}")
    if not os.path.exists(os.path.join(run_dir, CHECKPOINT)):
        raise ArchbuilderError(f"{run_dir}: cannot resume: {STATE} without {CHECKPOINT}; {afresh}")
    return state


def load_checkpoint(model, run_dir, early_stopping=None):
    """Loads the run's checkpoint (weights and optimizer state) into a freshly built `model`.

    Only weights are read (`model.load_weights`): the checkpoint's config is never
    deserialized, so nothing in it can run. The archive is checked first against the
    model's own size (`archbuilder.layers.model_file.check_archive`).

    Raises:
        ArchbuilderError: a checkpoint that is not a `.keras` archive, is corrupt, or
            holds weights that do not fit the model.
    """
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    es = early_stopping
    if es is not None and es.restore_best_weights and os.path.exists(os.path.join(run_dir, BEST)):
        _load_weights(model, os.path.join(run_dir, BEST))
        es.resume_weights = es.best_weights = model.get_weights()
    _load_weights(model, os.path.join(run_dir, CHECKPOINT))


def _load_weights(model, path):
    variables = len(model.weights) + (len(model.optimizer.variables) if model.optimizer is not None else 0)
    params = int(model.count_params())
    try:
        check_archive(path, params, layers=len(model.layers), optimizer=True, variables=variables)
        model.load_weights(path)
    except ModelFileError as e:
        raise ArchbuilderError(f"{path}: cannot resume: {e.message}; --overwrite starts the run afresh") from None
    except Exception as e:  # Keras and h5py raise many types for a damaged file
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ArchbuilderError(f"{path}: cannot resume: the checkpoint does not load ({type(e).__name__}: "
                               f"{first}); --overwrite starts the run afresh") from None
