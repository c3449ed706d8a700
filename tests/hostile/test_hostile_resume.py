"""Findings 9 (resume and tuner files) and 15: what a resume reads back is checked, each refusal one line."""

import json
import os
import shutil
import zipfile

import keras
import pytest

import archbuilder
from hostile_corpus import invoke
from hostile_corpus import one_line
from hostile_corpus import spec_doc
from hostile_corpus import write_spec

AFRESH_RUN = "--overwrite starts the run afresh"
AFRESH_SEARCH = "--overwrite starts the search afresh"


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt  # after the run's checkpoint and state.json of epoch 1


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """`(spec, run)`: a run killed after its first of 3 epochs (checkpoint.keras and state.json written)."""
    folder = tmp_path_factory.mktemp("interrupted")
    spec = write_spec(str(folder), doc=spec_doc(epochs=3))
    run = str(folder / "run")
    with pytest.raises(KeyboardInterrupt):
        archbuilder.train(spec, out=run, quiet=True, callbacks=[_Interrupt()])
    with open(os.path.join(run, "state.json"), encoding="utf-8") as f:
        assert json.load(f)["epoch"] == 1
    return spec, run


def _copy(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    return copy


def _other_model_checkpoint(path):
    keras.Sequential([keras.Input((8,)), keras.layers.Dense(5), keras.layers.Dense(3)]).save(path)
    return path.read_bytes()


def _without_weights(path):
    with zipfile.ZipFile(path) as archive:
        config = archive.read("config.json")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", config)
    return path.read_bytes()


def _broken_weights(path):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["model.weights.h5"] = b"\x89HDF\r\n\x1a\n" + b"\0" * 100
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path.read_bytes()


CHECKPOINTS = {
    "not-a-zip": lambda path: b"garbage, not a checkpoint",
    "truncated": lambda path: path.read_bytes()[: os.path.getsize(path) // 2],
    "no-weights": _without_weights,
    "broken-weights": _broken_weights,
    "another-model": lambda path: _other_model_checkpoint(path.parent / "other.keras"),
}


@pytest.mark.parametrize("case", list(CHECKPOINTS))
def test_9_a_damaged_checkpoint_is_one_line(interrupted, tmp_path, case):
    spec, run = interrupted
    copy = _copy(run, tmp_path)
    checkpoint = copy / "checkpoint.keras"
    checkpoint.write_bytes(CHECKPOINTS[case](checkpoint))
    line = one_line(invoke("train", spec, "--out", copy, "--resume", "--quiet"))
    assert line.startswith(f"{checkpoint}: cannot resume: ") and line.endswith(AFRESH_RUN), line


@pytest.mark.parametrize("field, value, problem", [
    ("epoch", "1", 'epoch must be a whole number of epochs done (>= 0); it is "1"'),
    ("history", [], "history must be an object of lists"),
    ("stopped", "yes", "stopped must be true or false"),
    ("train_seconds", "fast", "train_seconds must be a number of seconds (>= 0)"),
    ("early_stopping", {"wait": 1}, "early_stopping must be null or an object with wait, best and best_epoch"),
    # finding 15: values of the right type that disagree with the run
    ("epoch", 100, 'history["accuracy"] has 1 epochs, but epoch says 100'),
    ("epoch", -5, "epoch must be a whole number of epochs done (>= 0); it is -5"),
    ("history", {"loss": []}, 'history["loss"] has 0 epochs, but epoch says 1'),
], ids=["epoch-text", "history-list", "stopped-text", "seconds-text", "early-stopping", "epoch-100", "epoch-minus-5",
        "short-history"])
def test_9_15_a_tampered_state_is_one_line(interrupted, tmp_path, field, value, problem):
    spec, run = interrupted
    copy = _copy(run, tmp_path)
    state = json.loads((copy / "state.json").read_text())
    state[field] = value
    (copy / "state.json").write_text(json.dumps(state))
    line = one_line(invoke("train", spec, "--out", copy, "--resume", "--quiet"))
    assert line == f"{copy / 'state.json'}: cannot resume: {problem}; {AFRESH_RUN}"


def test_an_untouched_interrupted_run_resumes(interrupted, tmp_path):
    spec, run = interrupted
    copy = _copy(run, tmp_path)
    result = invoke("train", spec, "--out", copy, "--resume", "--quiet")
    assert result.exit_code == 0, result.stderr
    with open(copy / "metrics.json", encoding="utf-8") as f:
        assert json.load(f)["epochs_run"] == 3


# ---------------------------------------------------------------- searches


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """`(spec, run)`: a finished two-trial search."""
    folder = tmp_path_factory.mktemp("searched")
    doc = spec_doc()
    doc["dense"] = [{"units": {"choice": [4, 8]}}]
    doc["tuning"] = {"max_trials": 2}
    spec = write_spec(str(folder), doc=doc)
    run = str(folder / "run")
    assert invoke("tune", spec, "--out", run, "--quiet").exit_code == 0
    return spec, run


TUNER_FILES = {
    "oracle-text": ("tuner/oracle.json", "{not json", "the file is damaged"),
    "oracle-list": ("tuner/oracle.json", "[]", "the file holds list, not a JSON object"),
    "oracle-empty": ("tuner/oracle.json", "{}", "keras-tuner cannot reload it"),
    "tuner-text": ("tuner/tuner0.json", "{", "the file is damaged"),
    "trial-text": ("tuner/trial_0/trial.json", "\0\0\0", "the file is damaged"),
    "trial-empty": ("tuner/trial_0/trial.json", "{}", "not a keras-tuner trial"),
    "build-config": ("tuner/trial_1/build_config.json", "[1, 2", "the file is damaged"),
}


@pytest.mark.parametrize("case", list(TUNER_FILES))
def test_9_a_damaged_tuner_file_is_one_line(searched, tmp_path, case):
    spec, run = searched
    name, text, problem = TUNER_FILES[case]
    copy = _copy(run, tmp_path)
    (copy / "DONE").unlink()  # killed before the end: --resume reloads the project
    (copy / name).write_text(text)
    line = one_line(invoke("tune", spec, "--out", copy, "--resume", "--quiet"))
    where = copy / "tuner" if case == "oracle-empty" else copy / name
    assert line.startswith(f"{where}: cannot resume the search: ") and problem in line, line
    assert line.endswith(AFRESH_SEARCH), line


@pytest.mark.parametrize("name, text, problem", [
    ("best.json", "[]", "the file holds list, not a JSON object"),
    ("trials.csv", "", "the file is damaged (No columns to parse from file)"),
    ("trials.csv", "a,b\n1,2\n", "no trial_id column"),
], ids=["best-json", "trials-empty", "trials-header"])
def test_9_a_finished_search_with_a_damaged_result_is_one_line(searched, tmp_path, name, text, problem):
    spec, run = searched
    copy = _copy(run, tmp_path)
    (copy / name).write_text(text)
    line = one_line(invoke("tune", spec, "--out", copy, "--resume"))
    assert line == f"{copy / name}: cannot read the finished search: {problem}; {AFRESH_SEARCH}"
