"""Run directories (design.md section 3): every file complete or absent, `DONE` last.

Each file is written to a temporary name in the same folder, flushed, fsynced and
renamed into place, so a kill at any moment leaves the old file, the new file, or
nothing — never half of one.
"""

import contextlib
import datetime
import json
import os
import shutil
import tempfile

from archbuilder.errors import ArchbuilderError

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_json", "atomic_save_model", "make_run_dir"]


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


def make_run_dir(name, out=None, overwrite=False, resume=False, root="runs"):
    """The run directory: `out`, or `runs/<name>-<YYYYmmdd-HHMMSS>` made unique.

    Raises:
        ArchbuilderError: `out` exists and neither `overwrite` nor `resume` is set.
    """
    if out is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        base = os.path.join(root, f"{name}-{stamp}")
        out, n = base, 1
        while os.path.exists(out):
            n += 1
            out = f"{base}-{n}"
    elif os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        if overwrite:
            shutil.rmtree(out) if os.path.isdir(out) else os.unlink(out)
        elif not resume:
            raise ArchbuilderError(f"{out}: the run directory exists; pass --overwrite to replace it "
                                   "or --resume to continue it")
    os.makedirs(out, exist_ok=True)
    return out
