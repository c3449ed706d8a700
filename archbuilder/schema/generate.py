"""Generates the JSON Schema (draft 2020-12) of spec_version 1 from code.

The schema is committed as package data (`spec-v1.schema.json`); this module is
how it is made, so its rules live in one place:

- Every object that rejects unknown keys says `"additionalProperties": false` next
  to its full `properties`, so an error's own subschema lists the keys a user may
  have meant.
- Variants (families, optimizer types, custom layer types, ...) are an `enum` plus
  `allOf` of `if`/`then`, never `oneOf`/`anyOf`: errors then point at the entry at
  fault rather than at "no variant matched".
- A tunable scalar is `{"description", "default", "if": {"type": "object"},
  "then": <its search space>, "else": <its plain value>}` (see `tunable`); a list
  searched by count is `{"if": {"type": "object"}, "then": <repeat form>,
  "else": <array>}` (see `repeatable`).
- `default` keywords come from `archbuilder.defaults`, never restated here.

Run `python -m archbuilder.schema.generate` after changing this file, the
defaults or the layer registry; a test checks that the shipped file is current.
"""

import copy
import json
import pathlib

from archbuilder import defaults as D
from archbuilder.layers import registry
from archbuilder.schema import SCHEMA_ID
from archbuilder.schema import sections
from archbuilder.schema.builder import Builder
from archbuilder.schema.builder import closed
from archbuilder.schema.builder import prop
from archbuilder.schema.builder import ref
from archbuilder.schema.builder import repeatable
from archbuilder.schema.vocabulary import ACTIVATION_DESCRIPTION
from archbuilder.schema.vocabulary import APPLICATIONS

__all__ = ["build_schema", "dumps", "write_schema", "SCHEMA_FILE"]

SCHEMA_FILE = pathlib.Path(__file__).with_name("spec-v1.schema.json")
MAX_SIDE = 2**31 - 1  # an input axis larger than int32 is a typo, and keeps shape messages short


# --- families ----------------------------------------------------------------------


def _cnn(b, r):
    return {
        "backbone": {
            "description": "A pretrained base model placed before the conv blocks: {\"application\": a "
                           "keras.applications model, …} or {\"model\": a .keras file, …}; null: none.",
            "type": ["object", "null"],
            "if": {"required": ["application"]},
            "then": closed({
                "application": b.tunable({"type": "string", "enum": list(APPLICATIONS)},
                                         "keras.applications model; its preprocess_input is applied inside "
                                         "the model. Needs an image input (usually 3 channels)."),
                "weights": b.tunable({"type": ["string", "null"]}, "`imagenet`, a weights file path, or null "
                                                                   "(random initialization)."),
                "trainable": b.tunable("boolean", "Whether the backbone's weights are trained (false: frozen)."),
                "trainable_from": b.tunable("string", "Name of the first backbone layer to train; layers "
                                                      "before it stay frozen."),
            }, required=("application",), nullable=True),
            "else": closed({
                "model": b.tunable("string", "Path of a saved .keras model used as the base."),
                "trainable": b.tunable("boolean", "Whether the base model's weights are trained (false: frozen)."),
            }, required=("model",), nullable=True),
        },
        "conv": repeatable(b, r["conv_item"], "Convolution blocks, in order (may be empty), or "
                                              "{\"repeat\", \"each\"} to search their number.",
                           "The block repeated; each copy gets its own hyperparameters."),
        "global_pool": b.tunable({"type": ["string", "null"], "enum": ["avg", "max", None]},
                                 "How the last feature map becomes a vector: `avg` or `max` global pooling, "
                                 "or null to flatten it.", D.GLOBAL_POOL),
        "dense": _dense_list(b, r, "Fully connected layers between the features and the output."),
        "output": {"description": "The prediction layer.", **r["output"]},
    }, ("output",)


def _dense_list(b, r, description):
    return repeatable(b, r["dense_item"], description + " A list, or {\"repeat\", \"each\"} to search their "
                                                        "number.", "The layer repeated; each copy gets its own "
                                                                   "hyperparameters.")


def _rnn(b, r):
    rn = D.RNN
    units = b.tunable("positive_int", "Units of one recurrent layer: the size of its hidden state.")
    return {
        "embedding": prop(closed({
            "input_dim": b.tunable("positive_int", "Vocabulary size: the largest token index + 1."),
            "output_dim": b.tunable("positive_int", "Size of each token's embedding vector."),
            "mask_zero": b.tunable("boolean", "Token 0 is padding: mask it in the recurrent layers.",
                                   D.EMBEDDING["mask_zero"]),
        }, required=("input_dim", "output_dim"), nullable=True),
            "Token embedding before the recurrent layers (needs an integer input dtype); null: none."),
        "rnn": prop(closed({
            "cell": b.tunable({"type": "string", "enum": ["simple", "lstm", "gru"]},
                              "Recurrent cell: `simple` (SimpleRNN), `lstm` (long short-term memory: gates and "
                              "a cell state for long dependencies) or `gru` (gated recurrent unit: fewer "
                              "parameters than LSTM)."),
            "units": {
                "description": "Hidden units: an int for one layer, a list for a stack (inner layers return "
                               "sequences), or {\"repeat\", \"each\"} to search the depth.",
                "if": {"type": "object", "anyOf": [{"required": ["repeat"]}, {"required": ["each"]}]},
                "then": closed({
                    "repeat": b.tunable("non_negative_int", "Number of stacked recurrent layers."),
                    "each": {"description": "Units of each layer: an int or an int search space.", **units},
                }, required=("repeat", "each")),
                "else": b.tunable({"type": ["integer", "array"], "minimum": 1, "minItems": 1, "items": units},
                                  "Units: an int, or a list with one per stacked layer."),
            },
            "activation": b.tunable("activation", "Activation of the cell's output (not the top-level one).",
                                    rn["activation"]),
            "bidirectional": b.tunable("boolean", "Read the sequence both ways and concatenate: doubles the "
                                                  "output size.", rn["bidirectional"]),
            "dropout": b.tunable("rate", "Fraction of the input units dropped in training, in [0, 1).",
                                 rn["dropout"]),
            "recurrent_dropout": b.tunable("rate", "Fraction of the recurrent state dropped in training, in "
                                                   "[0, 1) (disables the fast cuDNN kernel).",
                                           rn["recurrent_dropout"]),
            "return_sequences": b.tunable("boolean", "Whether the last recurrent layer returns every time step; "
                                                     "see `sequence_pool`.", rn["return_sequences"]),
            "regularization": {"description": "Kernel regularization of the recurrent layers' input kernels; "
                                              "default: the top-level one.", **r["regularization"]},
        }, required=("cell", "units")), "The recurrent layers."),
        "sequence_pool": b.tunable({"type": ["string", "null"], "enum": ["flatten", "avg", "max", None]},
                                   "With return_sequences: how the sequence is reduced for the dense layers "
                                   "(`flatten`, `avg`, `max`), or null to keep one output per step.",
                                   D.SEQUENCE_POOL),
        "dense": _dense_list(b, r, "Fully connected layers after the recurrent ones."),
        "output": {"description": "The prediction layer.", **r["output"]},
    }, ("rnn", "output")


def _autoencoder(b, r):
    a = D.AUTOENCODER
    layer = b.define("autoencoder_item", {
        "description": "A dense item (with `units`) or a conv item (with `filters`); all of one kind.",
        "if": {"required": ["filters"]},
        "then": r["conv_item"],
        "else": r["dense_item"],
    })
    rate = b.tunable("non_negative_number", "Weight of the penalty in the loss.")
    return {
        "encoder": repeatable(b, layer, "Encoder layers: dense items or conv items (not mixed), or "
                                        "{\"repeat\", \"each\"}.", "The layer repeated."),
        "bottleneck": prop(closed({
            "units": b.tunable("positive_int", "Size of the code."),
            "activation": b.tunable("activation", "Activation of the code; default: the top-level one."),
        }, required=("units",), nullable=True), "The code layer: required for dense encoders; for conv encoders "
                                                "optional (flatten → Dense(units) → Dense back → reshape)."),
        "decoder": {
            "description": "`mirror`: the encoder reversed (dense units reversed; conv blocks as transposed "
                           "convs with strides = each block's pool size); or an explicit list, or "
                           "{\"repeat\", \"each\"}.",
            "default": a["decoder"],
            "if": {"type": "string"},
            "then": {"enum": ["mirror"]},
            "else": repeatable(b, layer, "Decoder layers.", "The layer repeated."),
        },
        "output": prop(closed({
            "activation": b.tunable("activation", "Activation of the reconstruction: `sigmoid` for inputs in "
                                                  "[0, 1], `linear` for unbounded ones.",
                                    D.AE_OUTPUT["activation"]),
            "kernel_size": b.tunable("size", "Conv autoencoders: kernel size of the output convolution.",
                                     D.AE_OUTPUT["kernel_size"]),
        }), "The reconstruction layer: a Dense of the input's size, or a conv with its channels."),
        "variant": b.tunable({"type": "string", "enum": ["plain", "sparse", "contractive", "denoising"]},
                             "`plain`; `sparse` (needs `sparsity`); `contractive` (needs `contractive`); "
                             "`denoising` (needs `noise`).", a["variant"]),
        "sparsity": {
            "description": "Sparse variant's penalty: {\"l1\": w} → w · mean Σ|h|, or {\"target\": ρ, "
                           "\"weight\": w} → w · Σ KL(ρ ‖ ρ̂_j) (needs a sigmoid code).",
            "type": ["object", "null"],
            "if": {"anyOf": [{"required": ["target"]}, {"required": ["weight"]}]},
            "then": closed({
                "target": b.tunable("open_unit_interval", "Target mean activation ρ of each code unit, in (0, 1)."),
                "weight": rate,
            }, required=("target", "weight"), nullable=True),
            "else": closed({"l1": b.tunable("non_negative_number", "L1 activity penalty on the code.")},
                         required=("l1",), nullable=True),
        },
        "contractive": prop(closed({"weight": rate}, required=("weight",), nullable=True),
                             "Contractive variant: w · ‖∂h/∂x‖²_F, the Jacobian of the code."),
        "noise": {
            "description": "Denoising variant's input corruption, in training only: {\"stddev\": σ} Gaussian "
                           "noise or {\"dropout\": p}.",
            "type": ["object", "null"],
            "if": {"required": ["dropout"]},
            "then": closed({"dropout": b.tunable("rate", "Fraction of input values zeroed, in [0, 1).")},
                         required=("dropout",), nullable=True),
            "else": closed({"stddev": b.tunable("non_negative_number", "Standard deviation of the Gaussian noise.")},
                         required=("stddev",), nullable=True),
        },
        "head": prop(closed({
            "units": b.tunable("positive_int", "Number of classes (1 for binary / regression)."),
            "activation": b.tunable("activation", "Default `softmax` when units > 1, `sigmoid` when 1."),
            "loss": b.tunable({"type": ["string", "object", "null"]}, "The head's loss; default inferred.",
                              plain=r["loss"]),
            "loss_weight": b.tunable("non_negative_number", "Weight of the head's loss against the "
                                                            "reconstruction's.", D.HEAD["loss_weight"]),
            "dense": _dense_list(b, r, "Hidden layers of the head."),
        }, required=("units",), nullable=True), "A supervised classifier on the code, trained jointly (outputs "
                                                "`reconstruction` and `head`); null: none."),
    }, ("encoder",)


def _custom(b):
    name_pattern = "^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
    type_description = "Keras layer class (keras.layers), from archbuilder's allow-list."
    name_description = "Unique layer name, referenced by later layers' `inputs`; `input` is the model input."
    inputs_description = ("Name, or list of names, of earlier layers (or `input`) feeding this one; default: "
                          "the previous layer. Merging layers (Add, Concatenate, …) take a list.")
    stubs = {"type": {"description": type_description}, "name": {"description": name_description},
             "inputs": {"description": inputs_description}}
    rules = []
    for layer, args in registry.LAYERS.items():
        props = {arg: b.tunable(value, value["description"]) for arg, value in args.items()}
        b.define(f"layer_{layer}", closed({**stubs, **props}, required=registry.REQUIRED_ARGS[layer],
                                        description=f"keras.layers.{layer}; arguments as in Keras."))
        rules.append({"if": {"type": "object", "properties": {"type": {"const": layer}}, "required": ["type"]},
                      "then": ref(f"layer_{layer}")})
    item = b.define("custom_layer", {
        "description": "A Keras layer: {\"type\": class name, its constructor arguments…, \"name\", \"inputs\"}.",
        "type": "object",
        "properties": {
            "type": prop({"type": "string", "enum": list(registry.LAYERS)}, type_description),
            "name": prop({"type": "string", "pattern": name_pattern}, name_description),
            "inputs": prop({"type": ["string", "array"], "pattern": name_pattern, "minItems": 1,
                             "items": {"type": "string", "pattern": name_pattern}}, inputs_description),
        },
        "required": ["type"],
        "allOf": rules,
    })
    return {
        "layers": prop({"type": "array", "minItems": 1, "items": item},
                        "The layers in order; the last one is the output."),
    }, ("layers",)


# --- the whole ---------------------------------------------------------------------


def build_schema():
    """Returns the JSON Schema of spec_version 1 as a dict (JSON types only)."""
    b = Builder()
    r = {"regularization": sections.regularization_schema(b)}
    r["pool"] = sections.pool_schema(b)
    r["conv_item"] = sections.conv_item_schema(b, r["regularization"], r["pool"])
    r["dense_item"] = sections.dense_item_schema(b, r["regularization"])
    r["output"] = sections.output_schema(b)
    r["loss"] = sections.loss_schema(b)
    common = {
        "$schema": prop({"type": "string"}, "URI or path of this JSON Schema, for editors."),
        "spec_version": prop({"const": 1}, "Version of the spec format: 1."),
        "name": prop({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                      "Name of the model: 1 to 64 letters, digits, `_` or `-`."),
        "family": prop({"type": "string", "enum": ["cnn", "rnn", "autoencoder", "custom"]},
                        "Architecture family: `cnn`, `rnn`, `autoencoder`, or `custom` (any graph of "
                        "allow-listed Keras layers)."),
        "description": prop({"type": "string"}, "Free text about the model."),
        "input": prop(closed({
            "shape": prop({"type": "array", "minItems": 1, "maxItems": 4,
                            "items": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_SIDE}},
                           "Shape of one sample, batch axis excluded: [features], [steps, features], "
                           "[height, width, channels] or [depth, height, width, channels]; null for a "
                           "variable length."),
            "dtype": prop({"type": "string", "enum": ["float32", "float16", "bfloat16", "int32", "int64",
                                                       "uint8"]},
                           "Data type of the input; integer types for token indices (rnn embedding).",
                           D.INPUT["dtype"]),
        }, required=("shape",)), "The model input. Not searchable."),
        "activation": b.tunable("activation", "Default activation of the hidden layers (a layer's own "
                                              "`activation` wins; RNN cells use rnn.activation). "
                                + ACTIVATION_DESCRIPTION, D.ACTIVATION),
        "regularization": {"description": "Kernel regularization {l1, l2} of every Dense, Conv, ConvTranspose "
                                          "and recurrent input kernel that sets none of its own; null: none.",
                           **r["regularization"]},
        "training": {"description": "How the model is trained (design.md 1.6).",
                     "default": copy.deepcopy(D.TRAINING), **sections.training_schema(b, r["loss"])},
        "data": {"description": "Training data (design.md 4); `--data` overrides it. Not searchable.",
                 **sections.data_schema(b)},
        "tuning": {"description": "The hyperparameter search (design.md 1.7). Not searchable.",
                   "default": copy.deepcopy(D.TUNING), **sections.tuning_schema(b)},
    }
    families = {"cnn": _cnn(b, r), "rnn": _rnn(b, r), "autoencoder": _autoencoder(b, r), "custom": _custom(b)}
    rules = []
    for family, (props, required) in families.items():
        allowed = {key: {"description": value["description"]} for key, value in common.items()
                   if not (family == "custom" and key == "activation")}
        rules.append({
            "if": {"properties": {"family": {"const": family}}, "required": ["family"]},
            "then": closed({**allowed, **props}, required=required),
        })
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "archbuilder spec, spec_version 1",
        "description": "A neural network design that archbuilder validates, builds with Keras 3, trains and "
                       "tunes. Any scalar may be a search space ({\"choice\"}, {\"int\"}, {\"float\"}, "
                       "{\"bool\"}) except spec_version, name, family, input, data, tuning, and a custom "
                       "layer's type, name and inputs.",
        "type": "object",
        "properties": common,
        "required": ["spec_version", "name", "family", "input"],
        "allOf": rules,
        "$defs": dict(sorted(b.defs.items())),
    }
    return json.loads(json.dumps(schema))


def dumps(schema):
    return json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_schema(path=SCHEMA_FILE):
    """Writes the schema file; returns its path."""
    path = pathlib.Path(path)
    path.write_text(dumps(build_schema()), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_schema())
