"""Helpers of the semantic checks families share; each check yields `(json_path, message)`."""

from archbuilder.format import defaults as D
from archbuilder.format.search_space import is_space

__all__ = ["UNSIZED_LAST_AXIS", "possible", "unsized_last_axis", "input_rank", "integer_input"]

UNSIZED_LAST_AXIS = ("the last axis (features or channels) needs a size, not null: the first layer's weights "
                     "depend on it")


def possible(value):
    """The values a spec value may take: a choice's values, a range's ends, both booleans, or itself."""
    if not is_space(value):
        return [value]
    kind, body = next(iter(value.items()))
    if kind == "choice":
        return list(body)
    if kind == "bool":
        return [False, True]
    return [body.get("min"), body.get("max")]


def input_rank(doc):
    """The number of axes of a sample, batch axis excluded."""
    return len(doc["input"]["shape"])


def integer_input(doc):
    """True when the spec's `input.dtype` is an integer type (token ids, 8-bit values)."""
    return doc["input"].get("dtype", D.INPUT["dtype"]).startswith(("int", "uint"))


def unsized_last_axis(doc):
    """Yields the problem of an input whose last axis is null (the first layer's weights need its size)."""
    if doc["input"]["shape"][-1] is None:
        yield "$.input.shape", UNSIZED_LAST_AXIS
