"""jsonschema's errors in archbuilder's words: one `SpecError` per problem, at the entry at fault.

`schema_errors(doc, source)` collects every error of a document (`iter_errors`) and
says each the way a person fixes it: an unknown key with the key it was probably
meant to be (or the family it belongs to), a misspelt enum value, a missing key,
a wrong type.
"""

import functools
import re

from archbuilder.errors import SpecError
from archbuilder.format.jsonpath import join as path_join
from archbuilder.format.schema import load_schema
from archbuilder.format.schema import spec_validator
from archbuilder.format.search_space import SPACE_KINDS
from archbuilder.format.search_space import is_repeat
from archbuilder.text import closest as _closest
from archbuilder.text import did_you_mean as _did_you_mean
from archbuilder.text import short as _short

__all__ = ["schema_errors"]


def _family_keys(key):
    schema = load_schema()
    families = []
    for branch in schema.get("allOf", []):
        family = branch.get("if", {}).get("properties", {}).get("family", {}).get("const")
        if family and key in branch.get("then", {}).get("properties", {}):
            families.append(family)
    return families


class _Line:
    """One schema error line; `meant` is the key an unknown key was probably meant to be,
    `missing` the required key a line reports as absent, `wrong_type` whether it says the
    value has the wrong type."""

    def __init__(self, path, message, meant=None, missing=None, wrong_type=False):
        self.path, self.message, self.meant, self.missing = path, message, meant, missing
        self.wrong_type = wrong_type


def _error_path(error):
    """The JSON path of a jsonschema error, keys escaped as in every other archbuilder path."""
    return functools.reduce(path_join, error.absolute_path, "$")


def _schema_error_lines(error, doc):
    """Yields a `_Line` for one jsonschema error, in archbuilder's words."""
    kind, instance = error.validator, error.instance
    path = _error_path(error)
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = list(error.schema.get("properties", {}))
        for key in instance:
            if key in allowed or any(re.search(p, key) for p in error.schema.get("patternProperties", {})):
                continue
            meant = _closest(key, allowed)
            hint = f" (did you mean '{meant}'?)" if meant else ""
            families = _family_keys(key) if path == "$" else []
            if families and not hint:
                hint = (f" ({key!r} belongs to the {' / '.join(families)} family; this spec is "
                        f"{_short(doc.get('family'))})")
            yield _Line(path, f"unknown key {_short(key)}{hint}", meant=meant)
        return
    if kind == "enum":
        yield _Line(path, f"{_short(instance)} is not one of {_short(error.validator_value, 200)}"
                    + (_did_you_mean(instance, error.validator_value) if isinstance(instance, str) else ""))
        return
    if kind == "required":
        allowed = error.schema.get("properties", {})
        unknown = [k for k in instance if k not in allowed] if isinstance(instance, dict) else []
        for key in error.validator_value:
            if isinstance(instance, dict) and key not in instance:
                # A key close to the missing one is likely its misspelling: say so.
                typo = next((k for k in unknown if _closest(k, [key]) == key), None)
                hint = f" ({_short(typo)} looks like a misspelling of it)" if typo is not None else ""
                yield _Line(path, f"missing required key {key!r}{hint}", missing=key)
        return
    if kind == "const":
        yield _Line(path, f"expected {_short(error.validator_value)}, got {_short(instance)}")
        return
    if kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        yield _Line(path, f"{_short(instance)} is not of type {expected}", wrong_type=True)
        return
    if kind in ("minProperties", "maxProperties") and isinstance(instance, dict) and instance and set(instance) <= set(SPACE_KINDS):
        yield _Line(path, f"a search space has exactly one of {', '.join(map(repr, SPACE_KINDS))}")
        return
    message = error.message
    if len(message) > 300:
        message = message.replace(repr(instance), _short(instance))[:300]
    yield _Line(path, message)


def schema_errors(doc, source):
    """Yields a `SpecError` for every schema error of `doc`, one per problem."""
    lines = []
    for error in spec_validator().iter_errors(doc):
        if is_repeat(error.instance) and error.json_path.endswith(".each"):
            lines.append(_Line(_error_path(error), "a repeat form cannot be nested in another one's \"each\" "
                                                   "(spec_version 1)"))
        else:
            lines.extend(_schema_error_lines(error, doc))
    # A misspelt required key is one problem: when an "unknown key ... (did you mean 'K'?)" line
    # exists for the same object, it says it, and "missing required key 'K'" would repeat it.
    meant = {(line.path, line.meant) for line in lines if line.meant}
    # A value of the wrong type is one problem too: its range (1e300 > the int64 maximum) is moot.
    wrong_type = {line.path for line in lines if line.wrong_type}
    seen = set()
    for line in lines:
        if line.missing is not None and (line.path, line.missing) in meant:
            continue
        if line.path in wrong_type and not line.wrong_type:
            continue
        if (line.path, line.message) not in seen:
            seen.add((line.path, line.message))
            yield SpecError(line.path, " ".join(line.message.splitlines()), source)
