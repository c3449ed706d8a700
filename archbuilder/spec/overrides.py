"""Overrides: changes applied to a spec before it is validated (`--set`, `--epochs`, ...).

Every override is a `(path, value)` pair: `--set training.epochs=3` is
`("training.epochs", 3)`, `--batch-size 64` is `("training.batch_size", 64)`.
`PATH=VALUE` text is read by `parse_override` (VALUE as JSON, else as a string);
a pair whose value is `DELETE` removes the key. Paths follow the one JSON-path
grammar (`archbuilder.format.jsonpath`), with or without the leading `$.`.
"""

import copy
import json

from archbuilder.errors import SpecError
from archbuilder.format import jsonpath

__all__ = ["DELETE", "parse_override", "as_pairs", "apply_overrides", "describe"]


class _Delete:
    def __repr__(self):
        return "DELETE"


DELETE = _Delete()
"""The value of an override that removes its key."""


def parse_override(text, source="--set"):
    """`'training.epochs=3'` -> `(['training', 'epochs'], 3)`; the value is JSON, else a string.

    Raises:
        SpecError: at `$` of `source`, when `text` is not `PATH=VALUE` with a readable path.
    """
    if "=" not in text:
        raise SpecError("$", f"--set expects PATH=VALUE, got {text!r}", source)
    path, value = text.split("=", 1)
    keys = _keys(path, source)
    try:
        value = json.loads(value)
    except ValueError:
        pass
    return keys, value


def _keys(path, source):
    if isinstance(path, (list, tuple)):
        keys = list(path)
    else:
        try:
            keys = jsonpath.keys(path)
        except ValueError as e:
            raise SpecError("$", f"--set: {e}", source) from None
    if not keys:
        raise SpecError("$", f"--set: empty path in {path!r}", source)
    return keys


def as_pairs(overrides, source="--set"):
    """Overrides as `(keys, value)` pairs: from `PATH=VALUE` strings or `(path, value)` pairs."""
    pairs = []
    for override in overrides:
        if isinstance(override, str):
            pairs.append(parse_override(override, source))
        else:
            path, value = override
            pairs.append((_keys(path, source), value))
    return pairs


def describe(overrides):
    """The overrides as `PATH=VALUE` text (the form `--set` takes), e.g. for a command to rerun."""
    lines = []
    for keys, value in as_pairs(overrides):
        path = jsonpath.name(jsonpath.format_keys(keys))
        lines.append(f"{path}={json.dumps(value) if not isinstance(value, str) else value}")
    return lines


def apply_overrides(doc, overrides, source="--set"):
    """Returns a copy of `doc` with each override applied, in order.

    Raises:
        SpecError: an override that cannot be read or applied, located in `source`.
    """
    doc = copy.deepcopy(doc)
    for keys, value in as_pairs(overrides, source):
        node, path = doc, "$"
        for key, nxt in zip(keys, keys[1:] + [None]):
            step = jsonpath.join(path, key)
            if nxt is None:
                if isinstance(key, int) and not (isinstance(node, list) and key < len(node)):
                    raise SpecError(step, f"--set: {path} has no item {key}", source)
                if not isinstance(key, int) and not isinstance(node, dict):
                    raise SpecError(path, f"--set: {path} is not an object", source)
                if value is DELETE:
                    node.pop(key, None) if isinstance(node, dict) else None
                else:
                    node[key] = value
            elif isinstance(key, int):
                if not isinstance(node, list) or key >= len(node):
                    raise SpecError(step, f"--set: {path} has no item {key}", source)
                node = node[key]
            else:
                if not isinstance(node, dict):
                    raise SpecError(path, f"--set: {path} is not an object", source)
                if value is DELETE and key not in node:
                    break
                node = node.setdefault(key, [] if isinstance(nxt, int) else {})
            path = step
    return doc
