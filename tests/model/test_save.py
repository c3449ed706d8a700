"""Built models survive `model.save` -> `keras.saving.load_model(safe_mode=True)` in a fresh process.

The fresh process imports only `archbuilder` (which registers archbuilder's
layers as Keras loads) and Keras, as a user's notebook would.
"""

import json
import os
import pathlib
import subprocess
import sys

import backend_parity as S
import keras
import numpy as np

from archbuilder.model.build import build_model
from archbuilder.spec.load import load_spec

ROOT = pathlib.Path(__file__).resolve().parents[2]

LOAD_AND_PREDICT = r"""
import json, sys
import numpy as np
import archbuilder
import keras

folder = sys.argv[1]
cases = json.load(open(f"{folder}/cases.json"))
for name, penalties in cases.items():
    model = keras.saving.load_model(f"{folder}/{name}.keras", safe_mode=True)
    x = np.load(f"{folder}/{name}.x.npy")
    expected = dict(np.load(f"{folder}/{name}.y.npz"))
    predictions = model(x, training=False)
    if not isinstance(predictions, dict):
        predictions = {"y": predictions}
    predictions = {key: keras.ops.convert_to_numpy(value) for key, value in predictions.items()}
    assert sorted(predictions) == sorted(expected), (name, sorted(predictions))
    for key, value in expected.items():
        np.testing.assert_allclose(predictions[key], value, rtol=1e-5, atol=1e-6, err_msg=name)
    model(x)
    assert len(model.losses) == penalties, (name, len(model.losses))
    print("reloaded", name)
"""


def _cases():
    rng = np.random.default_rng(0)
    sparse = S.autoencoder([6, 6, 1], [S.dense(8)], [S.dense(8)], bottleneck={"units": 3, "activation": "sigmoid"},
                           variant="sparse", head=S.head(2))
    sparse["sparsity"] = {"target": 0.1, "weight": 0.5}
    contractive = S.autoencoder([4, 4, 1], [S.dense(6, activation="gelu", dropout=0.1)], [S.dense(6)],
                                bottleneck={"units": 2, "activation": "tanh"}, variant="contractive")
    contractive["contractive"] = {"weight": 0.1}
    conv_ae = S.autoencoder([8, 8, 1], [S.conv(2, pool=S.pool(2), residual=True, batch_norm=True)],
                            [S.conv(2, strides=2, transpose=True)], bottleneck={"units": 3, "activation": "relu"},
                            variant="denoising")
    conv_ae["noise"] = {"dropout": 0.3}
    backbone = S.cnn([32, 32, 3], global_pool="avg", units=3,
                     backbone={"application": "MobileNetV2", "weights": None, "trainable": False, "alpha": 0.35})
    rnn = S.rnn([None], "gru", [3, 2], dtype="int32", bidirectional=True, return_sequences=True,
                sequence_pool="avg", embedding={"input_dim": 12, "output_dim": 3, "mask_zero": True})
    specs = {"sparse_ae": (sparse, 1), "contractive_ae": (contractive, 1), "conv_ae": (conv_ae, 0),
             "backbone_cnn": (backbone, 0), "rnn": (rnn, 0)}
    for stem in ("mnist1d_sparse_ae", "mnist1d_resmlp"):  # L1 sparsity with a head; a custom graph
        spec = load_spec(str(ROOT / "specs" / f"{stem}.json")).concrete()
        specs[stem] = (spec, int(spec.get("variant") == "sparse"))
    for name, (spec, penalties) in specs.items():
        built = build_model(spec)
        shape = [2 if size is None else size for size in spec["input"]["shape"]]
        if spec["input"]["dtype"].startswith("int"):
            x = rng.integers(1, 10, size=(3, *shape)).astype(spec["input"]["dtype"])
        else:
            x = rng.uniform(size=(3, *shape)).astype("float32")
        yield name, built, x, penalties


def _predict(model, x):
    # A plain inference-mode call: `predict` would trace a function for each model.
    outputs = model(x, training=False)
    if isinstance(outputs, dict):
        return {key: keras.ops.convert_to_numpy(value) for key, value in outputs.items()}
    return keras.ops.convert_to_numpy(outputs)


def test_saved_models_reload_with_safe_mode_in_a_fresh_process(tmp_path):
    cases = {}
    for name, built, x, penalties in _cases():
        built.model.save(tmp_path / f"{name}.keras")
        if built.encoder is not None:
            built.encoder.save(tmp_path / f"{name}_encoder.keras")
            cases[f"{name}_encoder"] = 0
            np.save(tmp_path / f"{name}_encoder.x.npy", x)
            np.savez(tmp_path / f"{name}_encoder.y.npz", y=_predict(built.encoder, x))
        predictions = _predict(built.model, x)
        np.save(tmp_path / f"{name}.x.npy", x)
        np.savez(tmp_path / f"{name}.y.npz", **(predictions if isinstance(predictions, dict) else {"y": predictions}))
        cases[name] = penalties
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend(),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", LOAD_AND_PREDICT, str(tmp_path)], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("reloaded") == len(cases)


NO_TENSORFLOW = r"""
import importlib.util
import archbuilder
doc = json.loads(sys.argv[1])
out = tempfile.mkdtemp()
x = np.random.default_rng(0).normal(size=(6, 40)).astype("float32")
trained = archbuilder.predict(archbuilder.train(doc, out=out + "/train", quiet=True), x)
doc["training"]["optimizer"] = {"type": "adam", "learning_rate": {"float": {"min": 1e-3, "max": 1e-2}}}
tuned = archbuilder.predict(archbuilder.tune(doc, out=out + "/tune", quiet=True, max_trials=2, pack=2), x)
imported = "tensorflow" in sys.modules  # before anything is loaded back
import keras
files = {}
for name, path in (("train", "/train/model.keras"), ("tune", "/tune/best_model.keras")):
    probabilities = keras.saving.load_model(out + path).predict(x, verbose=0)
    files[name] = probabilities.tolist()
print("RESULT " + json.dumps({"installed": importlib.util.find_spec("tensorflow") is not None, "imported": imported,
                              "train": trained[[str(k) for k in range(10)]].to_numpy().tolist(),
                              "tune": tuned[[str(k) for k in range(10)]].to_numpy().tolist(), "files": files}))
"""


def test_jax_runs_save_their_models_without_importing_tensorflow():
    """Keras's serialization asks whether TensorFlow is available (importing it, ~2 s); archbuilder's saves do not."""
    from jax_scripts import run_jax

    doc = {"spec_version": 1, "name": "no_tf", "family": "cnn", "input": {"shape": [40, 1]},
           "conv": [{"filters": 4, "pool": 2}], "dense": [{"units": 8}], "output": {"units": 10},
           "training": {"epochs": 1, "batch_size": 64}, "data": {"dataset": "mnist1d", "max_samples": 200}}
    out = run_jax(NO_TENSORFLOW, json.dumps(doc))
    assert out["installed"] and not out["imported"]
    for name in ("train", "tune"):  # the saved files predict what the run directories predict
        np.testing.assert_allclose(out["files"][name], out[name], rtol=1e-6, atol=1e-7)
        assert np.asarray(out[name]).shape == (6, 10)
