"""The run directory as one object (archbuilder.run.rundir.RunDir): its marker, its lock, its files."""

import json
import os

import pytest

from archbuilder.errors import ArchbuilderError
from archbuilder.run.rundir import LOCK
from archbuilder.run.rundir import MARKER
from archbuilder.run.rundir import LockedError
from archbuilder.run.rundir import RunDir
from archbuilder.run.rundir import is_run_directory


def test_a_new_run_directory_is_named_by_time_and_made_unique(tmp_path):
    with RunDir.create("m", root=str(tmp_path)) as first, RunDir.create("m", root=str(tmp_path)) as second:
        assert os.path.basename(first.path).startswith("m-") and first.path != second.path
        assert os.path.isdir(first.path) and os.fspath(first) == first.path


def test_an_existing_folder_is_refused_unless_overwritten_or_resumed(tmp_path):
    with RunDir.create("m", str(tmp_path / "r")) as run:
        run.write_json("metrics.json", {"a": 1})
    with pytest.raises(ArchbuilderError, match="the run directory exists; pass --overwrite"):
        RunDir.create("m", run.path)
    with RunDir.create("m", run.path, resume=True) as resumed:
        assert resumed.read_json("metrics.json") == {"a": 1}
    with RunDir.create("m", run.path, overwrite=True) as replaced:
        assert replaced.read_json("metrics.json") is None and replaced.exists(MARKER)


def test_the_marker_says_who_wrote_the_folder(tmp_path):
    with RunDir.create("m", str(tmp_path / "r"), command="tune") as run:
        marker = run.read_json(MARKER)
    assert marker["command"] == "tune" and "archbuilder" in marker and is_run_directory(run.path)
    legacy = tmp_path / "legacy"  # a finished run of release 0.1.0: env.json names archbuilder
    legacy.mkdir()
    (legacy / "env.json").write_text(json.dumps({"archbuilder": "0.1.0"}))
    assert is_run_directory(str(legacy))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "env.json").write_text("{}")
    assert not is_run_directory(str(tmp_path / "notes"))


def test_the_lock_is_held_while_the_run_is_written_and_gone_after(tmp_path):
    run = RunDir.create("m", str(tmp_path / "r"))
    assert open(run.file(LOCK)).read().strip() == str(os.getpid())
    with pytest.raises(LockedError, match=rf"another archbuilder process \(PID {os.getpid()}\) is writing"):
        RunDir.create("m", run.path, resume=True)
    run.release()
    assert not run.exists(LOCK)
    RunDir.create("m", run.path, resume=True).release()


def test_files_are_whole_and_done_comes_last(tmp_path):
    with RunDir.create("m", str(tmp_path / "r")) as run:
        run.write_text("a.txt", "x")
        run.write_bytes("b.bin", b"\0\1")
        assert not run.done
        run.finish()
    assert run.done and sorted(os.listdir(run.path)) == ["DONE", "a.txt", "b.bin", MARKER]
    (tmp_path / "r" / "bad.json").write_text("{")
    with pytest.raises(ArchbuilderError, match="bad.json: cannot read"):
        run.read_json("bad.json")
    assert (tmp_path / "r" / "a.txt").read_text() == "x"
