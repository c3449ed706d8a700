"""The fast path of training on an accelerator, and what env.json says about it.

On the fast path:

- training runs full batches only (`FullBatches`, below);
- Keras runs 8 training steps per call into the trainer (`steps_per_execution`):
  the callbacks' bookkeeping between steps is paid once per 8 (bench/step_overhead.py,
  CPU, a model whose steps cost nothing: 0.30 ms per step against 0.42 for Keras `fit`);
- `train` checkpoints at most every 30 seconds (and after the last epoch) instead of
  after every epoch: the reference CNN's 10 MB checkpoint took 0.07 s to write on a
  CPU VM, about 8 % of a 0.8-1 s GPU epoch of it.

A training set whose size is not a multiple of the batch size ends each epoch in a
smaller batch, and a batch of a new shape is a second compilation of the whole
training step (XLA on JAX and TensorFlow): 2.8 s per trial of bench/trial_overhead.py
on a CPU with JAX (unmeasured on a GPU, where the reference search's own 50,000
images leave a last batch of 80 every epoch). On the fast
path `fit` gets `FullBatches` instead: each epoch a fresh seeded shuffle cut into
`n // batch_size` full batches, so the `n % batch_size` samples left over (a
different few each epoch) wait for a later epoch. That changes results slightly,
so it is recorded in env.json (`"last_partial_batch": "dropped"`).

The fast path is on by default where the backend sees a GPU or TPU, off on a CPU
(where archbuilder trains exactly like hand-written Keras). `ARCHBUILDER_FAST_PATH`
set to `on` or `off` overrides that, e.g. to measure both on one machine.
"""

import math
import os

import keras
import numpy as np

from archbuilder.backend import device_info
from archbuilder.model.host_init import initial_weights

__all__ = ["ENV", "enabled", "drops_partial_batch", "steps_per_execution", "checkpoint_interval", "FullBatches",
           "split_at", "split_validation", "choices"]

ENV = "ARCHBUILDER_FAST_PATH"
STEPS_PER_EXECUTION = 8
CHECKPOINT_SECONDS = 30.0


def enabled():
    """Whether the fast path is on: `ARCHBUILDER_FAST_PATH` (`on`/`off`), else on a GPU or TPU only."""
    setting = os.environ.get(ENV, "auto").strip().lower()
    if setting in ("on", "1", "true"):
        return True
    if setting in ("off", "0", "false"):
        return False
    return device_info()["kind"] != "cpu"


def drops_partial_batch(count, batch_size):
    """True when `fit` should get `FullBatches`: the fast path is on and `count` leaves a partial batch."""
    return enabled() and count >= batch_size and count % batch_size != 0


def steps_per_execution():
    """Keras's `steps_per_execution` for training: 8 on the fast path, else 1."""
    return STEPS_PER_EXECUTION if enabled() else 1


def checkpoint_interval():
    """Seconds between `train`'s checkpoints: `CHECKPOINT_SECONDS` on the fast path, else None (every epoch)."""
    return CHECKPOINT_SECONDS if enabled() else None


def _take(value, index):
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: item[index] for key, item in value.items()}
    return value[index]


def split_at(count, validation_split):
    """Where Keras's `validation_split` cuts `count` samples: the validation set is the rest."""
    return int(math.floor(count * (1.0 - validation_split)))


def split_validation(x, y, sample_weight, validation_split):
    """`((x, y, sample_weight), (x_val, y_val, sample_weight_val))` cut as Keras's `validation_split` cuts."""
    count = len(x)
    cut = split_at(count, validation_split)
    head, tail = slice(0, cut), slice(cut, count)
    return ((x[head], _take(y, head), _take(sample_weight, head)),
            (x[tail], _take(y, tail), _take(sample_weight, tail)))


class FullBatches(keras.utils.PyDataset):
    """`x`, `y` (and sample weights) in full batches only, reshuffled every epoch.

    Args:
        x: the inputs, an array.
        y: the targets: an array or a dict of arrays (an autoencoder's outputs).
        sample_weight: None, an array, or a dict like `y`.
        batch_size: the batch size; `len(x) // batch_size` batches per epoch.
        seed: seeds the shuffles, so a seeded run repeats.
    """

    def __init__(self, x, y, sample_weight, batch_size, seed):
        super().__init__()
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size = int(batch_size)
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(x))

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(index)
        rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        batch = (self.x[rows], _take(self.y, rows))
        return batch if self.sample_weight is None else batch + (_take(self.sample_weight, rows),)

    def on_epoch_end(self):
        self._order = self._rng.permutation(len(self.x))

    def epoch_order(self):
        """The sample indices of this epoch's batches, in order (`len(self) * batch_size` of them)."""
        return self._order[:len(self) * self.batch_size]


def choices():
    """The choices of this process that can change results, for env.json."""
    return {
        "initial_weights": initial_weights(keras.backend.backend()),
        "last_partial_batch": "dropped" if enabled() else "kept",
    }
