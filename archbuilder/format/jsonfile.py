"""Strict JSON reading for specs: every refusal is one located line, never a traceback.

Python's `json` module accepts NaN/Infinity, keeps the last of duplicate keys, and
recurses until the interpreter gives up; a spec is untrusted input, so each of
those is refused here with the position or JSON path at fault.
"""

import json
import math
import os
import stat

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
        raise _BadLiteral(text, f"integer of {len(text.lstrip('-')):,} digits is too large (the limit is "
                                f"{MAX_INT_DIGITS})")
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


def _loads(text, fail):
    """`json.loads` of spec text with every strictness hook; `fail(message)` raises the caller's error."""
    if _depth(text) > MAX_DEPTH:
        fail(f"nesting deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, object_pairs_hook=_object_pairs,
                          parse_constant=_parse_constant, parse_float=_parse_float, parse_int=_parse_int)
    except json.JSONDecodeError as e:
        fail(f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}")
    except _BadLiteral as e:
        where = _position(text, e.literal)
        fail(f"invalid JSON at line {where[0]}, column {where[1]}: {e}" if where else f"invalid JSON: {e}")
    except (ValueError, RecursionError) as e:
        fail(f"invalid JSON: {str(e).splitlines()[0] if str(e) else 'too deep'}")


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
    doc = _loads(data, fail)
    if not isinstance(doc, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(doc), "a number")
        fail(f"a spec is a JSON object {{...}}, not {kind}")
    errors = list(_duplicate_errors(doc, "$", source))
    if errors:
        raise SpecErrors(errors)
    return _plain(doc)


NOT_JSON = object()
"""What `parse_value` returns for text that is not JSON at all (`--set` then takes it as a string)."""


def parse_value(text, source, path="$", depth=0):
    """Parses one JSON value (a `--set` VALUE) with the strictness of a spec file.

    Args:
        text: the value's text.
        source: the spec file's name, for messages.
        path: the JSON path the value goes to.
        depth: how deep `path` already is (the value's nesting counts on top of it).

    Returns:
        The value (plain dicts and lists), or `NOT_JSON` for text that is not JSON
        (a bare word such as `relu`, which `--set` takes as a string).

    Raises:
        SpecError: JSON that a spec file would refuse: NaN/Infinity, a float too large,
            an integer over 100 digits, duplicate keys, nesting too deep; and invalid
            JSON in a value that starts with `{` or `[` (meant as an object or array).
    """
    stripped = text.strip()
    if _depth(stripped) + depth > MAX_DEPTH:
        raise SpecError(path, f"nesting deeper than {MAX_DEPTH} levels", source)
    try:
        value = json.loads(stripped, object_pairs_hook=_object_pairs,
                           parse_constant=_parse_constant, parse_float=_parse_float, parse_int=_parse_int)
    except json.JSONDecodeError as e:
        if stripped[:1] in ("{", "["):
            raise SpecError(path, f"invalid JSON at column {e.colno}: {e.msg}", source) from None
        return NOT_JSON
    except _BadLiteral as e:
        raise SpecError(path, str(e), source) from None
    except (ValueError, RecursionError):
        return NOT_JSON
    for error in _duplicate_errors(value, path, source):
        raise error
    return _plain(value)


def _digits(n):
    """The number of decimal digits of an int, without `str()` (which refuses over 4,300 digits)."""
    n = abs(n)
    guess = max(1, int(n.bit_length() * 0.30103))
    return guess + (n >= 10**guess)


_NAMED_TYPES = {set: ("a set", "use a list"), frozenset: ("a set", "use a list"), bytes: ("bytes", "use a str"),
                bytearray: ("bytes", "use a str")}


def _type_problem(value):
    """Why a Python value is not a JSON value, or None (containers are checked by the caller)."""
    if value is None or isinstance(value, (bool, str)):
        return None
    if isinstance(value, int):
        if value.bit_length() > 300 and _digits(value) > MAX_INT_DIGITS:
            return f"integer of {_digits(value):,} digits is too large (the limit is {MAX_INT_DIGITS})"
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return f"{'NaN' if value != value else 'Infinity'} is not valid JSON; write a finite number or null"
    kind = type(value)
    module = kind.__module__
    if module == "numpy" or module.startswith("numpy."):
        fix = "convert it with int(), float() or .tolist()"
        return f"numpy.{kind.__name__} is not a JSON value; {fix}"
    what, fix = _NAMED_TYPES.get(kind, (kind.__name__, "use a dict, list, str, int, float, bool or None"))
    return f"{what} is not a JSON value; {fix}"


def check_value(value, source, path="$", depth=0):
    """A Python value (a spec dict, an override's value) checked as a spec file would be; returns a plain copy.

    Tuples become lists (as `json.dumps` writes them); anything else that JSON cannot
    hold is refused with its JSON path: NaN/Infinity, integers over 100 digits,
    nesting over 64 levels (counted from `depth`), keys that are not strings,
    NumPy scalars, sets, bytes and other objects. Iterative: any depth is safe.

    Raises:
        SpecErrors: one located line per problem.
    """
    errors = []
    holder = [None]
    stack = [(holder, 0, value, path, depth)]
    while stack:
        parent, key, item, where, level = stack.pop()
        if isinstance(item, (dict, list, tuple)):
            if level + 1 > MAX_DEPTH:
                errors.append(SpecError(where, f"nesting deeper than {MAX_DEPTH} levels", source))
                continue
            if isinstance(item, dict):
                copy = parent[key] = {}
                for k, v in item.items():
                    if not isinstance(k, str):
                        errors.append(SpecError(where, f"key {_shown_key(k)} is not a string; JSON keys are "
                                                       "strings", source))
                        continue
                    copy[k] = None
                    stack.append((copy, k, v, path_join(where, k), level + 1))
            else:
                copy = parent[key] = [None] * len(item)
                for i, v in enumerate(item):
                    stack.append((copy, i, v, path_join(where, i), level + 1))
            continue
        problem = _type_problem(item)
        if problem:
            errors.append(SpecError(where, problem, source))
        parent[key] = item
    if errors:
        raise SpecErrors(sorted(errors, key=lambda e: e.path)[:_MAX_ERRORS])
    return holder[0]


_MAX_ERRORS = 20


def _shown_key(key):
    text = repr(key)
    return text if len(text) <= 40 else text[:37] + "..."


def read_json_file(path, source=None):
    """Reads and parses a spec file; see `parse_json`.

    Only a regular file is read: a FIFO, a device (`/dev/zero`) or a folder is refused
    without waiting on it or reading it.
    """
    source = source or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise SpecErrors([SpecError("$", f"cannot read the file: {e.strerror}", source)]) from None
    with os.fdopen(fd, "rb") as f:
        kind = special_file(os.fstat(fd).st_mode)
        if kind:
            raise SpecErrors([SpecError("$", f"{kind}, not a regular file; a spec is a JSON file", source)])
        try:
            data = f.read(MAX_BYTES + 1)  # never more: a huge file is refused without being read
        except OSError as e:
            raise SpecErrors([SpecError("$", f"cannot read the file: {e.strerror}", source)]) from None
        if len(data) > MAX_BYTES:
            raise SpecErrors([SpecError("$", _too_large(os.fstat(fd).st_size), source)])
    return parse_json(data, source)


def special_file(mode):
    """What a file that is not a regular one is (`a FIFO`, `a device`, ...), from its `st_mode`; None for a
    regular file. Reading a FIFO waits for a writer forever and a device such as /dev/zero never ends."""
    if stat.S_ISREG(mode):
        return None
    for test, what in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "a special file"


def _too_large(size):
    what = f"{size:,} bytes" if size is not None else f"more than {MAX_BYTES:,} bytes"
    return f"the file is {what}; specs are limited to {MAX_BYTES:,}"
