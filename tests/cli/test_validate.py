"""`archbuilder validate`: the invalid fixtures through the real CLI, output formats, overrides."""

import collections
import json
import pathlib
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from archbuilder.cli import cli
from archbuilder.spec.load import load_spec

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVALID = ROOT / "tests" / "specs" / "invalid"
EXPECTED = json.loads((INVALID / "expected.json").read_text(encoding="utf-8"))
SPECS = sorted((ROOT / "specs").glob("*.json"))
LINE = re.compile(r"^(?P<file>[^:]+): (?P<path>\$\S*): (?P<message>.+)$")


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "archbuilder", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def parse_lines(text):
    """`{file: [(path, message), ...]}` of `FILE: PATH: message` lines; any other line fails the test."""
    found = collections.defaultdict(list)
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, f"not a `FILE: PATH: message` line: {line!r}"
        found[m["file"]].append((m["path"], m["message"]))
    return found


@pytest.fixture(scope="module")
def invalid_runs():
    """Every invalid fixture through one real `archbuilder validate` per set of extra args."""
    groups = collections.defaultdict(list)
    for name, expected in EXPECTED.items():
        groups[tuple(expected.get("args", ()))].append(name)
    runs = {}
    for args, names in groups.items():
        result = run_cli("validate", *args, *names, cwd=INVALID)
        lines = parse_lines(result.stderr)
        for name in names:
            runs[name] = (result, lines.get(name, []))
    return runs


def test_every_fixture_has_an_expectation():
    files = {p.name for p in INVALID.iterdir() if p.name != "expected.json"}
    assert files == set(EXPECTED)
    assert len(files) >= 35


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_spec_fails_with_path_and_message(invalid_runs, name):
    result, lines = invalid_runs[name]
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr
    assert f"{name}: ok" not in result.stdout
    expected = EXPECTED[name]["errors"]
    assert len(lines) == len(expected), f"one line per problem; got {lines}"
    for want in expected:
        matching = [m for path, m in lines if path == want["path"] and re.search(want["message"], m)]
        assert matching, f"{name}: no line {want['path']}: /{want['message']}/ in {lines}"


def test_each_fixture_fails_alone():
    """A fixture's errors do not depend on the files validated beside it (exit 1 per file)."""
    for name in ("empty.json", "pool_shrinks_to_zero.json"):
        result = run_cli("validate", name, cwd=INVALID)
        assert result.returncode == 1
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(f"{name}: $")


def test_json_format_lists_every_problem():
    names = ["two_problems.json", "empty.json", "graph_duplicate_name.json"]
    result = run_cli("validate", "--format", "json", *names, str(SPECS[0]), cwd=INVALID)
    assert result.returncode == 1
    problems = json.loads(result.stdout)
    assert all(set(p) == {"file", "path", "message"} for p in problems)
    assert [p["file"] for p in problems] == ["two_problems.json"] * 2 + ["empty.json", "graph_duplicate_name.json"]
    assert problems[0]["path"] == "$.conv[0].filters"
    assert problems[3] == {"file": "graph_duplicate_name.json", "path": "$.layers[1].name",
                           "message": "duplicate name 'h' (first used at $.layers[0])"}
    text = run_cli("validate", *names, cwd=INVALID)
    assert text.stderr.splitlines() == [f"{p['file']}: {p['path']}: {p['message']}" for p in problems]


def test_multiple_files_report_errors_and_ok_lines():
    good = [str(p.relative_to(ROOT)) for p in SPECS]
    bad = ["tests/specs/invalid/negative_filters.json", "tests/specs/invalid/graph_lambda.json"]
    result = run_cli("validate", good[0], *bad, *good[1:])
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{path}: ok ({load_spec(path).plan.params:,} params)" for path in good]
    assert sorted(parse_lines(result.stderr)) == sorted(bad)


def test_all_good_files_exit_0():
    result = run_cli("validate", *map(str, SPECS))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == len(SPECS)
    assert re.fullmatch(r"(\S+\.json: ok \([\d,]+ params\)\n)+", result.stdout)


def test_missing_file_is_a_usage_error():
    result = run_cli("validate", "no/such/spec.json")
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def validate(*args):
    return CliRunner().invoke(cli, ["validate", *map(str, args)])


def test_set_overrides_apply_before_validation():
    spec = ROOT / "specs" / "mnist1d_cnn.json"
    ok = validate(spec, "--set", "training.epochs=3", "--set", "conv[0].filters=8")
    assert ok.exit_code == 0, ok.output
    assert "(97,338 params)" in ok.stdout  # 102,090 - 4,752: 32 -> 8 filters in conv[0]
    bad = validate(spec, "--set", "conv[1].filters=0", "--set", "output.units=1",
                   "--set", "training.loss=sparse_categorical_crossentropy")
    assert bad.exit_code == 1
    assert bad.stderr.splitlines() == [f"{spec}: $.conv[1].filters: 0 is less than the minimum of 1"]
    semantic = validate(spec, "--set", "output.units=1", "--set", "training.loss=sparse_categorical_crossentropy")
    assert semantic.exit_code == 1
    assert "$.training.loss: sparse_categorical_crossentropy needs one output unit per class" in semantic.stderr


@pytest.mark.parametrize("override, line", [
    ("conv[7].filters=8", "$.conv[7]: --set: $.conv has no item 7"),
    ("dense[1]={}", "$.dense[1]: --set: $.dense has no item 1"),
    ("name.first=x", "$.name: --set: $.name is not an object"),
    ("training..epochs=3", "$: --set: cannot read the path 'training..epochs'"),
    ("dense[0]units=3", "$: --set: cannot read the path 'dense[0]units'"),
    ("training.epochs", "$: --set expects PATH=VALUE, got 'training.epochs'"),
], ids=["no-item", "no-last-item", "not-an-object", "unreadable-path", "missing-dot", "no-value"])
def test_set_with_a_bad_path(override, line):
    """One `FILE: PATH: --set ...` line: the file, then the place, never `--set` twice."""
    spec = ROOT / "specs" / "mnist1d_cnn.json"
    result = validate(spec, "--set", override)
    assert result.exit_code == 1
    (printed,) = result.stderr.splitlines()
    assert printed.startswith(f"{spec}: {line}"), printed
    assert printed.count("--set") == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_seed_is_short_for_set_training_seed():
    spec = ROOT / "specs" / "mnist1d_gru.json"
    rendered = CliRunner().invoke(cli, ["render", str(spec), "--seed", "7"])
    assert rendered.exit_code == 0
    assert json.loads(rendered.stdout)["training"]["seed"] == 7
    bad = validate(spec, "--seed", "-1")
    assert bad.exit_code == 1
    assert bad.stderr.strip() == f"{spec}: $.training.seed: -1 is less than the minimum of 0"
