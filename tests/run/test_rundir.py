"""The run directory as one object (archbuilder.run.rundir.RunDir)."""

import os

import pytest

from archbuilder.errors import ArchbuilderError
from archbuilder.run.rundir import RunDir


def test_a_new_run_directory_is_named_by_time_and_made_unique(tmp_path):
    first = RunDir.create("m", root=str(tmp_path))
    second = RunDir.create("m", root=str(tmp_path))
    assert os.path.basename(first.path).startswith("m-") and first.path != second.path
    assert os.path.isdir(first.path) and os.fspath(first) == first.path


def test_an_existing_folder_is_refused_unless_overwritten_or_resumed(tmp_path):
    run = RunDir.create("m", str(tmp_path / "r"))
    run.write_json("metrics.json", {"a": 1})
    with pytest.raises(ArchbuilderError, match="the run directory exists; pass --overwrite"):
        RunDir.create("m", run.path)
    assert RunDir.create("m", run.path, resume=True).read_json("metrics.json") == {"a": 1}
    assert RunDir.create("m", run.path, overwrite=True).read_json("metrics.json") is None


def test_files_are_whole_and_done_comes_last(tmp_path):
    run = RunDir.create("m", str(tmp_path / "r"))
    run.write_text("a.txt", "x")
    run.write_bytes("b.bin", b"\0\1")
    assert not run.done
    run.finish()
    assert run.done and sorted(os.listdir(run.path)) == ["DONE", "a.txt", "b.bin"]
    (tmp_path / "r" / "bad.json").write_text("{")
    with pytest.raises(ArchbuilderError, match="bad.json: cannot read"):
        run.read_json("bad.json")
    assert (tmp_path / "r" / "a.txt").read_text() == "x"
