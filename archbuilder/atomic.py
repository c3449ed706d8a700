"""Files written whole or not at all: a temporary name in the same folder, fsync, rename.

A kill at any moment leaves the old file, the new file, or nothing — never half
of one. Every file of a run directory, a saved model and a tuner's state goes
through here.
"""

import contextlib
import json
import os
import tempfile

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_json", "atomic_save_model"]


def _umask_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _publish(tmp, path):
    """Renames `tmp` to `path` with the permissions a plain open() would have given it."""
    os.chmod(tmp, _umask_mode())
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_write(path, mode="w", **kwargs):
    """Opens a temporary file next to `path` and renames it to `path` on success."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        _publish(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text):
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(text)


def atomic_write_json(path, value):
    atomic_write_text(path, json.dumps(value, indent=2, default=_jsonable) + "\n")


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
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
