"""Findings 7, 14 and the `--set` case of 9: one strictness for every source of a spec, one line for every refusal."""

import json

import numpy as np
import pytest

import archbuilder
from archbuilder.atomic import atomic_write_json
from archbuilder.errors import ArchbuilderError
from archbuilder.errors import SpecErrors
from hostile_corpus import invoke
from hostile_corpus import one_line
from hostile_corpus import spec_doc
from hostile_corpus import write_spec


@pytest.mark.parametrize("override, expected", [
    ("training.optimizer.learning_rate=NaN", "$.training.optimizer.learning_rate: --set "
     "training.optimizer.learning_rate: NaN is not valid JSON; write a number or null"),
    ("training.optimizer.learning_rate=-Infinity", "$.training.optimizer.learning_rate: --set "
     "training.optimizer.learning_rate: -Infinity is not valid JSON; write a number or null"),
    ("training.optimizer.learning_rate=1e999", "$.training.optimizer.learning_rate: --set "
     "training.optimizer.learning_rate: the number 1e999 is too large for a float; write a finite number"),
    ('training.optimizer={"type": "adam", "type": "sgd"}', "$.training.optimizer: duplicate key 'type': each key "
     "may appear once"),
    ("training.epochs=" + "1" * 101, "$.training.epochs: --set training.epochs: integer of 101 digits is too "
     "large (the limit is 100)"),
    ("training.epochs=" + "1" * 100, "$.training.epochs: " + "1" * 100 + " is greater than the maximum of "
     "9223372036854775807"),
    ("training.seed=4294967296", "$.training.seed: 4294967296 is greater than the maximum of 4294967295"),
], ids=["nan", "infinity", "overflow", "duplicate-key", "101-digits", "100-digits", "seed"])
def test_7_set_values_are_as_strict_as_a_spec_file(tmp_path, override, expected):
    spec = write_spec(str(tmp_path))
    result = invoke("validate", spec, "--set", override)
    assert result.exit_code == 1
    assert one_line(result).replace("--set training.optimizer: ", "") == f"{spec}: {expected}"


def test_7_python_dicts_are_as_strict_as_a_spec_file():
    with pytest.raises(SpecErrors) as info:
        archbuilder.load_spec({**spec_doc(learning_rate=None), "training": {"optimizer": {
            "type": "adam", "learning_rate": float("nan")}, "epochs": 10 ** 100}})
    assert info.value.lines() == [
        "<spec>: $.training.epochs: integer of 101 digits is too large (the limit is 100)",
        "<spec>: $.training.optimizer.learning_rate: NaN is not valid JSON; write a finite number or null",
    ]
    with pytest.raises(SpecErrors, match=r"<spec>: \$\.training\.epochs: --set training.epochs: Infinity is not"):
        archbuilder.load_spec(spec_doc(), overrides=[("training.epochs", float("inf"))])


def test_7_a_diverged_metric_is_written_as_strict_json(tmp_path):
    path = tmp_path / "metrics.json"
    atomic_write_json(str(path), {"test_loss": float("nan"), "curve": [np.float32("inf"), 1.5]})
    assert json.loads(path.read_text(), parse_constant=lambda name: pytest.fail(name)) == {
        "test_loss": None, "curve": [None, 1.5]}


def test_9_a_set_value_nested_5000_deep_is_one_line(tmp_path):
    spec = write_spec(str(tmp_path))
    result = invoke("validate", spec, "--set", "description=" + "[" * 5000 + "]" * 5000)
    assert one_line(result) == f"{spec}: $.description: --set description: nesting deeper than 64 levels"
    result = invoke("validate", spec, "--set", ".".join(["a"] * 5000) + "=1")
    assert one_line(result) == f"{spec}: $: --set: a path of 5000 steps is deeper than 64 levels"


# ---------------------------------------------------------------- finding 14: the Python API


@pytest.mark.parametrize("value", [None, 42, [spec_doc()]], ids=["none", "int", "list"])
def test_14_load_spec_names_its_argument(value):
    with pytest.raises(TypeError) as info:
        archbuilder.load_spec(value)
    assert isinstance(info.value, ArchbuilderError)
    assert str(info.value) == ("archbuilder.load_spec: spec: expected a spec file's path, a JSON string, a dict or "
                               f"a Spec; got {type(value).__name__}")


def test_14_values_json_cannot_hold_are_located():
    doc = spec_doc()
    doc["dense"] = [{"units": np.int64(4)}]
    doc["description"] = {"a", "b"}
    with pytest.raises(SpecErrors) as info:
        archbuilder.load_spec(doc)
    assert info.value.lines() == [
        "<spec>: $.dense[0].units: numpy.int64 is not a JSON value; convert it with int(), float() or .tolist()",
        "<spec>: $.description: a set is not a JSON value; use a list",
    ]
    deep = inner = {}
    for _ in range(3000):
        inner["a"] = inner = {}
    with pytest.raises(SpecErrors, match=r"nesting deeper than 64 levels"):
        archbuilder.load_spec({**spec_doc(), "description": deep})


@pytest.mark.parametrize("call, kind, expected", [
    (lambda s: archbuilder.train(s, epochs="x"), TypeError,
     "archbuilder.train: epochs: expected an integer of at least 1; got str 'x'"),
    (lambda s: archbuilder.train(s, out=5), TypeError,
     "archbuilder.train: out: expected a path (str or os.PathLike); got int 5"),
    (lambda s: archbuilder.tune(s, max_trials="a"), TypeError,
     "archbuilder.tune: max_trials: expected an integer of at least 1; got str 'a'"),
    (lambda s: archbuilder.tune(s, workers=-1), ValueError,
     "archbuilder.tune: workers: expected an integer of at least 0; got -1"),
    (lambda s: archbuilder.evaluate(3), TypeError,
     "archbuilder.evaluate: run: expected a path (str or os.PathLike); got int 3"),
    (lambda s: archbuilder.predict(3, "x.npy"), TypeError,
     "archbuilder.predict: run: expected a path (str or os.PathLike); got int 3"),
    (lambda s: archbuilder.compare(s), TypeError,
     "archbuilder.compare: specs: expected a list of specs (paths, dicts or Specs); got dict"),
], ids=["train-epochs", "train-out", "tune-max-trials", "tune-workers", "evaluate", "predict", "compare"])
def test_14_api_arguments_are_named_at_once(call, kind, expected):
    with pytest.raises(kind) as info:
        call(spec_doc())
    assert isinstance(info.value, ArchbuilderError) and str(info.value) == expected
