"""archbuilder: a JSON design of a network -> a validated, trained and tuned Keras 3 model.

Importing archbuilder imports no backend: `archbuilder validate` stays fast. The
Keras-side API (`build_model`, `train`, `compare`, `tune`) is imported on first use,
and archbuilder's own Keras layers are registered as soon as Keras is imported, so
`keras.saving.load_model(path, safe_mode=True)` works after `import archbuilder`.
"""

import importlib
import importlib.util
import sys

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "load_spec",
    "render_spec",
    "plan_spec",
    "build_model",
    "train",
    "evaluate",
    "predict",
    "compare",
    "tune",
    "load_data",
    "ArchbuilderError",
    "SpecError",
    "DataError",
]

_LAZY = {
    "load_spec": "archbuilder.spec",
    "render_spec": "archbuilder.spec",
    "plan_spec": "archbuilder.plan",
    "build_model": "archbuilder.model",
    "train": "archbuilder.training",
    "evaluate": "archbuilder.inference",
    "predict": "archbuilder.inference",
    "compare": "archbuilder.comparison",
    "tune": "archbuilder.tuning",
    "load_data": "archbuilder.data",
    "ArchbuilderError": "archbuilder.errors",
    "SpecError": "archbuilder.errors",
    "DataError": "archbuilder.errors",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'archbuilder' has no attribute {name!r}")


def _register_layers():
    importlib.import_module("archbuilder.layers.keras_layers")


class _RegisterWhenKerasLoads:
    """Meta-path finder that registers archbuilder's layers right after `import keras`.

    Importing Keras here would import a backend (seconds, and the wrong thing for
    `validate`); waiting for the user's own `import keras` keeps both promises.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_register(module):
            exec_module(module)
            _register_layers()

        spec.loader.exec_module = exec_and_register
        return spec


if "keras" in sys.modules:
    _register_layers()
else:
    sys.meta_path.insert(0, _RegisterWhenKerasLoads())
