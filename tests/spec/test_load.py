"""Loading, rendering, search-space resolution and the concrete spec (spec, normalize, search_space)."""

import copy
import json
import pathlib
import subprocess
import sys

import pytest
from click.testing import CliRunner

from archbuilder.format import defaults as D
from archbuilder.cli import cli
from archbuilder.errors import SpecError
from archbuilder.families import family_names
from archbuilder.errors import SpecErrors
from archbuilder.format.jsonfile import parse_json
from archbuilder.spec.normalize import fill_defaults
from archbuilder.format.search_space import default_pick
from archbuilder.format.search_space import default_value
from archbuilder.format.search_space import iter_spaces
from archbuilder.format.search_space import resolve
from archbuilder.spec.overrides import apply_overrides
from archbuilder.spec.load import load_spec
from archbuilder.spec.overrides import parse_override

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.json"))
IDS = [p.stem for p in SPECS]

CNN = {"spec_version": 1, "name": "t", "family": "cnn", "input": {"shape": [28, 28, 1]},
       "conv": [{"filters": 8, "pool": 2}], "output": {"units": 10}}
DENSE_ITEM_KEYS = {"units", "activation", "dropout", "batch_norm", "regularization"}
CONV_ITEM_KEYS = {"filters", "kernel_size", "strides", "padding", "activation", "use_bias", "batch_norm", "pool",
                  "dropout", "residual", "regularization", "transpose"}


def concrete(doc, **changes):
    doc = copy.deepcopy(doc)
    doc.update(changes)
    return load_spec(doc).concrete()


def test_specs_cover_every_family_and_variant():
    docs = [json.loads(p.read_text()) for p in SPECS]
    assert {d["family"] for d in docs} == set(family_names())  # every registered family has a shipped example
    assert {d.get("variant") for d in docs if d["family"] == "autoencoder"} >= {"sparse", "contractive",
                                                                                   "denoising"}
    assert sum(bool(list(iter_spaces(d))) for d in docs) >= 2


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_spec_validates_and_render_round_trips(path):
    spec = load_spec(path)
    assert spec.plan.params > 0
    rendered = spec.rendered()
    again = load_spec(rendered)  # render output is valid again
    assert again.rendered() == rendered  # render(render(x)) == render(x)
    assert again.plan == spec.plan
    assert again.concrete() == spec.concrete()
    assert json.loads(json.dumps(rendered)) == rendered


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_concrete_spec_validates_and_is_a_fixed_point(path):
    concrete_doc = load_spec(path).concrete()
    assert not list(iter_spaces(concrete_doc))
    assert load_spec(concrete_doc).concrete() == concrete_doc


def test_render_fills_every_default():
    rendered = load_spec(CNN).rendered()
    assert rendered["conv"][0] == {"filters": 8, "pool": 2, **D.CONV_BLOCK} | {"pool": 2}
    assert rendered["activation"] == "relu"
    assert rendered["input"]["dtype"] == "float32"
    assert rendered["output"] == {"units": 10, "activation": "softmax", "dropout": 0.0}
    assert rendered["training"]["optimizer"] == {"type": "adam", "learning_rate": 0.001}
    assert rendered["training"]["loss"] == "sparse_categorical_crossentropy"
    assert rendered["training"]["metrics"] == ["accuracy"]
    assert rendered["tuning"]["objective"] == "val_accuracy"
    assert rendered["tuning"]["max_trials"] == 20
    assert CNN["conv"][0] == {"filters": 8, "pool": 2}  # the input is not modified


def test_render_keeps_search_spaces_and_fills_around_them():
    doc = json.loads((ROOT / "specs" / "mnist1d_cnn_tune.json").read_text())
    rendered = load_spec(doc).rendered()
    assert rendered["conv"]["each"]["pool"] == {"choice": [2, None]}
    assert rendered["conv"]["each"]["padding"] == "same"
    assert rendered["conv"]["repeat"] == doc["conv"]["repeat"]
    assert fill_defaults(rendered) == rendered


def test_render_through_the_cli_validates_again(tmp_path):
    source = ROOT / "specs" / "fashion_denoising_ae.json"
    rendered = subprocess.run([sys.executable, "-m", "archbuilder", "render", str(source)], capture_output=True,
                              text=True, check=True, timeout=60).stdout
    out = tmp_path / "rendered.json"
    out.write_text(rendered)
    assert json.loads(rendered) == load_spec(source).rendered()
    again = CliRunner().invoke(cli, ["render", str(out)])
    assert again.exit_code == 0
    assert json.loads(again.stdout) == json.loads(rendered)
    result = CliRunner().invoke(cli, ["validate", str(out)])
    assert result.exit_code == 0
    assert result.stdout == f"{out}: ok (28,353 params)\n"


def test_render_of_an_invalid_spec_exits_1():
    result = CliRunner().invoke(cli, ["render", str(ROOT / "tests/specs/invalid/negative_filters.json")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.endswith("negative_filters.json: $.conv[1].filters: -3 is less than the minimum of 1\n")


def test_schema_command_prints_the_schema():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert load_spec({**CNN, "$schema": schema["$id"]}).name == "t"


# --- search spaces -----------------------------------------------------------


def picked_names(doc, pick=default_pick):
    names = []

    def record(name, space):
        names.append(name)
        return pick(name, space)

    return names, resolve(doc, record)


def test_hyperparameter_names_of_the_tunable_cnn():
    doc = load_spec(ROOT / "specs" / "mnist1d_cnn_tune.json").doc
    names, resolved = picked_names(doc)
    assert names == ["activation", "conv.repeat",
                     "conv[0].filters", "conv[0].kernel_size", "conv[0].batch_norm", "conv[0].pool",
                     "conv[1].filters", "conv[1].kernel_size", "conv[1].batch_norm", "conv[1].pool",
                     "dense[0].units", "training.optimizer.learning_rate"]
    assert resolved["activation"] == "relu"
    assert resolved["conv"] == [{"filters": 16, "kernel_size": 3, "batch_norm": True, "pool": 2}] * 2
    assert resolved["dense"][0]["units"] == 64
    assert resolved["training"]["optimizer"]["learning_rate"] == 2e-3
    assert resolved["tuning"] == doc["tuning"]


def test_repetitions_get_their_own_names_and_only_active_ones_are_asked():
    doc = load_spec(ROOT / "specs" / "mnist1d_cnn_tune.json").doc
    names, resolved = picked_names(doc, lambda name, space: 3 if name == "conv.repeat" else default_value(space))
    assert [n for n in names if n.endswith(".filters")] == ["conv[0].filters", "conv[1].filters", "conv[2].filters"]
    assert len(resolved["conv"]) == 3
    names, resolved = picked_names(doc, lambda name, space: 1 if name == "conv.repeat" else default_value(space))
    assert "conv[1].filters" not in names and len(resolved["conv"]) == 1


def test_hyperparameter_names_of_the_tunable_rnn():
    doc = load_spec(ROOT / "specs" / "mnist1d_rnn_tune.json").doc
    names, resolved = picked_names(doc)
    assert names == ["rnn.cell", "rnn.units.repeat", "rnn.units[0]", "rnn.bidirectional",
                     "training.optimizer.learning_rate"]
    assert resolved["rnn"] == {"cell": "simple", "units": [32], "bidirectional": True}


def test_error_paths_of_spaces_use_each():
    paths = [p for p, _ in iter_spaces(load_spec(ROOT / "specs" / "mnist1d_cnn_tune.json").doc)]
    assert "$.conv.each.filters" in paths and "$.conv.repeat" in paths


@pytest.mark.parametrize("space, value", [
    ({"choice": [32, 64]}, 32),
    ({"choice": [None, 2]}, None),
    ({"int": {"min": 32, "max": 512, "step": 32, "default": 128}}, 128),
    ({"int": {"min": 32, "max": 512}}, 32),
    ({"float": {"min": 1e-4, "max": 1e-2, "sampling": "log"}}, 1e-4),
    ({"float": {"min": 0.0, "max": 0.5, "default": 0.25}}, 0.25),
    ({"bool": {"default": True}}, True),
    ({"bool": {}}, False),
])
def test_default_picks(space, value):
    assert default_value(space) == value


def test_frozen_keys_are_never_resolved():
    doc = {**CNN, "data": {"dataset": {"choice": ["a"]}}}
    names, resolved = picked_names(doc)
    assert names == [] and resolved["data"] == doc["data"]


# --- the concrete spec ---------------------------------------------------------


def test_pool_int_becomes_an_object():
    conv = concrete(CNN, conv=[{"filters": 8, "pool": 2}, {"filters": 8, "pool": {"size": 3, "type": "avg"}},
                               {"filters": 8}])["conv"]
    assert conv[0]["pool"] == {"size": 2, "type": "max", "strides": 2, "padding": "valid"}
    assert conv[1]["pool"] == {"size": 3, "type": "avg", "strides": 3, "padding": "valid"}
    assert conv[2]["pool"] is None
    assert all(set(item) == CONV_ITEM_KEYS for item in conv)
    assert all(item["transpose"] is False for item in conv)


def test_rnn_units_int_becomes_a_list():
    doc = load_spec(ROOT / "specs" / "mnist1d_gru.json").doc
    rnn = concrete(doc)["rnn"]
    assert rnn["units"] == [64]
    assert rnn["activation"] == "tanh"  # never the top-level activation
    assert concrete(doc, activation="gelu")["rnn"]["activation"] == "tanh"
    assert concrete(doc)["embedding"] is None


def test_mirror_decoder_of_a_conv_encoder():
    doc = {"spec_version": 1, "name": "t", "family": "autoencoder", "input": {"shape": [32, 32, 3]},
           "activation": "elu",
           "encoder": [{"filters": 16, "kernel_size": 5, "pool": 2, "batch_norm": True, "dropout": 0.2},
                       {"filters": 8, "strides": 2},
                       {"filters": 4, "pool": {"size": [2, 1]}, "activation": "tanh"}]}
    spec = concrete(doc)
    assert spec["decoder"] == [
        {"filters": 4, "kernel_size": 3, "strides": [2, 1], "padding": "same", "activation": "tanh", "use_bias": True,
         "batch_norm": False, "pool": None, "dropout": 0.0, "residual": False, "regularization": None,
         "transpose": True},
        {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "elu", "use_bias": True,
         "batch_norm": False, "pool": None, "dropout": 0.0, "residual": False, "regularization": None,
         "transpose": True},
        {"filters": 16, "kernel_size": 5, "strides": 2, "padding": "same", "activation": "elu", "use_bias": True,
         "batch_norm": True, "pool": None, "dropout": 0.0, "residual": False, "regularization": None,
         "transpose": True},
    ]
    assert spec["output"] == {"activation": "sigmoid", "kernel_size": 3}
    assert spec["bottleneck"] is None and spec["head"] is None


def test_mirror_decoder_of_a_dense_encoder_and_inherited_activations():
    doc = {"spec_version": 1, "name": "t", "family": "autoencoder", "input": {"shape": [40]}, "activation": "tanh",
           "encoder": [{"units": 32, "batch_norm": True}, {"units": 16, "activation": "relu", "dropout": 0.1}],
           "bottleneck": {"units": 4}, "head": {"units": 3, "dense": [{"units": 8}]}}
    spec = concrete(doc)
    decoder = [(d["units"], d["activation"], d["dropout"], d["batch_norm"]) for d in spec["decoder"]]
    assert decoder == [(16, "relu", 0.0, False), (32, "tanh", 0.0, True)]
    assert all(set(item) == DENSE_ITEM_KEYS for item in spec["encoder"] + spec["decoder"] + spec["head"]["dense"])
    assert spec["bottleneck"] == {"units": 4, "activation": "tanh"}
    assert spec["head"]["dense"][0]["activation"] == "tanh"
    assert spec["head"]["activation"] == "softmax"
    assert spec["head"]["loss"] == "sparse_categorical_crossentropy"
    assert spec["training"]["loss"] == "mse"  # the reconstruction
    assert spec["training"]["metrics"] == ["accuracy"]
    assert spec["tuning"]["objective"] == "val_head_accuracy"
    assert spec["variant"] == "plain"
    assert spec["sparsity"] is spec["contractive"] is spec["noise"] is None


def test_activation_inheritance_in_a_cnn():
    spec = concrete(CNN, activation="gelu", dense=[{"units": 8}, {"units": 8, "activation": "selu"}],
                    conv=[{"filters": 8, "activation": "tanh"}, {"filters": 8}])
    assert [c["activation"] for c in spec["conv"]] == ["tanh", "gelu"]
    assert [d["activation"] for d in spec["dense"]] == ["gelu", "selu"]
    assert spec["output"]["activation"] == "softmax"


def test_regularization_normal_form():
    spec = concrete(CNN, regularization={"l2": 1e-4}, dense=[{"units": 8, "regularization": {"l1": 1e-5}},
                                                            {"units": 8}])
    assert spec["regularization"] == {"l1": 0.0, "l2": 1e-4}
    assert [d["regularization"] for d in spec["dense"]] == [{"l1": 1e-5, "l2": 0.0}, None]
    assert concrete(CNN)["regularization"] is None


def test_concrete_training_and_tuning_have_every_key():
    spec = concrete(CNN)
    assert set(D.TRAINING) | {"loss", "metrics"} == set(spec["training"])
    assert set(D.TUNING) | {"objective"} == set(spec["tuning"])
    hyperband = concrete(CNN, tuning={"tuner": "hyperband"}, training={"epochs": 7})["tuning"]
    assert "max_trials" not in hyperband
    assert hyperband["max_epochs"] == 7 and hyperband["factor"] == 3


@pytest.mark.parametrize("output, training, loss, metrics, objective", [
    ({"units": 10}, {}, "sparse_categorical_crossentropy", ["accuracy"], "val_accuracy"),
    ({"units": 1}, {}, "binary_crossentropy", ["accuracy"], "val_accuracy"),
    ({"units": 4, "activation": "sigmoid"}, {}, "binary_crossentropy", ["accuracy"], "val_accuracy"),
    ({"units": 1, "activation": "linear"}, {}, "mse", ["mae"], "val_loss"),
    ({"units": 3, "activation": "linear"}, {}, "mse", ["mae"], "val_loss"),
    # one-hot labels: categorical_crossentropy is written out; still a classifier
    ({"units": 10}, {"loss": "categorical_crossentropy"}, "categorical_crossentropy", ["accuracy"], "val_accuracy"),
    ({"units": 10, "activation": "linear"},
     {"loss": {"type": "sparse_categorical_crossentropy", "from_logits": True}},
     {"type": "sparse_categorical_crossentropy", "from_logits": True}, ["accuracy"], "val_accuracy"),
    ({"units": 10}, {"metrics": ["accuracy", "top_k_categorical_accuracy"]}, "sparse_categorical_crossentropy",
     ["accuracy", "top_k_categorical_accuracy"], "val_accuracy"),
])
def test_loss_metric_and_objective_inference(output, training, loss, metrics, objective):
    spec = concrete(CNN, output=output, training=training)
    assert spec["training"]["loss"] == loss
    assert spec["training"]["metrics"] == metrics
    assert spec["tuning"]["objective"] == objective


def test_reconstruction_only_autoencoder_and_custom_inference():
    ae = concrete(json.loads((ROOT / "specs" / "mnist1d_contractive_ae.json").read_text()))
    assert (ae["training"]["loss"], ae["training"]["metrics"], ae["tuning"]["objective"]) == ("mse", ["mae"],
                                                                                                "val_loss")
    custom = concrete(json.loads((ROOT / "specs" / "mnist1d_resmlp.json").read_text()))
    assert custom["training"]["loss"] == "sparse_categorical_crossentropy"
    assert "activation" not in custom and "output" not in custom


# --- loading -----------------------------------------------------------------


def test_load_spec_accepts_a_path_a_json_string_a_dict_and_a_spec():
    path = ROOT / "specs" / "mnist1d_cnn.json"
    text = path.read_text()
    from_path = load_spec(path)
    assert from_path.source == str(path) and from_path.base_dir == str(path.parent)
    assert load_spec(text).doc == load_spec(json.loads(text)).doc == from_path.doc
    assert load_spec(from_path).source == str(path)


def test_errors_of_a_dict_are_all_reported_at_once():
    with pytest.raises(SpecErrors) as info:
        load_spec({**CNN, "conv": [{"filters": 0, "kernel_size": 0}], "activaton": "relu"})
    assert sorted(e.path for e in info.value.errors) == ["$", "$.conv[0].filters", "$.conv[0].kernel_size"]
    assert all(e.source == "<spec>" for e in info.value.errors)


def test_parse_override_reads_json_values_else_strings():
    assert parse_override("training.epochs=3") == (["training", "epochs"], 3)
    assert parse_override("$.conv[1].pool=null") == (["conv", 1, "pool"], None)
    assert parse_override("activation=gelu") == (["activation"], "gelu")
    assert parse_override('output={"units": 2}') == (["output"], {"units": 2})


def test_apply_overrides_creates_missing_objects_and_leaves_the_input_alone():
    doc = copy.deepcopy(CNN)
    new = apply_overrides(doc, ["training.optimizer.learning_rate=0.01", "conv[0].filters=4"])
    assert new["training"] == {"optimizer": {"learning_rate": 0.01}}
    assert new["conv"][0]["filters"] == 4 and doc == CNN


@pytest.mark.parametrize("data, message", [
    (b"\xef\xbb\xbf" + json.dumps(CNN).encode(), None),  # a UTF-8 BOM is fine
    (b'{"a": Infinity}', "Infinity is not valid JSON"),
    (b'{"a": 1' + b"0" * 200 + b"}", "too large"),
    (b"[" * 100 + b"]" * 100, "nesting deeper than 64 levels"),
    (b'{"a": {"b": 1, "b": 2}}', "duplicate key 'b'"),
    (b"null", "not null"),
], ids=["bom", "infinity", "huge-int", "deep", "duplicate", "null"])
def test_strict_json(data, message):
    if message is None:
        assert parse_json(data, "x.json") == CNN
        return
    with pytest.raises(SpecErrors) as info:
        parse_json(data, "x.json")
    (error,) = info.value.errors
    assert message in error.message and error.source == "x.json"


def errors_of(doc):
    with pytest.raises(SpecErrors) as info:
        load_spec(doc)
    return [(e.path, e.message) for e in info.value.errors]


def test_misspelt_required_keys_are_always_reported():
    """The unknown-key line says it when the object has one; otherwise the missing line names the typo."""
    doc = {k: v for k, v in CNN.items() if k != "family"} | {"fammly": "cnn"}
    assert errors_of(doc) == [("$", "missing required key 'family' ('fammly' looks like a misspelling of it)")]
    layers = [{"typo": "Dense", "units": 2}]
    doc = {"spec_version": 1, "name": "t", "family": "custom", "input": {"shape": [4]}, "layers": layers}
    assert errors_of(doc) == [("$.layers[0]", "missing required key 'type' ('typo' looks like a misspelling of it)")]
    doc = {**CNN, "conv": [{"filtres": 8}]}  # the conv item is closed: its unknown-key line is the one line
    assert errors_of(doc) == [("$.conv[0]", "unknown key 'filtres' (did you mean 'filters'?)")]
    assert errors_of({**CNN, "conv": [{"kernel_size": 3}]}) == [("$.conv[0]", "missing required key 'filters'")]


@pytest.mark.parametrize("path, value", [
    (["output", "units"], 2.0), (["conv", 0, "filters"], 1e300), (["input", "shape", 0], 28.0),
    (["training", "epochs"], {"int": {"min": 1.0, "max": 3}}),
], ids=["units", "filters", "side", "int-space-bound"])
def test_integral_floats_are_not_integers(path, value):
    doc = copy.deepcopy(CNN)
    node = doc
    for key in path[:-1]:
        node = node[key] if isinstance(node, list) else node.setdefault(key, {})
    node[path[-1]] = value
    ((where, message),) = errors_of(doc)
    assert "is not of type integer" in message and where.startswith("$." + str(path[0])), (where, message)


def test_render_fills_null_defaults_and_validates_again():
    rendered = load_spec(CNN).rendered()
    assert rendered["conv"][0]["pool"] == 2 and rendered["global_pool"] is None
    assert load_spec({**CNN, "conv": [{"filters": 8}]}).rendered()["conv"][0]["pool"] is None
    nulls = {key for key, value in D.TRAINING.items() if value is None}
    assert nulls == {"lr_schedule", "early_stopping", "augmentation", "class_weight"}
    assert all(key in rendered["training"] and rendered["training"][key] is None for key in nulls)
    assert "max_time" in rendered["tuning"] and rendered["tuning"]["max_time"] is None
    assert load_spec(rendered).rendered() == rendered


def test_nested_search_spaces_in_choice_values_are_refused():
    doc = {"spec_version": 1, "name": "t", "family": "rnn", "input": {"shape": [5, 1]},
           "rnn": {"cell": "lstm", "units": {"choice": [[8, {"choice": [1, 2]}], [4]]}}, "output": {"units": 1}}
    assert errors_of(doc) == [("$.rnn.units.choice[0][1]", "a choice value cannot contain another search space "
                                                           "(or repeat form): list the concrete values instead")]
    pool = {"choice": [{"size": {"int": {"min": 1, "max": 2}}}, None]}
    assert errors_of({**CNN, "conv": [{"filters": 8, "pool": pool}]})[0][0] == "$.conv[0].pool.choice[0].size"
    assert load_spec({**CNN, "conv": [{"filters": 8, "pool": {"choice": [{"size": 2}, None]}}]}).has_spaces


def test_contractive_checks_read_every_choice_of_an_activation():
    doc = {"spec_version": 1, "name": "t", "family": "autoencoder", "input": {"shape": [4]},
           "encoder": [{"units": 2}], "bottleneck": {"units": 2}, "variant": "contractive",
           "contractive": {"weight": 0.1}, "activation": {"choice": ["relu", "tanh"]}}
    assert load_spec(doc).has_spaces
    doc["activation"] = {"choice": ["relu", "softmax"]}
    assert errors_of(doc) == [("$.activation", "the contractive penalty needs an elementwise activation")]
    doc["activation"], doc["bottleneck"] = "relu", {"units": 2, "activation": {"choice": ["sigmoid", "softmax"]}}
    assert errors_of(doc) == [("$.bottleneck.activation", "the contractive penalty needs an elementwise activation")]


def test_augmentation_of_an_autoencoder_is_refused():
    doc = {"spec_version": 1, "name": "t", "family": "autoencoder", "input": {"shape": [8, 8, 1]},
           "encoder": [{"filters": 2, "pool": 2}], "training": {"augmentation": {"flip": "horizontal"}}}
    ((path, message),) = errors_of(doc)
    assert path == "$.training.augmentation"
    assert "augmenting the input alone would corrupt the target" in message


@pytest.mark.parametrize("text, position, message", [
    ('{"a": 1,\n "b": NaN}', "line 2, column 7", "NaN is not valid JSON"),
    ('{"NaN": "Infinity", "b": [-Infinity]}', "line 1, column 27", "-Infinity is not valid JSON"),
    ('{"a": [1e5,\n\n   1e999]}', "line 3, column 4", "the number 1e999 is too large"),
    ('{"a": ' + "1" * 101 + "}", "line 1, column 7", "integer of 101 digits is too large"),
], ids=["nan", "negative-infinity-after-strings", "overflow", "huge-int"])
def test_refused_literals_have_a_line_and_column(text, position, message):
    with pytest.raises(SpecErrors) as info:
        parse_json(text, "x.json")
    (error,) = info.value.errors
    assert error.message.startswith(f"invalid JSON at {position}: {message}"), error.message


def test_an_oversized_file_reports_its_real_size(tmp_path):
    from archbuilder.format.jsonfile import MAX_BYTES
    from archbuilder.format.jsonfile import read_json_file

    path = tmp_path / "big.json"
    path.write_bytes(b" " * (3 * MAX_BYTES))
    with pytest.raises(SpecErrors) as info:
        read_json_file(path)
    (error,) = info.value.errors
    assert error.message == f"the file is {3 * MAX_BYTES:,} bytes; specs are limited to {MAX_BYTES:,}"


def test_override_paths_need_a_dot_before_a_key():
    with pytest.raises(SpecError) as info:
        parse_override("dense[0]units=3", "x.json")
    assert str(info.value) == ("x.json: $: --set: cannot read the path 'dense[0]units' (e.g. training.epochs or "
                               "conv[0].filters)")
    assert parse_override("dense[0].units=3") == (["dense", 0, "units"], 3)
    assert parse_override("conv[0][1]=3")[0] == ["conv", 0, 1]
