"""Overrides (archbuilder.spec.overrides): `--set` text and flags, as one list of (path, value) pairs."""

import pytest

from archbuilder.errors import SpecError
from archbuilder.spec.overrides import DELETE
from archbuilder.spec.overrides import apply_overrides
from archbuilder.spec.overrides import as_pairs
from archbuilder.spec.overrides import describe
from archbuilder.spec.overrides import parse_override


def test_text_and_pairs_are_the_same_override():
    assert as_pairs(["training.epochs=3", ("training.batch_size", 64), (["conv", 0, "filters"], 8)]) == [
        (["training", "epochs"], 3), (["training", "batch_size"], 64), (["conv", 0, "filters"], 8)]
    assert parse_override('data={"dataset": "mnist1d"}') == (["data"], {"dataset": "mnist1d"})
    assert parse_override("name=model-2") == (["name"], "model-2")


def test_applying_creates_objects_and_deletes_keys():
    doc = {"tuning": {"max_trials": 3}, "conv": [{"filters": 2}]}
    out = apply_overrides(doc, [("tuning.max_trials", DELETE), ("tuning.tuner", "grid"), ("training.seed", 7),
                                ("tuning.factor", DELETE), ("conv[0].filters", 4)])
    assert out == {"tuning": {"tuner": "grid"}, "conv": [{"filters": 4}], "training": {"seed": 7}}
    assert doc["tuning"] == {"max_trials": 3}  # a copy: never the caller's document


def test_a_missing_item_is_located():
    with pytest.raises(SpecError) as info:
        apply_overrides({"conv": []}, ["conv[2].filters=3"], "x.json")
    assert str(info.value) == "x.json: $.conv[2]: --set: $.conv has no item 2"


def test_overrides_read_back_as_set_text():
    pairs = [("training.epochs", 3), ("name", "m"), ("data", {"dataset": "mnist1d"})]
    assert describe(pairs) == ["training.epochs=3", "name=m", 'data={"dataset": "mnist1d"}']
    assert as_pairs(describe(pairs)) == as_pairs(pairs)
