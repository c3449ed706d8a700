"""Strict JSON reading for specs: every refusal is one located line, never a traceback.

Python's `json` module accepts NaN/Infinity, keeps the last of duplicate keys, and
recurses until the interpreter gives up; a spec is untrusted input, so each of
those is refused here with the position or JSON path at fault.
"""

import json
import os

from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.format.jsonpath import join as path_join

MAX_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_INT_DIGITS = 100


class _Object(dict):
    """A JSON object that remembers the keys it saw more than once."""

    duplicates = ()


def _object_pairs(pairs):
    obj = _Object()
    seen = []
    for key, value in pairs:
        if key in obj:
            seen.append(key)
        obj[key] = value
    if seen:
        obj.duplicates = tuple(seen)
    return obj


class _BadLiteral(ValueError):
    """A literal that Python's json reads but a spec refuses; `literal` is its text, to locate it."""

    def __init__(self, literal, message):
        super().__init__(message)
        self.literal = literal


def _parse_constant(name):
    raise _BadLiteral(name, f"{name} is not valid JSON; write a number or null")


def _parse_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _BadLiteral(text, f"the number {text[:20]}{'...' if len(text) > 20 else ''} is too large for a "
                                "float; write a finite number")
    return value


def _parse_int(text):
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _BadLiteral(text, f"integer of {len(text)} digits is too large")
    return int(text)


_LITERAL_CHARS = frozenset("0123456789+-.eEaNIfinty")


def _position(text, literal):
    """`(line, column)` of the first `literal` outside strings that starts a token, or None.

    The json module's hooks see a literal's text but not its position; the first
    occurrence is the one that failed, since the parser reads in order and stops there.
    """
    first = literal[0]
    for pos, ch in _outside_strings(text):
        if ch == first and text.startswith(literal, pos) and (pos == 0 or text[pos - 1] not in _LITERAL_CHARS):
            line = text.count("\n", 0, pos) + 1
            return line, pos - (text.rfind("\n", 0, pos) + 1) + 1
    return None


def _outside_strings(text):
    """Yields `(position, character)` for every character of `text` outside JSON strings."""
    in_string = escaped = False
    for pos, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        else:
            yield pos, ch


def _depth(text):
    """Nesting depth of brackets outside strings (cheap, before parsing)."""
    depth = deepest = 0
    for _, ch in _outside_strings(text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _duplicate_errors(value, path, source):
    if isinstance(value, dict):
        for key in getattr(value, "duplicates", ()):
            yield SpecError(path, f"duplicate key '{key}': each key may appear once", source)
        for key, item in value.items():
            yield from _duplicate_errors(item, path_join(path, key), source)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _duplicate_errors(item, path_join(path, i), source)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_json(data, source):
    """Parses spec bytes or text into a JSON object.

    Args:
        data: the file's bytes (UTF-8, a BOM allowed) or text.
        source: the file name used in error messages.

    Returns:
        The parsed object, as plain dicts and lists.

    Raises:
        SpecErrors: empty, too large, not UTF-8, too deep, invalid JSON,
            NaN/Infinity, huge integers, duplicate keys, or not an object.
    """

    def fail(message):
        raise SpecErrors([SpecError("$", message, source)])

    if len(data) > MAX_BYTES:
        fail(_too_large(len(data)))
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            fail(f"not UTF-8 text (byte {e.start}: {data[e.start:e.start + 1]!r}); save the spec as UTF-8")
    if not data.strip():
        fail("the file is empty; a spec is a JSON object such as {\"spec_version\": 1, ...}")
    if _depth(data) > MAX_DEPTH:
        fail(f"nesting deeper than {MAX_DEPTH} levels")
    try:
        doc = json.loads(data, object_pairs_hook=_object_pairs,
                         parse_constant=_parse_constant, parse_float=_parse_float, parse_int=_parse_int)
    except json.JSONDecodeError as e:
        fail(f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}")
    except _BadLiteral as e:
        where = _position(data, e.literal)
        fail(f"invalid JSON at line {where[0]}, column {where[1]}: {e}" if where else f"invalid JSON: {e}")
    except (ValueError, RecursionError) as e:
        fail(f"invalid JSON: {str(e).splitlines()[0]}")
    if not isinstance(doc, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(doc), "a number")
        fail(f"a spec is a JSON object {{...}}, not {kind}")
    errors = list(_duplicate_errors(doc, "$", source))
    if errors:
        raise SpecErrors(errors)
    return _plain(doc)


def read_json_file(path, source=None):
    """Reads and parses a spec file; see `parse_json`."""
    source = source or str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)  # never more: a huge file is refused without being read
            if len(data) > MAX_BYTES:
                # The real size, not the capped read (a pipe has none: say "more than").
                size = os.fstat(f.fileno()).st_size
                raise SpecErrors([SpecError("$", _too_large(size if size > MAX_BYTES else None), source)])
    except OSError as e:
        raise SpecErrors([SpecError("$", f"cannot read the file: {e.strerror}", source)]) from None
    return parse_json(data, source)


def _too_large(size):
    what = f"{size:,} bytes" if size is not None else f"more than {MAX_BYTES:,} bytes"
    return f"the file is {what}; specs are limited to {MAX_BYTES:,}"
