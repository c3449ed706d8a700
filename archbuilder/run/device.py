"""What a training process sets before it builds a model: the seeds and the precision policy.

Both are global state of the process (Python's, NumPy's and the backend's random
generators; Keras's dtype policy). `precision_scope` gives the policy back after
a block, so `archbuilder.train()` from a notebook leaves the user's policy as it was.
"""

import contextlib
import random
import sys
import types

import keras
import numpy as np

from archbuilder import compat
from archbuilder.backend import device_info

__all__ = ["seed_everything", "set_precision", "precision_of", "precision_scope"]


def seed_everything(seed):
    """Seeds Python, NumPy and the backend. Call it after loading data: mnist1d reseeds globals.

    `keras.utils.set_random_seed` also seeds TensorFlow when it is installed, importing
    it (2.8 s) on JAX and PyTorch too, where nothing of archbuilder's uses it: there it
    runs without TensorFlow unless TensorFlow is already imported.
    """
    rng_utils = compat.rng_utils
    random.seed(seed)
    np.random.seed(seed)
    skip_tf = (keras.backend.backend() != "tensorflow" and "tensorflow" not in sys.modules
               and hasattr(rng_utils, "tf"))
    if not skip_tf:
        keras.utils.set_random_seed(seed)
        return
    lazy = rng_utils.tf
    rng_utils.tf = types.SimpleNamespace(available=False)
    try:
        keras.utils.set_random_seed(seed)
    finally:
        rng_utils.tf = lazy


def precision_of(training):
    """The dtype policy `set_precision` would set for `training`, without setting it.

    `training.mixed_precision`: `"auto"` is bfloat16 on a GPU of compute capability
    8.0 or more (or a TPU), float32 elsewhere; `true` / `false` force it on or off.
    """
    setting = training["mixed_precision"]
    mixed = device_info()["bfloat16"] if setting == "auto" else bool(setting)
    return "mixed_bfloat16" if mixed else "float32"


def set_precision(training):
    """Sets Keras's global dtype policy from `training.mixed_precision`; call it before building.

    Returns:
        The policy's name: `"float32"` or `"mixed_bfloat16"`.
    """
    policy = precision_of(training)
    keras.config.set_dtype_policy(policy)
    return policy


@contextlib.contextmanager
def precision_scope(training):
    """`set_precision` for the duration of a block; the previous global policy comes back after."""
    previous = keras.config.dtype_policy()
    try:
        yield set_precision(training)
    finally:
        keras.config.set_dtype_policy(previous)
