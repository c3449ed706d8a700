"""Costs as metrics, several objectives (pareto.csv, pareto/, pareto.png, best.json's rule), constraints.

The searches are tiny (200 mnist1d samples, one epoch); the rules of the front and of
`select` are checked on hand-made rows, without training.
"""

import csv
import json
import math
import os

import keras_tuner
import pytest

import archbuilder
from archbuilder.errors import TrialError
from archbuilder.spec.load import load_spec
from archbuilder.spec.plan import plan_spec
from archbuilder.tuning import costs as costs_module
from archbuilder.tuning import hypermodel as hypermodel_module
from archbuilder.tuning.pareto import select

DATA = {"dataset": "mnist1d", "max_samples": 200}


def spec(units=(4, 8), **tuning):
    return {
        "spec_version": 1, "name": "costs", "family": "cnn", "input": {"shape": [40, 1]},
        "conv": [{"filters": {"choice": [2, 8]}, "pool": 2}],
        "dense": [{"units": {"choice": list(units)}}],
        "output": {"units": 10},
        "training": {"epochs": 1, "batch_size": 64,
                     "optimizer": {"type": "adam", "learning_rate": {"float": {"min": 1e-3, "max": 1e-2}}}},
        "tuning": {"max_trials": 4, **tuning},
        "data": DATA,
    }  # fmt: skip


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def dominated(a, b):
    """True when row b dominates row a (val_accuracy up, params down)."""
    better_or_equal = float(b["score"]) >= float(a["score"]) and int(b["params"]) <= int(a["params"])
    strictly = float(b["score"]) > float(a["score"]) or int(b["params"]) < int(a["params"])
    return better_or_equal and strictly


def test_two_objectives_write_the_front_and_its_knee(tmp_path):
    out = tmp_path / "run"
    result = archbuilder.tune(spec(objective=["val_accuracy", {"name": "params", "direction": "min"}]),
                              out=str(out), quiet=True)
    rows = read_csv(out / "trials.csv")
    assert len(rows) == 4 and {r["status"] for r in rows} == {"COMPLETED"}
    front = [r for r in rows if not any(dominated(r, other) for other in rows if other is not r)]
    pareto = read_csv(out / "pareto.csv")
    assert pareto == front  # the same rows, cell for cell
    for row in front:
        member = load_spec(json.loads((out / "pareto" / f"{row['trial_id']}.json").read_text()))
        plan = plan_spec(member.concrete())
        assert plan.params == int(row["params"]) and plan.flops == int(row["flops"])
    assert sorted(os.listdir(out / "pareto")) == sorted(f"{r['trial_id']}.json" for r in front)
    # The knee: nearest (0, 0) once each objective is scaled to [0, 1] over the front (accuracy flipped).
    acc = [float(r["score"]) for r in front]
    params = [int(r["params"]) for r in front]

    def scaled(v, values, flip):
        lo, hi = min(values), max(values)
        return 0.0 if hi == lo else ((hi - v) if flip else (v - lo)) / (hi - lo)

    distances = [math.hypot(scaled(a, acc, True), scaled(p, params, False)) for a, p in zip(acc, params)]
    knee = front[distances.index(min(distances))]
    assert json.loads((out / "best.json").read_text()) == json.loads(
        (out / "pareto" / f"{knee['trial_id']}.json").read_text())
    assert result.best_score == pytest.approx(float(knee["score"]))
    png = (out / "pareto.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    for row in rows:  # costs of every trial: flops from the plan, latencies measured
        assert int(row["flops"]) > 0 and float(row["latency_ms"]) > 0 and float(row["sample_latency_ms"]) > 0
        assert row["epochs_run"] == "1"
    trial = json.loads((out / "tuner" / "trial_0" / "trial.json").read_text())
    assert {"params", "flops", "latency_ms", "sample_latency_ms"} <= set(trial["metrics"]["metrics"])


def test_a_finished_search_resumed_reports_the_score_of_the_trial_select_chose(tmp_path):
    doc = spec(units=(4, 64), objective=["val_accuracy", {"name": "params", "direction": "min"}],
               select={"min": "params", "subject_to": {"val_accuracy": {"min": 0.0}}}, seed=1)
    doc["data"], doc["training"]["epochs"] = {"dataset": "mnist1d", "max_samples": 1000}, 3  # larger models win
    out = tmp_path / "run"
    first = archbuilder.tune(doc, out=str(out), quiet=True)
    rows_ = [r for r in read_csv(out / "trials.csv") if r["status"] == "COMPLETED"]
    smallest = min(rows_, key=lambda r: (int(r["params"]), -float(r["score"])))  # on the front
    assert first.best_score == pytest.approx(float(smallest["score"]))
    assert float(smallest["score"]) < max(float(r["score"]) for r in rows_)  # not the top score: the test tells
    again = archbuilder.tune(doc, out=str(out), quiet=True, resume=True)  # finished: nothing to resume
    assert again.best_score == pytest.approx(first.best_score)
    assert again.best_spec == first.best_spec


def test_a_search_times_each_inference_graph_once(tmp_path, monkeypatch):
    timed = []
    original = costs_module.latency

    def latency(model, x, batch_size):
        timed.append(model.count_params())
        return original(model, x, batch_size)

    monkeypatch.setattr(costs_module, "latency", latency)
    doc = spec(units=(4,), max_trials=6, seed=3)  # filters 2 or 8: two graphs, six trials
    doc["regularization"] = {"l2": {"float": {"min": 1e-5, "max": 1e-3, "sampling": "log"}}}
    doc["dense"][0]["dropout"] = {"float": {"min": 0.0, "max": 0.5}}
    doc["training"]["seed"] = {"int": {"min": 1, "max": 1000}}
    out = tmp_path / "run"
    archbuilder.tune(doc, out=str(out), quiet=True)
    rows_ = read_csv(out / "trials.csv")
    graphs = {}
    for row in rows_:
        graphs.setdefault(row["conv[0].filters"], set()).add((row["params"], row["latency_ms"],
                                                              row["sample_latency_ms"]))
    assert len(rows_) == 6 and sorted(graphs) == ["2", "8"]
    assert all(len(same) == 1 for same in graphs.values())  # one figure per graph, whatever else differs
    assert sorted(timed) == sorted(int(next(iter(same))[0]) for same in graphs.values())


def test_the_inference_key_ignores_what_only_training_reads():
    keras = pytest.importorskip("keras")

    def model(units=8, activation="relu", l2=1e-3, rate=0.2, seed=1, dtype=None):
        inputs = keras.Input((5,))
        h = keras.layers.Dense(units, activation=activation, kernel_regularizer=keras.regularizers.L2(l2),
                               kernel_initializer=keras.initializers.GlorotUniform(seed), dtype=dtype)(inputs)
        h = keras.layers.Dropout(rate, seed=seed)(h)
        return keras.Model(inputs, keras.layers.Dense(3, dtype=dtype)(h))

    key = costs_module.inference_key
    base = key(model(), 16)
    assert key(model(l2=1e-5, rate=0.5, seed=7), 16) == base  # new layer names, other values: the same graph
    for other in (model(units=9), model(activation="tanh"), model(dtype="mixed_bfloat16")):
        assert key(other, 16) != base
    assert key(model(), 1) != base


def rows(*points):
    return [{"trial_id": str(i), "status": "COMPLETED", "score": acc, "params": params, "flops": None,
             "latency_ms": None, "sample_latency_ms": None, "metrics": {}} for i, (acc, params) in enumerate(points)]


OBJECTIVES = [keras_tuner.Objective("val_accuracy", "max"), keras_tuner.Objective("params", "min")]


def test_select_knee_and_max_subject_to():
    trials = rows((0.90, 90_000), (0.80, 20_000), (0.85, 40_000), (0.70, 60_000), (0.60, 5_000))
    best, front, note = select(trials, OBJECTIVES, "val_accuracy", "knee")
    assert [r["trial_id"] for r in front] == ["0", "1", "2", "4"] and note is None
    # scaled over the front: 0 (0, 1), 1 (1/3, 15/85): 0.377, 2 (1/6, 35/85): 0.444, 4 (1, 0)
    assert best["trial_id"] == "1"
    rule = {"max": "val_accuracy", "subject_to": {"params": {"max": 50_000}}}
    assert select(trials, OBJECTIVES, "val_accuracy", rule)[0]["trial_id"] == "2"
    rule = {"min": "params", "subject_to": {"val_accuracy": {"min": 0.8}}}
    assert select(trials, OBJECTIVES, "val_accuracy", rule)[0]["trial_id"] == "1"
    best, _, note = select(trials, OBJECTIVES, "val_accuracy", {"max": "val_accuracy",
                                                                "subject_to": {"params": {"max": 10}}})
    assert best["trial_id"] == "1" and "no trial is within" in note


def test_pruned_and_failed_trials_are_not_candidates():
    trials = rows((0.9, 100), (0.5, 50), (0.95, 10))
    trials[2]["status"] = "PRUNED"
    trials.append({**rows((None, None))[0], "trial_id": "3", "status": "FAILED"})
    best, front, _ = select(trials, OBJECTIVES, "val_accuracy", "knee")
    assert [r["trial_id"] for r in front] == ["0", "1"]


def test_a_cost_alone_is_not_an_objective():
    with pytest.raises(archbuilder.errors.SpecErrors, match=r"\$.tuning.objective: params is a cost"):
        load_spec(spec(objective="params"))
    with pytest.raises(archbuilder.errors.SpecErrors, match="needs a training metric"):
        load_spec(spec(objective=["params", "flops"]))
    with pytest.raises(archbuilder.errors.SpecErrors, match=r"\$.tuning.select: give one of max or min"):
        load_spec(spec(select={"max": "val_accuracy", "min": "params"}))
    with pytest.raises(archbuilder.errors.SpecErrors, match=r"\$.tuning.pruning: hyperband stops trials early"):
        load_spec({**spec(), "tuning": {"tuner": "hyperband", "pruning": {"type": "median"}}})


def test_infeasible_trials_are_decided_from_the_plan_and_never_built(tmp_path, monkeypatch):
    built = []
    original = hypermodel_module.SpecHyperModel.build

    def build(self, hp):
        built.append(self.concrete(hp)["dense"][0]["units"])
        return original(self, hp)

    monkeypatch.setattr(hypermodel_module.SpecHyperModel, "build", build)
    # 20 inputs x 4 filters -> 40 after pooling; units 512 gives > 20,000 params, 4 gives ~ 250.
    doc = spec(units=(4, 512), constraints={"params": {"max": 5000}}, max_trials=3, seed=2,
               max_consecutive_failed_trials=1)
    out = tmp_path / "run"
    archbuilder.tune(doc, out=str(out), quiet=True)
    rows_ = read_csv(out / "trials.csv")
    infeasible = [r for r in rows_ if r["status"] == "INFEASIBLE"]
    completed = [r for r in rows_ if r["status"] == "COMPLETED"]
    assert len(completed) == 3 and infeasible  # max_trials counts feasible trials; none counted as failures
    assert built == [4, 4, 4, 4]  # only the three feasible trials were built, then the best one reloaded
    for row in infeasible:
        assert row["dense[0].units"] == "512" and int(row["params"]) > 5000
        assert row["error"] == f"$.tuning.constraints.params.max: {int(row['params']):,} params, max 5,000"
        assert row["latency_ms"] == "" and row["epochs_run"] == ""
        assert not os.path.exists(out / "tuner" / f"trial_{row['trial_id']}" / "checkpoint.weights.h5")
    assert all(int(r["params"]) <= 5000 for r in completed)
    assert [int(r["trial_id"]) for r in rows_] == list(range(len(rows_)))


def test_a_space_with_no_feasible_point_stops_after_max_infeasible(tmp_path):
    doc = spec(constraints={"flops": {"max": 10}}, max_infeasible=5, max_trials=3)
    with pytest.raises(TrialError, match=r"the last 5 sampled points broke tuning.constraints"):
        archbuilder.tune(doc, out=str(tmp_path / "run"), quiet=True)
    rows_ = read_csv(tmp_path / "run" / "trials.csv")
    assert [r["status"] for r in rows_] == ["INFEASIBLE"] * 5
    assert all(r["error"].startswith("$.tuning.constraints.flops.max: ") for r in rows_)


def test_bayesian_fits_a_parego_scalarization_and_infeasible_points_as_the_worst(tmp_path):
    import numpy as np

    from archbuilder.tuning.oracles import make_oracle
    from archbuilder.tuning.settings import search_settings

    settings = search_settings(load_spec(spec(tuner="bayesian", max_trials=9, seed=4)))
    settings["constraints"] = {"params": {"max": 10}}
    oracle = make_oracle(settings, OBJECTIVES[0], OBJECTIVES,
                         costs_of=lambda values: {"params": 100 if values["x"] > 0.7 else 1, "flops": 0})
    oracle.verbose = 0
    hp = keras_tuner.HyperParameters()
    hp.Float("x", 0, 1)
    oracle.update_space(hp)
    oracle._set_project_dir(str(tmp_path), "p")
    done = []
    while len(done) < 4:
        trial = oracle.create_trial("t")
        x = trial.hyperparameters.values["x"]
        assert x <= 0.7  # an infeasible point is never handed out
        metrics = {"val_accuracy": x, "params": 1000 * (1 - x) ** 2}
        oracle.update_trial(trial.trial_id, metrics)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        done.append((x, metrics["params"]))
    assert oracle.infeasible  # the seed draws some x > 0.7 among the first points
    oracle._weights = np.array([0.25, 0.75])
    vectors, scores = oracle._vectorize_trials()
    f = np.array([[-acc, params] for acc, params in done])
    scaled = (f - f.min(0)) / (f.max(0) - f.min(0))
    expected = (oracle._weights * scaled).max(1) + 0.05 * (oracle._weights * scaled).sum(1)
    assert list(scores[:4]) == pytest.approx(list(expected))  # not keras-tuner's sum
    assert list(scores[4:]) == [max(expected)] * len(oracle.infeasible)
    assert len(vectors) == 4 + len(oracle.infeasible)
