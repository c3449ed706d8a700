"""`archbuilder.backend`: the order its docstring gives, checked in fresh processes."""

import json
import os
import pathlib
import subprocess
import sys

import keras

from archbuilder.backend import backend_info

ROOT = pathlib.Path(__file__).resolve().parent.parent

SELECT = """
import os
import sys
from archbuilder.backend import select_backend
name = select_backend()
print(name, os.environ.get("KERAS_BACKEND"), "keras" in sys.modules, "tensorflow" in sys.modules)
"""

# archbuilder's choice is what Keras runs on after `import archbuilder`, and the user's environment is unchanged.
IMPORT = """
import os
import sys
import archbuilder
import keras
print(keras.backend.backend(), os.environ.get("KERAS_BACKEND"))
"""


def _select(tmp_path, keras_backend=None, keras_json=None, script=SELECT):
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    env.update(KERAS_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    if keras_backend:
        env["KERAS_BACKEND"] = keras_backend
    if keras_json is not None:
        (tmp_path / "keras.json").write_text(json.dumps(keras_json))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_environment_variable_comes_first(tmp_path):
    assert _select(tmp_path, "jax", {"backend": "torch"}) == ["jax", "jax", "False", "False"]


def test_keras_json_comes_next(tmp_path):
    assert _select(tmp_path, None, {"backend": "torch", "floatx": "float32"}) == ["torch", "None", "False", "False"]


def test_else_tensorflow_when_installed_without_importing_it(tmp_path):
    assert _select(tmp_path, None, {"floatx": "float32"}) == ["tensorflow", "None", "False", "False"]
    empty = tmp_path / "no_keras_json"
    empty.mkdir()
    assert _select(empty) == ["tensorflow", "None", "False", "False"]


def test_importing_keras_after_archbuilder_runs_on_its_choice_and_leaves_the_environment(tmp_path):
    assert _select(tmp_path, None, {"backend": "jax"}, script=IMPORT) == ["jax", "None"]
    assert _select(tmp_path, "torch", {"backend": "jax"}, script=IMPORT) == ["torch", "torch"]


def test_backend_info_describes_the_running_backend():
    info = backend_info()
    assert info["backend"] == keras.backend.backend()
    assert info["keras_version"] == keras.__version__
    assert info["backend_version"] and info["backend_version"] != "unknown"
    assert info["device"] == "cpu" or info["device"].startswith("gpu: ")
