"""CSV tables (`.tsv`: tab-separated) with a header row: numeric feature columns, a label column.

Reading is bounded (`archbuilder.data.limits`): at most `MAX_COLUMNS` columns, a header
line of at most `MAX_HEADER_CHARS` and cells of at most `MAX_FIELD_CHARS` characters, every column lookup through a
set (100,000 columns are checked in linear time), and no message prints a cell or a
header name the spec did not give (`ARCHBUILDER_DEBUG=1` shows them).
"""

import csv

import numpy as np

from archbuilder.data.limits import DEBUG_HINT
from archbuilder.data.limits import MAX_COLUMNS
from archbuilder.data.limits import MAX_FIELD_CHARS
from archbuilder.data.limits import MAX_HEADER_CHARS
from archbuilder.data.limits import debug
from archbuilder.data.limits import regular_file
from archbuilder.data.limits import shown
from archbuilder.data.raw import RawData
from archbuilder.data.raw import one_line
from archbuilder.errors import DataError
from archbuilder.text import did_you_mean

__all__ = ["read_csv"]

_LABEL_NAMES = ("label", "labels", "target", "class", "y")


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _lines(f, source):
    """The file's lines for `csv.reader`, each at most as long as the header may be."""
    while True:
        line = f.readline(MAX_HEADER_CHARS + 1)
        if len(line) > MAX_HEADER_CHARS:
            raise DataError(f"the header line is over {MAX_HEADER_CHARS:,} characters, the limit", source)
        if not line:
            return
        yield line


def _header(path, sep, source):
    """The header row, read with Python's `csv` (bounded), or None for an empty file."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            first = next(csv.reader(_lines(f, source), delimiter=sep), None)
    except csv.Error as e:
        if "field larger than field limit" in str(e):
            raise DataError(f"line 1: a header cell is over {MAX_FIELD_CHARS:,} characters", source) from None
        raise DataError(f"cannot read CSV: line 1: {one_line(e)}", source) from None
    except UnicodeDecodeError as e:
        raise DataError(f"cannot read CSV: not UTF-8 text (byte {e.start} of line 1)", source) from None
    except OSError as e:
        raise DataError(f"cannot read CSV: {e.strerror}", source) from None
    if first is not None and len(first) > MAX_COLUMNS:
        raise DataError(f"the header has {len(first):,} columns, over the limit of {MAX_COLUMNS:,}", source)
    return first


def _columns_note(columns):
    """`; columns: a, b, c` with `ARCHBUILDER_DEBUG`, else how many there are and how to list them."""
    if debug():
        return f"; columns: {', '.join(columns)}"
    return f"; the header has {len(columns):,} columns ({DEBUG_HINT})"


def _column(columns, name, source, what):
    """Refuses a column the spec names that the header does not have (did-you-mean from the header)."""
    raise DataError(f"no {what} '{name}'{did_you_mean(name, columns)}{_columns_note(columns)}", source)


def read_csv(path, source, target=None, features=None, need_target=True):
    """Reads a CSV (`.tsv`: tab-separated) with a header row.

    Feature columns must be numeric (booleans read as 0 and 1); a text target becomes
    class ids with the sorted distinct values as class names.
    """
    import pandas as pd

    regular_file(path, source)
    sep = "\t" if str(path).endswith(".tsv") else ","
    first = _header(path, sep, source)
    if not first:
        raise DataError("the file is empty; expected a header row and data rows", source)
    if all(_is_number(cell) for cell in first):
        raise DataError("no header row: the first line holds numbers only; add a first line naming the columns, "
                        "e.g. x1,x2,label", source)
    try:
        frame = pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty; expected a header row and data rows", source) from None
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as e:
        raise DataError(f"cannot read CSV: {one_line(e)}", source) from None
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    known = set(columns)
    if len(frame) == 0:
        raise DataError("no data rows after the header", source)
    if target is None and need_target:
        guess = next((c for c in columns if c.lower() in _LABEL_NAMES), None)
        hint = f' e.g. "target": "{guess}"' if guess else ""
        raise DataError(f'needs "target", the name of the label column{hint}{_columns_note(columns)}', source)
    if target is not None and target not in known:
        _column(columns, target, source, "column")
    named = features is not None
    if features is None:
        features = [c for c in columns if c != target]
    missing = next((c for c in features if c not in known), None)
    if missing is not None:
        _column(columns, missing, source, "feature column")
    if not features:
        raise DataError("no feature columns besides the target", source)
    x = _numeric_features(frame, features, source, named, {c: i + 1 for i, c in enumerate(columns)})
    info = {"features": list(features), "target": target}
    if target is None:
        return RawData(source, x, info=info)
    return _labels(frame, target, x, info, source)


def _labels(frame, target, x, info, source):
    labels = frame[target]
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise DataError(f"target column '{target}' has {int(labels.isna().sum())} empty cell(s); the first at "
                        f"line {row + 2}", source)
    if labels.dtype.kind in "biuf":
        return RawData(source, x, labels.to_numpy(), info=info)
    values = labels.astype(str).to_numpy()
    longest = int(np.argmax([len(v) for v in values]))
    if len(values[longest]) > MAX_FIELD_CHARS:
        raise DataError(f"target column '{target}': the cell at line {longest + 2} is over {MAX_FIELD_CHARS:,} "
                        "characters; labels are class names", source)
    class_names = sorted(set(values))
    y = np.searchsorted(np.array(class_names), values)
    return RawData(source, x, y, class_names=class_names, info=info, text_labels=True)


def _name(column, named, number):
    """How a message names a column: as the spec named it, else by number (the header name with debug)."""
    if named:
        return f"'{column}'"
    return f"{number}" + (f" ('{column}')" if debug() else "")


def _numeric_features(frame, features, source, named, numbers):
    import pandas as pd

    kind = {c: dtype.kind for c, dtype in zip(frame.columns, frame.dtypes)}  # one pass: frame[c] costs per column
    bad = [c for c in features if kind[c] not in "biuf"]
    if bad:
        column = frame[bad[0]]
        coerced = pd.to_numeric(column, errors="coerce")
        rows = np.flatnonzero((coerced.isna() & column.notna()).to_numpy())
        where = f" (first at line {rows[0] + 2}{shown(column.iloc[rows[0]])})" if len(rows) else ""
        names = ", ".join(_name(c, named, numbers[c]) for c in bad[:5]) + (", ..." if len(bad) > 5 else "")
        hint = "" if debug() else f"; {DEBUG_HINT}"
        raise DataError(f"feature column{'s' if len(bad) > 1 else ''} {names} not numeric{where}; encode them as "
                        f'numbers, or list the numeric columns in "features"{hint}', source)
    kinds = {kind[c] for c in features}
    table = frame if list(features) == list(frame.columns) else frame[features]  # in the order asked for
    # Booleans are 0 and 1; a table mixing them with numbers would otherwise become an object array.
    x = table.astype({c: np.int64 for c in features if kind[c] == "b"}).to_numpy() if (
        "b" in kinds and len(kinds) > 1) else table.to_numpy()
    if x.dtype.kind == "f":
        bad_cells = ~np.isfinite(x)
        if bad_cells.any():
            row, col = np.argwhere(bad_cells)[0]
            raise DataError(f"{int(bad_cells.sum())} empty, NaN or infinite cell(s) in feature columns; the first at "
                            f"line {row + 2}, column {_name(features[col], named, numbers[features[col]])}", source)
    return x
