"""A run directory as one object: its files written whole (`archbuilder.atomic`), `DONE` last.

A run directory is archbuilder's own: `run.json`, written first, says so (a folder
written by an earlier release is recognized by its `env.json`, or by `spec.json` beside
a resume state). While a process writes it, it holds `run.lock`, an OS file lock
(`fcntl.flock`) that the kernel releases however the process ends, so a crash leaves no
stale lock; a second writer is refused at once with the holder's PID. `--overwrite`
empties only a run directory or an empty folder (`RunDir.check` says why anything else
is refused), and `--resume` continues only a run directory.
"""

import contextlib
import datetime
import errno
import json
import os
import shutil
import time

from archbuilder.atomic import atomic_write
from archbuilder.atomic import atomic_write_json
from archbuilder.atomic import atomic_write_text
from archbuilder.errors import ArchbuilderError
from archbuilder.format.jsonfile import special_file
from archbuilder.model.saving import save_model

__all__ = ["DONE", "MARKER", "LOCK", "RunDir", "FileLock", "LockedError", "is_run_directory"]

DONE = "DONE"
MARKER = "run.json"
LOCK = "run.lock"
_REPLACES = "archbuilder replaces only its own run directories and empty folders; choose another --out"


class LockedError(ArchbuilderError):
    """Another process holds the lock: `FILE: another archbuilder process (PID N) is writing ...`."""


class FileLock:
    """An exclusive OS lock on a file (`fcntl.flock`), refused at once when another process holds it.

    The file records the holder's PID. The kernel releases the lock when the process
    ends in any way (a SIGKILL too), so a lock left by a crash is stale and taken over.

    Args:
        path: the lock file (created if needed).
        what: what the lock protects, for the refusal (`this run directory`).
    """

    def __init__(self, path, what):
        self.path = os.fspath(path)
        self.what = what
        self._fd = None

    @property
    def held(self):
        return self._fd is not None

    def acquire(self):
        """Takes the lock.

        Raises:
            LockedError: another process holds it (its PID in the message).
            ArchbuilderError: the lock file cannot be created (a read-only folder, ...).
        """
        import fcntl

        while self._fd is None:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                raise ArchbuilderError(f"{os.path.dirname(self.path) or '.'}: cannot write here: "
                                       f"{e.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise ArchbuilderError(f"{self.path}: cannot lock: {e.strerror}") from None
                raise LockedError(self._refusal()) from None
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if not same:  # the holder removed the file as we opened it: lock the new one
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self._fd = fd
        return self

    def _refusal(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                pid = f.read(32).strip()
        except OSError:
            pid = ""
        holder = f"PID {pid}" if pid.isdigit() else "PID unknown"
        return (f"{os.path.dirname(self.path) or '.'}: another archbuilder process ({holder}) is writing "
                f"{self.what}; wait for it to finish, or choose another --out")

    def probe(self):
        """Raises `LockedError` when another process holds the lock now; takes nothing."""
        if os.path.exists(self.path):
            self.acquire()
            self.release(remove=False)

    def release(self, remove=True):
        """Gives the lock back (and removes the file, so a finished run keeps no lock file)."""
        if self._fd is None:
            return
        if remove:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        os.close(self._fd)
        self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def is_run_directory(path):
    """Whether `path` is a folder archbuilder wrote a run into.

    `run.json` (written first by this version), `env.json` holding archbuilder's version
    (every finished run of release 0.1.0), or `spec.json` beside a resume state
    (`state.json`, or `tuner/` of a search) of an interrupted run of release 0.1.0.
    """
    if not os.path.isdir(path):
        return False
    for name in (MARKER, "env.json"):
        try:
            with open(os.path.join(path, name), encoding="utf-8") as f:
                if "archbuilder" in json.loads(f.read(1_000_000)):
                    return True
        except (OSError, ValueError, TypeError):
            pass
    return os.path.isfile(os.path.join(path, "spec.json")) and (
        os.path.isfile(os.path.join(path, "state.json")) or os.path.isdir(os.path.join(path, "tuner")))


def _inside(path, folder):
    """Whether the real path `path` is `folder` or lies under it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _protected(out, inputs):
    """Why `out` may not be emptied: the working directory, a home, a folder holding inputs; or None."""
    real = os.path.realpath(out)
    cwd = os.path.realpath(os.getcwd())
    if _inside(cwd, real):
        return "the working directory" if real == cwd else "a parent of the working directory"
    home = os.path.realpath(os.path.expanduser("~"))
    if _inside(home, real):
        return "your home directory" if real == home else "a parent of your home directory"
    for item in inputs:
        if item and _inside(os.path.realpath(item), real):
            return f"where an input of this run lives ({item})"
    if os.path.lexists(os.path.join(out, ".git")):
        return "a folder with a .git (a repository)"
    return None


class RunDir:
    """The folder a `train`, `tune` or `compare` run writes.

    Args:
        path: the folder (it exists).

    Example:
        >>> with RunDir.create("mnist1d_cnn", out="runs/try1") as run:
        ...     run.write_json("metrics.json", {"test_accuracy": 0.95})
        ...     run.finish()
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.lock = FileLock(os.path.join(self.path, LOCK), "this run directory")

    def __fspath__(self):
        return self.path

    def __str__(self):
        return self.path

    def __repr__(self):
        return f"RunDir({self.path!r})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()

    def release(self):
        """Gives the run directory's lock back (the process ending does it too)."""
        self.lock.release()

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
        save_model(model, self.file(name))

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
        except (OSError, ValueError, RecursionError) as e:
            first = (str(e).splitlines() or [type(e).__name__])[0][:200]
            raise ArchbuilderError(f"{path}: cannot read: {first}") from None

    def finish(self):
        """Writes `DONE`, the last file of every run."""
        self.write_text(DONE, time.strftime("%Y-%m-%dT%H:%M:%S%z") + "\n")

    @staticmethod
    def check(out, *, overwrite=False, resume=False, inputs=()):
        """Refuses an `--out` that cannot be written as asked, before any work; writes nothing.

        Args:
            out: the folder (None: a new name is made, nothing to check).
            overwrite: the folder may be replaced: only an archbuilder run directory or an
                empty folder, never the working directory or a parent of it, a home
                directory, a folder holding `inputs`, a repository (`.git`), a symbolic link
                or anything that is not a folder.
            resume: the folder is continued: it must be a run directory (or empty, or absent:
                a new run starts there).
            inputs: the files the run reads (spec, data, backbone), never to be deleted.

        Raises:
            ArchbuilderError: one line saying why.
            LockedError: another process is writing the run directory.
        """
        if out is None:
            return
        out = os.fspath(out)
        if not out.strip():
            raise ArchbuilderError("--out is empty: name the run directory, e.g. --out runs/try1")
        exists = os.path.lexists(out)
        if os.path.islink(out) and (overwrite or not os.path.exists(out)):
            what = "a symbolic link" + ("" if os.path.exists(out) else " to nothing")
            raise ArchbuilderError(f"{out}: {'--overwrite refused: ' if overwrite else ''}it is {what}; "
                                   "give the run directory's own path")
        if exists and not os.path.isdir(out):
            kind = special_file(os.stat(out).st_mode) or "a file"
            raise ArchbuilderError(f"{out}: exists and is {kind}, not a run directory; choose another --out")
        # What a kill right after the folder was made leaves (the lock, the marker's temporary) is empty too.
        empty = not exists or not [n for n in os.listdir(out) if n != LOCK and not n.startswith(f".{MARKER}.")]
        if overwrite:
            why = _protected(out, inputs)
            if why:
                raise ArchbuilderError(f"{out}: --overwrite refused: it is {why}; {_REPLACES}")
            if not empty and not is_run_directory(out):
                raise ArchbuilderError(f"{out}: --overwrite refused: not an archbuilder run directory (no "
                                       f"{MARKER}); {_REPLACES}")
        elif resume:
            if not empty and not is_run_directory(out):
                raise ArchbuilderError(f"{out}: --resume refused: not an archbuilder run directory (no {MARKER}); "
                                       "give the --out of the run to continue")
        elif not empty:
            raise ArchbuilderError(f"{out}: the run directory exists; pass --overwrite to replace it "
                                   "or --resume to continue it")
        if exists:
            FileLock(os.path.join(out, LOCK), "this run directory").probe()

    @classmethod
    def create(cls, name, out=None, *, overwrite=False, resume=False, root="runs", inputs=(), command="train"):
        """The run directory, locked: `out`, or `<root>/<name>-<YYYYmmdd-HHMMSS>` made unique.

        `out` is checked first (`check`); with `overwrite` its contents are removed once the
        lock is held. `run.json` is written into a new or emptied folder.

        Raises:
            ArchbuilderError: see `check`; or the folder cannot be created or written.
            LockedError: another process is writing the run directory.
        """
        if out is None:
            run = cls._new(root, name)
        else:
            cls.check(out, overwrite=overwrite, resume=resume, inputs=inputs)
            try:
                os.makedirs(out, exist_ok=True)
            except OSError as e:
                raise ArchbuilderError(f"{out}: cannot create the run directory: {e.strerror}") from None
            run = cls(out)
        run.lock.acquire()
        try:
            if overwrite:
                run._empty()
            if not run.exists(MARKER):
                from archbuilder import __version__

                run.write_json(MARKER, {"archbuilder": __version__, "command": command,
                                        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        except BaseException:
            run.release()
            raise
        return run

    @classmethod
    def _new(cls, root, name):
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        base = os.path.join(root, f"{name}-{stamp}")
        for n in range(1, 10_000):
            out = base if n == 1 else f"{base}-{n}"
            try:
                os.makedirs(root, exist_ok=True)
                os.mkdir(out)  # not exist_ok: two runs started in the same second get two folders
            except FileExistsError:
                continue
            except OSError as e:
                raise ArchbuilderError(f"{out}: cannot create the run directory: {e.strerror}") from None
            return cls(out)
        raise ArchbuilderError(f"{base}: cannot find a free run directory name")

    def _empty(self):
        """Removes everything in the folder but the lock (held) — `--overwrite`, once `check` allowed it."""
        for entry in os.scandir(self.path):
            if entry.name == LOCK:
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError as e:
                raise ArchbuilderError(f"{entry.path}: cannot remove it to overwrite the run: {e.strerror}") from None
