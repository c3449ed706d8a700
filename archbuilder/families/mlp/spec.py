"""The `mlp` family's spec side: schema section, defaults, checks, outputs (no backend).

A plain dense stack for tabular and vector data: `dense` items as in `cnn` (with
`batch_norm`, `dropout` and, here, `residual`), then the output. An input of more
than one axis is flattened first.
"""

from archbuilder.format import defaults as D
from archbuilder.format import items
from archbuilder.format.checks import unsized_last_axis
from archbuilder.format.outputs import Output
from archbuilder.format.schema.builder import repeatable
from archbuilder.format.schema.sections import dense_item_schema

__all__ = ["ITEM", "schema", "fill", "concretize", "outputs", "checks"]

ITEM = {**D.DENSE_ITEM, "residual": False}


def schema(b, shared):
    residual = b.tunable("boolean", "Add the layer's input to its output before the activation (a residual "
                                    "connection); a Dense projection matches the widths when they differ.",
                         ITEM["residual"])
    item = dense_item_schema(b, shared["regularization"], name="mlp_item", extra={"residual": residual},
                             description="A fully connected layer: Dense → [BN] → [residual add] → activation → "
                                         "dropout.")
    return {
        "dense": repeatable(b, item, "The hidden layers, in order, or {\"repeat\", \"each\"} to search their "
                                     "number.", "The layer repeated; each copy gets its own hyperparameters."),
        "output": {"description": "The prediction layer.", **shared["output"]},
    }, ("dense", "output")


def fill(doc):
    items.fill_items(doc["dense"], ITEM)
    if isinstance(doc.get("output"), dict):
        items.fill_output(doc["output"])


def concretize(doc, activation):
    doc["dense"] = items.concrete_items(doc["dense"], activation)
    items.concrete_output(doc["output"])


def outputs(doc):
    output = doc.get("output") if isinstance(doc.get("output"), dict) else {}
    return [Output(None, "labels", "$.training.loss", doc.get("training", {}).get("loss"), output.get("units"),
                   output.get("activation"))]


def checks(doc):
    yield from unsized_last_axis(doc)
    if None in doc["input"]["shape"]:
        yield "$.input.shape", "an mlp reads every input value: give every axis a size"
