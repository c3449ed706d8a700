"""Errors archbuilder reports to users: one line each, `FILE: JSON-PATH: message`."""

import math
import os

__all__ = ["ArchbuilderError", "SpecError", "SpecErrors", "DataError", "TrialError", "ArgumentError",
           "ArgumentTypeError", "check_int", "check_number", "check_path", "check_flag"]


class ArchbuilderError(Exception):
    """Base class of every error archbuilder reports to a user (CLI exit 1)."""

    def lines(self):
        """Returns the one-line messages this error stands for."""
        return [str(self)]


class SpecError(ArchbuilderError, ValueError):
    """A problem with one entry of a spec (also a `ValueError`).

    Args:
        path: the JSON path of the entry at fault, e.g. `$.conv[1].filters`.
        message: what is wrong and, where obvious, how to fix it.
        source: the spec file's name as the user gave it (or `<spec>`).
    """

    def __init__(self, path, message, source=None):
        self.path = path
        self.message = message
        self.source = source or "<spec>"
        super().__init__(f"{self.source}: {path}: {message}")

    def as_dict(self):
        return {"file": self.source, "path": self.path, "message": self.message}


class SpecErrors(ArchbuilderError, ValueError):
    """Every problem found in one or more specs, reported together (also a `ValueError`)."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def lines(self):
        return [str(e) for e in self.errors]


class DataError(ArchbuilderError, ValueError):
    """A problem with training data: the source, its shape, or its values (also a `ValueError`).

    Args:
        message: what is wrong.
        source: the file or dataset at fault; `$.data` when none is known.
    """

    def __init__(self, message, source=None):
        self.message = message
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class TrialError(ArchbuilderError):
    """A search that stopped: too many consecutive failed trials."""


class ArgumentError(ArchbuilderError, ValueError):
    """A Python API argument with a value the function cannot take (also a `ValueError`).

    Args:
        function: the API function, e.g. `train`.
        name: the argument's name.
        message: what it must be, and what it was.
    """

    def __init__(self, function, name, message):
        self.function = function
        self.name = name
        super().__init__(f"archbuilder.{function}: {name}: {message}")


class ArgumentTypeError(ArgumentError, TypeError):
    """A Python API argument of a type the function cannot take (also a `TypeError`)."""


def _got(value):
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def check_int(function, name, value, minimum=1, optional=True):
    """`value` as an int of at least `minimum` (None passes when `optional`).

    Raises:
        ArgumentTypeError: not an integer (a bool, a float, a string...).
        ArgumentError: an integer under `minimum`.
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
        raise ArgumentTypeError(function, name, f"expected an integer of at least {minimum}; got {_got(value)}")
    value = int(value.__index__())
    if value < minimum:
        raise ArgumentError(function, name, f"expected an integer of at least {minimum}; got {value}")
    return value


def check_number(function, name, value, optional=True):
    """`value` as a positive finite float (None passes when `optional`)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentTypeError(function, name, f"expected a positive number; got {_got(value)}")
    if not math.isfinite(value) or value <= 0:
        raise ArgumentError(function, name, f"expected a positive number; got {value}")
    return float(value)


def check_path(function, name, value, optional=True, empty=False):
    """`value` as a path string (a `str` or `os.PathLike`; None passes when `optional`, "" when `empty`)."""
    if value is None and optional:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ArgumentTypeError(function, name, f"expected a path (str or os.PathLike); got {_got(value)}")
    value = os.fspath(value)
    if not isinstance(value, str):
        raise ArgumentTypeError(function, name, f"expected a text path, not bytes; got {_got(value)}")
    if not value.strip() and not empty:
        raise ArgumentError(function, name, "expected a path; got an empty string")
    if "\0" in value:
        raise ArgumentError(function, name, "a path cannot hold a NUL character")
    return value


def check_flag(function, name, value):
    """`value` as a bool (True/False, or 0/1)."""
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    raise ArgumentTypeError(function, name, f"expected True or False; got {_got(value)}")
