"""Findings 3, 4, 11 and 12: model files counted and checked before anything is loaded or extracted."""

import json
import os
import tempfile
import zipfile

import h5py
import keras
import numpy as np
import pytest

import archbuilder
from archbuilder.layers.safe_load import ModelFileError
from hostile_corpus import invoke
from hostile_corpus import one_line
from hostile_corpus import rewrite_keras

LIMITED = "archbuilder loads functions only from keras.activations, keras.initializers, keras.regularizers, " \
          "keras.constraints, keras.losses, keras.metrics"


def _base(path):
    """A small conv base model (16x16x3 -> 16x16x16) saved as .keras; returns its parameter count."""
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", name="c1")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="c2")(x)
    model = keras.Model(inputs, x)
    model.save(path)
    return model.count_params()


def _cnn_spec(folder, **extra):
    doc = {"spec_version": 1, "name": "on_base", "family": "cnn", "input": {"shape": [16, 16, 3]},
           "backbone": {"model": "base.keras"}, "conv": [], "global_pool": "avg", "output": {"units": 3}, **extra}
    path = folder / "spec.json"
    path.write_text(json.dumps(doc))
    return path


def test_3_a_backbone_is_counted_from_its_config(tmp_path):
    params = _base(tmp_path / "base.keras")
    spec = _cnn_spec(tmp_path)
    result = invoke("validate", spec)
    assert result.stdout.strip() == f"{spec}: ok ({params + 16 * 3 + 3:,} params)", result.stderr
    line = one_line(invoke("validate", spec, "--max-params", 1000))
    assert line == (f"{spec}: $.backbone: the model has {params + 51:,} parameters, over the limit of 1,000 "
                    f"(--max-params); the largest layer, backbone (Functional), has {params:,}")


def test_3_a_backbone_declaring_billions_is_refused_before_build(tmp_path):
    _base(tmp_path / "small.keras")

    def huge(config):  # two Conv2D(20000): 3.6e9 parameters, in a 20 kB file
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "Conv2D":
                layer["config"]["filters"] = 20000
            if layer["class_name"] == "BatchNormalization":
                layer["build_config"]["input_shape"][-1] = 20000

    rewrite_keras(tmp_path / "small.keras", tmp_path / "base.keras", huge)
    spec = _cnn_spec(tmp_path)
    for command in ("validate", "build"):
        line = one_line(invoke(command, spec))
        assert line == (f"{spec}: $.backbone: the model has 3,600,720,003 parameters, over the limit of "
                        "1,000,000,000 (--max-params); the largest layer, backbone (Functional), has 3,600,660,000")


def _dense(path, units=3):
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)]).save(path)
    return str(path)


def test_3_a_model_file_declaring_billions_is_refused_before_predict(tmp_path):
    def huge(config):  # Dense 60000 x 60000 in a bare .keras
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 60000]
        config["config"]["layers"][1]["config"]["units"] = 60000
        config["config"]["layers"][1]["build_config"]["input_shape"] = [None, 60000]
        config["build_config"]["input_shape"] = [None, 60000]

    model = rewrite_keras(_dense(tmp_path / "small.keras"), tmp_path / "m.keras", huge)
    np.save(tmp_path / "x.npy", np.zeros((2, 4), np.float32))
    line = one_line(invoke("predict", model, tmp_path / "x.npy"))
    assert line == (f"{model}: refused: the model declares 3,600,060,000 parameters, over the limit of "
                    "1,000,000,000 (--max-params)")
    line = one_line(invoke("predict", tmp_path / "small.keras", tmp_path / "x.npy", "--max-params", 10))
    assert line == f"{tmp_path / 'small.keras'}: refused: the model declares 15 parameters, over the limit of 10 (--max-params)"


def _nested_models():
    """Models whose configs reference nested and shared layers in each of the ways Keras records them."""
    seq = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name="seq")
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, keras.layers.Dense(4)(inner_in), name="inner")
    shared = keras.layers.Dense(4, name="shared")
    x = keras.Input((4,))
    yield keras.Model(x, keras.layers.Dense(2)(keras.layers.Concatenate()([seq(x), inner(x)])))
    yield keras.Model(x, keras.layers.Dense(1)(inner(inner(x))))  # a nested model called on its own output
    yield keras.Model(x, [inner(x), seq(x)])  # a nested Functional as an output (numbered from 1 there)
    yield keras.Model(x, shared(shared(x)))


def test_3_nested_and_shared_layers_are_counted_as_keras_counts(tmp_path, trained_run):
    from archbuilder.layers.safe_load import check_model_file

    for i, model in enumerate(_nested_models()):
        model.save(tmp_path / f"m{i}.keras")
        assert check_model_file(tmp_path / f"m{i}.keras")[1].params == model.count_params()
    # A model archbuilder saved: the input contract and preprocessing layers, the trained graph nested.
    path = os.path.join(trained_run, "model.keras")
    loaded = keras.saving.load_model(path)
    assert check_model_file(path)[1].params == loaded.count_params() > 0


def test_3_a_layer_that_cannot_be_counted_is_refused(tmp_path):
    inputs = keras.Input((4, 8))
    model = keras.Model(inputs, keras.layers.MultiHeadAttention(2, 4, name="attention")(inputs, inputs))
    model.save(tmp_path / "mha.keras")
    with pytest.raises(ModelFileError, match=r"refused: \$\.config\.layers\[1\]: cannot count its parameters: "
                                             "archbuilder cannot plan a MultiHeadAttention layer"):
        archbuilder.predict(str(tmp_path / "mha.keras"), np.zeros((1, 4, 8), np.float32))


def test_4_assets_that_unpack_to_more_than_the_limit_are_refused_before_extraction(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where Keras would extract assets
    bomb = rewrite_keras(_dense(tmp_path / "small.keras"), tmp_path / "bomb.keras",
                    add=[(f"assets/zeros{i}.bin", 65 << 20) for i in range(4)])
    assert os.path.getsize(bomb) < 2_000_000
    with pytest.raises(ModelFileError) as info:
        archbuilder.predict(bomb, np.zeros((1, 4), np.float32))
    assert str(info.value) == (f"{bomb}: refused: 'assets/zeros0.bin' unpacks to 68,157,440 bytes, over the limit "
                               "of 67,108,864 (the model declares 15 parameters in 2 layers)")
    assert os.listdir(scratch) == []


def test_4_weights_larger_than_the_model_declares_are_refused(tmp_path):
    small = _dense(tmp_path / "small.keras")
    bomb = rewrite_keras(small, tmp_path / "weights.keras", replace={"model.weights.h5": bytes(100 << 20)})
    assert os.path.getsize(bomb) < 1_000_000
    with pytest.raises(ModelFileError, match=r"refused: 'model.weights.h5' unpacks to 104,857,600 bytes, over the "
                                             r"limit of [0-9,]+ \(the model declares 15 parameters in 2 layers\)"):
        archbuilder.predict(bomb, np.zeros((1, 4), np.float32))
    # Compressed inside HDF5, a huge array hides in a small weights file: its declared shape is counted.
    with zipfile.ZipFile(small) as archive:
        (tmp_path / "w.h5").write_bytes(archive.read("model.weights.h5"))
    with h5py.File(tmp_path / "w.h5", "a") as h5:
        h5.create_dataset("layers/dense/vars/2", data=np.zeros(10**7, np.float32), compression="gzip")
    hidden = rewrite_keras(small, tmp_path / "hidden.keras", replace={"model.weights.h5": (tmp_path / "w.h5").read_bytes()})
    with pytest.raises(ModelFileError, match=r"refused: model.weights.h5 holds 1.00e\+07 values|"
                                             r"refused: model.weights.h5 holds 10,000,015 values"):
        archbuilder.predict(hidden, np.zeros((1, 4), np.float32))


def test_11_a_keras_function_outside_the_serializable_namespaces_is_refused(tmp_path):
    def plot_model(config):
        config["config"]["layers"][1]["config"]["activation"] = {
            "module": "keras.utils", "class_name": "function", "config": "plot_model", "registered_name": "function"}

    model = rewrite_keras(_dense(tmp_path / "small.keras"), tmp_path / "plot.keras", plot_model)
    np.save(tmp_path / "x.npy", np.zeros((2, 4), np.float32))
    assert one_line(invoke("predict", model, tmp_path / "x.npy")) == (
        f"{model}: refused: $.config.layers[1].config.activation: function 'plot_model' from module \"keras.utils\": "
        f"{LIMITED}")
    _base(tmp_path / "conv.keras")

    def conv_plot_model(config):
        config["config"]["layers"][3]["config"]["activation"] = {
            "module": "keras.utils", "class_name": "function", "config": "plot_model", "registered_name": "function"}

    rewrite_keras(tmp_path / "conv.keras", tmp_path / "base.keras", conv_plot_model)
    spec = _cnn_spec(tmp_path)
    assert one_line(invoke("validate", spec)) == (
        f"{spec}: $.backbone.model: refused: $.config.layers[3].config.activation: "
        f"function 'plot_model' from module \"keras.utils\": {LIMITED}")


def test_12_a_backbone_model_is_found_next_to_the_spec(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    params = _base(project / "base.keras")
    spec = _cnn_spec(project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("build", spec, "-o", "built.keras")
    assert result.exit_code == 0, result.stderr
    assert f"Total params: {params + 51:,}" in result.stdout and (elsewhere / "built.keras").exists()
