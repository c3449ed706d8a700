"""The `data` rule (archbuilder.data.parse): one table for specs, `--data` and the schema."""

import pytest

from archbuilder.data.parse import KEYS
from archbuilder.data.parse import check_data
from archbuilder.errors import DataError
from archbuilder.errors import SpecErrors
from archbuilder.format.schema import load_schema
from archbuilder.spec.load import load_spec

SPEC = {"spec_version": 1, "name": "d", "family": "cnn", "input": {"shape": [4]}, "output": {"units": 2}}


def test_npy_pairs_are_a_source_in_a_spec_as_on_the_command_line():
    spec = load_spec({**SPEC, "data": {"x": "x.npy", "y": "y.npy"}})  # refused before the rule was one
    assert spec.doc["data"] == {"x": "x.npy", "y": "y.npy"}
    assert check_data({"x": "x.npy", "y": "y.npy"}) == {"x": "x.npy", "y": "y.npy"}


@pytest.mark.parametrize("data, message", [
    ({"normalise": True, "dataset": "mnist1d"}, "unknown key 'normalise' (did you mean 'normalize'?)"),
    ({"normalize": True}, 'needs one of "dataset", "path", or "x" and "y" (.npy files)'),
    ({"dataset": "mnist1d", "max_samples": 0}, '"max_samples" must be a positive integer; got 0'),
])
def test_a_spec_and_the_command_line_get_the_same_message(data, message):
    with pytest.raises(SpecErrors) as spec_error:
        load_spec({**SPEC, "data": data}, source="s.json")
    assert spec_error.value.lines() == [f"s.json: $.data: {message}"]
    with pytest.raises(DataError) as data_error:
        check_data(data)
    assert data_error.value.message == message


def test_the_schema_data_section_lists_exactly_the_table():
    data = load_schema()["$defs"]["data"]
    files = set(data["else"]["then"]["properties"])
    assert files == set(data["else"]["else"]["properties"]) == set(KEYS) - {"dataset"}
    assert set(data["then"]["properties"]) == {"dataset", "normalize", "max_samples", "seed", "rescale",
                                               "test_split"}
    assert data["else"]["else"]["required"] == ["x"] and data["else"]["then"]["required"] == ["path"]
