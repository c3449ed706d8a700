"""The layer items families share: conv blocks, dense items and the prediction layer.

`cnn`'s `conv` and `dense`, `rnn`'s and `mlp`'s `dense`, an autoencoder's
`encoder`, `decoder` and head are lists of the same items. This module fills their
defaults in a rendered spec (search spaces kept) and expands them in a concrete
one (activation inherited, `pool: 2` written out, regularization normalized).
"""

import copy

from archbuilder.format import defaults as D
from archbuilder.format.outputs import concrete
from archbuilder.format.outputs import output_activation
from archbuilder.format.search_space import is_repeat
from archbuilder.format.search_space import is_space

__all__ = ["fill", "items", "is_conv", "fill_items", "fill_output", "concrete_item", "concrete_items",
           "concrete_output", "regularization"]


def fill(obj, defaults):
    """Adds every missing key of `defaults` to the object `obj` (not to a search space); returns `obj`.

    Null defaults are filled too (`"pool": null`): a rendered spec shows every setting,
    and every key whose default is null accepts null in the schema.
    """
    if isinstance(obj, dict) and not is_space(obj):
        for key, value in defaults.items():
            obj.setdefault(key, copy.deepcopy(value))
    return obj


def items(value):
    """The item objects of a list-valued key, or its `each` for a repeat form."""
    if is_repeat(value):
        return [value["each"]] if isinstance(value["each"], dict) else []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def is_conv(item_list):
    """True when the items are conv blocks (they have `filters`)."""
    return any("filters" in item for item in item_list)


def fill_items(value, dense_defaults=D.DENSE_ITEM):
    """Fills the defaults of every conv or dense item of a list (or repeat form); returns True for conv items."""
    found = items(value)
    conv = is_conv(found)
    for item in found:
        if conv:
            fill(item, D.CONV_BLOCK)
            if isinstance(item.get("pool"), dict):
                fill(item["pool"], D.POOL)
        else:
            fill(item, dense_defaults)
    return conv


def fill_output(output):
    """Fills a prediction layer's defaults: dropout, and its activation once its units are known."""
    fill(output, D.OUTPUT)
    units = output.get("units")
    if "activation" not in output and concrete(units) and isinstance(units, int):
        output["activation"] = output_activation(units)


def regularization(value):
    """`{"l1", "l2"}` as floats, or None when absent or both zero."""
    if not value:
        return None
    l1, l2 = value.get("l1", 0.0), value.get("l2", 0.0)
    return {"l1": float(l1), "l2": float(l2)} if (l1 or l2) else None


def _pool(pool):
    if pool is None:
        return None
    pool = dict(pool) if isinstance(pool, dict) else {"size": pool}
    fill(pool, D.POOL)
    pool.setdefault("strides", pool["size"])
    return pool


def concrete_item(item, activation):
    """A concrete conv or dense item: its activation inherited, regularization and pool written out."""
    item = dict(item)
    item.setdefault("activation", activation)
    item["regularization"] = regularization(item.get("regularization"))
    if "filters" in item:
        item["pool"] = _pool(item.get("pool"))
        item.setdefault("transpose", False)
    return item


def concrete_items(item_list, activation):
    return [concrete_item(item, activation) for item in item_list]


def concrete_output(output):
    """A concrete prediction layer: its activation decided by its units when the spec names none."""
    output.setdefault("activation", output_activation(output["units"]))
    return output
