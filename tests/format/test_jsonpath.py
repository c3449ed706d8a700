"""The one JSON-path grammar: written by `join`, read back by `keys`."""

import pytest

from archbuilder.format import jsonpath


@pytest.mark.parametrize("steps", [["conv", 1, "filters"], ["training", "class_weight", "T-shirt/top"],
                                   ["a b", 0, 'q"uote'], [0], []])
def test_paths_round_trip(steps):
    assert jsonpath.keys(jsonpath.format_keys(steps)) == steps


def test_the_written_form():
    assert jsonpath.format_keys(["conv", 1, "filters"]) == "$.conv[1].filters"
    assert jsonpath.join("$.data", "max-x") == '$.data["max-x"]'
    assert jsonpath.name("$.conv[1].filters") == "conv[1].filters"
    assert jsonpath.from_name("conv[1].filters") == "$.conv[1].filters"


def test_override_paths_may_drop_the_root_and_use_hyphens():
    assert jsonpath.keys("training.epochs") == jsonpath.keys("$.training.epochs") == ["training", "epochs"]
    assert jsonpath.keys("data.max-x") == ["data", "max-x"]
    with pytest.raises(ValueError, match="cannot read the path 'dense\\[0\\]units'"):
        jsonpath.keys("dense[0]units")


def test_walk_stops_where_the_document_does():
    doc = {"conv": [{"filters": 3}]}
    assert [step for step, _ in jsonpath.walk(doc, ["conv", 0, "filters"])] == ["conv", 0, "filters"]
    assert [step for step, _ in jsonpath.walk(doc, ["conv", 2, "filters"])] == ["conv"]
