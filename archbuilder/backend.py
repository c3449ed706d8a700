"""Which Keras backend archbuilder runs on (design.md section 5), and on what device.

`select_backend` must run before the first `import keras`: Keras reads
`KERAS_BACKEND` once, at import. This module imports no backend itself.
"""

import importlib
import importlib.util
import json
import os
import sys

__all__ = ["BACKENDS", "backend_info", "select_backend"]

BACKENDS = ("tensorflow", "jax", "torch")


def _keras_json_backend():
    """The `backend` named in Keras's config file, or None."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as file:
            config = json.load(file)
    except (OSError, ValueError):
        return None
    backend = config.get("backend") if isinstance(config, dict) else None
    return backend if isinstance(backend, str) and backend else None


def select_backend():
    """Chooses the Keras backend and sets `KERAS_BACKEND` to it.

    Order: `KERAS_BACKEND` when set; else the backend named in
    `~/.keras/keras.json` (or `$KERAS_HOME/keras.json`); else TensorFlow when
    installed, else JAX, else PyTorch. Installed-ness is checked with
    `importlib.util.find_spec`, so nothing is imported. Once Keras is imported
    its backend is fixed, and that is what is returned.

    Returns:
        The backend's name, e.g. `"tensorflow"`.
    """
    if "keras" in sys.modules and hasattr(sys.modules["keras"], "backend"):
        name = sys.modules["keras"].backend.backend()
    else:
        name = os.environ.get("KERAS_BACKEND") or _keras_json_backend()
        if not name:
            installed = [b for b in BACKENDS if importlib.util.find_spec(b) is not None]
            name = installed[0] if installed else "tensorflow"
    os.environ["KERAS_BACKEND"] = name
    return name


def _device(name):
    if name == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return f"gpu: {details.get('device_name', gpus[0].name)}"
    elif name == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform in ("gpu", "tpu"):
            return f"{device.platform}: {device.device_kind}"
    elif name == "torch":
        import torch

        if torch.cuda.is_available():
            return f"gpu: {torch.cuda.get_device_name(0)}"
    return "cpu"


def backend_info():
    """The backend in use, for `build` output and `env.json`.

    Imports Keras (after `select_backend`) if it is not imported yet.

    Returns:
        `{"backend", "keras_version", "backend_version", "device"}`, with
        `device` `"cpu"`, `"gpu: <name>"` or (JAX) `"tpu: <name>"`.
    """
    select_backend()
    import keras

    name = keras.backend.backend()
    module = importlib.import_module(name)
    return {
        "backend": name,
        "keras_version": keras.__version__,
        "backend_version": getattr(module, "__version__", "unknown"),
        "device": _device(name),
    }
