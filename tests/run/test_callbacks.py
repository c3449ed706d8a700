"""The run directory's callbacks: what `--resume` reads, and what a finished run drops."""

import json

import pytest

from archbuilder.errors import ArchbuilderError
from archbuilder.run import callbacks


def test_a_state_without_its_checkpoint_or_unreadable_is_refused(tmp_path):
    assert callbacks.read_state(str(tmp_path)) is None
    (tmp_path / callbacks.STATE).write_text(json.dumps({"epoch": 2, "history": {}}))
    with pytest.raises(ArchbuilderError, match="state.json without checkpoint.keras"):
        callbacks.read_state(str(tmp_path))
    (tmp_path / callbacks.STATE).write_text("{")
    with pytest.raises(ArchbuilderError, match="cannot resume: unreadable state"):
        callbacks.read_state(str(tmp_path))
