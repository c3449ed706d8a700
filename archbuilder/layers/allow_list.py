"""Which serialized objects of a `.keras` config may be loaded: the checks behind `load_model_safely`.

Keras's `safe_mode=True` refuses only serialized Python bytecode (`__lambda__`): a
`Lambda` layer wrapping a Keras function, or any class registered by code that happens
to be imported, still deserializes and runs. `unsafe_objects` reads `config.json` as
plain JSON and refuses, before Keras sees anything:

- any `Lambda` layer, and the Keras classes that wrap foreign code or files
  (`TFSMLayer`, `TorchModuleWrapper`, `JaxLayer`, `FlaxLayer`);
- serialized Python functions (`__lambda__`, `__python_function__`), and serialized
  functions from anywhere but Keras's serializable namespaces (activations,
  initializers, regularizers, constraints, losses, metrics) — `keras.utils.plot_model`
  as an activation is refused;
- any class whose `module` is neither `keras` nor `keras.*`, unless it is one of
  archbuilder's own (`registered_name` `archbuilder>…`).

No backend is imported here.
"""

import json

from archbuilder.layers.model_file import ModelFileError
from archbuilder.text import short
from archbuilder.format.jsonpath import join as path_join

__all__ = ["UnsafeModelError", "FUNCTION_MODULES", "unsafe_objects", "registry_problems"]

# Keras classes that run code or load files not covered by the checks here.
CODE_RUNNING_CLASSES = {
    "Lambda": "a Lambda layer runs Python code",
    "TFSMLayer": "a TFSMLayer loads a TensorFlow SavedModel from another path",
    "TorchModuleWrapper": "a TorchModuleWrapper unpickles a PyTorch module",
    "JaxLayer": "a JaxLayer wraps a Python function",
    "FlaxLayer": "a FlaxLayer wraps a Python module",
}
FUNCTION_CLASSES = {"__lambda__", "__python_function__"}
# Where a serialized function may come from: Keras's serializable namespaces (what it
# searches for `"module": "builtins"`, less optimizers, which serialize as classes).
FUNCTION_MODULES = ("keras.activations", "keras.initializers", "keras.regularizers", "keras.constraints",
                    "keras.losses", "keras.metrics")
# Functions of those namespaces that look objects up or build them from configs, not modeling functions.
_META_FUNCTIONS = {"get", "serialize", "deserialize"}
# Keras's markers for plain data (tensors, arrays, slices), not classes.
DATA_CLASSES = {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__typespec__", "__slice__",
                "__ellipsis__"}
ARCHBUILDER_PACKAGE = "archbuilder"


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


def _function_problem(obj, outside):
    """Why a serialized function (`class_name` `function`) may not be loaded, or None.

    Keras looks a function up by its name (`config`): first among registered custom
    objects, then as `module.name` in Keras's public API (any `keras.*` module: `keras.utils`
    has `plot_model`, `get_file`, ...), and for `builtins` in its serializable namespaces.
    Only those namespaces are allowed here, by name: activations, initializers,
    regularizers, constraints, losses and metrics — and archbuilder's own functions.
    """
    name = obj.get("config")
    module = obj.get("module")
    if not isinstance(name, str):
        return "a serialized function without a name"
    if ">" in name:
        return None if _is_archbuilder_name(name) else f"function {short(name)} is registered by other code, {outside}"
    if not name.isidentifier() or name in _META_FUNCTIONS:
        return f"function {short(name)} is not a Keras modeling function; {outside}"
    if module == "builtins" or module in FUNCTION_MODULES:
        return None
    return (f"function {short(name)} from module {json.dumps(module)[:60]}: archbuilder loads functions only from "
            f"{', '.join(FUNCTION_MODULES)}")


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
        return _function_problem(obj, outside)
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


def registry_problems(config, custom_objects):
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
