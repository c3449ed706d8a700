"""The hostile-input corpus of issue 15: what the red team tried, each as a test.

Every test here reproduces one finding (numbered as in the issue) and checks what a
user sees now: one line naming the file (and the JSON path or line), nothing deleted,
no second writer, no allocation over the limits, no hang, no file content echoed.
Helpers are in `tests/hostile_corpus.py`; the runs made once per module are fixtures here.
"""

import os

import pytest

from hostile_corpus import invoke
from hostile_corpus import write_spec


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished tiny run directory (its spec and data beside it)."""
    folder = str(tmp_path_factory.mktemp("trained"))
    spec = write_spec(folder)
    out = os.path.join(folder, "run")
    result = invoke("train", spec, "--out", out, "--quiet")
    assert result.exit_code == 0, result.stderr
    return out
