"""The `custom` family's spec side: schema section, checks, outputs (no backend).

Any stack or graph of allow-listed Keras layers: `type` is a `keras.layers` class
name, the other keys its constructor arguments; `inputs` names earlier layers.
"""

from archbuilder.families.custom import allowlist
from archbuilder.format.outputs import Output
from archbuilder.format.schema.builder import closed
from archbuilder.format.schema.builder import prop
from archbuilder.format.schema.builder import ref

__all__ = ["schema", "fill", "concretize", "outputs", "checks", "default_name"]


def default_name(index):
    """The name of an unnamed layer at `$.layers[<index>]`: `layers_<index>`."""
    return f"layers_{index}"


def schema(b, shared):
    name_pattern = "^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
    type_description = "Keras layer class (keras.layers), from archbuilder's allow-list."
    name_description = "Unique layer name, referenced by later layers' `inputs`; `input` is the model input."
    inputs_description = ("Name, or list of names, of earlier layers (or `input`) feeding this one; default: "
                          "the previous layer. Merging layers (Add, Concatenate, …) take a list.")
    stubs = {"type": {"description": type_description}, "name": {"description": name_description},
             "inputs": {"description": inputs_description}}
    rules = []
    for layer, args in allowlist.LAYERS.items():
        props = {arg: b.tunable(value, value["description"]) for arg, value in args.items()}
        b.define(f"layer_{layer}", closed({**stubs, **props}, required=allowlist.REQUIRED_ARGS[layer],
                                        description=f"keras.layers.{layer}; arguments as in Keras."))
        rules.append({"if": {"type": "object", "properties": {"type": {"const": layer}}, "required": ["type"]},
                      "then": ref(f"layer_{layer}")})
    item = b.define("custom_layer", {
        "description": "A Keras layer: {\"type\": class name, its constructor arguments…, \"name\", \"inputs\"}.",
        "type": "object",
        "properties": {
            "type": prop({"type": "string", "enum": list(allowlist.LAYERS)}, type_description),
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


def fill(doc):
    """A custom spec has no family defaults: Keras's own defaults apply to each layer."""


def concretize(doc, activation):
    """A custom spec is concrete as it is."""


def outputs(doc):
    """The last layer is the prediction layer: a Dense (its units and activation) or a Softmax."""
    last = (doc.get("layers") or [{}])[-1]
    units = last.get("units", 1) if last.get("type") == "Dense" else None
    activation = last.get("activation", "softmax" if last.get("type") == "Softmax" else "linear")
    return [Output(None, "labels", "$.training.loss", doc.get("training", {}).get("loss"), units, activation)]


def checks(doc):
    names = {}
    layers = doc["layers"]
    for i, layer in enumerate(layers):
        inputs = layer.get("inputs")
        for name in ([inputs] if isinstance(inputs, str) else inputs or []):
            if name != "input" and name not in names:
                later = [j for j, other in enumerate(layers) if other.get("name") == name]
                why = f"it is defined later, at $.layers[{later[0]}]" if later else "no layer has that name"
                yield f"$.layers[{i}].inputs", f"unknown layer {name!r}: {why}"
        name = layer.get("name")
        if name is not None:
            if name == "input":
                yield f"$.layers[{i}].name", "'input' names the model input; choose another name"
            elif name in names:
                yield f"$.layers[{i}].name", f"duplicate name {name!r} (first used at $.layers[{names[name]}])"
            else:
                names[name] = i
