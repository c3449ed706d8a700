"""Run directories and `.keras` files written by archbuilder 0.1.0 (tests/fixtures/release-0.1.0) still work,
and training still computes what 0.1.0 computed.

They were made by `make_legacy.py` beside them, from the released commit; their
predictions then are recorded beside them too.
"""

import json
import pathlib
import shutil

import numpy as np
import pandas as pd
import pytest

import archbuilder
from archbuilder.layers.safe_load import load_model_safely

RELEASE = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0"


def test_every_model_file_of_the_release_still_loads_safely():
    files = sorted(RELEASE.glob("*_run/*.keras"))
    assert len(files) == 4
    for path in files:
        model = load_model_safely(str(path))
        assert model.count_params() > 0


def _same_predictions(now, name):
    then = pd.read_csv(RELEASE / f"{name}_predictions.csv", dtype={"prediction": str})
    assert list(now.columns) == list(then.columns)
    assert list(now["prediction"].astype(str)) == list(then["prediction"])
    np.testing.assert_allclose(now.drop(columns="prediction").to_numpy(float),
                               then.drop(columns="prediction").to_numpy(float), rtol=1e-5, atol=1e-6)


def test_a_release_run_predicts_what_it_predicted_then():
    for run, inputs in (("legacy_wine_run", "wine.csv"), ("legacy_images_run", "tiny_images_x.npy")):
        _same_predictions(archbuilder.predict(str(RELEASE / run), str(RELEASE / inputs)), run.removesuffix("_run"))


def test_training_math_is_the_releases(tmp_path):
    """The release's specs, trained now: the same history.csv, and model.keras alone predicts what 0.1.0 did."""
    for name, inputs in (("legacy_wine", "wine.csv"), ("legacy_images", "tiny_images_x.npy"),
                         ("legacy_sparse_ae", None)):
        run = archbuilder.train(str(RELEASE / f"{name}.json"), out=str(tmp_path / name), quiet=True)
        now = pd.read_csv(f"{run}/history.csv").drop(columns="epoch_seconds")
        then = pd.read_csv(RELEASE / f"{name}_run" / "history.csv").drop(columns="epoch_seconds")
        pd.testing.assert_frame_equal(now, then, rtol=1e-6)
        if inputs:
            shutil.copy(f"{run}/model.keras", tmp_path / f"{name}.keras")  # no preprocessing.json beside it
            _same_predictions(archbuilder.predict(str(tmp_path / f"{name}.keras"), str(RELEASE / inputs)), name)


def test_a_release_run_evaluates_as_it_did_then():
    metrics = archbuilder.evaluate(str(RELEASE / "legacy_wine_run"), {"path": str(RELEASE / "wine.csv"),
                                                                      "target": "cultivar", "normalize": True})
    assert abs(metrics["test_accuracy"] - 0.4000000059604645) < 1e-6
    assert abs(metrics["test_loss"] - 1.0489102602005005) < 1e-4


def test_a_release_autoencoder_reports_its_reconstructions_and_code():
    report = archbuilder.evaluate(str(RELEASE / "legacy_sparse_ae_run"))
    with open(RELEASE / "legacy_sparse_ae_run" / "metrics.json", encoding="utf-8") as f:
        then = json.load(f)
    assert report["test_head_accuracy"] == pytest.approx(then["test_head_accuracy"], abs=1e-6)
    assert report["reconstruction"]["per_sample"]["mean"] == pytest.approx(then["test_reconstruction_loss"], rel=1e-5)
    assert report["reconstruction"]["code"]["units"] == 4  # from its encoder.keras
