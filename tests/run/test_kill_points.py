"""SIGKILL `archbuilder train` and `archbuilder tune` at many points; every file stays complete or absent.

The README's "Nothing lost" promise (issue 7): each file of a run directory is
written to a temporary name and renamed into place, `DONE` last, so a kill at any
moment leaves every file complete or absent, and `--resume` finishes the run.

Each test is one chain of real subprocesses (`python -m archbuilder ...`): start,
SIGKILL at the first kill point, check the whole run directory, `--resume`, kill
at the next point, ..., until a last `--resume` finishes the run. A kill point is
a moment (start-up) or a file appearing in the run directory (polled every 2 ms,
then killed at once or after a short delay). Kills race with the writes they aim
at; every check below holds whichever side of a write the kill lands on.

After every kill the whole run directory is walked, `tuner/` and its trial folders
included: every `*.json` parses, every `*.keras`/`*.zip` passes `ZipFile.testzip`,
every `*.h5` opens, every `*.csv` has one column count, every `*.png` runs from its
signature to its IEND chunk, text files end with their newline. Hidden files are
the writers' temporaries (`.NAME.XXXX.tmp`, `.NAME.XXXX.keras`, keras-tuner's
`.PID.NAME`): they may be partial and may stay behind; nothing may read them, so
the resumed runs must finish with complete files under the final names. TensorBoard
event files under `logs/` are append-only logs, the documented exception.
"""

import csv
import fnmatch
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

TRAIN_EPOCHS = 5
MAX_TRIALS = 4
POLL = 0.002  # seconds between looks at the run directory
STEP_TIMEOUT = 120  # seconds for one process to reach its kill point

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# rundir.atomic_write / atomic_save_model: `.NAME.XXXXXXXX.tmp` / `.NAME.XXXXXXXX.keras`;
# tuners._AtomicSaveBestEpoch: `.PID.NAME`.
TEMPORARY = re.compile(r"^\.(?:.+\.[A-Za-z0-9_]+\.(?:tmp|keras)|\d+\..+)$")

TRAIN_OUTPUTS = ("spec.json", "spec.resolved.json", "preprocessing.json", "model.keras", "summary.txt",
                 "history.csv", "metrics.json", "curves.png", "env.json")
TUNE_OUTPUTS = ("spec.json", "trials.csv", "trials.png", "best.json", "best_model.keras")


# ---------------------------------------------------------------- data and specs


def _data(folder, samples):
    rng = np.random.default_rng(0)
    y = np.arange(samples) % 3
    x = (rng.normal(size=(samples, 40, 1)) + 0.5 * y[:, None, None]).astype("float32")
    path = folder / "d.npz"
    np.savez(path, x=x, y=y)
    return str(path)


def _train_spec(folder):
    spec = {"spec_version": 1, "name": "killed_train", "family": "cnn", "input": {"shape": [40, 1]},
            "conv": [{"filters": 4}], "dense": [{"units": 8}], "output": {"units": 3},
            "training": {"epochs": TRAIN_EPOCHS, "batch_size": 8}, "data": {"path": _data(folder, 600)}}
    path = folder / "train.json"
    path.write_text(json.dumps(spec))
    return str(path)


def _tune_spec(folder):
    spec = {"spec_version": 1, "name": "killed_tune", "family": "cnn", "input": {"shape": [40, 1]},
            "conv": {"repeat": {"int": {"min": 1, "max": 2}},
                     "each": {"filters": {"choice": [4, 8]}, "pool": {"choice": [None, 2]}}},
            "dense": [{"units": {"choice": [8, 16]}}],
            "output": {"units": 3},
            "training": {"epochs": 2, "batch_size": 8,
                         "optimizer": {"type": "adam", "learning_rate": {"float": {"min": 1e-3, "max": 1e-2,
                                                                                  "sampling": "log"}}}},
            # val_loss, not val_accuracy: no ties, so the best trial is the same however often a run resumed
            # (keras-tuner breaks ties by the order it reloaded the trials in).
            "tuning": {"tuner": "random", "max_trials": MAX_TRIALS, "objective": "val_loss"},
            "data": {"path": _data(folder, 300)}}
    path = folder / "tune.json"
    path.write_text(json.dumps(spec))
    return str(path)


# ---------------------------------------------------------------- complete or absent


def _check_json(path):
    with open(path, encoding="utf-8") as f:
        json.load(f)


def _check_zip(path):
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None


def _check_h5(path):
    import h5py

    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: item[()] if isinstance(item, h5py.Dataset) else None)


def _check_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    assert text.endswith("\n"), "no final newline"
    rows = list(csv.reader(text.splitlines()))
    assert rows and rows[0], "no header"
    widths = {len(row) for row in rows}
    assert widths == {len(rows[0])}, f"column counts {sorted(widths)}"


def _check_png(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data.startswith(PNG_SIGNATURE) and data.endswith(PNG_IEND), f"{len(data)} bytes, no signature or IEND"


def _check_text(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text.endswith("\n"), "no final newline"


def _check_lock(path):
    """A run's or a worker's lock: an OS lock on the file; its text is the holder's PID (or empty, killed while
    writing it): the kernel released the lock with the process, so a later run takes it over."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text == "" or text.strip().isdigit(), text


CHECKS = {".lock": _check_lock, ".json": _check_json, ".keras": _check_zip, ".zip": _check_zip, ".h5": _check_h5, ".csv": _check_csv,
          ".png": _check_png, ".txt": _check_text, "": _check_text}


def _assert_complete_or_absent(out, label):
    """Walks the whole run directory; returns the temporaries (relative paths) found."""
    temporaries = []
    if not os.path.exists(out):
        return temporaries
    for folder, dirs, files in os.walk(out):
        rel_folder = os.path.relpath(folder, out)
        if rel_folder.split(os.sep)[0] == "logs":
            continue  # TensorBoard event files: append-only logs (the README says so)
        for name in files:
            rel = os.path.normpath(os.path.join(rel_folder, name))
            if name.startswith("."):
                assert TEMPORARY.match(name), f"{label}: {rel}: a hidden file that is no writer's temporary"
                temporaries.append(rel)
                continue
            check = CHECKS.get(os.path.splitext(name)[1])
            assert check is not None, f"{label}: {rel}: no completeness check for this kind of file"
            try:
                check(os.path.join(folder, name))
            except Exception as e:  # noqa: BLE001 - any failure to read it is a partial file
                raise AssertionError(f"{label}: {rel} is partial: {type(e).__name__}: {e}") from None
    return temporaries


# ---------------------------------------------------------------- kill points


def _files(out):
    """`{relative path: (inode, mtime)}` of every file under `out` now."""
    found = {}
    for folder, _, files in os.walk(out):
        for name in files:
            full = os.path.join(folder, name)
            try:
                st = os.stat(full)
            except FileNotFoundError:
                continue
            found[os.path.relpath(full, out)] = (st.st_ino, st.st_mtime_ns)
    return found


def after(seconds):
    """Kill point: this long after the process started."""
    return lambda out, before, elapsed: elapsed >= seconds


def exists():
    """Kill point: the run directory exists."""
    return lambda out, before, elapsed: os.path.isdir(out)


def written(*patterns, rows=0):
    """Kill point: a file matching one of `patterns` is new (or replaced) since the process started.

    `os.replace` gives a replaced file a new inode, so a rewrite counts too. With
    `rows`, the new file must be a CSV with at least that many data rows. A
    temporary may come and go between two looks on a busy machine: such a kill
    point names the final file as well, so the kill lands just after it instead.
    """

    def trigger(out, before, elapsed):
        for rel, stamp in _files(out).items():
            if any(fnmatch.fnmatchcase(rel, p) for p in patterns) and before.get(rel) != stamp:
                if rows and len(_read_rows(os.path.join(out, rel))) < rows:
                    continue
                return True
        return False

    return trigger


def _read_rows(path):
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def _kill_at(command, out, label, trigger, delay, log):
    before = _files(out) if os.path.isdir(out) else {}
    with open(log, "ab") as sink:
        sink.write(f"\n==== {label}: {' '.join(command)}\n".encode())
        sink.flush()
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    start = time.monotonic()
    try:
        while not trigger(out, before, time.monotonic() - start):
            if process.poll() is not None:
                raise AssertionError(f"{label}: the process ended (exit {process.returncode}) before its kill "
                                     f"point:\n{_tail(log)}")
            if time.monotonic() - start > STEP_TIMEOUT:
                raise AssertionError(f"{label}: kill point not reached in {STEP_TIMEOUT} s:\n{_tail(log)}")
            time.sleep(POLL)
        if delay:
            time.sleep(delay)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    finished = process.returncode == 0 and os.path.exists(os.path.join(out, "DONE"))  # the kill came too late
    assert process.returncode == -signal.SIGKILL or finished, f"{label}: exit {process.returncode}:\n{_tail(log)}"


def _tail(log, lines=30):
    with open(log, encoding="utf-8", errors="replace") as f:
        return "".join(f.readlines()[-lines:])


def _finish(command, log):
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    with open(log, "a", encoding="utf-8") as f:
        f.write(f"\n==== final: {' '.join(command)}\n{result.stderr}{result.stdout}")
    assert result.returncode == 0, f"the last --resume failed (exit {result.returncode}):\n{_tail(log)}"
    return result


def _assert_done_means_all(out, outputs, label):
    if os.path.exists(os.path.join(out, "DONE")):
        missing = [name for name in outputs if not os.path.exists(os.path.join(out, name))]
        assert not missing, f"{label}: DONE is written but not {missing}: DONE must come last"


def _load_safely(path):
    import keras

    import archbuilder  # noqa: F401  (registers archbuilder's layers)

    return keras.saving.load_model(path, safe_mode=True)


# ---------------------------------------------------------------- train


TRAIN_KILLS = [
    # (label, kill point, delay after it)
    ("start-up, before the run directory exists", after(0.5), 0),
    ("the run directory just made, before its first file", exists(), 0),
    ("during the first epoch", written("spec.resolved.json"), 0.3),
    ("in the middle of a checkpoint's save", written(".checkpoint.keras.*.keras", "checkpoint.keras"), 0),
    ("just after state.json", written("state.json"), 0),
    ("in the middle of model.keras's save", written(".model.keras.*.keras", "model.keras"), 0),
    ("just after metrics.json", written("metrics.json"), 0),
    ("just after curves.png", written("curves.png"), 0),
]


def _check_train_state(out, label):
    state_path = os.path.join(out, "state.json")
    if not os.path.exists(state_path):
        return
    with open(state_path, encoding="utf-8") as f:
        state = json.load(f)
    assert 1 <= state["epoch"] <= TRAIN_EPOCHS, f"{label}: state.json epoch {state['epoch']}"
    lengths = {len(values) for values in state["history"].values()}
    assert lengths == {state["epoch"]}, f"{label}: state.json history lengths {lengths} at epoch {state['epoch']}"
    done = os.path.exists(os.path.join(out, "DONE"))
    assert done or os.path.exists(os.path.join(out, "checkpoint.keras")), (
        f"{label}: state.json without checkpoint.keras (the checkpoint is written first)")


def test_train_killed_at_every_point_then_resumed(tmp_path):
    spec = _train_spec(tmp_path)
    out = str(tmp_path / "run")
    log = str(tmp_path / "log.txt")
    command = [sys.executable, "-m", "archbuilder", "train", spec, "--out", out, "--quiet"]
    for i, (label, trigger, delay) in enumerate(TRAIN_KILLS):
        _kill_at(command + (["--resume"] if i else []), out, label, trigger, delay, log)
        _assert_complete_or_absent(out, label)
        _assert_done_means_all(out, TRAIN_OUTPUTS, label)
        _check_train_state(out, label)
        if i == 0:
            assert not os.path.exists(out) or not os.listdir(out), f"{label}: {os.listdir(out)}"

    result = _finish(command + ["--resume"], log)
    assert result.stdout.strip().endswith(f"-> {out}") or "already finished" in result.stdout, result.stdout
    left = _assert_complete_or_absent(out, "after the last --resume")
    _assert_done_means_all(out, TRAIN_OUTPUTS, "after the last --resume")
    assert os.path.exists(os.path.join(out, "DONE"))
    for name in ("state.json", "checkpoint.keras"):  # kept after DONE: a larger --epochs extends the run
        assert os.path.exists(os.path.join(out, name)), f"{name} gone after DONE"
    with open(os.path.join(out, "history.csv"), encoding="utf-8", newline="") as f:
        history = list(csv.DictReader(f))
    assert [int(row["epoch"]) for row in history] == list(range(1, TRAIN_EPOCHS + 1))
    assert all(row["loss"] and row["val_loss"] for row in history), history
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as f:
        assert json.load(f)["epochs_run"] == TRAIN_EPOCHS
    # The temporaries left by the kills were never taken for the files they were becoming.
    assert all(TEMPORARY.match(os.path.basename(t)) for t in left)
    model = _load_safely(os.path.join(out, "model.keras"))
    assert model.count_params() > 0


# ---------------------------------------------------------------- tune


TUNE_KILLS = [
    ("start-up, before the run directory exists", after(0.5), 0),
    ("the run directory just made, before its first file", exists(), 0),
    ("during the first trial", written("tuner/trial_*/trial.json"), 0.4),
    ("just after a trial's record, before the oracle ends it", written("tuner/trial_*/archbuilder.json"), 0),
    # Not after the first trial: see test_a_kill_before_the_first_tuner_state_loses_no_trial.
    ("between trials, just after trials.csv", written("trials.csv", rows=2), 0),
    ("just after trials.png", written("trials.png"), 0),
    ("just after best.json", written("best.json"), 0),
    ("in the middle of best_model.keras's save", written(".best_model.keras.*.keras", "best_model.keras"), 0),
]


def _check_rows_against_trials(out, label):
    """A trials.csv row is written after its trial.json: the two agree."""
    rows = _read_rows(os.path.join(out, "trials.csv"))
    for row in rows:
        with open(os.path.join(out, "tuner", f"trial_{row['trial_id']}", "trial.json"), encoding="utf-8") as f:
            trial = json.load(f)
        assert trial["status"] == row["status"], f"{label}: trial {row['trial_id']}: {trial['status']} vs {row}"
        if row["score"]:
            assert float(row["score"]) == pytest.approx(trial["score"]), f"{label}: trial {row['trial_id']}"
    return rows


def test_tune_killed_at_every_point_then_resumed(tmp_path):
    spec = _tune_spec(tmp_path)
    out = str(tmp_path / "run")
    log = str(tmp_path / "log.txt")
    command = [sys.executable, "-m", "archbuilder", "tune", spec, "--out", out, "--quiet"]
    finished = {}  # trial_id -> its trials.csv row, as first seen after a kill
    best = None
    for i, (label, trigger, delay) in enumerate(TUNE_KILLS):
        _kill_at(command + (["--resume"] if i else []), out, label, trigger, delay, log)
        _assert_complete_or_absent(out, label)
        _assert_done_means_all(out, TUNE_OUTPUTS, label)
        rows = _check_rows_against_trials(out, label)
        if not os.path.exists(os.path.join(out, "tuner", "tuner0.json")):
            rows = []  # a kill before the first tuner state: see test_a_kill_before_the_first_tuner_state_...
        for row in rows:
            assert finished.setdefault(row["trial_id"], row) == row, (
                f"{label}: trial {row['trial_id']} changed after a resume: {finished[row['trial_id']]} -> {row}")
        if os.path.exists(os.path.join(out, "best.json")):
            with open(os.path.join(out, "best.json"), encoding="utf-8") as f:
                best = json.load(f)
        if i == 0:
            assert not os.path.exists(out) or not os.listdir(out), f"{label}: {os.listdir(out)}"
    assert len(finished) >= 2 and best is not None

    _finish(command + ["--resume"], log)
    _assert_complete_or_absent(out, "after the last --resume")
    _assert_done_means_all(out, TUNE_OUTPUTS, "after the last --resume")
    assert os.path.exists(os.path.join(out, "DONE"))
    rows = _check_rows_against_trials(out, "after the last --resume")
    assert [row["trial_id"] for row in rows] == [str(n) for n in range(MAX_TRIALS)]
    assert all(row["status"] == "COMPLETED" for row in rows), rows
    for row in rows:
        if row["trial_id"] in finished:
            assert row == finished[row["trial_id"]], f"trial {row['trial_id']} was rerun or rewritten"
    with open(os.path.join(out, "best.json"), encoding="utf-8") as f:
        assert json.load(f) == best  # the same trials, the same winner
    model = _load_safely(os.path.join(out, "best_model.keras"))
    assert model.count_params() > 0


def test_the_tuner_state_is_on_disk_before_the_first_trial_ends(tmp_path):
    """keras-tuner reloads a project only when the tuner's state file exists; keras-tuner writes
    it first after a trial's end, so a kill just after trial 0's row used to rerun trial 0.
    archbuilder writes it at search start: it must be there while trial 0 is still running."""
    import archbuilder

    spec = _tune_spec(tmp_path)
    out = str(tmp_path / "run")
    log = str(tmp_path / "log.txt")
    command = [sys.executable, "-m", "archbuilder", "tune", spec, "--out", out, "--quiet",
               "--max-trials", "2"]
    _kill_at(command, out, "as trial 0 starts", written(os.path.join("tuner", "trial_0", "trial.json")), 0, log)
    assert not _read_rows(os.path.join(out, "trials.csv")), "the kill came after trial 0 ended"
    assert os.path.exists(os.path.join(out, "tuner", "tuner0.json"))
    archbuilder.tune(spec, out=out, resume=True, max_trials=2, quiet=True)  # in-process: no second start-up
    rows = _read_rows(os.path.join(out, "trials.csv"))
    assert [r["status"] for r in rows] == ["COMPLETED", "COMPLETED"]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A tiny finished run, trained in this process: `(spec, run directory)`."""
    import archbuilder

    folder = tmp_path_factory.mktemp("small")
    rng = np.random.default_rng(0)
    np.savez(folder / "d.npz", x=rng.normal(size=(60, 4)).astype("float32"), y=np.arange(60) % 2)
    spec = {"spec_version": 1, "name": "small", "family": "custom", "input": {"shape": [4]},
            "layers": [{"type": "Dense", "units": 2, "activation": "softmax"}],
            "training": {"epochs": 3, "batch_size": 16}, "data": {"path": str(folder / "d.npz")}}
    return spec, archbuilder.train(spec, out=str(folder / "run"), quiet=True)


def test_epoch_seconds_has_one_value_per_epoch(small_run):
    _, out = small_run
    with open(os.path.join(out, "history.csv"), encoding="utf-8", newline="") as f:
        seconds = [row["epoch_seconds"] for row in csv.DictReader(f)]
    assert len(seconds) == 3 and all(seconds), seconds
