"""The build-parity and penalty tests, run again under every other installed backend.

Each backend runs in its own process (Keras fixes its backend at import). The
backend this process runs is not among them: the same modules ran here. The test
extras install JAX and PyTorch, so a missing backend is a failure, not a skip.
"""

import importlib.util
import os
import pathlib
import subprocess
import sys

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULES = ["tests/model/test_parity.py", "tests/layers/test_penalties.py"]


OTHER_BACKENDS = [b for b in ("tensorflow", "jax", "torch") if b != keras.backend.backend()]


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_parity_and_penalties_pass_under(backend):
    assert importlib.util.find_spec(backend) is not None, f"{backend} is not installed: pip install -e '.[test]'"
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    if backend == "jax":
        # JAX compiles every new op shape (each weight initializer, too); without LLVM
        # optimization that takes a tenth of the time, and these tests run each op once.
        env["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=0".strip()
    command = [sys.executable, "-m", "pytest", *MODULES, "-q", "-p", "no:cacheprovider", "-x"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"under {backend}:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    assert " passed" in result.stdout
