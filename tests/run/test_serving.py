"""Every model archbuilder saves takes raw inputs on its own: bare `.keras` files in fresh processes, all backends.

`tests/serving_runs.py` trains through each save path (`compare`/`train`'s model.keras
and encoder.keras, `tune`'s best_model.keras, `TuneResult.best_model`) and checks the
bare files in a fresh process with plain Keras. TensorFlow trains here; JAX and PyTorch
train in their own processes (Keras fixes its backend at import).
"""

import os
import pathlib
import shutil
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

import archbuilder
import serving_runs
from archbuilder.data.preprocessing import apply
from archbuilder.run.prepare import prepare_data
from archbuilder.spec.load import load_spec

TESTS = pathlib.Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
OTHER_BACKENDS = [b for b in ("tensorflow", "jax", "torch") if b != keras.backend.backend()]


def _run(step, folder, backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    if backend == "jax":  # each op compiles once here: skip XLA's optimization passes
        env["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=0".strip()
    done = subprocess.run([sys.executable, str(TESTS / "serving_runs.py"), step, str(folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{step} under {backend}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serving")
    serving_runs.make(str(folder))
    return folder


def test_every_saved_model_takes_raw_inputs_in_a_fresh_process(runs):
    out = _run("check", runs, keras.backend.backend())
    assert out.count("matched ") == 5, out


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_every_saved_model_takes_raw_inputs_under(backend, tmp_path):
    made = _run("make", tmp_path, backend)
    assert "made 5" in made and (backend != "jax" or "exported images to litert from jax: " in made)
    out = _run("check", tmp_path, backend)
    assert out.count(f" {backend}\n") == 5, out


def test_a_tune_run_predicts_as_its_folder_with_normalization(tmp_path, wine_csv):
    """The wine-style reproduction: normalize, tune, then predict with best_model.keras alone."""
    spec = {"spec_version": 1, "name": "wine", "family": "mlp", "input": {"shape": [13]},
            "dense": [{"units": {"choice": [16, 32]}}], "output": {"units": 3},
            "training": {"epochs": 25, "batch_size": 16}, "tuning": {"max_trials": 2},
            "data": {"path": str(wine_csv), "target": "cultivar", "normalize": True}}
    result = archbuilder.tune(spec, out=str(tmp_path / "tune"), quiet=True)
    by_folder = archbuilder.predict(result.run_dir, str(wine_csv))
    shutil.copy(tmp_path / "tune" / "best_model.keras", tmp_path / "alone.keras")  # nothing beside it
    alone = archbuilder.predict(str(tmp_path / "alone.keras"), str(wine_csv))
    pd.testing.assert_frame_equal(alone, by_folder, check_exact=True)
    truth = pd.read_csv(wine_csv)["cultivar"]
    assert (by_folder["prediction"] == truth).mean() > 0.9  # 0.1.0 answered 39% right here, without a word
    # The layers inside reproduce training's own preprocessing: the trained graph on NumPy-standardized rows.
    dataset = prepare_data(load_spec(result.best_spec))
    rows = pd.read_csv(wine_csv)[dataset.preprocessing["features"]].to_numpy()
    trained = result.best_model.layers[-1]
    old_way = trained.predict(apply(rows, dataset.preprocessing, "wine.csv"), verbose=0)
    np.testing.assert_allclose(by_folder[["barbera", "grignolino", "nebbiolo"]].to_numpy(), old_way,
                               rtol=1e-5, atol=1e-6)
    report = archbuilder.evaluate(result.run_dir)  # a tune run evaluates too, on best.json's data
    assert report["model"].endswith("best_model.keras") and report["classification"]["accuracy"] > 0.85
