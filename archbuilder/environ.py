"""Environment variables set for the length of a block, then put back as they were."""

import contextlib
import os

__all__ = ["environment"]


@contextlib.contextmanager
def environment(values, *, unset_only=False):
    """Sets `values` (`{name: str}`) in `os.environ` for the block; afterwards each is as it was (or unset).

    Args:
        values: the variables and their values.
        unset_only: leave a variable that is already set at its value (`os.environ.setdefault`).
    """
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if not (unset_only and saved[name] is not None):
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
