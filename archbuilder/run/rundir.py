"""A run directory as one object: its files written whole (`archbuilder.atomic`), `DONE` last."""

import datetime
import json
import os
import shutil
import time

from archbuilder.atomic import atomic_save_model
from archbuilder.atomic import atomic_write
from archbuilder.atomic import atomic_write_json
from archbuilder.atomic import atomic_write_text
from archbuilder.errors import ArchbuilderError

__all__ = ["DONE", "RunDir"]

DONE = "DONE"


class RunDir:
    """The folder a `train`, `tune` or `compare` run writes.

    Args:
        path: the folder (it exists).

    Example:
        >>> run = RunDir.create("mnist1d_cnn", out="runs/try1")
        >>> run.write_json("metrics.json", {"test_accuracy": 0.95})
        >>> run.finish()
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    def __fspath__(self):
        return self.path

    def __str__(self):
        return self.path

    def __repr__(self):
        return f"RunDir({self.path!r})"

    def file(self, name):
        """The path of the run's file `name` (a name relative to the folder)."""
        return os.path.join(self.path, name)

    def exists(self, name):
        return os.path.exists(self.file(name))

    @property
    def done(self):
        """True once the run finished (`DONE` exists)."""
        return self.exists(DONE)

    def write_text(self, name, text):
        atomic_write_text(self.file(name), text)

    def write_json(self, name, value):
        atomic_write_json(self.file(name), value)

    def write_bytes(self, name, data):
        with atomic_write(self.file(name), "wb") as f:
            f.write(data)

    def save_model(self, name, model):
        atomic_save_model(model, self.file(name))

    def read_json(self, name):
        """The run's JSON file `name`, or None when it is absent.

        Raises:
            ArchbuilderError: the file exists but cannot be read as JSON.
        """
        path = self.file(name)
        if not os.path.exists(path):
            return None
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            raise ArchbuilderError(f"{path}: cannot read: {e}") from None

    def finish(self):
        """Writes `DONE`, the last file of every run."""
        self.write_text(DONE, time.strftime("%Y-%m-%dT%H:%M:%S%z") + "\n")

    @classmethod
    def create(cls, name, out=None, *, overwrite=False, resume=False, root="runs"):
        """The run directory: `out`, or `<root>/<name>-<YYYYmmdd-HHMMSS>` made unique.

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
        return cls(out)
