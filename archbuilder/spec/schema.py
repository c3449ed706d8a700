"""Generates the JSON Schema (draft 2020-12) of spec_version 1 from code.

The schema is committed as package data (`archbuilder/format/schema/spec-v1.schema.json`);
this module is how it is made, so its rules live in one place:

- Every object that rejects unknown keys says `"additionalProperties": false` next
  to its full `properties`, so an error's own subschema lists the keys a user may
  have meant.
- Variants (families, optimizer types, custom layer types, ...) are an `enum` plus
  `allOf` of `if`/`then`, never `oneOf`/`anyOf`: errors then point at the entry at
  fault rather than at "no variant matched".
- A tunable scalar is `{"description", "default", "if": {"type": "object"},
  "then": <its search space>, "else": <its plain value>}` (see `Builder.tunable`);
  a list searched by count is `{"if": {"type": "object"}, "then": <repeat form>,
  "else": <array>}` (see `repeatable`).
- `default` keywords come from the defaults tables, never restated here.
- Each family's keys come from its `Family.schema`; the `data` section from the
  data rule's table (`archbuilder.data.parse.KEYS`).

Run `python -m archbuilder.spec.schema` after changing a section, a default, a
family or the layer allow-list; a test checks that the shipped file is current.
"""

import copy
import json
import pathlib

from archbuilder.data.parse import KEYS as DATA_KEYS
from archbuilder.data.parse import applies_to
from archbuilder.families import family_names
from archbuilder.families import get_family
from archbuilder.format import defaults as D
from archbuilder.format.schema import SCHEMA_FILENAME
from archbuilder.format.schema import SCHEMA_ID
from archbuilder.format.schema import sections
from archbuilder.format.schema.builder import Builder
from archbuilder.format.schema.builder import closed
from archbuilder.format.schema.builder import prop
from archbuilder.format.schema.vocabulary import ACTIVATION_DESCRIPTION

__all__ = ["build_schema", "dumps", "write_schema", "SCHEMA_FILE", "NAME_PATTERN", "MAX_SIDE"]

SCHEMA_FILE = pathlib.Path(__file__).parents[1] / "format" / "schema" / SCHEMA_FILENAME
NAME_PATTERN = "^[A-Za-z0-9_-]{1,64}$"  # a spec's name: a file name on every system
MAX_SIDE = 2**31 - 1  # an input axis larger than int32 is a typo, and keeps shape messages short


def data_schema(b):
    """The `data` section, from the data rule's table: one branch per kind of source."""

    def keys(dataset):
        return {key: prop(schema, description) for key, (_, _, schema, description, _) in DATA_KEYS.items()
                if not dataset or key == "dataset" or applies_to(key) == "any source"}

    files = {key: value for key, value in keys(False).items() if key != "dataset"}
    return b.define("data", {
        "description": "Where the training data comes from: {\"dataset\": name}, {\"path\": a file or "
                       "folder, …} or {\"x\": \"x.npy\", \"y\": \"y.npy\", …}. Relative paths are relative to "
                       "the spec file. Not searchable.",
        "type": "object",
        "if": {"required": ["dataset"]},
        "then": closed(keys(True), required=("dataset",)),
        "else": {
            "if": {"required": ["path"]},
            "then": closed(files, required=("path",)),
            "else": closed(files, required=("x",)),
        },
    })


# --- the whole ---------------------------------------------------------------------


def build_schema():
    """Returns the JSON Schema of spec_version 1 as a dict (JSON types only)."""
    families = [get_family(name) for name in family_names()]
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
        "name": prop({"type": "string", "pattern": NAME_PATTERN},
                      "Name of the model: 1 to 64 letters, digits, `_` or `-`."),
        "family": prop({"type": "string", "enum": [family.name for family in families]},
                        "Architecture family: " + "; ".join(f"`{family.name}`: {family.description}"
                                                            for family in families) + "."),
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
        "training": {"description": "How the model is trained.",
                     "default": copy.deepcopy(D.TRAINING), **sections.training_schema(b, r["loss"])},
        "data": {"description": "Training data; `--data` overrides it. Not searchable.", **data_schema(b)},
        "tuning": {"description": "The hyperparameter search. Not searchable.",
                   "default": copy.deepcopy(D.TUNING), **sections.tuning_schema(b)},
    }
    rules = []
    for family in families:
        props, required = family.schema(b, r)
        allowed = {key: {"description": value["description"]} for key, value in common.items()
                   if family.hidden_activation or key != "activation"}
        rules.append({
            "if": {"properties": {"family": {"const": family.name}}, "required": ["family"]},
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
