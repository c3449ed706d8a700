"""`archbuilder export`: every shipped spec's architecture to every format, run in the format's own runtime.

Each spec trains for one epoch on small random data of its input's shape and dtype
(uint8 pixels for images, token ids for text, float vectors standardized with
`"normalize": true`). Two specs are made lighter without changing their layers: the
IMDB model's vocabulary is 1,000 tokens instead of 20,000, and the recurrent specs read
sequences of 4 steps instead of 40 (LiteRT unrolls every step; a 40-step bidirectional GRU
takes 10 s to convert here). `bench/export_check.py` exports the
specs as shipped.
"""

import json
import os
import pathlib
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import archbuilder
from archbuilder.cli import cli
from archbuilder.run.inference import open_run
from archbuilder.run.inference import raw_test_split
from archbuilder.run.train import run_training
from export_cases import STEPS
from export_cases import in_runtime
from export_cases import random_data

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.json"))
LIGHTER = {"imdb_bilstm": [("embedding.input_dim", 1000)], "mnist1d_gru": [("input.shape", [STEPS, 1])],
           "mnist1d_rnn_tune": [("input.shape", [STEPS, 1])]}
RELEASE = ROOT / "tests" / "fixtures" / "release-0.1.0"


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_every_shipped_spec_exports_to_every_format(spec_path, tmp_path):
    doc = json.loads(spec_path.read_text())
    overrides = LIGHTER.get(doc["name"], []) + [("training.epochs", 1), ("training.batch_size", 16)]
    data = random_data(doc, tmp_path, overrides)
    run = run_training(str(spec_path), data, out=str(tmp_path / "run"), quiet=True, defaults=True,
                       overrides=overrides).run_dir
    loaded = open_run(run)
    x, _, _ = raw_test_split(loaded, data)
    contract = loaded.serving.contract
    expected = archbuilder.predict(run, x)
    expected = expected.drop(columns=[c for c in ("prediction",) if c in expected]).to_numpy(np.float32)
    for fmt in ("saved_model", "onnx", "litert"):
        result = archbuilder.export(run, fmt)
        assert result["samples"] == len(x) and result["checked_on"].startswith("test samples of ")
        assert result["max_abs_diff"] <= 1e-4 and result["differences"]["batch of 1"] <= 1e-4
        shape = result["inputs"][0]["shape"]
        assert shape[0] is None  # a dynamic batch axis; LiteRT's unrolled RNNs read the training steps
        assert shape[1:] in (contract["input"]["shape"], contract["trained_input"]["shape"] if fmt == "litert" else 0)
        assert result["inputs"][0]["dtype"] == str(x.dtype)
        got = in_runtime(fmt, result["path"], x).reshape(len(x), -1)
        if got.shape[1] == 1 and expected.shape[1] == 2:  # one sigmoid unit: predict shows both classes
            got = np.concatenate([1.0 - got, got], axis=1)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=fmt)
    labels = json.loads((tmp_path / "run" / "labels.json").read_text())
    assert sorted(labels["artifacts"]) == ["model.onnx", "model.tflite", "model_saved_model"]
    assert labels["model"] == "model.keras" and labels["task"] == contract["task"]


@pytest.fixture(scope="module")
def wine_run(tmp_path_factory):
    from conftest import write_wine_csv

    folder = tmp_path_factory.mktemp("export")
    write_wine_csv(folder / "wine.csv", rows=80)
    spec = {"spec_version": 1, "name": "wine", "family": "mlp", "input": {"shape": [13]}, "dense": [{"units": 8}],
            "output": {"units": 3}, "training": {"epochs": 1, "batch_size": 16},
            "data": {"path": str(folder / "wine.csv"), "target": "cultivar", "normalize": True}}
    return folder, archbuilder.train(spec, out=str(folder / "run"), quiet=True)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_export_command_prints_what_it_checked(wine_run, tmp_path):
    folder, run = wine_run
    out = tmp_path / "serve" / "wine.onnx"
    result = invoke("export", run, "--format", "onnx", "-o", out)
    assert result.exit_code == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"wrote {out} and {tmp_path / 'serve' / 'labels.json'} (onnx; checked on 16 test "
                           f"samples of {folder / 'wine.csv'}: largest absolute difference to Keras ")
    assert line.endswith("; tolerance 0.0001)")
    labels = json.loads((tmp_path / "serve" / "labels.json").read_text())
    assert labels["class_names"] == ["barbera", "grignolino", "nebbiolo"] and len(labels["features"]) == 13
    assert labels["artifacts"]["wine.onnx"]["outputs"] == [{"name": "output_0", "shape": [None, 3],
                                                            "dtype": "float32"}]
    again = invoke("export", run, "--format", "onnx", "-o", out)
    assert again.exit_code == 1 and again.stderr.strip() == f"{out}: exists; pass --overwrite to replace it"
    assert invoke("export", run, "--format", "onnx", "-o", out, "--overwrite").exit_code == 0
    folder = invoke("export", run, "--format", "onnx", "-o", run, "--overwrite")  # never a run directory
    assert folder.exit_code == 1 and folder.stderr.strip() == f"{run}: is a folder; --overwrite replaces only a file"
    not_saved_model = invoke("export", run, "--format", "saved_model", "-o", out, "--overwrite")
    assert not_saved_model.exit_code == 1 and not_saved_model.stderr.strip() == (
        f"{out}: exists and is not a SavedModel folder; --overwrite replaces only one")
    assert os.path.isfile(os.path.join(run, "model.keras")) and os.path.isfile(out)


def test_export_failures_are_one_line_and_leave_nothing(wine_run, tmp_path):
    folder, run = wine_run
    out = tmp_path / "strict.onnx"
    strict = invoke("export", run, "--format", "onnx", "-o", out, "--tolerance", "0")
    assert strict.exit_code == 1 and len(strict.stderr.strip().splitlines()) == 1
    assert strict.stderr.startswith(f"{run}/model.keras: onnx: the exported model differs from keras (tensorflow) "
                                    "by up to ") and strict.stderr.strip().endswith(
        "on 16 samples, over the tolerance 0; nothing was written")
    assert os.listdir(tmp_path) == []  # no artifact, no temporary, no labels.json
    itself = invoke("export", f"{run}/model.keras", "--format", "litert", "-o", f"{run}/model.keras")
    assert itself.exit_code == 1 and itself.stderr.strip() == f"{run}/model.keras: is the model itself; export to " \
                                                              "another path"
    (tmp_path / "labels.json").write_text(json.dumps({"model": "other.keras", "task": "regression"}))
    taken = invoke("export", run, "--format", "litert", "-o", tmp_path / "m.tflite")
    assert taken.exit_code == 1 and taken.stderr.strip() == (f"{tmp_path / 'labels.json'}: describes another model; "
                                                             "export into another folder")
    unknown = invoke("export", run, "--format", "tflite")
    assert unknown.exit_code == 2 and "'tflite' is not one of 'saved_model', 'onnx', 'litert'" in unknown.stderr


def test_litert_of_a_variable_length_rnn_names_the_layer(tmp_path):
    import keras

    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(50, 4, name="embed")(tokens)
    x = keras.layers.LSTM(3, name="reader")(x)
    keras.Model(tokens, keras.layers.Dense(1, activation="sigmoid", name="out")(x)).save(tmp_path / "bare.keras")
    result = invoke("export", tmp_path / "bare.keras", "--format", "litert")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"{tmp_path / 'bare.keras'}: cannot export to litert (tensorflow backend): layer 'reader' (LSTM) runs over a "
        "variable number of steps (input.shape [null]), which LiteRT's builtin operators cannot loop over; export "
        "saved_model or onnx, or train with a fixed input.shape")
    assert sorted(os.listdir(tmp_path)) == ["bare.keras"]
    onnx = invoke("export", tmp_path / "bare.keras", "--format", "onnx")  # a bare file: checked on random token ids
    assert onnx.exit_code == 0, onnx.stderr
    assert "checked on 256 random inputs" in onnx.stdout and "no preprocessing recorded" in onnx.stderr


def test_a_missing_converter_says_what_to_install(wine_run, tmp_path, monkeypatch):
    from archbuilder import compat

    _, run = wine_run
    for name in ("tf2onnx", "tf2onnx.tf_loader", "tf2onnx.convert"):
        monkeypatch.setitem(sys.modules, name, None)  # as if tf2onnx were not installed
    for name in ("tf2onnx_loader", "tf2onnx_convert_common"):
        monkeypatch.delitem(vars(compat), name, raising=False)
    result = invoke("export", run, "--format", "onnx", "-o", tmp_path / "m.onnx")
    assert result.exit_code == 1 and result.stdout == ""
    line = result.stderr.strip()
    assert line.startswith(f"{run}/model.keras: cannot export to onnx: it needs tf2onnx, onnx, onnxruntime "
                           "(ModuleNotFoundError: ") and line.endswith("); install them with pip install "
                                                                      "'archbuilder[export]'")
    assert os.listdir(tmp_path) == []


def test_a_release_run_exports_with_its_preprocessing(tmp_path):
    """A 0.1.0 image run (pixels scaled outside its model): the ONNX file takes the raw pixels."""
    result = archbuilder.export(str(RELEASE / "legacy_images_run"), "onnx", tmp_path / "legacy.onnx")
    import onnxruntime
    import pandas as pd

    session = onnxruntime.InferenceSession(result["path"], providers=["CPUExecutionProvider"])
    raw = np.load(RELEASE / "tiny_images_x.npy").astype(np.float32)  # 0.1.0 files do not say the pixels were 8-bit
    (probabilities,) = session.run(None, {"input": raw})
    then = pd.read_csv(RELEASE / "legacy_images_predictions.csv")
    np.testing.assert_allclose(probabilities, then[["0", "1"]].to_numpy(), rtol=1e-5, atol=1e-6)
    assert not (RELEASE / "legacy_images_run" / "labels.json").exists()  # the fixture is left as it was


def test_a_bfloat16_model_is_exported_in_float32(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.integers(0, 256, (40, 8, 8), dtype=np.uint8), y=rng.integers(0, 3, 40))
    spec = {"spec_version": 1, "name": "bf16", "family": "cnn", "input": {"shape": [8, 8, 1]},
            "conv": [{"filters": 4, "kernel_size": 3, "pool": 2}], "dense": [{"units": 8}], "output": {"units": 3},
            "training": {"epochs": 1, "batch_size": 16, "mixed_precision": True},
            "data": {"path": str(tmp_path / "d.npz")}}
    run = archbuilder.train(spec, out=str(tmp_path / "run"), quiet=True)
    assert json.loads((tmp_path / "run" / "env.json").read_text())["precision"] == "mixed_bfloat16"
    result = archbuilder.export(run, "onnx")
    assert result["notes"] == ["float32"] and result["outputs"][0]["dtype"] == "float32"
    assert result["max_abs_diff"] <= 1e-6  # against Keras in float32, same weights
    assert 0 < result["differences"]["keras (tensorflow, bfloat16)"] <= 1e-2  # against the bfloat16 model


def test_an_operator_a_converter_lacks_names_the_layer_and_the_op(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.integers(0, 256, (30, 6, 6), dtype=np.uint8), y=rng.integers(0, 2, 30))
    spec = {"spec_version": 1, "name": "lanczos", "family": "custom", "input": {"shape": [6, 6, 1]},
            "layers": [{"type": "UpSampling2D", "size": 2, "interpolation": "lanczos3", "name": "upsample"},
                       {"type": "Flatten"}, {"type": "Dense", "units": 2, "activation": "softmax"}],
            "training": {"epochs": 1, "batch_size": 16}, "data": {"path": str(tmp_path / "d.npz")}}
    run = archbuilder.train(spec, out=str(tmp_path / "run"), quiet=True)
    before = sorted(os.listdir(run))
    for fmt, converter, others in (("onnx", "tf2onnx / ONNX Runtime", "saved_model or litert"),
                                   ("litert", "LiteRT's builtin operators", "saved_model or onnx")):
        result = invoke("export", run, "--format", fmt)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr.strip() == (
            f"{run}/model.keras: cannot export to {fmt} (tensorflow backend): layer 'upsample' (UpSampling2D) needs "
            f"the TensorFlow op ScaleAndTranslate, which {converter} cannot run; export {others}, or use another layer")
    assert sorted(os.listdir(run)) == before  # nothing written, no temporary left
    os.unlink(tmp_path / "d.npz")  # the run's data is gone: the check falls back to random inputs, and says so
    saved = invoke("export", run, "--format", "saved_model")
    assert saved.exit_code == 0 and "checked on 256 random inputs: largest absolute difference" in saved.stdout
    assert saved.stderr.strip().startswith(f"{run}/model.keras: the run's test data cannot be read (")
    assert saved.stderr.strip().endswith("); checking on random inputs")
