"""Runs from every path that saves a model, and the fresh-process check of their bare `.keras` files.

`python tests/serving_runs.py make FOLDER` trains (on the backend of the process):
`compare` of a CSV classifier with `"normalize": true`, a uint8 image classifier and an
autoencoder with a head (so `train`'s model.keras and encoder.keras too), and a two-trial
`tune` of the CSV classifier; it writes `cases.json`: each model file, the raw inputs
and what `archbuilder predict` gave on the run directory. On JAX it also exports the
image run to LiteRT (which Keras on JAX cannot write: `export` starts a TensorFlow
process) and checks the artifact against Keras on JAX. `bench/export_check.py` covers
every format from every backend. `python tests/serving_runs.py
check FOLDER` then loads each bare file in a fresh process with plain
`keras.saving.load_model(path, safe_mode=True)` after `import archbuilder`, feeds it the
raw inputs (CSV rows by the feature names in the file, uint8 images, raw vectors) and
compares.
"""

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

TRAINING = {"epochs": 1, "batch_size": 16}


def write_data(folder):
    """wine.csv (text labels), images.npz (uint8 8x8 pixels), vectors.npz (40 values far from unit scale)."""
    from conftest import write_wine_csv

    rng = np.random.default_rng(0)
    write_wine_csv(os.path.join(folder, "wine.csv"), rows=90)
    pixels = rng.integers(0, 256, size=(48, 8, 8), dtype=np.uint8)
    np.savez(os.path.join(folder, "images.npz"), x=pixels, y=(pixels.mean(axis=(1, 2)) > 127).astype(np.int64))
    labels = np.arange(60) % 3
    vectors = (rng.normal(size=(60, 40)) + labels[:, None]) * 20.0 + 100.0
    np.savez(os.path.join(folder, "vectors.npz"), x=vectors.astype(np.float32), y=labels)
    np.save(os.path.join(folder, "images_raw.npy"), pixels[:6])
    np.save(os.path.join(folder, "vectors_raw.npy"), vectors[:6].astype(np.float32))


def specs(folder):
    wine = {"spec_version": 1, "name": "wine", "family": "mlp", "input": {"shape": [13]},
            "dense": [{"units": 8}], "output": {"units": 3}, "training": TRAINING,
            "data": {"path": os.path.join(folder, "wine.csv"), "target": "cultivar", "normalize": True}}
    images = {"spec_version": 1, "name": "images", "family": "cnn", "input": {"shape": [8, 8, 1]},
              "conv": [{"filters": 2, "kernel_size": 3, "pool": 2}], "output": {"units": 2}, "training": TRAINING,
              "data": {"path": os.path.join(folder, "images.npz")}}
    autoencoder = {"spec_version": 1, "name": "ae", "family": "autoencoder", "input": {"shape": [40]},
                   "encoder": [{"units": 8}], "bottleneck": {"units": 3}, "head": {"units": 3},
                   "training": TRAINING, "data": {"path": os.path.join(folder, "vectors.npz"), "normalize": True}}
    return wine, images, autoencoder


def _expected(run, inputs):
    import archbuilder

    frame = archbuilder.predict(run, inputs)
    return frame.drop(columns=[c for c in ("prediction", "id") if c in frame.columns]).to_numpy(np.float64)


def make(folder):
    import archbuilder

    write_data(folder)
    wine, images, autoencoder = specs(folder)
    archbuilder.compare([wine, images, autoencoder], epochs=1, batch_size=16, out=os.path.join(folder, "compare"))
    tune_spec = {**wine, "dense": [{"units": {"choice": [4, 8]}}], "tuning": {"max_trials": 2}}
    result = archbuilder.tune(tune_spec, out=os.path.join(folder, "tune"), quiet=True)
    csv, images_raw, vectors_raw = (os.path.join(folder, n) for n in ("wine.csv", "images_raw.npy", "vectors_raw.npy"))
    cases = {
        "compare/wine/model.keras": (csv, _expected(os.path.join(folder, "compare", "wine"), csv)),
        "compare/images/model.keras": (images_raw, _expected(os.path.join(folder, "compare", "images"), images_raw)),
        "compare/ae/model.keras": (vectors_raw, _expected(os.path.join(folder, "compare", "ae"), vectors_raw)),
        "compare/ae/encoder.keras": (vectors_raw, _expected(os.path.join(folder, "compare", "ae", "encoder.keras"),
                                                            vectors_raw)),
        "tune/best_model.keras": (csv, _expected(os.path.join(folder, "tune"), csv)),
    }
    # The Python API's model: TuneResult.best_model takes the raw rows too.
    from archbuilder.model.serving import contract_of
    import pandas as pd

    features = contract_of(result.best_model)["features"]
    in_memory = result.best_model.predict(pd.read_csv(csv)[features].to_numpy(np.float32), verbose=0)
    np.testing.assert_allclose(in_memory, cases["tune/best_model.keras"][1], rtol=1e-5, atol=1e-6)
    import keras

    backend = keras.backend.backend()
    if backend == "jax":  # export writes from a TensorFlow process, and checks against the caller's backend too
        result = archbuilder.export(os.path.join(folder, "compare", "images"), "litert")
        gap = result["differences"][f"keras ({backend})"]
        assert gap <= 1e-4 and result["max_abs_diff"] <= 1e-4, result
        print(f"exported images to litert from {backend}: {gap:.3g}")
    document = {}
    for name, (inputs, expected) in cases.items():
        np.save(os.path.join(folder, name.replace("/", "_") + ".expected.npy"), expected)
        document[name] = inputs
    with open(os.path.join(folder, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(document, f)
    print("made", len(cases))


def check(folder):
    import archbuilder  # noqa: F401  (registers archbuilder's layers as Keras loads)
    import keras
    import pandas as pd

    with open(os.path.join(folder, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    for name, inputs in cases.items():
        model = keras.saving.load_model(os.path.join(folder, name), safe_mode=True)
        contract = model.get_layer("input_contract").contract
        if inputs.endswith(".csv"):
            x = pd.read_csv(inputs)[contract["features"]].to_numpy(np.float32)  # the columns by name
        else:
            x = np.load(inputs)
        assert str(x.dtype) == contract["input"]["dtype"], (name, x.dtype, contract["input"])
        outputs = model.predict(x, verbose=0)
        outputs = outputs["head"] if isinstance(outputs, dict) else outputs
        expected = np.load(os.path.join(folder, name.replace("/", "_") + ".expected.npy"))
        np.testing.assert_allclose(np.asarray(outputs).reshape(expected.shape), expected, rtol=1e-5, atol=1e-6,
                                   err_msg=name)
        print("matched", name, keras.backend.backend())


if __name__ == "__main__":
    {"make": make, "check": check}[sys.argv[1]](sys.argv[2])
