"""Property tests: any spec, valid or broken, gets located one-line errors, never a traceback.

Valid specs are drawn from the shipped schema (tests/fuzz_strategies.py); broken
ones are mutated at random JSON paths, damaged as text, re-encoded, or noise.
The budget is small for CI (the whole module well under 90 s on 2 cores);
`bench/fuzz_long.py` runs the same strategies for minutes and records the counts
in BENCHMARKS.md.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys

import pytest
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import fuzz_strategies as fs
from archbuilder.errors import SpecErrors
from archbuilder.format.jsonfile import parse_json
from archbuilder.spec.load import load_spec
from archbuilder.spec.load import validate_spec

SOURCE = "fuzz.json"
CASE_SECONDS = 5  # per case (validate answers in milliseconds); a hang or a runaway expansion fails
# No shrinking: it can take minutes on a 2-core box, and the unshrunk example is
# printed anyway; bench/fuzz_long.py keeps the first example of each failure.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)
QUIET = list(HealthCheck)
FAST = settings(max_examples=40, deadline=None, database=None, phases=PHASES, suppress_health_check=QUIET,
                print_blob=False)


class Hang(BaseException):
    """A BaseException, so that no `except Exception` in the code under test swallows it."""


@contextlib.contextmanager
def time_limit(seconds):
    """Fails a case that runs longer than `seconds` (a hang), from a timer signal."""

    def on_alarm(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_errors(errors, source=SOURCE):
    """Every problem is a located `SpecError` of one short line."""
    problems = fs.answer_problems(errors, source)
    assert not problems, problems


def check_validate(doc, source=SOURCE):
    """`validate_spec` accepts `doc` (returning a plan) or lists located errors; never raises."""
    with time_limit(CASE_SECONDS):
        errors, plan = validate_spec(doc, source)
    if errors:
        check_errors(errors, source)
    else:
        assert plan is not None and plan.nodes, "a valid spec plans at least its prediction layer"
        assert all(node.path.startswith("$") and node.params >= 0 for node in plan.nodes)
    return errors


def check_bytes(data, source=SOURCE):
    """A file's bytes through `parse_json` then `validate_spec`: a dict or located errors."""
    with time_limit(CASE_SECONDS):
        try:
            doc = parse_json(data, source)
        except SpecErrors as e:
            check_errors(e.errors, source)
            return "parse_error"
    assert isinstance(doc, dict)
    json.dumps(doc, allow_nan=False)  # what parses is plain JSON again: no NaN, no huge ints lost
    return "invalid" if check_validate(doc, source) else "valid"


# --- (a) valid specs from the schema -----------------------------------------------------


@pytest.mark.parametrize("family", fs.FAMILIES)
@FAST
@given(data=st.data())
def test_schema_drawn_specs_validate_or_answer_located_errors(family, data):
    doc = data.draw(fs.spec_docs(family))
    assert fs.is_schema_valid(doc), "the strategy drew a document the shipped schema refuses"
    check_validate(doc)


def test_schema_drawn_specs_are_often_accepted():
    """A strategy whose specs all fail validation would test only the error paths."""
    accepted = {}

    @settings(FAST, max_examples=30)
    @given(st.sampled_from(fs.FAMILIES), st.data())
    def count(family, data):
        doc = data.draw(fs.spec_docs(family))
        accepted.setdefault(family, []).append(_accepted(doc))

    count()
    rates = {family: sum(v) / len(v) for family, v in accepted.items()}
    assert sum(sum(v) for v in accepted.values()) >= 5, rates


def _accepted(doc):
    doc.pop("backbone", None)  # keras.applications graphs take seconds each: not for a CI budget
    try:
        return not validate_spec(doc)[0]
    except Exception:  # a validate bug; test_schema_drawn_specs_* reports it
        return False


@settings(FAST, max_examples=8)
@given(st.sampled_from(fs.FAMILIES).flatmap(lambda f: fs.valid_spec_docs(f).filter(_accepted)))
def test_accepted_specs_build_or_answer_located_errors(doc):
    from archbuilder.model.build import build_spec

    spec = load_spec(doc, source=SOURCE)
    with time_limit(120):
        try:
            built = build_spec(spec)
        except SpecErrors as e:
            check_errors(e.errors)
            return
    if not spec.doc.get("backbone"):  # the plan counts only the backbones it knows (archbuilder.families.cnn.plan)
        assert built.model.count_params() == spec.plan.params


# --- (b) broken specs ---------------------------------------------------------------------


@FAST
@given(fs.mutated_docs())
def test_mutated_specs_answer_located_errors(doc):
    check_validate(doc)


@settings(FAST, max_examples=80)
@given(fs.spec_bytes())
def test_damaged_and_reencoded_files_answer_located_errors(case):
    edit, data = case
    check_bytes(data)


@FAST
@given(fs.garbage_bytes())
def test_garbage_answers_located_errors(data):
    check_bytes(data)


@FAST
@given(fs.json_values())
def test_any_json_value_answers_located_errors(value):
    check_bytes(json.dumps(value).encode())


# Specific inputs named by the issue, each with the message it must give.
_VALID = json.dumps({"spec_version": 1, "name": "x", "family": "custom", "input": {"shape": [4]},
                     "layers": [{"type": "Dense", "units": 2}]})


_NAMED = [
    (b"", "empty"),
    (_VALID.replace('"units": 2', '"units": NaN').encode(), "NaN is not valid JSON"),
    (_VALID.replace('"units": 2', '"units": Infinity').encode(), "Infinity is not valid JSON"),
    (_VALID.replace('"units": 2', '"units": -Infinity').encode(), "Infinity is not valid JSON"),
    (_VALID.replace('"units": 2', '"units": ' + "9" * 5000).encode(), "too large"),
    (_VALID.replace('"units": 2', '"units": ' + "9" * 101).encode(), "too large"),
    (_VALID.replace('"name": "x"', '"name": "x", "name": "y"').encode(), "duplicate key 'name'"),
    (_VALID.encode("utf-16"), "UTF-8"),
    (_VALID.replace('"x"', '"caf\u00e9"').encode("latin-1"), "UTF-8"),
    (_VALID[:-7].encode(), "invalid JSON at line 1"),
    (("[" * 100_000 + "]" * 100_000).encode(), "nesting deeper than"),
    (_VALID.replace('"input"', '"description": ' + "[" * 65 + "]" * 65 + ', "input"').encode(), "nesting deeper"),
    (b" " * 1_000_001, "bytes; specs are limited to"),
    (b"[1, 2]", "not an array"),
]


@pytest.mark.parametrize("data, expected", _NAMED, ids=[f"case{i}" for i in range(len(_NAMED))])
def test_named_bad_inputs_give_clear_errors(data, expected):
    with time_limit(CASE_SECONDS):
        with pytest.raises(SpecErrors) as info:
            doc = parse_json(data, SOURCE)
            errors, _ = validate_spec(doc, SOURCE)
            raise SpecErrors(errors)
    check_errors(info.value.errors)
    assert any(expected in e.message for e in info.value.errors), info.value.lines()


@pytest.mark.parametrize("literal", ["1e999", "-1e999", "1E400"])
def test_overflowing_number_literals_are_refused(literal):
    """`1e999` is float('inf') to Python's json: a learning rate of infinity must not validate."""
    doc = json.loads(_VALID)
    doc["training"] = {"optimizer": {"type": "adam", "learning_rate": 0.5}}
    data = json.dumps(doc).replace("0.5", literal).encode()
    with pytest.raises(SpecErrors) as info:
        errors, _ = validate_spec(parse_json(data, SOURCE), SOURCE)
        raise SpecErrors(errors)
    check_errors(info.value.errors)
    assert any("too large for a float" in e.message for e in info.value.errors), info.value.lines()


def test_unicode_keys_and_values_are_reported_not_crashed():
    doc = json.loads(_VALID)
    doc["\u00e9t\u00e9 \U0001F600"] = 1
    doc["layers"][0]["\u0000"] = "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    errors = check_validate(doc)
    assert {e.path for e in errors} >= {"$", "$.layers[0]"}


def _spec(family, shape, **keys):
    return {"spec_version": 1, "name": "found", "family": family, "input": {"shape": shape}, **keys}


# Minimal examples of crashes the fuzzer found; each must now be a located error (or accepted).
FOUND = {
    "bn_axis_out_of_range": _spec("custom", [4], layers=[{"type": "BatchNormalization", "axis": 1}]),
    "bn_axis_list": _spec("custom", [4], layers=[{"type": "BatchNormalization", "axis": [0]}]),
    "nested_space_in_choice": _spec("rnn", [5, 1], rnn={"cell": "lstm", "units": {"choice": [[{"choice": [1]}]]}},
                                    output={"units": 1}),
    "space_as_contractive_activation": _spec("autoencoder", [4], encoder=[{"units": 2}], bottleneck={"units": 2},
                                             activation={"choice": ["relu"]}, variant="contractive",
                                             contractive={"weight": 0.1}),
    "integral_float_1e300_units": _spec("rnn", [None, 3], rnn={"cell": "lstm", "units": 1e300},
                                        output={"units": 5}),
    "backbone_unknown_side": _spec("cnn", [None, 64, 3], backbone={"application": "MobileNetV2"},
                                   output={"units": 2}),
    "rnn_unknown_features": _spec("rnn", [None, None], rnn={"cell": "simple", "units": 1}, output={"units": 1}),
    "dense_unknown_width": _spec("custom", [None], layers=[{"type": "Dense", "units": 2}]),
    "misspelt_family": {"spec_version": 1, "name": "found", "fammly": "cnn", "input": {"shape": [4, 1]},
                        "output": {"units": 2}},
    "misspelt_layer_type": _spec("custom", [4], layers=[{"typo": "Dense", "units": 2}]),
    "space_inside_choice_of_pools": _spec("autoencoder", [8, 8, 3], encoder=[{"filters": 2, "pool": {
        "choice": [{"size": {"choice": [2, [2, 2]]}}, None]}}], output={"activation": "sigmoid"}),
    "integral_float_1e300_side": _spec("cnn", [1e300, 6, 2], dense=[{"units": 5}], output={"units": 3}),
    "newline_in_a_key": _spec("custom", [4], layers=[{"type": "Dense", "units": 2}],
                              training={"class_weight": {"a\nb": {"min": 1}}}),
    "huge_units": _spec("custom", [4], layers=[{"type": "Dense", "units": 10**99}, {"type": "Dense", "units": 10**99}]),
}


@pytest.mark.parametrize("name", list(FOUND))
def test_found_crashers_answer_located_errors(name):
    check_validate(json.loads(json.dumps(FOUND[name])))


def test_repeat_count_is_bounded():
    """`{"repeat": N}` is expanded by resolve(): a huge N must be refused, not allocated."""
    doc = json.loads(_VALID)
    doc["family"] = "cnn"
    doc.pop("layers")
    doc.update({"input": {"shape": [4, 1]}, "dense": {"repeat": 10**12, "each": {"units": 1}},
                "output": {"units": 2}})
    check_validate(doc)


# --- the real CLI, a few cases -------------------------------------------------------------


_CLI_CASES = {
    "nan.json": _VALID.replace('"units": 2', '"units": NaN').encode(),
    "bigint.json": _VALID.replace('"units": 2', '"units": ' + "7" * 4301).encode(),
    "dup.json": _VALID.replace('"name": "x"', '"name": "x", "name": "y"').encode(),
    "utf16.json": _VALID.encode("utf-16"),
    "deep.json": ("[" * 50_000 + "]" * 50_000).encode(),
    "noise.json": bytes(range(256)) * 3,
    "mutated.json": json.dumps({**json.loads(_VALID), "layers": [{"type": "Lambda", "function": "print"}],
                                "\u00e9": {"choice": []}}).encode(),
}


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_cli(*args, timeout=60):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "archbuilder", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_cli_validate_answers_bad_files_in_one_line_each(tmp_path):
    paths = []
    for name, data in _CLI_CASES.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    result = _run_cli("validate", *paths)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    for path in paths:
        mine = [line for line in lines if line.startswith(f"{path}: $")]
        assert mine, f"no error line for {path}:\n{result.stderr}"
    assert all(len(line) < 1000 for line in lines)
    assert all(line.startswith(tuple(paths)) for line in lines), result.stderr


@settings(FAST, max_examples=4)
@given(st.one_of(fs.spec_bytes().map(lambda c: c[1]), fs.garbage_bytes()))
def test_cli_validate_on_drawn_files_exits_1_or_0_with_short_lines(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("cli") / "drawn.json"
    path.write_bytes(data)
    result = _run_cli("validate", str(path))
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    for line in result.stderr.splitlines():
        assert line.startswith(f"{path}: $") and len(line) < 1000, line


def test_cli_usage_errors_exit_2(tmp_path):
    result = _run_cli("validate", str(tmp_path / "missing.json"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "does not exist" in result.stderr
