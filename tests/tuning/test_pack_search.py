"""`tuning.pack` / `tune --pack`: which trials share a pack, how packs are filled, and what a packed search leaves.

The sampling and the TensorFlow / PyTorch behaviour run in the suite's own process;
packed training runs under JAX in subprocesses (CPU): a packed search gives the
same trials, scores and best-epoch checkpoints as the same search run trial by
trial, and a search killed mid-pack resumes without losing or rerunning a finished
member, the unfinished ones packed together again.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import keras
import pytest
from click.testing import CliRunner

import archbuilder
from archbuilder.cli import cli
from archbuilder.errors import SpecErrors
from archbuilder.spec.load import load_spec
from archbuilder.tuning.hypermodel import SpecHyperModel
from archbuilder.tuning.packs import AUTO_MAX
from archbuilder.tuning.packs import auto_pack_size
from archbuilder.tuning.packs import member_bytes
from archbuilder.tuning.packs import pack_key
from archbuilder.tuning.packs import shape_names
from jax_scripts import ROOT
from jax_scripts import run_jax

DATA = {"dataset": "mnist1d", "max_samples": 200}
RATE = {"float": {"min": 1e-3, "max": 3e-2, "sampling": "log"}}


def spec_doc(tuning, **training):
    """A small CNN search: the conv width is a shape hyperparameter; L2, dropout and the rate are values."""
    return {"spec_version": 1, "name": "packed", "family": "cnn", "input": {"shape": [40, 1]},
            "regularization": {"l2": {"choice": [1e-4, 1e-3]}},  # declared first: a fast digit anyway
            "conv": [{"filters": {"choice": [4, 8]}, "kernel_size": 5, "strides": 2,
                      "dropout": {"float": {"min": 0.0, "max": 0.5}}}],
            "dense": [{"units": 8}], "output": {"units": 10}, "data": DATA,
            "training": {"epochs": 1, "batch_size": 64, "optimizer": {"type": "adam", "learning_rate": RATE},
                         **training},
            "tuning": tuning}


def read_csv(run_dir):
    with open(os.path.join(run_dir, "trials.csv"), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_shape_hyperparameters_are_those_that_change_the_plan_or_the_fit_loop():
    doc = spec_doc({"max_trials": 2})
    doc["conv"] = {"repeat": {"int": {"min": 1, "max": 2}}, "each": doc["conv"][0]}
    doc["training"]["batch_size"] = {"choice": [32, 64]}
    doc["training"]["seed"] = {"int": {"min": 1, "max": 9}}
    hypermodel = SpecHyperModel(load_spec(doc))
    import keras_tuner

    space = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(space)

    def key_of(values):
        hp = space.copy()
        hp.values = dict(values)
        return pack_key(hypermodel.concrete(hp))

    # Dropout rates, L2, the learning rate and the seed change no shape: they vary within a pack.
    assert shape_names(key_of, space) == {"conv.repeat", "conv[0].filters", "conv[1].filters", "training.batch_size"}


def test_the_random_search_draws_shapes_once_per_pack_and_values_per_member(tmp_path, capsys):
    doc = spec_doc({"max_trials": 8, "pack": 4, "seed": 2})
    result = archbuilder.tune(load_spec(doc), out=str(tmp_path / "run"), quiet=True)
    rows = read_csv(tmp_path / "run")
    assert len(rows) == 8 and len(result.trials) == 8
    for pack in (rows[:4], rows[4:]):
        assert len({row["conv[0].filters"] for row in pack}) == 1  # one shape per pack
        for name in ("training.optimizer.learning_rate", "conv[0].dropout"):
            assert len({row[name] for row in pack}) == 4, name  # values drawn per member
    assert rows[0]["conv[0].filters"] != rows[4]["conv[0].filters"]  # (seed 2) the second pack drew another
    assert {row["regularization.l2"] for row in rows} == {"0.0001", "0.001"}
    if keras.backend.backend() != "jax":  # the same trials, one after another: no pack column, a note, env.json
        assert "pack" not in rows[0]
        note = capsys.readouterr().err
        assert f"tuning.pack 4: packed trials need the JAX backend; on {keras.backend.backend()}" in note
        with open(tmp_path / "run" / "env.json") as f:
            assert json.load(f)["pack"] == {"size": 4, "program": f"none: {keras.backend.backend()} runs the "
                                                                  f"members one after another"}


def test_the_grid_search_walks_shapes_slowest_so_packs_are_full(tmp_path):
    doc = spec_doc({"tuner": "grid", "max_trials": 4, "pack": 2})
    doc["conv"][0]["dropout"] = 0.0
    doc["training"]["optimizer"]["learning_rate"] = 0.003
    archbuilder.tune(load_spec(doc), out=str(tmp_path / "run"), quiet=True)
    order = [(row["conv[0].filters"], row["regularization.l2"]) for row in read_csv(tmp_path / "run")]
    # keras-tuner's own order turns the last-declared hyperparameter fastest: (4, 1e-4), (8, 1e-4), (4, 1e-3), ...
    assert order == [("4", "0.0001"), ("4", "0.001"), ("8", "0.0001"), ("8", "0.001")]


def test_tune_pack_on_the_command_line(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec_doc({"max_trials": 2})))
    runner = CliRunner()
    bad = runner.invoke(cli, ["tune", str(path), "--out", str(tmp_path / "bad"), "--pack", "0"])
    assert bad.exit_code == 2 and "neither a number of trials (1 or more) nor 'auto'" in bad.output
    ok = runner.invoke(cli, ["tune", str(path), "--out", str(tmp_path / "run"), "--pack", "2", "--quiet"])
    assert ok.exit_code == 0, ok.output
    with open(tmp_path / "run" / "spec.json") as f:
        assert json.load(f)["tuning"]["pack"] == 2
    with pytest.raises(SpecErrors, match=r"\$\.tuning\.pack: packed trials run in one process"):
        archbuilder.tune(load_spec(spec_doc({"max_trials": 2})), out=str(tmp_path / "w"), workers=1, pack="auto")


def test_auto_sizes_a_pack_from_memory_and_the_trials_left(tmp_path):
    doc = spec_doc({"max_trials": 5, "pack": "auto", "seed": 2})
    archbuilder.tune(load_spec(doc), out=str(tmp_path / "run"), quiet=True)
    rows = read_csv(tmp_path / "run")
    assert len(rows) == 5 and len({row["conv[0].filters"] for row in rows}) == 1  # one pack of all five
    with open(tmp_path / "run" / "env.json") as f:
        assert json.load(f)["pack"]["size"] == "auto"


def test_epochs_run_inside_one_program_on_the_fast_path_or_when_asked(monkeypatch):
    from archbuilder.run import fast_path
    from archbuilder.tuning import pack_search

    monkeypatch.setattr(pack_search, "packs_trials", lambda: True)
    monkeypatch.setenv(fast_path.ENV, "off")
    assert pack_search.environment(4) == ({"size": 4, "program": "one program per step"}, None)
    monkeypatch.setenv(fast_path.ENV, "on")
    assert pack_search.environment(4) == ({"size": 4, "program": "one program per epoch (lax.scan)"}, None)
    monkeypatch.setenv(pack_search.SCAN_ENV, "off")
    assert not pack_search.scans_epochs()


def test_auto_packs_what_fits_half_the_free_memory_at_most_the_trials_left():
    concrete = load_spec(spec_doc({}, seed=1, optimizer={"type": "adam", "learning_rate": 0.01})).concrete()
    concrete["regularization"] = {"l2": 1e-4}
    concrete["conv"][0].update(filters=8, dropout=0.1)
    one = member_bytes(concrete)
    # Weights, gradients and two optimizer slots per parameter; each layer's output for a batch, twice.
    params = sum(node.params for node in archbuilder.plan_spec(concrete).nodes)
    assert one > 16 * params
    assert auto_pack_size(concrete, free_bytes=20 * one, trials_left=100) == 10
    assert auto_pack_size(concrete, free_bytes=20 * one, trials_left=3) == 3
    assert auto_pack_size(concrete, free_bytes=10**15, trials_left=None) == AUTO_MAX
    assert auto_pack_size(concrete, free_bytes=one, trials_left=100) == 1  # never less than one


# ---------------------------------------------------------------- JAX: packed against sequential


SEARCH = {"spec_version": 1, "name": "packed", "family": "cnn", "input": {"shape": [40, 1]},
          "conv": [{"filters": 4, "kernel_size": 5, "strides": 2}], "dense": [{"units": 8, "dropout": 0.2}],
          "output": {"units": 10}, "data": {"dataset": "mnist1d", "max_samples": 300},
          "training": {"epochs": 4, "batch_size": 64, "validation_split": 0.2,
                       # patience 0 with a large min_delta: that member stops after its second epoch
                       "early_stopping": {"monitor": "val_loss", "patience": {"choice": [50, 0]}, "min_delta": 5.0,
                                          "restore_best_weights": True},
                       "optimizer": {"type": "adam", "learning_rate": {"choice": [0.003, 0.02, 1e20]}}},
          "tuning": {"tuner": "grid", "max_trials": 6, "max_consecutive_failed_trials": 5}}

COMPARE_SCRIPT = r"""
import glob
import h5py
sys.path.insert(0, "tests")
import tracking_check
import archbuilder
from archbuilder.spec.load import load_spec
spec = json.loads(sys.argv[1])
out, curves = {}, {}
for pack in (1, 3):
    run = os.path.join(tempfile.mkdtemp(), "run")
    archbuilder.tune(load_spec(spec), out=run, quiet=True, pack=pack)
    trials = {}
    for folder in sorted(glob.glob(run + "/tuner/trial_*")):
        with open(folder + "/trial.json") as f:
            trial = json.load(f)
        weights = []
        with h5py.File(folder + "/checkpoint.weights.h5") as f:
            f.visititems(lambda n, o: weights.append(np.asarray(o)) if isinstance(o, h5py.Dataset) else None)
        trials[trial["trial_id"]] = {"values": trial["hyperparameters"]["values"], "score": trial["score"],
                                     "status": trial["status"], "best_step": trial["best_step"], "weights": weights}
    with open(run + "/trials.csv") as f:
        rows = list(csv.DictReader(f))
    with open(run + "/env.json") as f:
        env = json.load(f)
    curves[pack] = {f"{t}/{split}": tracking_check.scalars(f"{run}/logs/trial_{t}/{split}") for t in trials
                    for split in ("train", "validation")}
    out[pack] = (trials, rows, env)
(seq, seq_rows, _), (packed, rows, env) = out[1], out[3]
print("RESULT " + json.dumps({
    "ids": [sorted(seq), sorted(packed)],
    "same": {t: {"values": seq[t]["values"] == packed[t]["values"], "score": [seq[t]["score"], packed[t]["score"]],
                 "status": [seq[t]["status"], packed[t]["status"]], "best_step": [seq[t]["best_step"],
                 packed[t]["best_step"]], "weights": len(seq[t]["weights"]) > 0 and all(
                 np.array_equal(a, b, equal_nan=True) for a, b in zip(seq[t]["weights"], packed[t]["weights"]))}
             for t in seq},
    "packs": [row["pack"] for row in rows], "sequential_columns": list(seq_rows[0]), "env": env["pack"],
    "errors": [row["error"] for row in rows],
    "curves": [json.dumps(curves[1], sort_keys=True), json.dumps(curves[3], sort_keys=True)],
    "epochs": {t: len(c.get("epoch_loss", [])) for t, c in curves[3].items() if t.endswith("/validation")},
}))
"""


def test_a_packed_search_gives_the_trials_scores_and_checkpoints_of_the_same_search_trial_by_trial():
    out = run_jax("import csv\n" + COMPARE_SCRIPT, json.dumps(SEARCH))
    assert out["ids"][0] == out["ids"][1] and len(out["ids"][0]) == 6
    for trial_id, same in out["same"].items():
        assert same["values"] and same["weights"], (trial_id, same)  # best-epoch weights bit for bit
        assert same["score"][0] == same["score"][1] and same["status"][0] == same["status"][1], (trial_id, same)
        assert same["best_step"][0] == same["best_step"][1], (trial_id, same)
    statuses = [same["status"][1] for _, same in sorted(out["same"].items())]
    assert statuses == ["COMPLETED", "COMPLETED", "FAILED"] * 2  # the NaN rate fails its member only
    assert "the loss became NaN at epoch 1 with learning_rate=1e+20" in out["errors"][2]
    assert out["packs"] == ["0", "0", "0", "3", "3", "3"]  # each row names its pack's first trial
    assert "pack" not in out["sequential_columns"]
    assert out["env"] == {"size": 3, "program": "one program per step"}
    assert out["curves"][0] == out["curves"][1]  # each member's TensorBoard curves, as trained alone
    assert sorted(set(out["epochs"].values())) == [1, 2, 4]  # the NaN member, the early-stopped one, the others


# ---------------------------------------------------------------- JAX: killed mid-pack, resumed


def _records(run):
    found = {}
    for name in sorted(os.listdir(os.path.join(run, "tuner"))):
        path = os.path.join(run, "tuner", name, "archbuilder.json")
        if name.startswith("trial_") and os.path.exists(path):
            with open(path) as f:
                found[name[len("trial_"):]] = (json.load(f), os.stat(path).st_mtime_ns)
    return found


def _status(run, trial_id):
    try:
        with open(os.path.join(run, "tuner", f"trial_{trial_id}", "trial.json")) as f:
            return json.load(f)["status"]
    except (OSError, ValueError):  # not made yet
        return None


def _completed(run):
    return [t for t in "0123" if _status(run, t) == "COMPLETED"]


def test_a_search_killed_mid_pack_keeps_its_finished_members_and_packs_the_others_again(tmp_path):
    spec = {**SEARCH, "training": {**SEARCH["training"], "epochs": 60,
                                   "optimizer": {"type": "adam", "learning_rate": {"choice": [0.003, 0.01]}}},
            "tuning": {"tuner": "grid", "max_trials": 4, "pack": 4}}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    run = str(tmp_path / "run")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "archbuilder", "tune", str(path), "--out", run, "--quiet"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    start = time.monotonic()
    try:  # the two patience-0 members end after 2 epochs, the other two train 60
        while len(_completed(run)) < 2:
            assert process.poll() is None, process.stderr.read().decode()[-3000:]
            assert time.monotonic() - start < 240, "the early members never finished"
            time.sleep(0.002)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    before = _records(run)
    finished = _completed(run)
    assert sorted(before) == finished and len(finished) == 2, before  # killed mid-pack: two members done
    unfinished = sorted({"0", "1", "2", "3"} - set(finished))
    assert all(_status(run, t) == "RUNNING" for t in unfinished)  # two still training
    assert {record["pack"] for record, _ in before.values()} == {"0"}

    resumed = subprocess.run(command + ["--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = _records(run)
    assert sorted(after) == ["0", "1", "2", "3"] and all(_status(run, t) == "COMPLETED" for t in after)
    for trial_id in finished:  # not rerun: the same record, untouched
        assert after[trial_id] == before[trial_id]
    labels = {after[t][0]["pack"] for t in unfinished}
    assert len(labels) == 1 and labels <= set(unfinished)  # rerun together, as one new pack
    rows = read_csv(run)
    assert [row["trial_id"] for row in rows] == ["0", "1", "2", "3"] and {row["status"] for row in rows} == {"COMPLETED"}


# ---------------------------------------------------------------- JAX: a packed search's saved model


SERVED_SCRIPT = r"""
import shutil
import archbuilder
from archbuilder.layers.safe_load import load_model_safely
from archbuilder.model.serving import contract_of
csv_path, folder = sys.argv[1], sys.argv[2]
spec = {"spec_version": 1, "name": "wine", "family": "mlp", "input": {"shape": [13]}, "dense": [{"units": 16}],
        "output": {"units": 3}, "data": {"path": csv_path, "target": "cultivar", "normalize": True},
        "training": {"epochs": 25, "batch_size": 16,
                     "optimizer": {"type": "adam", "learning_rate": {"choice": [0.003, 0.01, 0.03]}}},
        "tuning": {"tuner": "grid", "max_trials": 3, "pack": 3}}
result = archbuilder.tune(spec, out=os.path.join(folder, "tune"), quiet=True)
import csv
with open(os.path.join(folder, "tune", "trials.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
alone = os.path.join(folder, "alone.keras")
shutil.copy(os.path.join(folder, "tune", "best_model.keras"), alone)  # nothing beside it
by_folder = archbuilder.predict(result.run_dir, csv_path)
by_file = archbuilder.predict(alone, csv_path)
truth = np.asarray(__import__("pandas").read_csv(csv_path)["cultivar"])
print("RESULT " + json.dumps({
    "packs": [row.get("pack") for row in rows], "status": [row["status"] for row in rows],
    "equal": bool(by_folder.equals(by_file)), "accuracy": float((by_file["prediction"] == truth).mean()),
    "features": contract_of(load_model_safely(alone))["features"],
}))
"""


def test_a_packed_search_saves_its_best_model_taking_raw_rows(tmp_path, wine_csv):
    """best_model.keras of a packed search carries the preprocessing and input contract, like every saved model."""
    out = run_jax(SERVED_SCRIPT, str(wine_csv), str(tmp_path))
    assert out["packs"] == ["0", "0", "0"] and out["status"] == ["COMPLETED"] * 3, out  # one pack of three
    assert out["equal"], out  # the bare file predicts as its run folder does
    assert out["accuracy"] > 0.9, out  # on raw, unstandardized rows: the standardization is inside
    assert len(out["features"]) == 13 and out["features"][0] == "alcohol", out
