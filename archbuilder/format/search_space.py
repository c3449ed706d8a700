"""Search spaces in a spec: find them, name them, resolve them.

A space is an object with exactly one of `choice`, `int`, `float`, `bool`. A list
may be `{"repeat": count, "each": item}`. Hyperparameter names are the spec path
without `$.`; repetition i of `conv.each.filters` is `conv[i].filters`, and the
count is `conv.repeat`. Resolving replaces every space by what a `pick` function
returns for it, so `build --defaults`, keras-tuner trials and `best.json` share
one walk.
"""

from archbuilder.format.jsonpath import join as path_join
from archbuilder.format.jsonpath import name as _name

__all__ = ["is_space", "is_repeat", "find", "iter_spaces", "iter_repeats", "resolve", "default_value", "has_spaces",
           "FROZEN_KEYS", "SPACE_KINDS"]

SPACE_KINDS = ("choice", "int", "float", "bool")
FROZEN_KEYS = ("spec_version", "name", "family", "input", "data", "tuning")


def is_space(value):
    """True for `{"choice": […]}`, `{"int": {…}}`, `{"float": {…}}`, `{"bool": {…}}`."""
    return (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in SPACE_KINDS
            and isinstance(next(iter(value.values())), (list, dict)))


def is_repeat(value):
    return isinstance(value, dict) and set(value) == {"repeat", "each"}


def default_value(space):
    """What `build --defaults` uses: the space's default, else its first choice or its min."""
    kind, body = next(iter(space.items()))
    if kind == "choice":
        return body[0]
    if "default" in body:
        return body["default"]
    if kind == "bool":
        return False
    return body["min"]


def default_pick(name, space):
    return default_value(space)


def _top_items(doc):
    for key, value in doc.items():
        if key not in FROZEN_KEYS:
            yield key, value


def find(value, path, match):
    """Yields `(json_path, node)` for every node of `value` where `match(node)`, without looking inside it."""
    if match(value):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from find(item, path_join(path, key), match)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from find(item, path_join(path, i), match)


def _space_or_repeat(value):
    return is_space(value) or is_repeat(value)


def iter_spaces(doc):
    """Yields `(json_path, space)` for every space in `doc`, repeat bodies as `…each…` paths."""

    def spaces(value, path):
        for where, node in find(value, path, _space_or_repeat):
            if is_space(node):
                yield where, node
            else:
                yield from spaces(node["repeat"], path_join(where, "repeat"))
                yield from spaces(node["each"], path_join(where, "each"))

    for key, value in _top_items(doc):
        yield from spaces(value, path_join("$", key))


def iter_repeats(doc):
    """Yields `(json_path, form)` for every `{"repeat", "each"}` form in `doc`."""
    for key, value in _top_items(doc):
        for where, node in find(value, path_join("$", key), _space_or_repeat):
            if is_repeat(node):
                yield where, node


def has_spaces(doc):
    return next(iter_spaces(doc), None) is not None


def resolve(doc, pick=default_pick):
    """Returns a copy of `doc` with every space and repeat form replaced by a value.

    Args:
        doc: a spec document (schema-valid).
        pick: `pick(name, space) -> value`, called in document order; `name` is the
            hyperparameter name (`conv[1].filters`). Repetitions beyond the count are
            never visited, so their hyperparameters stay inactive.

    Returns:
        The resolved document: plain JSON values only.
    """

    def walk(value, path):
        if is_space(value):
            return pick(_name(path), value)
        if is_repeat(value):
            count = walk(value["repeat"], path_join(path, "repeat"))
            return [walk(value["each"], path_join(path, i)) for i in range(count)]
        if isinstance(value, dict):
            return {key: walk(item, path_join(path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, path_join(path, i)) for i, item in enumerate(value)]
        return value

    return {key: (value if key in FROZEN_KEYS else walk(value, path_join("$", key)))
            for key, value in doc.items()}
