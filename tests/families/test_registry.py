"""The family registry: every family registered, each with all its parts, asked for by name."""

import dataclasses
import json
import pathlib

import pytest

from archbuilder.errors import SpecError
from archbuilder.families import BUILTIN
from archbuilder.families import Family
from archbuilder.families import family_names
from archbuilder.families import get_family
from archbuilder.families import register_family
from archbuilder.format.schema import load_schema
from archbuilder.spec.load import load_spec

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_every_built_in_family_is_registered_with_every_part():
    assert family_names()[:len(BUILTIN)] == list(BUILTIN)
    for name in BUILTIN:
        family = get_family(name)
        assert family.name == name and family.description
        assert all(callable(getattr(family, f.name)) for f in dataclasses.fields(Family)
                   if f.name not in ("name", "description", "builder", "hidden_activation"))
        assert family.builder == f"archbuilder.families.{name}.build"


def test_the_schema_lists_the_registered_families():
    assert load_schema()["properties"]["family"]["enum"] == family_names()


def test_an_unknown_family_is_located_with_a_hint():
    with pytest.raises(SpecError) as info:
        get_family("cnm")
    assert info.value.path == "$.family" and "(did you mean 'cnn'?)" in info.value.message


def test_every_shipped_spec_is_planned_by_its_family():
    for path in sorted((ROOT / "specs").glob("*.json")):
        family = json.loads(path.read_text())["family"]
        spec = load_spec(path)
        assert spec.plan.nodes, path
        assert get_family(family).outputs(spec.concrete()), path


def test_a_registered_family_is_the_one_asked_for():
    cnn = get_family("cnn")
    toy = dataclasses.replace(cnn, name="toy_cnn", description="a cnn under another name")
    try:
        assert register_family(toy) is get_family("toy_cnn")
        assert "toy_cnn" in family_names()
    finally:
        from archbuilder import families

        families._REGISTRY.pop("toy_cnn", None)
    assert "toy_cnn" not in family_names()
