"""Findings 1, 2 and the `--out` cases of 9: `--overwrite` that cannot destroy a project, one writer per run."""

import os
import signal
import subprocess
import sys
import time

import pytest

import archbuilder
from archbuilder.errors import ArchbuilderError
from archbuilder.run.rundir import RunDir
from hostile_corpus import invoke
from hostile_corpus import one_line
from hostile_corpus import spec_doc
from hostile_corpus import write_spec

LOCK = "run.lock"
REPLACES = "archbuilder replaces only its own run directories and empty folders; choose another --out"


def _project(folder):
    """A user's project: a spec, its data, a thesis and a repository."""
    spec = write_spec(str(folder))
    (folder / "src").mkdir()
    (folder / "src" / "thesis.tex").write_text("\\documentclass{article}")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return spec


def _files(folder):
    return sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)


@pytest.mark.parametrize("command", ["train", "tune"])
def test_1_overwrite_of_the_working_directory_is_refused_and_deletes_nothing(tmp_path, monkeypatch, command):
    spec = _project(tmp_path)
    before = _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = invoke(command, "spec.json", "--out", ".", "--overwrite", "--quiet")
    assert result.exit_code == 1
    assert one_line(result) == f".: --overwrite refused: it is the working directory; {REPLACES}"
    assert _files(tmp_path) == before and os.path.exists(spec)


def test_1_overwrite_of_a_folder_of_notes_is_refused(tmp_path):
    spec = write_spec(str(tmp_path))
    notes = tmp_path / "sub"
    notes.mkdir()
    (notes / "notes.md").write_text("mine")
    result = invoke("train", spec, "--out", notes, "--overwrite", "--quiet")
    assert one_line(result) == (f"{notes}: --overwrite refused: not an archbuilder run directory (no run.json); "
                                f"{REPLACES}")
    assert (notes / "notes.md").read_text() == "mine"


def test_1_the_python_api_refuses_to_overwrite_a_regular_file(tmp_path, monkeypatch):
    write_spec(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "victim.txt").write_text("precious")
    with pytest.raises(ArchbuilderError, match=r"^victim.txt: exists and is a file, not a run directory"):
        archbuilder.train("spec.json", out="victim.txt", overwrite=True, quiet=True)
    assert (tmp_path / "victim.txt").read_text() == "precious"


def test_1_resume_of_a_folder_that_is_no_run_is_refused(tmp_path):
    spec = write_spec(str(tmp_path))
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "spec.json").write_text('{"my": "own"}')
    (folder / "summary.txt").write_text("my summary")
    result = invoke("train", spec, "--out", folder, "--resume", "--quiet")
    assert one_line(result) == (f"{folder}: --resume refused: not an archbuilder run directory (no run.json); give "
                                "the --out of the run to continue")
    assert (folder / "spec.json").read_text() == '{"my": "own"}' and (folder / "summary.txt").read_text() == "my summary"


def test_1_overwrite_refuses_homes_inputs_repositories_and_links(tmp_path, monkeypatch):
    spec = write_spec(str(tmp_path / "proj" / "specs"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    cases = {
        tmp_path / "home": "your home directory",
        tmp_path / "proj": f"where an input of this run lives ({spec})",
    }
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    cases[repo] = "a folder with a .git (a repository)"
    for out, why in cases.items():
        assert one_line(invoke("train", spec, "--out", out, "--overwrite", "--quiet")) == (
            f"{out}: --overwrite refused: it is {why}; {REPLACES}")
    target = tmp_path / "run"
    RunDir.create("tiny", str(target)).release()
    link = tmp_path / "link"
    link.symlink_to(target)
    assert one_line(invoke("train", spec, "--out", link, "--overwrite", "--quiet")) == (
        f"{link}: --overwrite refused: it is a symbolic link; give the run directory's own path")
    assert os.listdir(target) == ["run.json"]


def test_1_overwrite_replaces_a_run_directory(tmp_path):
    spec = write_spec(str(tmp_path))
    out = tmp_path / "run"
    assert invoke("train", spec, "--out", out, "--quiet").exit_code == 0
    (out / "stale.txt").write_text("from the last run")
    result = invoke("train", spec, "--out", out, "--overwrite", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert not (out / "stale.txt").exists() and (out / "DONE").exists() and not (out / LOCK).exists()


@pytest.mark.parametrize("out, expected", [
    ("", "--out is empty: name the run directory, e.g. --out runs/try1"),
    ("/proc/archbuilder-run", "/proc/archbuilder-run: cannot create the run directory: "),
    ("dangling", "dangling: it is a symbolic link to nothing; give the run directory's own path"),
], ids=["empty", "proc", "dangling-link"])
def test_9_out_that_cannot_be_written_is_one_line(tmp_path, monkeypatch, out, expected):
    spec = write_spec(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    os.symlink(str(tmp_path / "nowhere"), "dangling")
    line = one_line(invoke("train", spec, "--out", out, "--quiet"))
    assert line.startswith(expected) and "internal error" not in line, line


def test_9_a_read_only_run_directory_is_one_line(tmp_path):
    spec = write_spec(str(tmp_path))
    # /proc/self is a folder nobody may write, not even root (chmod does not stop root).
    line = one_line(invoke("train", spec, "--out", "/proc/self", "--resume", "--quiet"))
    assert line.startswith("/proc/self: ") and "internal error" not in line, line


# ---------------------------------------------------------------- finding 2: one writer per run directory


def test_2_a_second_writer_is_refused_with_the_holders_pid_and_a_crash_leaves_no_lock(tmp_path):
    spec = write_spec(str(tmp_path), doc=spec_doc(epochs=100000))
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "archbuilder", "train", spec, "--out", str(out), "--quiet"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / "state.json").exists():  # the first epoch is done: it is writing
            assert first.poll() is None and time.monotonic() < deadline, "the first train did not start"
            time.sleep(0.2)
        holder = f"another archbuilder process (PID {first.pid}) is writing this run directory"
        for flags in (["--resume"], ["--overwrite"]):  # --epochs 1: on main, each finished alongside the first
            line = one_line(invoke("train", spec, "--out", out, "--quiet", "--epochs", "1", *flags))
            assert line == f"{out}: {holder}; wait for it to finish, or choose another --out"
        assert "the run directory exists" in one_line(invoke("train", spec, "--out", out, "--quiet"))
        assert first.poll() is None  # still training, alone
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # Killed, it holds nothing: the lock file is left but stale, and --resume continues the run.
    assert (out / LOCK).exists()
    result = invoke("train", spec, "--out", out, "--resume", "--epochs", "1", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (out / "DONE").exists() and not (out / LOCK).exists()


def test_2_evaluate_and_predict_read_a_locked_run(trained_run):
    with RunDir.create("tiny", trained_run, resume=True):  # another process writes it
        metrics = archbuilder.evaluate(trained_run)
        frame = archbuilder.predict(trained_run, os.path.join(os.path.dirname(trained_run), "d.npz"))
    assert 0 <= metrics["test_accuracy"] <= 1 and len(frame) == 60
