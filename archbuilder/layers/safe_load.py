"""Load `.keras` files without running code from them.

A `.keras` file is a zip archive holding `config.json` (the model's serialized
objects), `metadata.json` and `model.weights.h5`. Keras's `safe_mode=True`
refuses only serialized Python bytecode (`__lambda__`): a `Lambda` layer
wrapping a Keras function, or any class registered by code that happens to be
imported, still deserializes and runs. So every model file archbuilder opens
(evaluate, predict, backbones, resume) goes through `load_model_safely`, which
reads `config.json` as plain JSON and refuses, before Keras sees anything:

- any `Lambda` layer, and the Keras classes that wrap foreign code or files
  (`TFSMLayer`, `TorchModuleWrapper`, `JaxLayer`, `FlaxLayer`);
- serialized Python functions (`__lambda__`, `__python_function__`);
- any class whose `module` is neither `keras` nor `keras.*`, unless it is one of
  archbuilder's own (`registered_name` `archbuilder>…`).

Only then is the file loaded with `keras.saving.load_model(path, safe_mode=True)`.
Importing this module imports no backend.

Example:
    >>> from archbuilder.layers.safe_load import load_model_safely
    >>> model = load_model_safely("runs/mnist1d_cnn/model.keras")
"""

import json
import os
import zipfile

from archbuilder.errors import ArchbuilderError
from archbuilder.text import short
from archbuilder.format.jsonpath import join as path_join

__all__ = ["ModelFileError", "UnsafeModelError", "read_model_config", "unsafe_objects", "load_model_safely"]

# config.json of a large model is a few MB; more is a zip bomb or not a model.
MAX_CONFIG_BYTES = 64 * 1024 * 1024

# Keras classes that run code or load files not covered by the checks here.
CODE_RUNNING_CLASSES = {
    "Lambda": "a Lambda layer runs Python code",
    "TFSMLayer": "a TFSMLayer loads a TensorFlow SavedModel from another path",
    "TorchModuleWrapper": "a TorchModuleWrapper unpickles a PyTorch module",
    "JaxLayer": "a JaxLayer wraps a Python function",
    "FlaxLayer": "a FlaxLayer wraps a Python module",
}
FUNCTION_CLASSES = {"__lambda__", "__python_function__"}
# Keras's markers for plain data (tensors, arrays, slices), not classes.
DATA_CLASSES = {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__typespec__", "__slice__",
                "__ellipsis__"}
ARCHBUILDER_PACKAGE = "archbuilder"


class ModelFileError(ArchbuilderError):
    """A model file that cannot be read or loaded.

    Args:
        source: the file's name as given.
        message: what is wrong, on one line.
    """

    def __init__(self, source, message):
        self.source = str(source)
        self.message = " ".join(str(message).split())
        super().__init__(f"{self.source}: {self.message}")


class UnsafeModelError(ModelFileError):
    """A model file refused because loading it could run code.

    Attributes:
        problems: `(json_path, message)` for every object refused.
    """

    def __init__(self, source, problems):
        self.problems = list(problems)
        path, message = self.problems[0]
        more = len(self.problems) - 1
        extra = f" (and {more} more object{'s' if more > 1 else ''} refused)" if more else ""
        super().__init__(source, f"refused: {path}: {message}{extra}")


def _describe(obj):
    name = obj["config"].get("name") if isinstance(obj.get("config"), dict) else None
    return short(obj.get("class_name")) + (f" (layer {short(name)})" if isinstance(name, str) else "")


def _is_keras_module(module):
    return isinstance(module, str) and (module == "keras" or module.startswith("keras."))


def _is_archbuilder_name(name):
    return isinstance(name, str) and name.startswith(ARCHBUILDER_PACKAGE + ">")


def _object_problem(obj):
    """Why one serialized object (a dict with `class_name`) may not be loaded, or None."""
    class_name = obj.get("class_name")
    if not isinstance(class_name, str):
        return f"class_name {json.dumps(class_name)[:60]} is not a string"
    if class_name in FUNCTION_CLASSES:
        return f"a serialized Python function ({class_name}) would run code"
    if class_name in DATA_CLASSES:
        return None
    if class_name in CODE_RUNNING_CLASSES:
        return (f"{CODE_RUNNING_CLASSES[class_name]} ({_describe(obj)}); archbuilder loads only models "
                f"made of Keras and archbuilder layers")
    module = obj.get("module")
    outside = "not from Keras or archbuilder; loading it would run code from outside archbuilder"
    if class_name == "function":
        # Keras looks a function up by its name (`config`): first among registered
        # custom objects, then in Keras's own modules ("builtins" means those).
        name = obj.get("config")
        if not isinstance(name, str):
            return "a serialized function without a name"
        if ">" in name and not _is_archbuilder_name(name):
            return f"function {short(name)} is registered by other code, {outside}"
        if module == "builtins" or _is_keras_module(module) or _is_archbuilder_name(name):
            return None
        return f"function {short(name)} from module {json.dumps(module)[:60]} is {outside}"
    # Keras resolves `registered_name` (absent: the class name) among registered
    # custom objects before it looks at `module`.
    registered = obj["registered_name"] if "registered_name" in obj else class_name
    if isinstance(registered, str) and ">" in registered:
        if _is_archbuilder_name(registered) and (
                module is None or (isinstance(module, str) and module.split(".")[0] == ARCHBUILDER_PACKAGE)):
            return None
        return f"{_describe(obj)} is registered as {short(registered)} (module {json.dumps(module)[:60]}), {outside}"
    if _is_keras_module(module):
        return None
    return f"{_describe(obj)} comes from module {json.dumps(module)[:80]}, {outside}"


def _registry_problems(config, custom_objects):
    """Objects whose names resolve to a custom object that is not archbuilder's.

    Keras looks registered custom objects up first, by registered name (a
    function: by its name, also as the `>name` suffix of a registered name), so
    code imported in this process could stand in for a Keras name.
    """
    foreign = {name: obj for name, obj in custom_objects.items() if not _is_archbuilder_name(name)}
    if not foreign:
        return []
    problems = []
    for path, obj in _objects(config):
        if obj.get("class_name") == "function":
            name = obj.get("config")
            hits = [n for n in foreign if n == name or (isinstance(name, str) and n.endswith(">" + name))]
        else:
            name = obj["registered_name"] if "registered_name" in obj else obj.get("class_name")
            hits = [n for n in foreign if n == name]
        if hits:
            problems.append((path, f"{_describe(obj)} would load the custom object {hits[0]!r} registered by "
                                   f"other code, not a Keras or archbuilder class"))
    return problems


def _objects(config):
    """`(json_path, object)` for every dict with a `class_name`, without recursion."""
    stack = [("$", config)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            if "class_name" in value:
                yield path, value
            for key, item in value.items():
                if isinstance(item, (dict, list)):
                    stack.append((path_join(path, key), item))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, (dict, list)):
                    stack.append((path_join(path, i), item))


def unsafe_objects(config):
    """Every object of a `config.json` that loading could use to run code.

    Walks the whole document (functional `layers`, Sequential, nested models,
    wrapped layers such as `Bidirectional`/`TimeDistributed`, initializers,
    compile config, …) without recursion, so any depth is fine.

    Args:
        config: the parsed `config.json`.

    Returns:
        A list of `(json_path, message)`; empty when the file is safe to load.
    """
    problems = []
    for path, obj in _objects(config):
        problem = _object_problem(obj)
        if problem:
            problems.append((path, problem))
    stack = [("$", config)]
    while stack:  # function markers used as keys rather than as class names
        path, value = stack.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if key in FUNCTION_CLASSES:
                problems.append((path_join(path, key), f"a serialized Python function ({key}) would run code"))
            if isinstance(item, (dict, list)):
                stack.append((path_join(path, key), item))
    return sorted(problems, key=lambda p: _path_key(p[0]))


def _path_key(path):
    """Sorts `$.a[10]` after `$.a[2]`, so the first problem reported is the first in the file."""
    parts = []
    for token in path.replace("]", "").replace("[", ".").split("."):
        parts.append((0, int(token), "") if token.isdigit() else (1, 0, token))
    return parts


def read_model_config(path, source=None):
    """Reads the `config.json` of a `.keras` file as plain JSON; nothing is deserialized.

    Args:
        path: the `.keras` file.
        source: the name used in messages (default: `path`).

    Returns:
        The parsed config (a dict).

    Raises:
        ModelFileError: the file is missing, not a `.keras` zip archive, corrupt,
            has no `config.json`, or its `config.json` is not a JSON object.
    """
    source = source or os.fspath(path)

    def fail(message):
        raise ModelFileError(source, message)

    if not os.fspath(path).endswith(".keras"):
        fail("cannot load: not a .keras file (archbuilder loads Keras 3 `.keras` model archives only)")
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        fail("cannot load: no such file")
    except IsADirectoryError:
        fail("cannot load: a directory, not a .keras file")
    except zipfile.BadZipFile as e:
        fail(f"cannot load: not a .keras model archive (not a valid zip file: {e})")
    except OSError as e:
        fail(f"cannot load: {e.strerror or e}")
    except (ValueError, EOFError) as e:
        fail(f"cannot load: corrupt .keras archive ({e})")
    with archive:
        try:
            info = archive.getinfo("config.json")
        except KeyError:
            fail("cannot load: the archive has no config.json; it is not a Keras 3 model file")
        if info.file_size > MAX_CONFIG_BYTES:
            fail(f"cannot load: config.json is {info.file_size:,} bytes, over the limit of {MAX_CONFIG_BYTES:,}")
        try:
            with archive.open(info) as member:
                data = member.read(MAX_CONFIG_BYTES + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as e:
            # RuntimeError: encrypted member; NotImplementedError: unknown compression.
            fail(f"cannot load: corrupt .keras archive: config.json cannot be read ({e})")
    if len(data) > MAX_CONFIG_BYTES:
        fail(f"cannot load: config.json is over the limit of {MAX_CONFIG_BYTES:,} bytes")
    try:
        config = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        fail("cannot load: config.json is not UTF-8 text")
    except json.JSONDecodeError as e:
        fail(f"cannot load: config.json is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})")
    except (ValueError, RecursionError) as e:
        fail(f"cannot load: config.json is not valid JSON ({str(e).splitlines()[0] if str(e) else 'too deep'})")
    if not isinstance(config, dict) or "class_name" not in config:
        fail("cannot load: config.json does not describe a Keras model")
    return config


def load_model_safely(path, compile=True, source=None):
    """Loads a `.keras` model after checking that loading it runs no foreign code.

    The archive's `config.json` is read as plain JSON and every serialized
    object in it is checked (see the module docstring); then the file is loaded
    with `keras.saving.load_model(path, safe_mode=True)`, archbuilder's own
    layers registered.

    Args:
        path: the `.keras` file.
        compile: passed to `keras.saving.load_model`.
        source: the name used in messages (default: `path`).

    Returns:
        The `keras.Model`.

    Raises:
        UnsafeModelError: `FILE: refused: JSON-PATH: why` for a Lambda layer, a
            serialized function, or a class from outside Keras and archbuilder.
        ModelFileError: `FILE: cannot load: why` for a missing, corrupt or
            unreadable file, or one Keras cannot load.
    """
    source = source or os.fspath(path)
    config = read_model_config(path, source)
    problems = unsafe_objects(config)
    if problems:
        raise UnsafeModelError(source, problems)

    import keras

    import archbuilder.layers.keras_layers  # noqa: F401  (registers archbuilder's layers)

    problems = _registry_problems(config, keras.saving.get_custom_objects())
    if problems:
        raise UnsafeModelError(source, problems)
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as e:  # Keras raises many types here; each becomes one line for the user
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        if len(first) > 300:
            first = first[:297] + "..."
        raise ModelFileError(source, f"cannot load the model: {type(e).__name__}: {first}") from e
