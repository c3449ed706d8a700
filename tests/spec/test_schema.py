"""The spec JSON Schema and the `custom` layer allow-list."""

import copy
import inspect
import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator

from archbuilder.format import defaults
from archbuilder.families.custom import allowlist as registry
from archbuilder.format.schema import SCHEMA_ID
from archbuilder.format.schema import load_schema
from archbuilder.format.schema import spec_validator
from archbuilder.spec import schema as generate
from archbuilder.families.cnn.spec import APPLICATIONS
from archbuilder.format.schema import vocabulary

CNN = {
    "spec_version": 1, "name": "fashion_cnn", "family": "cnn",
    "input": {"shape": [28, 28, 1]},
    "activation": "relu",
    "conv": [
        {"filters": 32, "kernel_size": 3, "batch_norm": True, "pool": 2},
        {"filters": 64, "kernel_size": 3, "batch_norm": True, "pool": {"size": 2, "type": "max"}, "dropout": 0.25},
    ],
    "global_pool": None,
    "dense": [{"units": 128, "dropout": 0.5}],
    "output": {"units": 10, "activation": "softmax"},
    "training": {"optimizer": {"type": "adam", "learning_rate": 0.001}, "epochs": 10, "batch_size": 128},
}
RNN = {
    "spec_version": 1, "name": "imdb_bilstm", "family": "rnn",
    "input": {"shape": [None], "dtype": "int32"},
    "embedding": {"input_dim": 20000, "output_dim": 128},
    "rnn": {"cell": "lstm", "units": [64, 64], "bidirectional": True},
    "output": {"units": 1, "activation": "sigmoid"},
}
AUTOENCODER = {
    "spec_version": 1, "name": "sparse_ae", "family": "autoencoder",
    "input": {"shape": [784]},
    "encoder": [{"units": 256}, {"units": 64}],
    "bottleneck": {"units": 32, "activation": "relu"},
    "decoder": "mirror",
    "output": {"activation": "sigmoid"},
    "variant": "sparse",
    "sparsity": {"l1": 1e-5},
    "head": {"units": 10, "activation": "softmax", "loss_weight": 1.0},
}
CUSTOM = {
    "spec_version": 1, "name": "mlp_resid", "family": "custom",
    "input": {"shape": [40]},
    "layers": [
        {"type": "Dense", "units": 100, "activation": "relu", "name": "h1"},
        {"type": "Dense", "units": 100, "activation": "relu", "name": "h2"},
        {"type": "Add", "inputs": ["h1", "h2"]},
        {"type": "Dense", "units": 10},
    ],
}


def _tunable_cnn():
    spec = copy.deepcopy(CNN)
    spec["conv"][0]["filters"] = {"choice": [32, 64, 128]}
    spec["conv"][0]["pool"] = {"choice": [None, 2]}
    spec["dense"][0]["units"] = {"int": {"min": 32, "max": 512, "step": 32, "default": 128}}
    spec["dense"][0]["batch_norm"] = {"bool": {"default": True}}
    spec["training"]["optimizer"]["learning_rate"] = {"float": {"min": 1e-4, "max": 1e-2, "sampling": "log"}}
    spec["training"]["epochs"] = {"choice": [5, 10]}
    return spec


def _repeat_cnn():
    spec = copy.deepcopy(CNN)
    spec["conv"] = {"repeat": {"int": {"min": 1, "max": 3}},
                    "each": {"filters": {"choice": [32, 64]}, "pool": 2}}
    spec["dense"] = {"repeat": 2, "each": {"units": 64}}
    return spec


def _with(spec, path, value):
    """A copy of `spec` with the entry at `path` (a list of keys and indices) set to `value`."""
    spec = copy.deepcopy(spec)
    node = spec
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return spec


@pytest.fixture(scope="module")
def validator():
    return spec_validator()


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _errors(validator, spec):
    return [(e.json_path, e.validator, e.message) for e in validator.iter_errors(spec)]


# --- the schema file ----------------------------------------------------------------


def test_schema_is_valid_draft_2020_12():
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID


def test_shipped_schema_is_generated():
    """Fails when the generator, the defaults or the registry changed without regenerating:
    run `python -m archbuilder.schema.generate`."""
    built = generate.build_schema()
    assert load_schema() == built
    assert generate.SCHEMA_FILE.read_text(encoding="utf-8") == generate.dumps(built)


def _walk(node, path="#"):
    """Yields `(path, subschema)` for every subschema, skipping `if` conditions (tests, not documentation)."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key != "if":
                yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def test_every_property_has_a_description():
    missing = []
    for path, node in _walk(load_schema()):
        for key, prop in node.get("properties", {}).items():
            text = prop.get("description") if isinstance(prop, dict) else None
            if not (isinstance(text, str) and text.strip()):
                missing.append(f"{path}/properties/{key}")
    assert not missing


def test_closed_objects_list_their_keys_beside_additional_properties():
    for path, node in _walk(load_schema()):
        if node.get("additionalProperties") is False:
            assert node.get("properties"), path


def test_no_oneof_or_anyof_outside_conditions():
    for path, node in _walk(load_schema()):
        assert "oneOf" not in node and "anyOf" not in node, path


def test_defaults_come_from_defaults_module():
    defs = load_schema()["$defs"]
    conv = defs["conv_item"]["properties"]
    for key, value in defaults.CONV_BLOCK.items():
        assert conv[key]["default"] == value, key
    assert defs["pool"]["properties"]["type"]["default"] == defaults.POOL["type"]
    assert defs["training"]["properties"]["epochs"]["default"] == defaults.TRAINING["epochs"]
    assert defs["training"]["properties"]["optimizer"]["default"] == defaults.TRAINING["optimizer"]
    assert defs["tuning"]["properties"]["max_trials"]["default"] == defaults.TUNING["max_trials"]
    assert load_schema()["properties"]["activation"]["default"] == defaults.ACTIVATION


def test_load_schema_imports_no_backend_and_no_numpy():
    code = ("import sys, archbuilder.format.schema, archbuilder.families.custom.allowlist; archbuilder.format.schema.load_schema(); "
            "print(sorted(m for m in ('numpy', 'keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the custom allow-list ----------------------------------------------------------


def test_registry_matches_schema_type_enum():
    defs = load_schema()["$defs"]
    assert defs["custom_layer"]["properties"]["type"]["enum"] == list(registry.LAYERS)
    assert {k[len("layer_"):] for k in defs if k.startswith("layer_")} == set(registry.LAYERS)
    for name, args in registry.LAYERS.items():
        assert set(defs[f"layer_{name}"]["properties"]) == {"type", "name", "inputs", *args}, name


def test_registry_never_allows_code():
    for name in registry.LAYERS:
        assert "lambda" not in name.lower()
        assert name not in ("TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer", "Wrapper")


def test_registry_args_are_keras_constructor_args(keras):
    for name, args in registry.LAYERS.items():
        params = inspect.signature(getattr(keras.layers, name).__init__).parameters
        takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
        for arg in args:
            assert arg in params or (arg == "trainable" and takes_kwargs), f"{name}({arg}=…)"
        required = {k for k, p in params.items() if k != "self" and p.default is p.empty
                    and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        assert set(registry.REQUIRED_ARGS[name]) == required, name


def test_registry_value_names_resolve_in_keras(keras):
    for name in vocabulary.ACTIVATIONS:
        keras.activations.get(name)
    for name in vocabulary.INITIALIZERS:
        keras.initializers.get(name)
    for name in vocabulary.REGULARIZERS:
        keras.regularizers.get(name)
    for name in vocabulary.CONSTRAINTS:
        keras.constraints.get(name)
    for name in vocabulary.LOSSES:
        keras.losses.get(name)
    for name in APPLICATIONS:
        assert callable(getattr(keras.applications, name)), name


def test_optimizer_args_are_keras_constructor_args(keras):
    branches = {rule["if"]["properties"]["type"].get("const"): rule["then"]["properties"]
                for rule in load_schema()["$defs"]["training"]["properties"]["optimizer"]["allOf"]}
    for name, (cls, _) in vocabulary.OPTIMIZERS.items():
        params = inspect.signature(getattr(keras.optimizers, cls).__init__).parameters
        assert set(branches[name]) - {"type"} <= set(params), name


# --- specs that validate --------------------------------------------------------------


@pytest.mark.parametrize("spec", [CNN, RNN, AUTOENCODER, CUSTOM, _tunable_cnn(), _repeat_cnn()],
                         ids=["cnn", "rnn", "autoencoder", "custom", "search-spaces", "repeat"])
def test_design_examples_validate(validator, spec):
    assert _errors(validator, spec) == []


@pytest.mark.parametrize("path, value", [
    (["rnn", "units"], 64),
    (["rnn", "units"], {"int": {"min": 16, "max": 128, "step": 16}}),
    (["rnn", "units"], {"repeat": {"choice": [1, 2]}, "each": {"choice": [32, 64]}}),
    (["rnn", "cell"], {"choice": ["lstm", "gru"]}),
    (["training"], {"loss": {"type": "binary_crossentropy", "from_logits": True}, "seed": 3,
                    "optimizer": {"type": {"choice": ["adam", "sgd"]}, "momentum": 0.9},
                    "lr_schedule": {"type": "exponential_decay", "decay_steps": 100, "decay_rate": 0.9},
                    "early_stopping": {"patience": 2}, "class_weight": "balanced",
                    "mixed_precision": False}),
    (["tuning"], {"tuner": "hyperband", "max_epochs": 4, "factor": 3, "max_time": None}),
    (["data"], {"dataset": "mnist1d"}),
    (["data"], {"path": "t.csv", "target": "label", "test_split": 0.2}),
])
def test_variants_validate(validator, path, value):
    assert _errors(validator, _with(RNN, path, value)) == []


def test_every_custom_layer_validates_with_its_required_args(validator):
    samples = {"positive_int": 2, "size": 3, "rate": 0.1, "non_negative_number": 0.1, "activation": "relu"}
    layers = []
    for name in registry.LAYERS:
        layer = {"type": name}
        for arg in registry.REQUIRED_ARGS[name]:
            schema = registry.LAYERS[name][arg]
            kind = next((k for k, v in registry.VALUE_KINDS.items()
                         if v == {k2: v2 for k2, v2 in schema.items() if k2 != "description"}), None)
            layer[arg] = samples.get(kind, [1, 2])
        layers.append(layer)
    assert _errors(validator, _with(CUSTOM, ["layers"], layers)) == []


# --- specs that fail, and where ---------------------------------------------------------


@pytest.mark.parametrize("spec, json_path, keyword, fragment", [
    (_with(CNN, ["conv", 1, "filters"], -3), "$.conv[1].filters", "minimum", "-3 is less than the minimum of 1"),
    (_with(CNN, ["conv", 0, "filtres"], 3), "$.conv[0]", "additionalProperties", "'filtres'"),
    (_with(CNN, ["conv", 0, "pool"], {"size": 2, "tpye": "avg"}), "$.conv[0].pool", "additionalProperties", "'tpye'"),
    (_with(CNN, ["activation"], "rellu"), "$.activation", "enum", "'rellu'"),
    (_with(CNN, ["dense", 0, "units"], {"choise": [1]}), "$.dense[0].units", "additionalProperties", "'choise'"),
    (_with(CNN, ["dense", 0, "dropout"], {"int": {"min": 0, "max": 1}}), "$.dense[0].dropout",
     "additionalProperties", "'int'"),
    (_with(CNN, ["dense", 0, "dropout"], 1.0), "$.dense[0].dropout", "exclusiveMaximum", "1.0"),
    (_with(CNN, ["dense"], {"repeat": -1, "each": {"units": 8}}), "$.dense.repeat", "minimum", "-1"),
    (_with(CNN, ["conv"], {"repeat": 2, "each": {"filters": {"choice": [8, 0]}}}), "$.conv.each.filters.choice[1]",
     "minimum", "0"),
    (_with(CNN, ["output", "units"], 0), "$.output.units", "minimum", "0"),
    (_with(CNN, ["training", "optimizer", "learning_rate"], 0), "$.training.optimizer.learning_rate",
     "exclusiveMinimum", "0"),
    (_with(CNN, ["training", "optimizer", "momentum"], 0.9), "$.training.optimizer", "additionalProperties",
     "'momentum'"),
    (_with(CNN, ["name"], "bad name!"), "$.name", "pattern", "bad name!"),
    (_with(RNN, ["conv"], []), "$", "additionalProperties", "'conv'"),
    (_with(RNN, ["rnn", "cell"], "lsmt"), "$.rnn.cell", "enum", "'lsmt'"),
    (_with(RNN, ["tuning"], {"max_trials": {"choice": [1, 2]}}), "$.tuning.max_trials", "type", "integer"),
    (_with(AUTOENCODER, ["decoder"], "mirorr"), "$.decoder", "enum", "'mirorr'"),
    (_with(CUSTOM, ["layers", 2, "type"], "Lambda"), "$.layers[2].type", "enum", "'Lambda'"),
    (_with(CUSTOM, ["layers", 0, "unitz"], 3), "$.layers[0]", "additionalProperties", "'unitz'"),
    (_with(CUSTOM, ["layers", 0, "name"], {"choice": ["a", "b"]}), "$.layers[0].name", "type", "string"),
    (_with(CUSTOM, ["activation"], "relu"), "$", "additionalProperties", "'activation'"),
])
def test_invalid_specs_fail_at_the_entry_at_fault(validator, spec, json_path, keyword, fragment):
    errors = _errors(validator, spec)
    assert any(p == json_path and k == keyword and fragment in m for p, k, m in errors), errors


def test_unknown_key_error_lists_the_allowed_keys(validator):
    spec = _with(CNN, ["conv", 0, "filtres"], 3)
    (error,) = [e for e in validator.iter_errors(spec) if e.validator == "additionalProperties"]
    assert "filters" in error.schema["properties"]


def test_integers_are_never_floats(validator):
    """JSON Schema counts 2.0 as an integer; archbuilder's validator does not (Keras wants an int)."""
    assert validator.is_type(2, "integer") and not validator.is_type(2.0, "integer")
    assert not validator.is_type(True, "integer") and validator.is_type(2.0, "number")
    assert Draft202012Validator(load_schema()).is_type(2.0, "integer")  # the draft's own rule, for contrast
