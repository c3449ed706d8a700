"""The one place archbuilder reaches into Keras's, keras-tuner's and tf2onnx's internals.

Everything here is outside the public APIs of Keras (`keras.src.*`) and keras-tuner
(`keras_tuner.src.*`), so it may change in any release: setup.cfg bounds both
packages above by the next minor release after the versions these were checked
against (`CHECKED`). Each name is imported on first use, so `import
archbuilder.compat` costs nothing and training never imports keras-tuner.

Besides the names below, `archbuilder.tuning.tuners` overrides these private members
of keras-tuner 1.4's classes (same versions): `Tuner._populate_initial_space`,
`Tuner._try_build`, `Tuner._build_and_fit_model`, `Tuner._try_run_and_update_trial`,
`Oracle._save_trial`, and reads `Oracle._retry_queue`, `Oracle._get_oracle_fname`,
`Oracle._get_trial_dir`, `Tuner._get_tuner_fname`, `Tuner._get_checkpoint_fname`,
`Tuner._get_build_config_fname`, `Tuner._is_worker`, `Tuner._deepcopy_callbacks`,
`Tuner._build_hypermodel`, `Tuner._run_and_update_trial` and `SaveBestEpoch._save_model`;
`archbuilder.tuning.pack_fit` calls Keras 3's `Trainer._symbolic_build` and reads
`Layer._flatten_layers`, `Trainer._compile_metrics` and `Trainer._compile_loss` (as `fit` does);
`archbuilder.tuning.pack_programs._Factors` repeats `keras.regularizers.L1L2.__call__`'s
operations with its factors as inputs, and `serializing_without_tensorflow` sets Keras's lazy
`tensorflow` module's `_available`.

Example:
    >>> from archbuilder import compat
    >>> compat.TrialStatus.COMPLETED
    'COMPLETED'
"""

import contextlib
import importlib
import sys

__all__ = ["CHECKED", "NAMES", "serializing_without_tensorflow"]

CHECKED = {"keras": "3.15.1", "keras_tuner": "1.4.8", "tf2onnx": "1.17.0"}
"""The versions whose internals were read and tested."""

NAMES = {
    # Keras: seeding without TensorFlow on other backends (archbuilder.run.device).
    "rng_utils": ("keras.src.utils", "rng_utils"),
    # Keras on JAX: initial weights drawn by NumPy (archbuilder.model.host_init).
    "jax_random": ("keras.src.backend.jax", "random"),
    "jax_draw_seed": ("keras.src.backend.jax.random", "jax_draw_seed"),
    "standardize_dtype": ("keras.src.backend", "standardize_dtype"),
    "constant_initializers": ("keras.src.initializers", "constant_initializers"),
    # Keras's lazy TensorFlow module, which its serialization asks (serializing_without_tensorflow).
    "keras_tensorflow": ("keras.src.utils.module_utils", "tensorflow"),
    # Keras's class weights as sample weights, as its data adapters compute them (archbuilder.tuning.pack_fit).
    "class_weight_to_sample_weights": ("keras.src.trainers.data_adapters.data_adapter_utils",
                                       "class_weight_to_sample_weights"),
    # keras-tuner: atomic state files, quiet gRPC, one-line failures (archbuilder.tuning).
    "kt_conditions": ("keras_tuner.src.engine", "conditions"),
    "kt_trial": ("keras_tuner.src.engine", "trial"),
    "TrialStatus": ("keras_tuner.src.engine.trial", "TrialStatus"),
    "kt_tuner_utils": ("keras_tuner.src.engine", "tuner_utils"),
    "synchronized": ("keras_tuner.src.engine.oracle", "synchronized"),
    "kt_protos": ("keras_tuner.src", "protos"),
    "OracleServicer": ("keras_tuner.src.distribute.oracle_chief", "OracleServicer"),
    # tf2onnx: a SavedModel -> ONNX in-process, as its `--saved-model` command line does
    # (archbuilder.run.export_formats); its Keras path turns Normalization's constants into inputs.
    "tf2onnx_loader": ("tf2onnx", "tf_loader"),
    "tf2onnx_convert_common": ("tf2onnx.convert", "_convert_common"),
}
"""`name -> (module, attribute)` of every internal archbuilder uses."""


def __getattr__(name):
    if name not in NAMES:
        raise AttributeError(f"module 'archbuilder.compat' has no attribute {name!r}")
    module, attribute = NAMES[name]
    try:
        value = importlib.import_module(f"{module}.{attribute}")  # a submodule
    except ModuleNotFoundError:
        value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


@contextlib.contextmanager
def serializing_without_tensorflow():
    """While Keras serializes (`get_config`, `model.save`), TensorFlow is not imported for nothing.

    Keras's serialization asks its lazy `tensorflow` module whether TensorFlow is
    available — importing it, about 2 s on a host where it is installed — only to test
    whether a value is a TensorFlow object (`tf.TensorShape`, `tf.DType`,
    `tf.TypeSpec`). While TensorFlow is not imported no value can be one, so inside the
    block the module answers "not available"; afterwards it is asked afresh.
    """
    lazy = __getattr__("keras_tensorflow")
    if lazy._available is not None or sys.modules.get("tensorflow") is not None:
        yield
        return
    lazy._available = False
    try:
        yield
    finally:
        lazy._available = None
