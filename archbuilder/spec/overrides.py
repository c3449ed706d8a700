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
from archbuilder.errors import SpecErrors
from archbuilder.format import jsonpath
from archbuilder.format.jsonfile import MAX_DEPTH
from archbuilder.format.jsonfile import NOT_JSON
from archbuilder.format.jsonfile import check_value
from archbuilder.format.jsonfile import parse_value

__all__ = ["DELETE", "parse_override", "as_pairs", "apply_overrides", "describe"]


class _Delete:
    def __repr__(self):
        return "DELETE"


DELETE = _Delete()
"""The value of an override that removes its key."""


def parse_override(text, source="--set"):
    """`'training.epochs=3'` -> `(['training', 'epochs'], 3)`; the value is JSON, else a string.

    The JSON is read as strictly as a spec file (`archbuilder.format.jsonfile.parse_value`):
    NaN, Infinity, duplicate keys, huge integers and deep nesting are refused.

    Raises:
        SpecError: at `$` of `source`, when `text` is not `PATH=VALUE` with a readable path;
            at the override's path, when the value is JSON a spec may not hold.
    """
    if not isinstance(text, str):
        raise SpecError("$", f"an override is a 'PATH=VALUE' string or a (path, value) pair; got "
                             f"{type(text).__name__}", source)
    if "=" not in text:
        raise SpecError("$", f"--set expects PATH=VALUE, got {_shown(text)}", source)
    path, value = text.split("=", 1)
    keys = _keys(path, source)
    where = jsonpath.format_keys(keys)
    try:
        parsed = parse_value(value, source, where, depth=len(keys))
    except SpecError as e:
        raise SpecError(e.path, f"--set {jsonpath.name(where)}: {e.message}", source) from None
    return keys, value if parsed is NOT_JSON else parsed


def _shown(text, limit=60):
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _keys(path, source):
    if isinstance(path, (list, tuple)):
        keys = list(path)
        if not all(isinstance(k, str) or isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in keys):
            raise SpecError("$", f"--set: a path's steps are keys (str) and indices (int >= 0); got {keys!r}"[:200],
                            source)
    elif isinstance(path, str):
        try:
            keys = jsonpath.keys(path)
        except ValueError as e:
            raise SpecError("$", f"--set: {e}"[:300], source) from None
    else:
        raise SpecError("$", f"--set: a path is a str such as 'training.epochs'; got {type(path).__name__}", source)
    if not keys:
        raise SpecError("$", f"--set: empty path in {_shown(str(path))}", source)
    if len(keys) > MAX_DEPTH:
        raise SpecError("$", f"--set: a path of {len(keys)} steps is deeper than {MAX_DEPTH} levels", source)
    return keys


def as_pairs(overrides, source="--set"):
    """Overrides as `(keys, value)` pairs: from `PATH=VALUE` strings or `(path, value)` pairs."""
    if isinstance(overrides, (str, dict)) or not hasattr(overrides, "__iter__"):
        raise SpecError("$", "overrides are a list of 'PATH=VALUE' strings or (path, value) pairs; got "
                             f"{type(overrides).__name__}", source)
    pairs = []
    for override in overrides:
        if isinstance(override, str):
            pairs.append(parse_override(override, source))
        elif isinstance(override, (list, tuple)) and len(override) == 2:
            path, value = override
            keys = _keys(path, source)
            if value is not DELETE:
                value = _checked(value, keys, source)
            pairs.append((keys, value))
        else:
            raise SpecError("$", "an override is a 'PATH=VALUE' string or a (path, value) pair; got "
                                 f"{type(override).__name__}", source)
    return pairs


def _checked(value, keys, source):
    """An override's Python value held to what JSON can say (`check_value`), located at its path."""
    try:
        return check_value(value, source, jsonpath.format_keys(keys), depth=len(keys))
    except SpecErrors as e:
        first = e.errors[0]
        raise SpecError(first.path, f"--set {jsonpath.name(jsonpath.format_keys(keys))}: {first.message}",
                        source) from None


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
