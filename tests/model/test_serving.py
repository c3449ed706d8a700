"""The served model: training's preprocessing as Keras layers in front of the trained graph, and its contract."""

import json
import warnings
import zipfile

import keras
import numpy as np
import pytest

from archbuilder.data.load import load_data
from archbuilder.errors import ArchbuilderError
from archbuilder.model.serving import contract_of
from archbuilder.model.serving import open_served
from archbuilder.model.serving import serving_model
from archbuilder.run.inference import open_run


def _data(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 16), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(40) % 2)
    return load_data({"path": str(tmp_path / "d.npz"), "normalize": True}, [4, 4, 1], output_units=2)


def _trained(shape=(4, 4, 1)):
    inputs = keras.Input(shape, name="input")
    x = keras.layers.Conv2D(2, 3, padding="same", name="conv")(inputs)
    x = keras.layers.Flatten(name="flat")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="output")(x), name="tiny")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)
    return model


def test_the_layers_replay_training_preprocessing(tmp_path):
    dataset = _data(tmp_path)
    model = _trained()
    served = serving_model(model, dataset.preprocessing)
    assert [layer.name for layer in served.layers] == ["input", "input_contract", "reshape", "rescale",
                                                       "standardize", "tiny"]
    raw = np.load(tmp_path / "d.npz")["x"]
    preprocessed = open_served(served).preprocess(raw)
    if keras.backend.backend() == "jax":  # XLA may divide as a multiplication by the reciprocal
        np.testing.assert_allclose(preprocessed, apply_all(dataset), rtol=1e-6)
    else:  # sqrt(float32(std**2)) == std: the same float32 operations as NumPy's, bit for bit
        np.testing.assert_array_equal(preprocessed, apply_all(dataset))
    np.testing.assert_allclose(served.predict(raw, verbose=0), model.predict(apply_all(dataset), verbose=0),
                               rtol=1e-6, atol=1e-7)
    assert served.count_params() == model.count_params()  # the preprocessing holds no weights


def apply_all(dataset):
    """Every sample of the source in order, preprocessed as training preprocessed it (train and test splits)."""
    from archbuilder.data.preprocessing import apply

    raw = np.load(dataset.source)["x"]
    return apply(raw, dataset.preprocessing, dataset.source)


def test_the_contract_travels_in_the_file_and_loads_safely(tmp_path):
    dataset = _data(tmp_path)
    served = serving_model(_trained(), dataset.preprocessing)
    served.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the trained optimizer is saved once, as the served model's
        loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    contract = contract_of(loaded)
    assert contract == contract_of(served)
    assert contract["input"] == {"shape": [16], "dtype": "uint8"} and contract["task"] == "classification"
    assert contract["trained_input"] == {"shape": [4, 4, 1], "dtype": "float32"}
    assert contract["preprocessing"] == {"reshape": [4, 4, 1], "rescale": 1 / 255, "standardize": True}
    assert loaded.compiled and loaded.get_compile_config()["loss"] == "sparse_categorical_crossentropy"
    x = np.load(tmp_path / "d.npz")["x"][:5]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), served.predict(x, verbose=0), rtol=1e-6)
    metrics = loaded.evaluate(x, np.zeros(5), return_dict=True, verbose=0)
    assert set(metrics) == {"loss", "accuracy"}


def test_preprocessing_stays_float32_under_mixed_precision(tmp_path):
    dataset = _data(tmp_path)
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        served = serving_model(_trained(), dataset.preprocessing)
    finally:
        keras.config.set_dtype_policy(before)
    policies = {layer.name: layer.dtype_policy.name for layer in served.layers[1:-1]}
    assert policies == {"input_contract": "float32", "reshape": "float32", "rescale": "float32",
                        "standardize": "float32"}


def _rewrite_contract(path, change):
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    layer = next(l for l in config["config"]["layers"] if l["class_name"] == "InputContract")
    change(layer["config"]["contract"])
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(format=99), "has format 99, newer than this archbuilder reads (1); upgrade archbuilder"),
    (lambda c: c.update(class_names=[1, 2]), "has class_names that are not a list of strings"),
    (lambda c: c["input"].update(shape=[-3]), "has no valid input.shape"),
    (lambda c: c["input"].update(dtype="object"), "has an unknown input.dtype 'object'"),
    (lambda c: c.update(task="poetry"), "has an unknown task 'poetry'"),
], ids=["newer", "class_names", "shape", "dtype", "task"])
def test_a_malformed_contract_is_one_line(tmp_path, change, message):
    served = serving_model(_trained(), _data(tmp_path).preprocessing)
    path = tmp_path / "m.keras"
    served.save(path)
    _rewrite_contract(path, change)
    with pytest.raises(ArchbuilderError) as raised:
        open_run(str(path))
    assert str(raised.value) == f"{path}: the model's input contract {message}"
