"""Files written whole or not at all: a temporary name in the same folder, fsync, rename.

A kill at any moment leaves the old file, the new file, or nothing — never half
of one. Every file of a run directory, a saved model and a tuner's state goes
through here.
"""

import contextlib
import errno
import json
import math
import os
import shutil
import tempfile

from archbuilder.errors import ArchbuilderError

__all__ = ["DiskFullError", "atomic_write", "atomic_write_text", "atomic_write_json", "atomic_save_model"]

_FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(ArchbuilderError, OSError):
    """No space left (or the quota is reached) while writing a file: which file, how much it needed, how much is free."""

    def __init__(self, message):
        super().__init__(message)
        self.errno = errno.ENOSPC

    def __str__(self):
        return self.args[0]


def _is_disk_full(error):
    # h5py (inside model.save) reports "errno = 28" in its message without setting errno.
    return isinstance(error, OSError) and (error.errno in _FULL or "No space left" in str(error)
                                           or "errno = 28" in str(error) or "Disk quota exceeded" in str(error))


def _bytes(n):
    return f"{n:,} bytes"


def _disk_full(path, needed):
    folder = os.path.dirname(os.path.abspath(path))
    try:
        free = _bytes(shutil.disk_usage(folder).free)
    except OSError:
        free = "an unknown amount"
    return DiskFullError(f"{path}: no space left on the device: writing it needs {needed}; {free} free in "
                         f"{folder}; free some space and run again")


def _written(tmp):
    try:
        return os.path.getsize(tmp)
    except OSError:
        return 0


def _umask_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _publish(tmp, path):
    """Renames `tmp` to `path` with the permissions a plain open() would have given it."""
    os.chmod(tmp, _umask_mode())
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_write(path, mode="w", *, size=None, **kwargs):
    """Opens a temporary file next to `path` and renames it to `path` on success.

    Args:
        path: the file.
        mode: `open`'s mode.
        size: the bytes to be written, when known: a full disk is then reported with it.

    Raises:
        DiskFullError: no space left: the file, what it needs and what is free, in one line.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    except OSError as e:
        if _is_disk_full(e):
            raise _disk_full(path, _bytes(size) if size else "a new file") from None
        raise
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        _publish(tmp, path)
    except BaseException as e:
        written = _written(tmp)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if _is_disk_full(e):
            needed = _bytes(size) if size else f"more than {_bytes(written)}"
            raise _disk_full(path, needed) from None
        raise


def atomic_write_text(path, text):
    data = text.encode("utf-8")
    with atomic_write(path, "wb", size=len(data)) as f:
        f.write(data)


def atomic_write_json(path, value):
    """Writes `value` as strict JSON: a NaN or infinite float (a diverged loss) is written as null."""
    atomic_write_text(path, json.dumps(_finite(value), indent=2, default=_jsonable, allow_nan=False) + "\n")


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # NumPy arrays and scalars
        return _finite(value.tolist())
    return value


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def atomic_save_model(model, path):
    """`model.save(path)` through a temporary `.keras` file and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".keras", dir=folder)
    os.close(fd)
    try:
        model.save(tmp)
        _publish(tmp, path)
    except BaseException as e:
        size = _written(tmp)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if _is_disk_full(e):
            weights = 4 * int(model.count_params())  # float32 weights; the optimizer's slots come on top
            raise _disk_full(path, f"about {_bytes(max(size, weights))} (the model's weights)") from None
        raise
