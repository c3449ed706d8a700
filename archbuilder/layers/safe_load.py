"""Load `.keras` files without running code from them, and without sizes over the limits.

Every model file archbuilder opens (evaluate, predict, backbones, the best model of a
finished search) goes through `load_model_safely`, which, before Keras sees anything:

- reads `config.json` as plain JSON and refuses every object that could run code
  (`archbuilder.layers.allow_list.unsafe_objects`);
- counts the parameters the config declares (`archbuilder.layers.model_file.count_model`)
  and refuses a model over `max_params` (`--max-params`), or one it cannot count;
- checks the archive against that count (`check_archive`): member count, each member,
  the total uncompressed size and the arrays of the weights file.

Only then is the file loaded with `keras.saving.load_model(path, safe_mode=True)`.
Importing this module imports no backend. (`--resume` reads only weights from
checkpoints: `archbuilder.run.callbacks`.)

Example:
    >>> from archbuilder.layers.safe_load import load_model_safely
    >>> model = load_model_safely("runs/mnist1d_cnn/model.keras")
"""

import os

from archbuilder.format import defaults as D
from archbuilder.layers.allow_list import UnsafeModelError
from archbuilder.layers.allow_list import registry_problems
from archbuilder.layers.allow_list import unsafe_objects
from archbuilder.layers.model_count import count_model
from archbuilder.layers.model_file import ModelFileError
from archbuilder.layers.model_file import check_archive
from archbuilder.layers.model_file import read_model_config
from archbuilder.text import count as fmt_count

__all__ = ["ModelFileError", "UnsafeModelError", "read_model_config", "unsafe_objects", "check_model_file",
           "load_model_safely"]


def check_model_file(path, max_params=D.MAX_PARAMS, source=None, input_shape=None):
    """Everything `load_model_safely` checks before Keras opens the file; returns `(config, ModelCount)`.

    Args:
        path: the `.keras` file.
        max_params: the parameter limit (`--max-params`).
        source: the name used in messages (default: `path`).
        input_shape: the input the model will be called on (a backbone), if not its own.

    Raises:
        UnsafeModelError: an object that could run code.
        ModelFileError: unreadable, uncountable, over `max_params`, or an archive over its limits.
    """
    source = source or os.fspath(path)
    config = read_model_config(path, source)
    problems = unsafe_objects(config)
    if problems:
        raise UnsafeModelError(source, problems)
    counted = count_model(config, input_shape, source)
    if counted.params > max_params:
        raise ModelFileError(source, f"refused: the model declares {fmt_count(counted.params)} parameters, over "
                                     f"the limit of {fmt_count(max_params)} (--max-params)")
    check_archive(path, counted.params, counted.layers, optimizer="compile_config" in config, source=source)
    return config, counted


def load_model_safely(path, compile=True, source=None, max_params=D.MAX_PARAMS):
    """Loads a `.keras` model after checking that loading it runs no foreign code and stays in the limits.

    The archive's `config.json` is read as plain JSON, every serialized object in it
    is checked, its parameters are counted and the archive is checked against that
    count (`check_model_file`); then the file is loaded with
    `keras.saving.load_model(path, safe_mode=True)`, archbuilder's own layers registered.

    Args:
        path: the `.keras` file.
        compile: passed to `keras.saving.load_model`.
        source: the name used in messages (default: `path`).
        max_params: refuse a model that declares more parameters (`--max-params`).

    Returns:
        The `keras.Model`.

    Raises:
        UnsafeModelError: `FILE: refused: JSON-PATH: why` for a Lambda layer, a
            serialized function, or a class from outside Keras and archbuilder.
        ModelFileError: `FILE: cannot load: why` for a missing, corrupt or
            unreadable file, or one Keras cannot load; `FILE: refused: why` for one
            over the limits or whose size cannot be counted.
    """
    source = source or os.fspath(path)
    config, _ = check_model_file(path, max_params, source)

    import keras

    import archbuilder.layers.keras_layers  # noqa: F401  (registers archbuilder's layers)

    problems = registry_problems(config, keras.saving.get_custom_objects())
    if problems:
        raise UnsafeModelError(source, problems)
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as e:  # Keras raises many types here; each becomes one line for the user
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        if len(first) > 300:
            first = first[:297] + "..."
        raise ModelFileError(source, f"cannot load the model: {type(e).__name__}: {first}") from e
