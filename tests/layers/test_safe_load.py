"""`archbuilder.layers.safe_load`: model files are checked before Keras deserializes anything.

Each refusal is shown to run nothing: the refused objects would write a marker
file when deserialized (a control load without archbuilder's check proves they
do), and the marker is absent after `load_model_safely` refuses them.
"""

import json
import os
import pathlib
import subprocess
import sys
import zipfile

import pytest

from archbuilder.errors import ArchbuilderError
from archbuilder.layers.model_count import count_model
from archbuilder.layers.safe_load import ModelFileError
from archbuilder.layers.safe_load import UnsafeModelError
from archbuilder.layers.safe_load import load_model_safely
from archbuilder.layers.safe_load import read_model_config
from archbuilder.layers.safe_load import unsafe_objects

keras = pytest.importorskip("keras")

import archbuilder.layers.keras_layers as ab_layers  # noqa: E402

MARKER_ENV = "ARCHBUILDER_TEST_MARKER"


@keras.saving.register_keras_serializable(package="evilpkg")
class MarkerLayer(keras.layers.Layer):
    """A custom layer from another package; building it writes the marker file."""

    def __init__(self, marker="", **kwargs):
        super().__init__(**kwargs)
        self.marker = marker
        if marker:
            pathlib.Path(marker).write_text("ran")

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {**super().get_config(), "marker": self.marker}


@keras.saving.register_keras_serializable(package="evilpkg")
def write_marker(x, marker):
    pathlib.Path(marker).write_text("ran")
    return x


def _save(model, path):
    model.save(path)
    return path


def _rewrite_config(src, dst, edit):
    """Copies a .keras archive, passing its config.json through `edit(config)`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                data = json.dumps(edit(json.loads(data))).encode()
            zout.writestr(item, data)
    return dst


def _one_line(error):
    text = str(error)
    assert "\n" not in text and "Traceback" not in text
    return text


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "marker.txt"
    yield path


# --- refusals, with proof that nothing ran ------------------------------------


def test_python_lambda_is_refused_without_running(tmp_path, marker):
    inputs = keras.Input((4,))
    # `arguments` are saved with the bytecode, so the reloaded lambda knows the path.
    layer = keras.layers.Lambda(lambda x, m: (__import__("pathlib").Path(m).write_text("ran"), x)[1],
                                arguments={"m": str(marker)})
    path = _save(keras.Model(inputs, layer(inputs)), str(tmp_path / "py_lambda.keras"))
    assert marker.exists()  # calling the layer on the symbolic input ran it
    marker.unlink()

    with pytest.raises(UnsafeModelError) as info:
        load_model_safely(path)
    text = _one_line(info.value)
    assert text.startswith(f"{path}: refused: $.config.layers[1]: a Lambda layer runs Python code")
    assert not marker.exists()

    # Control: Keras without the check runs the bytecode when the file is trusted.
    keras.saving.load_model(path, safe_mode=False)
    assert marker.exists()


def test_lambda_around_a_keras_function_is_refused(tmp_path, monkeypatch):
    inputs = keras.Input((4,))
    path = _save(keras.Model(inputs, keras.layers.Lambda(keras.ops.relu)(inputs)),
                 str(tmp_path / "ops_lambda.keras"))
    # Keras's own safe_mode lets this one through: the reason for the config check.
    assert keras.saving.load_model(path, safe_mode=True) is not None

    calls = []
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: calls.append(a))
    with pytest.raises(UnsafeModelError) as info:
        load_model_safely(path)
    assert "refused: $.config.layers[1]: a Lambda layer" in _one_line(info.value)
    assert calls == []  # Keras never saw the file


def test_lambda_around_a_keras_function_with_a_side_effect_keras_would_run(tmp_path, marker):
    """Keras's safe_mode rejects only bytecode: a named function runs; archbuilder refuses it first."""
    inputs = keras.Input((4,))
    layer = keras.layers.Lambda(write_marker, arguments={"marker": str(marker)})
    path = _save(keras.Model(inputs, layer(inputs)), str(tmp_path / "fn_lambda.keras"))
    marker.unlink()
    with pytest.raises(UnsafeModelError):
        load_model_safely(path)
    assert not marker.exists()
    keras.saving.load_model(path, safe_mode=True)  # control: Keras alone runs it
    assert marker.exists()


def test_custom_class_from_another_package_is_refused_without_running(tmp_path, marker):
    inputs = keras.Input((4,))
    path = _save(keras.Model(inputs, MarkerLayer(marker=str(marker))(inputs)), str(tmp_path / "custom.keras"))
    marker.unlink()

    with pytest.raises(UnsafeModelError) as info:
        load_model_safely(path)
    text = _one_line(info.value)
    assert "refused: $.config.layers[1]: 'MarkerLayer'" in text and "evilpkg>MarkerLayer" in text
    assert not marker.exists()

    keras.saving.load_model(path, safe_mode=True)  # control: Keras alone builds it
    assert marker.exists()


@pytest.mark.parametrize("forge", ["keras_module", "no_registered_name", "archbuilder_name_foreign_module"])
def test_forged_names_are_refused_without_running(tmp_path, marker, forge):
    """A custom class dressed as a Keras (or archbuilder) one is still refused."""
    inputs = keras.Input((4,))
    path = _save(keras.Model(inputs, MarkerLayer(marker=str(marker))(inputs)), str(tmp_path / "custom.keras"))
    marker.unlink()

    def edit(config):
        layer = config["config"]["layers"][1]
        if forge == "keras_module":
            layer["module"] = "keras.layers"
        elif forge == "no_registered_name":  # Keras then looks the class name up as a registered name
            layer["module"] = "keras.layers"
            layer["class_name"] = layer.pop("registered_name")
        else:
            layer["module"] = "os"
            layer["registered_name"] = "archbuilder>MarkerLayer"
        return config

    forged = _rewrite_config(path, str(tmp_path / f"forged_{forge}.keras"), edit)
    with pytest.raises(UnsafeModelError):
        load_model_safely(forged)
    assert not marker.exists()


def test_nested_lambda_in_wrappers_and_submodels_is_found(tmp_path):
    inner = keras.Sequential([keras.Input((3, 4)), keras.layers.TimeDistributed(keras.layers.Lambda(keras.ops.abs))],
                             name="inner")
    inputs = keras.Input((3, 4))
    path = _save(keras.Model(inputs, inner(inputs)), str(tmp_path / "nested.keras"))
    with pytest.raises(UnsafeModelError) as info:
        load_model_safely(path)
    # layers[1] is the Sequential; its layers[0] is its InputLayer, layers[1] the TimeDistributed.
    assert "refused: $.config.layers[1].config.layers[1].config.layer: a Lambda layer" in str(info.value)


def test_unsafe_objects_reads_any_shape_of_config():
    config = {"class_name": "Functional", "module": "keras", "config": {"layers": [
        {"class_name": "Dense", "module": "keras.layers", "config": {"name": "ok"}},
        {"class_name": "Bidirectional", "module": "keras.layers",
         "config": {"layer": {"class_name": "Dense", "module": "evil.mod", "config": {}}}},
        {"class_name": "Dense", "module": "keras.layers", "config": {
            "activation": {"class_name": "function", "module": "builtins", "config": "relu"},
            "kernel_regularizer": {"class_name": "function", "module": "keras.ops", "config": "evil>fn"},
            "bias_initializer": {"class_name": "__python_function__", "config": {}}}},
        {"class_name": "ActivityL1", "module": "archbuilder.layers.penalties",
         "registered_name": "archbuilder>ActivityL1", "config": {}},
    ]}}
    problems = dict(unsafe_objects(config))
    assert set(problems) == {"$.config.layers[1].config.layer", "$.config.layers[2].config.kernel_regularizer",
                             "$.config.layers[2].config.bias_initializer"}
    assert "'evil.mod'" in problems["$.config.layers[1].config.layer"].replace('"', "'")


def test_unsafe_objects_handles_deep_nesting_without_recursion():
    config = {"class_name": "Functional", "module": "keras", "config": {}}
    node = config["config"]
    for _ in range(5000):
        node["x"] = {}
        node = node["x"]
    node["layer"] = {"class_name": "Lambda", "module": "keras.layers", "config": {}}
    assert len(unsafe_objects(config)) == 1


# --- unreadable files: one line each --------------------------------------------


def _keras_zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return str(path)


@pytest.mark.parametrize("case, expected", [
    ("text", "not a .keras model archive"),
    ("truncated", "not a .keras model archive"),
    ("no_config", "has no config.json"),
    ("bad_json", "config.json is not valid JSON (line 1"),
    ("deep_json", "config.json is not valid JSON"),
    ("not_utf8", "config.json is not UTF-8"),
    ("not_model", "does not describe a Keras model"),
    ("missing", "no such file"),
    ("wrong_suffix", "not a .keras file"),
    ("directory", "a directory"),
    ("empty", "not a .keras model archive"),
])
def test_unreadable_files_give_one_line(tmp_path, case, expected):
    path = tmp_path / "m.keras"
    if case == "text":
        path.write_text("hello")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "truncated":
        full = _keras_zip(tmp_path / "full.keras", {"config.json": json.dumps({"class_name": "X"}) * 50,
                                                    "model.weights.h5": os.urandom(4000)})
        path.write_bytes(pathlib.Path(full).read_bytes()[:3000])
    elif case == "no_config":
        _keras_zip(path, {"metadata.json": "{}"})
    elif case == "bad_json":
        _keras_zip(path, {"config.json": "{'class_name': 1}"})
    elif case == "deep_json":
        _keras_zip(path, {"config.json": "[" * 200_000 + "]" * 200_000})
    elif case == "not_utf8":
        _keras_zip(path, {"config.json": b"\xff\xfe{}"})
    elif case == "not_model":
        _keras_zip(path, {"config.json": "[1, 2]"})
    elif case == "wrong_suffix":
        path = tmp_path / "m.h5"
        path.write_bytes(b"\x89HDF")
    elif case == "directory":
        path.mkdir()
    with pytest.raises(ModelFileError) as info:
        load_model_safely(str(path))
    text = _one_line(info.value)
    assert isinstance(info.value, ArchbuilderError)
    assert text.startswith(f"{path}: cannot load") and expected in text, text


def test_keras_failure_after_the_check_is_one_line(tmp_path):
    path = _save(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), str(tmp_path / "ok.keras"))
    def unknown_argument(config):  # archbuilder's checks pass it; Keras's Dense refuses the argument
        config["config"]["layers"][-1]["config"]["nonsense"] = 1
        return config

    broken = _rewrite_config(path, str(tmp_path / "broken.keras"), unknown_argument)
    with pytest.raises(ModelFileError) as info:
        load_model_safely(broken)
    assert _one_line(info.value).startswith(f"{broken}: cannot load the model: ")


# --- what must load --------------------------------------------------------------


def test_plain_keras_models_load(tmp_path):
    seq = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                            keras.layers.Dropout(0.1), keras.layers.Dense(2)])
    seq.compile(optimizer="adam", loss="mse", metrics=["mae"])
    inputs = keras.Input((3, 4))
    rnn = keras.Model(inputs, keras.layers.Bidirectional(keras.layers.LSTM(2))(inputs))
    for i, model in enumerate([seq, rnn]):
        path = _save(model, str(tmp_path / f"plain{i}.keras"))
        assert unsafe_objects(read_model_config(path)) == []
        loaded = load_model_safely(path)
        assert loaded.count_params() == model.count_params()


def test_models_with_archbuilder_layers_load(tmp_path):
    inputs = keras.Input((6,))
    hidden = ab_layers.ContractiveDense(4, activation="relu")(inputs)  # a two-layer contractive encoder
    code = ab_layers.ContractivePenalty(1e-3)(ab_layers.ContractiveDense(3, activation="sigmoid")(hidden))
    code = ab_layers.ActivityL1(1e-3)(code)
    code = ab_layers.KLSparsity(0.1, 1e-3)(code)
    model = keras.Model(inputs, keras.layers.Dense(6)(code))
    model.compile(optimizer="adam", loss="mse")
    path = _save(model, str(tmp_path / "ab.keras"))
    config = read_model_config(path)
    names = {layer.get("registered_name") for layer in config["config"]["layers"]}
    assert {"archbuilder>ActivityL1", "archbuilder>KLSparsity", "archbuilder>ContractiveDense",
            "archbuilder>ContractivePenalty"} <= names
    assert unsafe_objects(config) == []
    assert count_model(config).params == model.count_params()
    loaded = load_model_safely(path)
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]


def test_importing_safe_load_imports_no_backend():
    code = ("import sys, archbuilder.layers.safe_load; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
