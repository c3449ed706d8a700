"""What the hostile-input tests share: a tiny NumPy data set, a tiny spec, the CLI in this process."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
from click.testing import CliRunner

from archbuilder.cli import cli

ROWS, FEATURES, CLASSES = 60, 8, 3


def write_data(folder):
    """`d.npz` in `folder`: 60 samples of 8 features, 3 classes."""
    rng = np.random.default_rng(0)
    path = os.path.join(folder, "d.npz")
    np.savez(path, x=rng.normal(size=(ROWS, FEATURES)).astype("float32"), y=np.arange(ROWS) % CLASSES)
    return path


def spec_doc(data="d.npz", **training):
    """A tiny mlp spec (8 -> 4 -> 3) reading `data` (relative to the spec file)."""
    return {"spec_version": 1, "name": "tiny", "family": "mlp", "input": {"shape": [FEATURES]},
            "dense": [{"units": 4}], "output": {"units": CLASSES},
            "training": {"epochs": 1, "batch_size": 32, **training}, "data": {"path": data}}


def write_spec(folder, name="spec.json", doc=None):
    """A spec file (and its data) in `folder`; returns its path."""
    os.makedirs(folder, exist_ok=True)
    if not os.path.exists(os.path.join(folder, "d.npz")):
        write_data(folder)
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc or spec_doc(), f)
    return path


def invoke(*args, env=None):
    """`archbuilder ARGS` in this process; the result (exit code, stdout, stderr)."""
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def one_line(result):
    """The single line a refused command printed on stderr (asserting there is exactly one, and no traceback)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def run_python(code, timeout=60, env=None):
    """`python -c CODE` in a fresh interpreter, killed after `timeout` s (a hang fails the test, not the suite)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def rewrite_keras(src, dst, edit=None, add=(), replace=None):
    """Copies a .keras archive: `config.json` through `edit(config)`, members `replace` = {name: bytes, or None
    to drop it}, then members `add` = [(name, bytes of zeros)] written in 1 MiB chunks (small once deflated)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for item in zin.infolist():
            if item.filename in (replace or {}) and replace[item.filename] is None:
                continue
            data = (replace or {}).get(item.filename) or zin.read(item.filename)
            if item.filename == "config.json" and edit is not None:
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            zout.writestr(item.filename, data)
        for name, size in add:
            with zout.open(name, "w") as member:
                for _ in range(size >> 20):
                    member.write(bytes(1 << 20))
    return str(dst)
