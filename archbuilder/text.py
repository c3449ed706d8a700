"""How archbuilder writes values in its one-line messages: one notation for each kind of value.

- `closest` / `did_you_mean`: the one "did you mean" of every message (keys, enum
  values, dataset names, CSV columns, class names).
- `short`: a value as JSON (strings quoted), cut to one short line.
- `listed`: several values, each as Python writes it (`'plain', 'sparse'`), cut to one line.
- `shape`: a shape as `28x28x1` (`?` for a size that is not fixed).
- `count`: `1,234,567`, or `1.23e+45` when a count is too long to read.
- `byte_size`: `12.3 MB` (powers of 1000).
"""

import decimal
import difflib
import json

__all__ = ["closest", "did_you_mean", "short", "listed", "shape", "count", "byte_size"]

_LONGEST_WORD = 100  # difflib and the edit distance are quadratic; no key or name is that long


def _edits(a, b):
    """Edit distance counting a swap of neighbours as one edit ('adma' is 1 from 'adam')."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def closest(word, options):
    """The option `word` was most likely meant to be, or None.

    Args:
        word: what the user wrote (any value; compared as text).
        options: the allowed values.

    Returns:
        The closest option as a string, or None when none is close.
    """
    word = str(word)
    if len(word) > _LONGEST_WORD:
        return None
    matches = difflib.get_close_matches(word, [str(o) for o in options], n=3, cutoff=0.6)
    return min(matches, key=lambda m: _edits(word, m)) if matches else None


def did_you_mean(word, options):
    """` (did you mean 'x'?)` for the option closest to `word`, or `""`."""
    match = closest(word, options)
    return f" (did you mean '{match}'?)" if match else ""


def short(value, limit=60):
    """`value` as it reads in a message: strings quoted, other values as JSON, at most `limit` characters."""
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def listed(values, limit=80):
    """`'a', 'b', 3`: the values of a list, each as Python writes it, at most `limit` characters."""
    text = ", ".join(map(repr, values))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _size(s):
    if s is None:
        return "?"
    return str(s) if abs(s) < 10**9 else f"{s:.2e}" if s.bit_length() < 1000 else f"~2^{s.bit_length() - 1}"


def shape(sizes):
    """`28x28x1` for a shape, `?` for a size that is not fixed; huge sizes in e-notation."""
    return "x".join(_size(s) for s in sizes)


def count(n):
    """`1,234,567`, or `1.23e+45` for counts too long to read digit by digit."""
    if isinstance(n, float):
        if n != n or n in (float("inf"), float("-inf")):
            return str(n)
        n = int(n)
    return f"{n:,}" if n < 10**15 else format(decimal.Decimal(n), ".3g")


def byte_size(n):
    """`12.3 MB`: a size in bytes as people read it (powers of 1000)."""
    n = float(n)
    if abs(n) < 1000:
        return f"{int(n)} bytes"
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        n /= 1000
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.1f} {unit}"
