"""The `custom` family's Keras builder: allow-listed Keras layers by class name, as a stack or a graph."""

import inspect

import keras

from archbuilder.errors import SpecError
from archbuilder.families.custom.allowlist import LAYERS
from archbuilder.families.custom.spec import default_name
from archbuilder.layers import blocks

__all__ = ["build", "layer_class"]

_RESERVED = ("type", "name", "inputs")


def layer_class(type_name, path):
    """The Keras layer class for an allow-listed `type`.

    Args:
        type_name: a class name from `archbuilder.families.custom.allowlist.LAYERS`, e.g. `"Conv2D"`.
        path: the entry's JSON path, for the error.

    Returns:
        The class from `keras.layers`.

    Raises:
        SpecError: at `<path>.type` when the type is not allowed.
    """
    cls = getattr(keras.layers, type_name, None)
    if type_name not in LAYERS or not (inspect.isclass(cls) and issubclass(cls, keras.layers.Layer)):
        raise SpecError(f"{path}.type", f"{type_name!r} is not an allowed layer type")
    return cls


def _accepts_kernel_regularizer(cls):
    return "kernel_regularizer" in inspect.signature(cls.__init__).parameters


def build(spec, graph):
    """Builds a concrete `custom` spec.

    Each entry is `getattr(keras.layers, type)(**arguments)`, called on the
    outputs named by `inputs` (default: the previous layer; `"input"` is the
    model input; a list for merge layers). Unnamed layers are named by
    `default_name`. The top-level `regularization` is given as
    `kernel_regularizer` to layers that accept one and set none of their own.
    The last layer is the model's output.

    Args:
        spec: the concrete spec.
        graph: the `blocks.Graph` that records layers and paths.

    Returns:
        `(inputs, outputs, None)`.
    """
    inputs = graph.input()
    x = blocks.augmentation(graph, inputs, spec["training"]["augmentation"])
    outputs = {"input": inputs}
    regularizer = graph.regularizer(None)
    items = spec["layers"]
    named = {item["name"] for item in items if item.get("name")}
    for i, item in enumerate(items):
        path = f"$.layers[{i}]"
        cls = layer_class(item["type"], path)
        arguments = {key: value for key, value in item.items() if key not in _RESERVED}
        if regularizer is not None and "kernel_regularizer" not in arguments and _accepts_kernel_regularizer(cls):
            arguments["kernel_regularizer"] = regularizer
        name = item.get("name") or _unique(default_name(i), named)
        x = graph.add(cls, path, _inputs_of(item, x, outputs, path), name, **arguments)
        outputs[name] = x
    return inputs, x, None


def _unique(name, taken):
    candidate, n = name, 1
    while candidate in taken or candidate == "input":
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _inputs_of(item, previous, outputs, path):
    sources = item.get("inputs")
    if sources is None:
        return previous

    def lookup(source):
        if source not in outputs:
            earlier = ", ".join(repr(name) for name in outputs)
            raise SpecError(f"{path}.inputs", f"no earlier layer is named {source!r}; earlier names: {earlier}")
        return outputs[source]

    if isinstance(sources, str):
        return lookup(sources)
    return [lookup(source) for source in sources]
