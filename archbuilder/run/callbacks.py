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

from archbuilder.atomic import atomic_save_model
from archbuilder.atomic import atomic_write_json
from archbuilder.errors import ArchbuilderError

__all__ = ["CHECKPOINT", "BEST", "STATE", "ResumableEarlyStopping", "EpochCheckpoint", "read_state",
           "load_checkpoint", "remove_checkpoints"]

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
        atomic_save_model(self.model, os.path.join(self.run_dir, BEST))
        if current is not None:
            self.model.set_weights(current)
        self._best_saved = es.best_epoch

    def on_epoch_end(self, epoch, logs=None):
        due = self._due(epoch)
        if due:
            atomic_save_model(self.model, os.path.join(self.run_dir, CHECKPOINT))
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


def read_state(run_dir):
    """The run's `state.json`, or None when no epoch finished before the interruption."""
    path = os.path.join(run_dir, STATE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        int(state["epoch"]), dict(state["history"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ArchbuilderError(f"{path}: cannot resume: unreadable state ({e}); start again with --overwrite")
    if not os.path.exists(os.path.join(run_dir, CHECKPOINT)):
        raise ArchbuilderError(f"{run_dir}: cannot resume: {STATE} without {CHECKPOINT}; "
                               "start again with --overwrite")
    return state


def load_checkpoint(model, run_dir, early_stopping=None):
    """Loads the run's checkpoint (weights and optimizer state) into a freshly built `model`.

    Only weights are read (`model.load_weights`): the checkpoint's config is
    never deserialized, so nothing in it can run.
    """
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    es = early_stopping
    if es is not None and es.restore_best_weights and os.path.exists(os.path.join(run_dir, BEST)):
        model.load_weights(os.path.join(run_dir, BEST))
        es.resume_weights = es.best_weights = model.get_weights()
    model.load_weights(os.path.join(run_dir, CHECKPOINT))


def remove_checkpoints(run_dir):
    """Drops the resume files of a finished run (after `DONE`)."""
    for name in (CHECKPOINT, BEST, STATE):
        try:
            os.unlink(os.path.join(run_dir, name))
        except FileNotFoundError:
            pass

