"""`tune --warm-start RUN_DIR|trials.csv|best.json` and `tuning.initial: "defaults"`: points tried first."""

import csv
import json

from click.testing import CliRunner

from archbuilder.cli import cli

HPS = ["conv[0].filters", "dense[0].units", "training.optimizer.learning_rate"]


def spec(**tuning):
    return {
        "spec_version": 1, "name": "warm", "family": "cnn", "input": {"shape": [40, 1]},
        "conv": [{"filters": {"choice": [2, 4, 8]}, "pool": 2}],
        "dense": [{"units": {"choice": [4, 8, 16]}}],
        "output": {"units": 10},
        "training": {"epochs": 1, "batch_size": 64,
                     "optimizer": {"type": "adam", "learning_rate": {"float": {"min": 1e-3, "max": 1e-2,
                                                                              "default": 0.005}}}},
        "tuning": {"max_trials": 2, **tuning},
        "data": {"dataset": "mnist1d", "max_samples": 200},
    }  # fmt: skip


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def points(rows):
    return [[row[name] for name in HPS] for row in rows]


def tune(tmp_path, name, doc, *args):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    return CliRunner().invoke(cli, ["tune", str(path), "--out", str(tmp_path / name), "--quiet", *args])


def test_a_search_starts_from_a_previous_run_and_from_its_best_json(tmp_path):
    first = tune(tmp_path, "first", spec(seed=5))
    assert first.exit_code == 0, first.output
    before = read_csv(tmp_path / "first" / "trials.csv")
    ranked = sorted(before, key=lambda r: -float(r["score"]))
    second = tune(tmp_path, "second", spec(max_trials=3, seed=9), "--warm-start", str(tmp_path / "first"))
    assert second.exit_code == 0, second.output
    after = read_csv(tmp_path / "second" / "trials.csv")
    assert points(after[:2]) == points(ranked)  # the previous trials first, best first
    best = json.loads((tmp_path / "first" / "best.json").read_text())
    third = tune(tmp_path, "third", spec(initial="defaults", seed=9), "--warm-start",
                 str(tmp_path / "first" / "best.json"))
    assert third.exit_code == 0, third.output
    rows = read_csv(tmp_path / "third" / "trials.csv")
    assert points(rows[:1]) == [["2", "4", "0.005"]]  # trial 0: every space at its default
    assert points(rows[1:]) == [[str(best["conv"][0]["filters"]), str(best["dense"][0]["units"]),
                                 repr(best["training"]["optimizer"]["learning_rate"])]]


def test_warm_starts_that_do_not_match_the_spec_are_one_line_errors(tmp_path):
    header = ["trial_id", "status", "score", "conv[0].filters", "dense[1].units", "params", "error"]
    source = tmp_path / "trials.csv"
    source.write_text(",".join(header) + "\n0,COMPLETED,0.5,4,8,100,\n")
    result = tune(tmp_path, "a", spec(), "--warm-start", str(source))
    assert result.exit_code == 1
    assert result.output.strip() == (f"{source}: the spec searches dense[0].units, which this search did not "
                                     "(it searched conv[0].filters, dense[1].units)")
    source.write_text("trial_id,status,score,conv[0].filters,dense[0].units,training.optimizer.learning_rate,"
                      "params\n3,COMPLETED,0.5,4,12,0.002,100\n")
    result = tune(tmp_path, "b", spec(), "--warm-start", str(source))
    assert result.output.strip() == f"{source}: trial 3: dense[0].units = 12 is not one of the choices [4, 8, 16]"
    best = tmp_path / "best.json"
    best.write_text(json.dumps({"conv": [{"filters": 4}], "dense": [{"units": 8}], "training": {}}))
    result = tune(tmp_path, "c", spec(), "--warm-start", str(best))
    assert result.output.strip() == f"{best}: $.training.optimizer.learning_rate: missing; the spec searches it"
    result = tune(tmp_path, "d", spec(tuner="grid"), "--warm-start", str(best))
    assert result.exit_code == 1 and "$.tuning.tuner: a grid search walks every point" in result.output
    assert not (tmp_path / "a").exists()  # refused before the run directory was made
