"""Which Keras backend archbuilder runs on, and on what device (the one device probe).

Keras reads `KERAS_BACKEND` once, when it is imported. `import archbuilder` installs
a hook that runs as Keras is imported: it sets `KERAS_BACKEND` to `choose_backend()`
for the duration of that import (restoring the variable afterwards) and registers
archbuilder's layers. This module imports no backend itself.
"""

import functools
import importlib
import importlib.util
import json
import os
import sys

__all__ = ["BACKENDS", "choose_backend", "select_backend", "device_info", "device_memory", "backend_info"]

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


def choose_backend():
    """The backend archbuilder would run Keras on, decided without importing anything.

    Order: `KERAS_BACKEND` when set; else the backend named in `~/.keras/keras.json`
    (or `$KERAS_HOME/keras.json`); else TensorFlow when installed, else JAX, else
    PyTorch (installed-ness is checked with `importlib.util.find_spec`).
    """
    name = os.environ.get("KERAS_BACKEND") or _keras_json_backend()
    if not name:
        installed = [b for b in BACKENDS if importlib.util.find_spec(b) is not None]
        name = installed[0] if installed else "tensorflow"
    return name


def select_backend():
    """The backend Keras runs on in this process: its own once imported, else `choose_backend()`.

    Returns:
        The backend's name, e.g. `"tensorflow"`.
    """
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return keras.backend.backend()
    return choose_backend()


def _probe(name):
    """`(kind, device name, bfloat16 supported)` for the first device of backend `name`."""
    if name == "tensorflow":
        import tensorflow as tf

        if tf.config.list_logical_devices("TPU"):
            return "tpu", "TPU", True
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            capability = details.get("compute_capability")
            return "gpu", details.get("device_name", gpus[0].name), bool(capability) and tuple(capability) >= (8, 0)
    elif name == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform == "tpu":
            return "tpu", device.device_kind, True
        if device.platform == "gpu":
            capability = getattr(device, "compute_capability", None)
            return "gpu", device.device_kind, capability is not None and float(capability) >= 8.0
    elif name == "torch":
        import torch

        if torch.cuda.is_available():
            return "gpu", torch.cuda.get_device_name(0), torch.cuda.get_device_capability(0) >= (8, 0)
    return "cpu", "cpu", False


@functools.lru_cache(maxsize=None)
def device_info():
    """The device training runs on, probed once per process through the backend in use.

    Returns:
        `{"kind": "cpu" | "gpu" | "tpu", "name": ..., "bfloat16": bool}`; `bfloat16`
        is true on a GPU of compute capability 8.0 or more, or a TPU. A probe that
        fails means the CPU.
    """
    try:
        kind, name, bfloat16 = _probe(select_backend())
    except Exception:  # a device query that fails means: no usable accelerator
        kind, name, bfloat16 = "cpu", "cpu", False
    return {"kind": kind, "name": name, "bfloat16": bool(bfloat16)}


def _host_available():
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def device_memory():
    """Bytes of memory free for this process's arrays on the device training runs on.

    On JAX with an accelerator, its first device's limit less what is in use; else
    (the CPU, or a backend archbuilder does not pack trials on) the host's available memory.
    """
    try:
        if select_backend() == "jax" and device_info()["kind"] != "cpu":
            import jax

            stats = jax.devices()[0].memory_stats() or {}
            if "bytes_limit" in stats:
                return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
    except Exception:  # a device query that fails: fall back on the host's figure
        pass
    return _host_available()


def backend_info():
    """The backend in use, for `build` output and `env.json`.

    Imports Keras if it is not imported yet.

    Returns:
        `{"backend", "keras_version", "backend_version", "device"}`, with
        `device` `"cpu"`, `"gpu: <name>"` or `"tpu: <name>"`.
    """
    import keras

    name = keras.backend.backend()
    module = importlib.import_module(name)
    device = device_info()
    return {
        "backend": name,
        "keras_version": keras.__version__,
        "backend_version": getattr(module, "__version__", "unknown"),
        "device": "cpu" if device["kind"] == "cpu" else f"{device['kind']}: {device['name']}",
    }
