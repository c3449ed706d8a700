"""TensorBoard event files on every backend: `RUN/logs/`, written without TensorFlow.

Keras's `TensorBoard` callback writes through `tf.summary`, so on JAX and PyTorch
it needs TensorFlow (and keras-tuner writes none at all there). The files here
are written with the `tensorboard` package's own record format and protobufs
(`RecordWriter`, `scalar_pb`, the HParams plugin's `hparams_pb`), which import no
TensorFlow, in the layout Keras's callback uses:

```
logs/train/events.out.tfevents.*        epoch_loss, epoch_accuracy, epoch_learning_rate, ...
logs/validation/events.out.tfevents.*   epoch_loss, epoch_accuracy, ... (the val_ metrics)
```

so the same `tensorboard --logdir RUN/logs` shows a run trained on any backend,
with train and validation overlaid per metric, one step per epoch. Event files
are append-only logs (flushed after every epoch, so a kill loses at most the
epoch under way), the one exception to complete-or-absent files; a resumed run
appends a new file whose steps continue the old ones.
"""

import itertools
import os
import socket
import struct
import time

import keras
import numpy as np

__all__ = ["LOGS", "EventWriter", "EpochScalars", "scalar_summary", "tensorboard", "remove_events", "trial_logdir",
           "trial_scalars", "read_scalars"]

LOGS = "logs"  # a run directory's TensorBoard folder
_EVENTS = "events.out.tfevents"
_counter = itertools.count()


def scalar_summary(tag, value):
    """A TF2-style scalar summary (what `tf.summary.scalar` writes), built without TensorFlow."""
    from tensorboard.plugins.scalar import summary_v2

    return summary_v2.scalar_pb(tag, np.float32(value))


class EventWriter:
    """Appends summaries to a new TensorBoard event file in `logdir`, synchronously.

    The file name is unique per process and writer (time, host, pid, counter),
    so several writers, in one process or several, can share a folder.

    Args:
        logdir: the folder (made if absent).
    """

    def __init__(self, logdir):
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        self._event = event_pb2.Event
        os.makedirs(logdir, exist_ok=True)
        name = f"{_EVENTS}.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{next(_counter)}.v2"
        self.path = os.path.join(logdir, name)
        self._records = RecordWriter(open(self.path, "wb"))  # noqa: SIM115 - closed by close()
        self._records.write(self._event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())

    def add_summary(self, summary, step=0):
        self._records.write(self._event(wall_time=time.time(), step=int(step), summary=summary).SerializeToString())

    def add_scalars(self, values, step):
        """Writes `{tag: number}` at `step` and flushes."""
        for tag, value in values.items():
            self.add_summary(scalar_summary(tag, value), step)
        self.flush()

    def flush(self):
        self._records.flush()

    def close(self):
        if not self._records.closed:
            self._records.close()


def _learning_rate(model):
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # under a LossScaleOptimizer
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        return None
    try:
        return float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    except (TypeError, ValueError):
        return None


class EpochScalars(keras.callbacks.Callback):
    """Writes every epoch's logs as scalars into `logdir/train` and `logdir/validation`, on any backend.

    Tags and steps are those of `keras.callbacks.TensorBoard`: `epoch_<metric>` at
    step `epoch`, the `val_` metrics in `validation/` without their prefix, and the
    optimizer's `epoch_learning_rate` in `train/`.

    Args:
        logdir: the folder of one run (a train run's `logs/`, a trial's `logs/trial_ID`).
    """

    def __init__(self, logdir):
        super().__init__()
        self.logdir = logdir
        self._writers = {}

    def _writer(self, split):
        if split not in self._writers:
            self._writers[split] = EventWriter(os.path.join(self.logdir, split))
        return self._writers[split]

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: v for k, v in (logs or {}).items() if np.ndim(v) == 0}
        train = {f"epoch_{k}": v for k, v in logs.items() if not k.startswith("val_")}
        rate = _learning_rate(self.model)
        if rate is not None:
            train.setdefault("epoch_learning_rate", rate)
        validation = {f"epoch_{k[4:]}": v for k, v in logs.items() if k.startswith("val_")}
        for split, values in (("train", train), ("validation", validation)):
            if values:
                self._writer(split).add_scalars(values, epoch)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def tensorboard(run_dir):
    """The callback writing a train run's per-epoch scalars to `RUN_DIR/logs` (every backend)."""
    return EpochScalars(os.path.join(run_dir, LOGS))


def remove_events(logdir):
    """Deletes the event files under `logdir` (a trial run again from its start replaces its curves)."""
    if not os.path.isdir(logdir):
        return
    for folder, _, names in os.walk(logdir):
        for name in names:
            if name.startswith(_EVENTS):
                os.unlink(os.path.join(folder, name))


def trial_logdir(run_dir, trial_id):
    """A tuning trial's TensorBoard run: `RUN/logs/trial_ID` (keras-tuner names its trial folders so too)."""
    return os.path.join(run_dir, LOGS, f"trial_{trial_id}")


def trial_scalars(run_dir, trial_id, execution=0):
    """The `EpochScalars` of one execution of a trial; the first drops what an interrupted attempt left."""
    logdir = trial_logdir(run_dir, trial_id)
    if execution:
        return EpochScalars(os.path.join(logdir, f"execution{execution}"))
    remove_events(logdir)
    return EpochScalars(logdir)


def _records(path):
    """The records of one event file; a record cut short (a writer killed mid-write) ends the file."""
    with open(path, "rb") as f:
        data = f.read()
    at = 0
    while at + 12 <= len(data):
        (length,) = struct.unpack("<Q", data[at:at + 8])
        end = at + 12 + length
        if end + 4 > len(data):
            return
        yield data[at + 12:end]
        at = end + 4


def read_scalars(logdir):
    """`{tag: [value per step]}` of the scalars archbuilder wrote in `logdir`'s event files (not its subfolders).

    The reader of archbuilder's own files (for MLflow's per-epoch metrics); a step
    written twice (an epoch repeated after a resume) keeps its last value, and a
    step never written is None.
    """
    from google.protobuf.message import DecodeError
    from tensorboard.compat.proto import event_pb2

    found = {}
    names = [n for n in os.listdir(logdir) if n.startswith(_EVENTS)] if os.path.isdir(logdir) else []
    for name in names:
        for record in _records(os.path.join(logdir, name)):
            try:
                event = event_pb2.Event.FromString(record)
            except DecodeError:  # not a file archbuilder wrote whole: what came before it stands
                break
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars" and value.tensor.float_val:
                    steps = found.setdefault(value.tag, {})
                    if event.step not in steps or steps[event.step][0] <= event.wall_time:
                        steps[event.step] = (event.wall_time, float(value.tensor.float_val[0]))
    found = {tag: {step: value for step, (_, value) in steps.items()} for tag, steps in found.items()}
    return {tag: [steps.get(i) for i in range(max(steps) + 1)] for tag, steps in found.items()}
