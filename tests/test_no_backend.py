"""`validate`, `render`, `schema` and `new` import no backend, checked in a fresh interpreter."""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SPECS = sorted(str(p) for p in (ROOT / "specs").glob("*.json"))
BACKENDS = ("tensorflow", "jax", "torch", "keras")

# Runs the commands in-process through archbuilder.cli.main (no CliRunner), then reports
# the exit codes and which backends ended up in sys.modules.
SCRIPT = """
import json, sys
from archbuilder.cli import main

codes = []
for argv in json.loads(sys.argv[1]):
    sys.argv = ["archbuilder", *argv]
    try:
        main()
    except SystemExit as e:
        codes.append(e.code or 0)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {backends!r})
print("RESULT=" + json.dumps({{"codes": codes, "loaded": loaded}}))
""".format(backends=set(BACKENDS))


def run_commands(*commands):
    result = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(commands)], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    line = [x for x in result.stdout.splitlines() if x.startswith("RESULT=")][-1]
    return json.loads(line.removeprefix("RESULT=")), result


def test_validating_every_shipped_spec_imports_no_backend():
    report, result = run_commands(["validate", *SPECS])
    assert report["codes"] == [0]
    assert result.stdout.count(": ok (") == len(SPECS)
    assert report["loaded"] == []


def test_render_schema_new_and_failing_validate_import_no_backend(tmp_path):
    report, _ = run_commands(
        ["render", SPECS[0]],
        ["schema"],
        ["new", "rnn", "--defaults", "-o", str(tmp_path / "new.json")],
        ["validate", str(ROOT / "tests" / "specs" / "invalid" / "huge_dense.json")],
    )
    assert report["codes"] == [0, 0, 0, 1]
    assert report["loaded"] == []
