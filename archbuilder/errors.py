"""Errors archbuilder reports to users: one line each, `FILE: JSON-PATH: message`."""

__all__ = ["ArchbuilderError", "SpecError", "SpecErrors", "DataError", "TrialError"]


class ArchbuilderError(Exception):
    """Base class of every error archbuilder reports to a user (CLI exit 1)."""

    def lines(self):
        """Returns the one-line messages this error stands for."""
        return [str(self)]


class SpecError(ArchbuilderError):
    """A problem with one entry of a spec.

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


class SpecErrors(ArchbuilderError):
    """Every problem found in one or more specs, reported together."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def lines(self):
        return [str(e) for e in self.errors]


class DataError(ArchbuilderError):
    """A problem with training data: the source, its shape, or its values.

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
