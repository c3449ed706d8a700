"""`archbuilder build` of every shipped spec as a real subprocess, and the saved files reloaded elsewhere."""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.json"))

RELOAD = """
import sys
import archbuilder  # registers archbuilder's layers once Keras is imported
import keras
for path in sys.argv[1:]:
    model = keras.saving.load_model(path, safe_mode=True)
    print(path, model.count_params())
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Builds every shipped spec with the CLI; returns {spec name: (process result, model path)}."""
    folder = tmp_path_factory.mktemp("build")
    results = {}
    for spec in SPECS:
        out = folder / f"{spec.stem}.keras"
        args = [sys.executable, "-m", "archbuilder", "build", str(spec), "-o", str(out)]
        if "tune" in spec.stem:
            args.append("--defaults")
        results[spec.stem] = (subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=folder), out)
    return results


@pytest.mark.parametrize("name", [spec.stem for spec in SPECS])
def test_build_prints_the_table_and_saves(built, name):
    result, out = built[name]
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Model: {name} (")
    assert lines[1].split() == ["Layer", "Type", "Output", "shape", "Params", "Spec", "path"]
    assert any(line.startswith("Total params: ") for line in lines)
    assert any(line.startswith("Backend: ") for line in lines)
    assert out.exists()


def test_saved_models_reload_with_safe_mode_in_a_fresh_process(built):
    paths = [str(out) for result, out in built.values() if result.returncode == 0]
    assert len(paths) == len(SPECS)
    result = subprocess.run([sys.executable, "-c", RELOAD, *paths], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    reloaded = dict(line.rsplit(" ", 1) for line in result.stdout.splitlines())
    for (result_, out) in built.values():
        total = next(line for line in result_.stdout.splitlines() if line.startswith("Total params: "))
        assert reloaded[str(out)] == total.split(": ")[1].replace(",", "")


def test_open_search_spaces_point_to_tune():
    spec = ROOT / "specs" / "mnist1d_cnn_tune.json"
    result = subprocess.run([sys.executable, "-m", "archbuilder", "build", str(spec)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"{spec}: $: the spec has open search spaces: run `archbuilder tune {spec}`, "
                                     f"or `archbuilder build {spec} --defaults` to use each space's default")
