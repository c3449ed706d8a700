"""A spec's spaces as keras-tuner hyperparameters (archbuilder.tuning.space.HyperSpace)."""

import keras_tuner

from archbuilder.tuning.space import HyperSpace

DOC = {"spec_version": 1, "name": "x", "family": "rnn", "input": {"shape": [8, 1]},
       "rnn": {"cell": "gru", "units": {"repeat": {"choice": [1, 2]}, "each": {"int": {"min": 4, "max": 8}}}},
       "dense": {"repeat": {"int": {"min": 0, "max": 2}}, "each": {"units": 8, "dropout": {"choice": [0.0, 0.5]}}},
       "output": {"units": 2, "activation": {"choice": ["softmax", None]}}}


def test_repetitions_are_conditioned_on_their_count():
    space = HyperSpace(DOC)
    assert space.names == ["rnn.units.repeat", "rnn.units[0]", "rnn.units[1]", "dense.repeat", "dense[0].dropout",
                           "dense[1].dropout", "output.activation"]
    assert space.condition("rnn.units[1]") == ("rnn.units.repeat", [2])
    assert space.condition("dense[0].dropout") == ("dense.repeat", [1, 2])
    assert space.condition("output.activation") is None


def test_choices_keras_tuner_cannot_hold_are_encoded_and_decoded():
    space = HyperSpace(DOC)
    hp = keras_tuner.HyperParameters()
    space.declare(hp)
    assert hp.get("output.activation") == '"softmax"'
    assert space.decode("output.activation", "null") is None
    assert space.values({"rnn.units.repeat": 1, "dense.repeat": 0}) == {
        "rnn.units.repeat": 1, "rnn.units[0]": 4, "dense.repeat": 0, "output.activation": "softmax"}
