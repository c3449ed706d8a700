"""A Keras model's config as a key: equal keys, the same computation (as far as the key's rule goes)."""

import json

from archbuilder import compat

__all__ = ["DROP", "config_key", "read_at_build"]

DROP = object()
"""What a `rewrite` returns for a config entry the key leaves out."""


def read_at_build(key):
    """True for a layer setting read only when the weights and seed states are made (an initializer, a seed)."""
    return key == "seed" or key.endswith("_initializer")


def _layer_names(config, names):
    """Numbers the model and layer names of a Keras config in their order of first appearance."""
    if isinstance(config, dict):
        layers = config.get("layers")
        for layer in layers if isinstance(layers, list) else ():
            name = layer.get("name") or (layer.get("config") or {}).get("name") if isinstance(layer, dict) else None
            if isinstance(name, str):
                names.setdefault(name, f"#{len(names)}")
        for value in config.values():
            _layer_names(value, names)
    elif isinstance(config, (list, tuple)):
        for value in config:
            _layer_names(value, names)
    return names


def config_key(model, rewrite, *extra):
    """`model.get_config()` as a string, each entry through `rewrite`; None for a model without a config.

    Args:
        model: a Keras model.
        rewrite: `(key, value) -> value`, or `DROP` to leave the entry out; called on every
            entry of every dict of the config, outermost first.
        *extra: more JSON values the key holds (a batch size, a compile config).

    The model and layer names are replaced by their order of appearance (Keras numbers
    the layers of every new model afresh). TensorFlow is not imported for it
    (`compat.serializing_without_tensorflow`).
    """
    try:
        with compat.serializing_without_tensorflow():
            config = model.get_config()
    except NotImplementedError:  # a subclassed model
        return None
    names = _layer_names(config, {config.get("name"): "#model"} if isinstance(config.get("name"), str) else {})

    def canonical(value):
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                item = rewrite(key, item)
                if item is not DROP:
                    out[key] = canonical(item)
            return out
        if isinstance(value, (list, tuple)):
            return [canonical(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    return json.dumps([type(model).__name__, canonical(config), *extra], sort_keys=True, default=str)
