"""What data reading may cost, and what its messages may show.

A spec is shared and its `data.path` may name any file on the machine, so reading is
bounded and its messages never show what a file holds:

- only regular files are read as data (a FIFO would wait forever, `/dev/zero` never ends);
- a CSV may have at most `MAX_COLUMNS` columns, a header line at most `MAX_HEADER_CHARS`
  characters, and a header cell or a text label at most `MAX_FIELD_CHARS` (Python's `csv`
  default);
- an array (an image batch, a NumPy array) is allocated only when it fits in the memory
  available now (`check_allocation`);
- messages name the file, the line and the column (by number) but no cell's value and
  no header name the spec did not give; `ARCHBUILDER_DEBUG=1` adds the values.
"""

import os

from archbuilder.errors import DataError
from archbuilder.format.jsonfile import special_file
from archbuilder.text import byte_size
from archbuilder.text import short

__all__ = ["MAX_COLUMNS", "MAX_FIELD_CHARS", "MAX_HEADER_CHARS", "DEBUG_HINT", "debug", "shown", "regular_file", "available_memory",
           "check_allocation"]

MAX_COLUMNS = 100_000
MAX_FIELD_CHARS = 131_072
MAX_HEADER_CHARS = 16_000_000
DEBUG_HINT = "ARCHBUILDER_DEBUG=1 shows the values"


def debug():
    """Whether `ARCHBUILDER_DEBUG` asks for values in messages (and tracebacks)."""
    return os.environ.get("ARCHBUILDER_DEBUG", "") not in ("", "0")


def shown(value, what="value"):
    """`, value 'x'` when `ARCHBUILDER_DEBUG` is set, else `""`: a file's content appears only on request."""
    return f", {what} {short(value.item() if hasattr(value, 'item') else value)}" if debug() else ""


def regular_file(path, source):
    """Refuses a data path that is missing or not a regular file (a FIFO, a device, a socket).

    Raises:
        DataError: `no such file or folder`, or what the file is instead.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataError("no such file or folder", source) from None
    except OSError as e:
        raise DataError(f"cannot read: {e.strerror}", source) from None
    kind = special_file(mode)
    if kind:
        raise DataError(f"{kind}, not a regular file; data files are read whole, so only regular files are", source)


def available_memory():
    """Bytes of memory available now (Linux's MemAvailable), else the machine's total, else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def check_allocation(nbytes, what, source, fix):
    """Refuses to allocate `nbytes` for `what` when that is more than the memory available.

    Raises:
        DataError: `what needs 21.8 TB; 20.1 GB of memory is available; FIX`.
    """
    available = available_memory()
    if available is not None and nbytes > available:
        raise DataError(f"{what} needs {byte_size(nbytes)}; {byte_size(available)} of memory is available; "
                        f"{fix}", source)
