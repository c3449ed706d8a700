"""Spec search spaces -> keras-tuner hyperparameters, and back into a plain spec."""

import json

import keras_tuner
import pytest

from archbuilder.tuning.space import HyperSpace
from archbuilder.tuning.hypermodel import SpecHyperModel
from archbuilder.spec.load import load_spec

SPEC = {
    "spec_version": 1, "name": "hp", "family": "cnn", "input": {"shape": [16, 1]},
    "activation": {"choice": ["relu", "gelu"]},
    "conv": {"repeat": {"int": {"min": 1, "max": 3, "default": 2}},
             "each": {"filters": {"choice": [4, 8]}, "pool": {"choice": [None, 2]},
                      "batch_norm": {"bool": {"default": True}}}},
    "dense": [{"units": {"int": {"min": 8, "max": 32, "step": 8, "default": 16}},
               "dropout": {"float": {"min": 0.0, "max": 0.5, "step": 0.25}}}],
    "output": {"units": 10},
    "training": {"batch_size": {"choice": [16, 32]},
                 "optimizer": {"type": "adam", "learning_rate": {"float": {"min": 1e-4, "max": 1e-2,
                                                                          "sampling": "log"}}}},
}  # fmt: skip


def space():
    return HyperSpace(load_spec(SPEC).doc)


def declared():
    hp = keras_tuner.HyperParameters()
    space().declare(hp)
    return hp


def test_names_are_spec_paths_with_every_repetition():
    assert space().names == [
        "activation", "conv.repeat",
        "conv[0].filters", "conv[0].pool", "conv[0].batch_norm",
        "conv[1].filters", "conv[1].pool", "conv[1].batch_norm",
        "conv[2].filters", "conv[2].pool", "conv[2].batch_norm",
        "dense[0].units", "dense[0].dropout", "training.batch_size", "training.optimizer.learning_rate",
    ]  # fmt: skip


def test_repetitions_are_conditional_on_the_count():
    s = space()
    assert s.condition("conv[0].filters") == ("conv.repeat", [1, 2, 3])
    assert s.condition("conv[2].pool") == ("conv.repeat", [3])
    assert s.condition("dense[0].units") is None
    hp = declared()
    kinds = {p.name: type(p).__name__ for p in hp.space}
    assert kinds["conv.repeat"] == "Int" and kinds["conv[0].batch_norm"] == "Boolean"
    assert kinds["dense[0].dropout"] == "Float" and kinds["activation"] == "Choice"
    assert hp.values["conv.repeat"] == 2  # the space's default
    assert hp.is_active("conv[1].filters") and not hp.is_active("conv[2].filters")  # inactive, not absent
    assert "conv[2].filters" not in hp.values
    hp.values["conv.repeat"] = 3
    assert hp.is_active("conv[2].filters")


def test_choices_with_null_and_booleans_round_trip():
    s = space()
    hp = declared()
    pool = next(p for p in hp.space if p.name == "conv[0].pool")
    assert pool.values == ["null", "2"]  # keras-tuner's Choice takes one type and no None
    assert s.decode("conv[0].pool", "null") is None and s.decode("conv[0].pool", "2") == 2
    assert s.decode("conv[0].batch_norm", 1) is True and s.decode("conv[0].batch_norm", 0) is False
    hp.values.update({"conv.repeat": 1, "conv[0].pool": "2", "conv[0].batch_norm": False, "activation": "gelu"})
    values = s.values(hp.values)
    assert values["conv[0].pool"] == 2 and values["conv[0].batch_norm"] is False
    assert "conv[1].filters" not in values  # repetition 1 does not exist when the count is 1
    doc = s.resolved(hp.values)
    assert doc["conv"] == [{"filters": 4, "pool": 2, "batch_norm": False}]
    assert doc["activation"] == "gelu" and doc["training"]["batch_size"] == 16
    assert json.loads(json.dumps(doc)) == doc
    assert not load_spec(doc).has_spaces  # a plain spec that validates as is


def test_mixed_number_choices_keep_their_ints():
    doc = json.loads(json.dumps(SPEC))
    doc["dense"][0]["units"] = {"choice": [8, 12.5]}
    s = HyperSpace(doc)
    assert s.codec("dense[0].units").encoded == [8.0, 12.5]
    assert s.decode("dense[0].units", 8.0) == 8 and isinstance(s.decode("dense[0].units", 8.0), int)


@pytest.mark.parametrize("oracle", ["random", "grid", "bayesian", "hyperband"])
def test_every_oracle_samples_only_active_repetitions(oracle, tmp_path):
    from archbuilder.tuning.tuners import make_oracle

    settings = {"tuner": oracle, "seed": 1, "max_consecutive_failed_trials": 3, "max_trials": 4,
                "max_epochs": 3, "factor": 3, "hyperband_iterations": 1}
    o = make_oracle(settings, keras_tuner.Objective("score", "max"))
    o._set_project_dir(str(tmp_path), "p")
    s = space()
    hp = o.get_space()
    s.declare(hp)
    o.update_space(hp)
    for i in range(3):
        trial = o.create_trial("tuner0")
        count = trial.hyperparameters.values["conv.repeat"]
        names = {n for n in trial.hyperparameters.values if n.startswith("conv[")}
        assert names == {f"conv[{r}].{k}" for r in range(count) for k in ("filters", "pool", "batch_norm")}
        concrete = load_spec(SPEC).concrete(s.picker(trial.hyperparameters.copy()))
        assert len(concrete["conv"]) == count
        o.update_trial(trial.trial_id, {"score": float(i)})
        trial.status = "COMPLETED"
        o.end_trial(trial)


def test_build_makes_the_trial_model_with_its_training_values():
    spec = load_spec(SPEC)
    hypermodel = SpecHyperModel(spec)
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    hp.values.update({"conv.repeat": 1, "conv[0].filters": 8, "conv[0].pool": "null", "training.batch_size": 32})
    model = hypermodel.build(hp)
    assert [layer.name for layer in model.layers if layer.name.startswith("conv_")] == ["conv_0_conv", "conv_0_bn",
                                                                                      "conv_0_act"]
    assert hypermodel.last_params == model.count_params()
    assert hypermodel.concrete(hp)["training"]["batch_size"] == 32
