"""Limits before allocation: huge models, huge or deep files, duplicate keys, NaN/Infinity.

A 10^12-parameter spec is refused by `archbuilder validate` and `archbuilder build`
from its static plan, with the count and the layer responsible, while the process
stays small (peak RSS measured by a helper process around the real CLI). Times
are not asserted here: bench/limits.py prints them for BENCHMARKS.md.
"""

import json
import os
import subprocess
import sys

import pytest

from archbuilder.format import defaults as D
from archbuilder.format import jsonfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# 10^6 inputs x 10^6 units: 1,000,001,000,000 weights in one Dense layer (4 TB of float32).
TRILLION = {
    "spec_version": 1, "name": "trillion", "family": "custom", "input": {"shape": [1_000_000]},
    "layers": [{"type": "Dense", "units": 1_000_000}, {"type": "Dense", "units": 10}],
}
TRILLION_CNN = {
    "spec_version": 1, "name": "trillion_cnn", "family": "cnn", "input": {"shape": [1000, 1000, 1]},
    "conv": [{"filters": 1}], "dense": [{"units": 1_000_000}], "output": {"units": 10},
}

# Reports the peak RSS (KB, Linux) of the one child it runs, which no other child pollutes.
_MEASURE = ("import resource, subprocess, sys, json; p = subprocess.run(sys.argv[1:], capture_output=True, "
            "text=True); print(json.dumps({'rc': p.returncode, 'stdout': p.stdout, 'stderr': p.stderr, "
            "'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))")


def run_measured(*args, cwd=None):
    """Runs `python -m archbuilder ARGS` and returns (returncode, stdout, stderr, peak RSS in MB)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))}
    helper = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "archbuilder", *args],
                            capture_output=True, text=True, timeout=300, env=env, cwd=cwd, check=True)
    result = json.loads(helper.stdout)
    return result["rc"], result["stdout"], result["stderr"], result["maxrss_kb"] / 1024


def _write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def _no_traceback(stderr):
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr


@pytest.mark.parametrize("doc, path, layer", [
    (TRILLION, "$.layers[0]", "Dense"),
    (TRILLION_CNN, "$.dense[0]", "Dense"),
], ids=["custom", "cnn"])
def test_validate_refuses_a_trillion_parameters_in_little_memory(tmp_path, doc, path, layer):
    spec = _write(tmp_path, "big.json", doc)
    rc, out, err, rss_mb = run_measured("validate", spec)
    assert rc == 1
    _no_traceback(err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith(f"{spec}: {path}: "), line
    assert "1,000,0" in line and "parameters" in line and f"{D.MAX_PARAMS:,}" in line, line
    assert layer in line, line
    assert rss_mb < 500, f"validate peaked at {rss_mb:.0f} MB"


def test_validate_max_params_flag_moves_the_limit(tmp_path):
    spec = _write(tmp_path, "big.json", TRILLION_CNN)
    rc, out, err, _ = run_measured("validate", spec, "--max-params", "1e13")
    assert rc == 0 and "ok (1,000,0" in out, err
    rc, out, err, _ = run_measured("validate", spec, "--max-params", "1000")
    assert rc == 1 and "over the limit of 1,000" in err


def test_build_refuses_a_trillion_parameters_before_allocating(tmp_path):
    spec = _write(tmp_path, "big.json", TRILLION)
    out = tmp_path / "big.keras"
    rc, stdout, err, rss_mb = run_measured("build", spec, "-o", str(out))
    assert rc == 1
    _no_traceback(err)
    assert f"{spec}: $.layers[0]: " in err and "Dense" in err and "1,000,0" in err, err
    assert not out.exists()
    # A Keras backend alone takes ~400 MB; one float32 copy of the weights would be 4 TB.
    assert rss_mb < 1000, f"build peaked at {rss_mb:.0f} MB"


def test_oversized_file_is_refused_before_parsing(tmp_path):
    doc = {**TRILLION, "description": "x" * (jsonfile.MAX_BYTES + 10)}
    spec = _write(tmp_path, "huge.json", doc)
    rc, out, err, rss_mb = run_measured("validate", spec)
    assert rc == 1
    _no_traceback(err)
    assert err.startswith(f"{spec}: $: ") and f"limited to {jsonfile.MAX_BYTES:,}" in err, err
    assert rss_mb < 500


_FILES = [
    ('{"a": ' * (jsonfile.MAX_DEPTH + 1) + "1" + "}" * (jsonfile.MAX_DEPTH + 1), f"deeper than {jsonfile.MAX_DEPTH}"),
    ("[" * 100_000 + "]" * 100_000, f"deeper than {jsonfile.MAX_DEPTH}"),
    ('{"spec_version": 1, "name": "a", "name": "b"}', "duplicate key 'name'"),
    ('{"spec_version": 1, "input": {"shape": [NaN]}}', "NaN is not valid JSON"),
    ('{"spec_version": Infinity}', "Infinity is not valid JSON"),
    ('{"spec_version": -Infinity}', "Infinity is not valid JSON"),
    ('{"spec_version": ' + "1" * 5000 + "}", "too large"),
]


@pytest.mark.parametrize("text, expected", _FILES,
                         ids=["deep_objects", "deep_arrays", "duplicate", "nan", "inf", "minus_inf", "bigint"])
def test_file_limits_give_one_clear_line(tmp_path, text, expected):
    path = tmp_path / "limit.json"
    path.write_text(text)
    rc, out, err, _ = run_measured("validate", str(path))
    assert rc == 1
    _no_traceback(err)
    lines = err.strip().splitlines()
    assert any(line.startswith(f"{path}: $") and expected in line for line in lines), err
    assert all(len(line) < 500 for line in lines), err


def test_file_at_the_size_limit_is_read(tmp_path):
    """The limit is on size, not a bug on big files: a spec just under it still validates."""
    base = json.dumps({**TRILLION_CNN, "dense": [{"units": 8}], "description": ""})
    padding = jsonfile.MAX_BYTES - len(base) - 10
    doc = json.loads(base)
    doc["description"] = "x" * padding
    path = tmp_path / "big_ok.json"
    path.write_text(json.dumps(doc))
    assert path.stat().st_size <= jsonfile.MAX_BYTES
    rc, out, err, _ = run_measured("validate", str(path))
    assert rc == 0 and "ok (" in out, err
