"""`tuning.pruning`: the median rule and ASHA decided by the oracle, in one process, in packs and with workers.

The rules are checked on the oracle alone (trials reported by hand, no training);
the searches are tiny (mnist1d, a few epochs), with a learning rate of 1e-9 as the
trial that cannot learn.
"""

import csv
import json
import os
import subprocess
import sys

import keras_tuner

import archbuilder
from archbuilder.tuning.oracles import make_oracle
from archbuilder.tuning.settings import search_settings
from archbuilder.spec.load import load_spec

DATA = {"dataset": "mnist1d", "max_samples": 300}
RATES = [0.01, 0.005, 0.02, 1e-9]  # the grid's order; the last cannot learn


def spec(pruning, epochs=4, rates=RATES, **tuning):
    return {
        "spec_version": 1, "name": "prune", "family": "cnn", "input": {"shape": [40, 1]},
        "conv": [{"filters": 8, "pool": 2}], "dense": [{"units": 16}], "output": {"units": 10},
        "training": {"epochs": epochs, "batch_size": 32,
                     "optimizer": {"type": "adam", "learning_rate": {"choice": rates}}},
        "tuning": {"tuner": "grid", "max_trials": len(rates), "objective": "val_loss", "pruning": pruning,
                   **tuning},
        "data": DATA,
    }  # fmt: skip


def read_csv(run_dir):
    with open(os.path.join(run_dir, "trials.csv"), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def oracle_of(tmp_path, pruning):
    settings = search_settings(load_spec({**spec(pruning), "tuning": {"max_trials": 9, "pruning": pruning}}))
    oracle = make_oracle(settings, keras_tuner.Objective("val_loss", "min"))
    oracle.verbose = 0
    hp = keras_tuner.HyperParameters()
    hp.Float("x", 0, 1)
    oracle.update_space(hp)
    oracle._set_project_dir(str(tmp_path), "p")
    return oracle


def run(oracle, losses):
    """Reports `losses` (one per epoch) for a new trial; returns the epochs it ran before a STOPPED answer."""
    trial = oracle.create_trial("t")
    for epoch, loss in enumerate(losses):
        if oracle.update_trial(trial.trial_id, {"val_loss": loss}, step=epoch).status == "STOPPED":
            break
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    return epoch + 1


def test_median_stops_after_warmup_only_against_enough_finished_trials(tmp_path):
    oracle = oracle_of(tmp_path, {"type": "median", "warmup_epochs": 2, "min_trials": 2})
    assert run(oracle, [1.0, 0.8, 0.6, 0.5]) == 4
    assert run(oracle, [9.0, 9.0, 9.0, 9.0]) == 4  # one finished trial: not enough to compare
    assert run(oracle, [1.1, 0.9, 0.7, 0.6]) == 4  # median of 0.8 and 9.0 at epoch 2 is 4.9
    assert run(oracle, [5.0, 5.0, 5.0, 5.0]) == 2  # worse than the median (0.9) at epoch 2, not at epoch 1
    assert oracle.pruned == {"3": 2}


def test_asha_keeps_the_top_third_at_each_rung_and_a_reload_keeps_the_rungs(tmp_path):
    oracle = oracle_of(tmp_path, {"type": "asha", "min_epochs": 1, "reduction_factor": 3})
    assert run(oracle, [1.0, 0.9, 0.8, 0.7]) == 4  # first at rungs 1 and 3
    assert run(oracle, [2.0, 1.0, 0.9, 0.8]) == 1  # second at rung 1, not the best of two
    assert run(oracle, [0.5, 0.4, 0.3, 0.2]) == 4  # best at rung 1 and at rung 3
    assert oracle.rungs == {"1": {"0": 1.0, "1": 2.0, "2": 0.5}, "3": {"0": 0.8, "2": 0.3}}
    oracle.save()
    again = oracle_of(tmp_path, {"type": "asha", "min_epochs": 1, "reduction_factor": 3})
    again.reload()
    assert again.rungs == oracle.rungs and again.pruned == {"1": 1}


def test_median_pruning_stops_the_trial_that_cannot_learn(tmp_path):
    out = tmp_path / "run"
    archbuilder.tune(spec({"type": "median", "warmup_epochs": 2, "min_trials": 3}), out=str(out), quiet=True)
    rows = read_csv(out)
    assert [r["status"] for r in rows] == ["COMPLETED", "COMPLETED", "COMPLETED", "PRUNED"]
    assert [r["epochs_run"] for r in rows] == ["4", "4", "4", "2"]
    assert float(rows[3]["training.optimizer.learning_rate"]) == 1e-9 and rows[3]["score"]


def test_asha_with_two_workers(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec({"type": "asha", "min_epochs": 1, "reduction_factor": 2}, epochs=2)))
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "archbuilder", "tune", str(path), "--out", str(out), "--workers",
                             "2", "--quiet"], capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_csv(out)
    assert {r["worker"] for r in rows} == {"tuner0", "tuner1"}
    assert rows[3]["status"] == "PRUNED" and rows[3]["epochs_run"] == "1"  # the chief decided, the worker stopped
    state = json.loads((out / "tuner" / "oracle.json").read_text())
    assert set(state["pruning"]["rungs"]["1"]) == {"0", "1", "2", "3"} and "3" in state["pruning"]["pruned"]


BACKEND_SCRIPT = r"""
import csv, json, sys, tempfile
import archbuilder
out = tempfile.mkdtemp() + "/run"
archbuilder.tune(json.loads(sys.argv[1]), out=out, quiet=True)
rows = list(csv.DictReader(open(out + "/trials.csv")))
print("RESULT " + json.dumps({"rows": [[r["status"], r["epochs_run"], r.get("pack", "")] for r in rows],
                              "tensorflow": "tensorflow" in sys.modules}))
"""


def test_asha_stops_a_member_of_a_pack_on_jax():
    from jax_scripts import run_jax

    doc = spec({"type": "asha", "min_epochs": 1, "reduction_factor": 2}, epochs=2, pack=4)
    rows = run_jax(BACKEND_SCRIPT, json.dumps(doc))["rows"]
    assert [r[2] for r in rows] == ["0"] * 4  # one pack of four
    assert rows[3][:2] == ["PRUNED", "1"] and rows[0][:2] == ["COMPLETED", "2"]


def test_median_pruning_on_torch():
    doc = spec({"type": "median", "warmup_epochs": 1, "min_trials": 3}, epochs=3)
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    result = subprocess.run([sys.executable, "-c", BACKEND_SCRIPT, json.dumps(doc)], env=env, capture_output=True,
                            text=True, timeout=600, check=False)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, result.stderr[-3000:]
    rows = json.loads(line[len("RESULT "):])["rows"]
    assert [r[0] for r in rows] == ["COMPLETED"] * 3 + ["PRUNED"] and rows[3][1] == "1"
