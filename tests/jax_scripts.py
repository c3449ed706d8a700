"""Scripts run under the JAX backend in a fresh interpreter (CPU), for tests that count XLA compilations.

The test suite's own process runs on the default backend; a JAX script runs with
`KERAS_BACKEND=jax` in a subprocess, where `compiled` lists the functions XLA
compiles, in order, and the script prints one `RESULT <json>` line.
"""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Prepended to each JAX script: `compiled` lists the functions XLA compiles, in order.
JAX_PREAMBLE = r"""
import json, logging, os, sys, tempfile
import jax
import numpy as np
compiled = []
class Record(logging.Handler):
    def emit(self, record):
        if record.getMessage().startswith("Finished XLA compilation of"):
            compiled.append(record.getMessage().split(" in ")[0][len("Finished XLA compilation of "):])
jax.config.update("jax_log_compiles", True)
log = logging.getLogger("jax"); log.addHandler(Record()); log.setLevel(logging.WARNING); log.propagate = False
"""


def run_jax(script, *args, env=None):
    """Runs `JAX_PREAMBLE + script` under the JAX backend (CPU); returns its `RESULT` JSON."""
    env = {**os.environ, **(env or {}), "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", JAX_PREAMBLE + script, *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, result.stderr[-3000:]
    return json.loads(line[len("RESULT "):])


