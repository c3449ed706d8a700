"""The `rnn` family's spec side: schema section, defaults, checks, outputs (no backend).

The design steps: type of RNN (Simple RNN, LSTM, GRU); units in the hidden layer;
its activation; number of output units.
"""

from archbuilder.format import items
from archbuilder.format.checks import input_rank
from archbuilder.format.checks import integer_input
from archbuilder.format.checks import unsized_last_axis
from archbuilder.format.outputs import Output
from archbuilder.format.schema.builder import closed
from archbuilder.format.schema.builder import prop
from archbuilder.format.schema.sections import dense_list

__all__ = ["CELLS", "RNN", "EMBEDDING", "SEQUENCE_POOL", "schema", "fill", "concretize", "outputs", "checks"]

CELLS = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}  # `rnn.cell` -> the keras.layers class
RNN = {
    "activation": "tanh",
    "bidirectional": False,
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
    "return_sequences": False,
}
EMBEDDING = {"mask_zero": False}
SEQUENCE_POOL = None


def schema(b, shared):
    units = b.tunable("positive_int", "Units of one recurrent layer: the size of its hidden state.")
    return {
        "embedding": prop(closed({
            "input_dim": b.tunable("positive_int", "Vocabulary size: the largest token index + 1."),
            "output_dim": b.tunable("positive_int", "Size of each token's embedding vector."),
            "mask_zero": b.tunable("boolean", "Token 0 is padding: mask it in the recurrent layers.",
                                   EMBEDDING["mask_zero"]),
        }, required=("input_dim", "output_dim"), nullable=True),
            "Token embedding before the recurrent layers (needs an integer input dtype); null: none."),
        "rnn": prop(closed({
            "cell": b.tunable({"type": "string", "enum": list(CELLS)},
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
                                    RNN["activation"]),
            "bidirectional": b.tunable("boolean", "Read the sequence both ways and concatenate: doubles the "
                                                  "output size.", RNN["bidirectional"]),
            "dropout": b.tunable("rate", "Fraction of the input units dropped in training, in [0, 1).",
                                 RNN["dropout"]),
            "recurrent_dropout": b.tunable("rate", "Fraction of the recurrent state dropped in training, in "
                                                   "[0, 1) (disables the fast cuDNN kernel).",
                                           RNN["recurrent_dropout"]),
            "return_sequences": b.tunable("boolean", "Whether the last recurrent layer returns every time step; "
                                                     "see `sequence_pool`.", RNN["return_sequences"]),
            "regularization": {"description": "Kernel regularization of the recurrent layers' input kernels; "
                                              "default: the top-level one.", **shared["regularization"]},
        }, required=("cell", "units")), "The recurrent layers."),
        "sequence_pool": b.tunable({"type": ["string", "null"], "enum": ["flatten", "avg", "max", None]},
                                   "With return_sequences: how the sequence is reduced for the dense layers "
                                   "(`flatten`, `avg`, `max`), or null to keep one output per step.",
                                   SEQUENCE_POOL),
        "dense": dense_list(b, shared, "Fully connected layers after the recurrent ones."),
        "output": {"description": "The prediction layer.", **shared["output"]},
    }, ("rnn", "output")


def fill(doc):
    if "dense" in doc:
        items.fill_items(doc["dense"])
    doc.setdefault("dense", [])
    if isinstance(doc.get("output"), dict):
        items.fill_output(doc["output"])
    items.fill(doc.get("rnn"), RNN)
    items.fill(doc.get("embedding"), EMBEDDING)
    doc.setdefault("sequence_pool", SEQUENCE_POOL)


def concretize(doc, activation):
    doc["dense"] = items.concrete_items(doc["dense"], activation)
    items.concrete_output(doc["output"])
    rnn = doc["rnn"]
    rnn["units"] = rnn["units"] if isinstance(rnn["units"], list) else [rnn["units"]]
    rnn["regularization"] = items.regularization(rnn.get("regularization"))
    doc.setdefault("embedding", None)


def outputs(doc):
    output = doc.get("output") if isinstance(doc.get("output"), dict) else {}
    rnn = doc.get("rnn") or {}
    per_step = rnn.get("return_sequences") is True and doc.get("sequence_pool") is None
    return [Output(None, "labels", "$.training.loss", doc.get("training", {}).get("loss"), output.get("units"),
                   output.get("activation"), per_step=per_step)]


def checks(doc):
    rank = input_rank(doc)
    if doc.get("embedding") and not integer_input(doc):
        yield "$.embedding", 'an embedding reads token ids: set "input": {"dtype": "int32"}'
    expected = 1 if doc.get("embedding") else 2
    if rank != expected:
        what = "[steps] of token ids" if expected == 1 else "[steps, features]"
        yield "$.input.shape", f"an rnn input is {what}; got {rank} axes"
    elif not doc.get("embedding"):
        yield from unsized_last_axis(doc)
    if doc.get("sequence_pool") is not None and not doc["rnn"].get("return_sequences", False):
        yield "$.sequence_pool", "sequence_pool applies only when rnn.return_sequences is true"
