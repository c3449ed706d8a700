"""Search spaces: found by path, named as hyperparameters, resolved in document order."""

from archbuilder.format.search_space import default_value
from archbuilder.format.search_space import has_spaces
from archbuilder.format.search_space import is_space
from archbuilder.format.search_space import iter_repeats
from archbuilder.format.search_space import iter_spaces
from archbuilder.format.search_space import resolve

DOC = {"spec_version": 1, "name": "x", "family": "cnn", "input": {"shape": [8, 1]},
       "conv": {"repeat": {"int": {"min": 1, "max": 3}}, "each": {"filters": {"choice": [4, 8]}}},
       "output": {"units": {"int": {"min": 2, "max": 5, "default": 3}}},
       "tuning": {"max_trials": 2}}


def test_spaces_are_found_with_their_paths_and_frozen_keys_are_skipped():
    assert [path for path, _ in iter_spaces(DOC)] == ["$.conv.repeat", "$.conv.each.filters", "$.output.units"]
    assert [path for path, _ in iter_repeats(DOC)] == ["$.conv"]
    assert has_spaces(DOC) and not has_spaces({"tuning": {"max_trials": {"int": {"min": 1, "max": 2}}}})
    assert is_space({"bool": {}}) and not is_space({"choice": 3}) and not is_space({"int": {}, "x": 1})


def test_resolve_names_repetitions_and_visits_only_active_ones():
    seen = []

    def pick(name, space):
        seen.append(name)
        return 2 if name == "conv.repeat" else default_value(space)

    resolved = resolve(DOC, pick)
    assert seen == ["conv.repeat", "conv[0].filters", "conv[1].filters", "output.units"]
    assert resolved["conv"] == [{"filters": 4}, {"filters": 4}] and resolved["output"] == {"units": 3}
    assert resolved["tuning"] is DOC["tuning"]
