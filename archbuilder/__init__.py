"""archbuilder: a JSON design of a network -> a validated, trained and tuned Keras 3 model.

Importing archbuilder imports no backend: `archbuilder validate` stays fast. The
Keras-side API (`build`, `train`, `compare`, `tune`, ...) is imported on first use,
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
    "build",
    "build_model",
    "train",
    "evaluate",
    "predict",
    "export",
    "compare",
    "tune",
    "load_data",
    "prepare_data",
    "markdown_table",
    "ArchbuilderError",
    "SpecError",
    "DataError",
]

_LAZY = {
    "load_spec": "archbuilder.spec.load",
    "render_spec": "archbuilder.spec.load",
    "plan_spec": "archbuilder.spec.plan",
    "build": "archbuilder.model.build",
    "build_model": "archbuilder.model.build",
    "train": "archbuilder.run.train",
    "evaluate": "archbuilder.run.inference",
    "predict": "archbuilder.run.inference",
    "export": "archbuilder.run.export",
    "compare": "archbuilder.run.compare",
    "tune": "archbuilder.tuning.search",
    "load_data": "archbuilder.data.load",
    "prepare_data": "archbuilder.run.prepare",
    "markdown_table": "archbuilder.run.compare",
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


class _PrepareKeras:
    """Meta-path finder that runs as `import keras` starts: it picks the backend, then registers layers.

    Keras reads `KERAS_BACKEND` once, at import: the variable is set to archbuilder's
    choice (`backend.choose_backend`) for the duration of that import and restored
    after it. Importing Keras here would import a backend (seconds, and the wrong thing
    for `validate`); waiting for the first `import keras` keeps both promises.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_prepared(module):
            from archbuilder.backend import choose_backend
            from archbuilder.environ import environment

            with environment({"KERAS_BACKEND": choose_backend()}):
                exec_module(module)
            _register_layers()

        spec.loader.exec_module = exec_prepared
        return spec


if "keras" in sys.modules:
    _register_layers()
else:
    sys.meta_path.insert(0, _PrepareKeras())
