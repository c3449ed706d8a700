"""Saving a model: atomically, and without importing TensorFlow for nothing."""

from archbuilder import compat
from archbuilder.atomic import atomic_save_model

__all__ = ["save_model"]


def save_model(model, path):
    """`model.save(path)` through a temporary file and a rename (`atomic_save_model`).

    On JAX and PyTorch with TensorFlow installed but not imported, saving does not
    import it (`compat.serializing_without_tensorflow`).
    """
    with compat.serializing_without_tensorflow():
        atomic_save_model(model, path)
