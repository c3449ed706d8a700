"""The `rnn` family: [embedding] -> recurrent stack -> [sequence pool] -> dense -> output."""

from keras import layers

from archbuilder.builders import blocks

__all__ = ["CELLS", "SEQUENCE_POOL", "build"]

CELLS = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
SEQUENCE_POOL = {"flatten": layers.Flatten, "avg": layers.GlobalAveragePooling1D, "max": layers.GlobalMaxPooling1D}


def build(spec, graph):
    """Builds a concrete `rnn` spec (design.md 1.3).

    Each entry of `rnn.units` is one recurrent layer named `rnn_<i>` (a
    `Bidirectional` wrapper when `bidirectional`, its inner layer then
    `rnn_<i>_<cell>`); every layer but the last returns sequences, the last
    follows `rnn.return_sequences`. The kernel regularizer is the input
    kernel's only (design.md 1.1).

    Args:
        spec: the concrete spec.
        graph: the `blocks.Graph` that records layers and paths.

    Returns:
        `(inputs, outputs, None)`.
    """
    inputs = graph.input()
    x = inputs
    embedding = spec.get("embedding")
    if embedding:
        x = graph.add(
            layers.Embedding, "$.embedding", x, "embedding",
            input_dim=embedding["input_dim"], output_dim=embedding["output_dim"],
            mask_zero=embedding.get("mask_zero", False),
        )
    x = recurrent_stack(graph, x, spec["rnn"])
    pool = spec.get("sequence_pool")
    if spec["rnn"].get("return_sequences") and pool:
        x = graph.add(SEQUENCE_POOL[pool], "$.sequence_pool", x, "sequence_pool")
    for i, item in enumerate(spec.get("dense", [])):
        x = blocks.dense_block(graph, x, item, f"$.dense[{i}]", f"dense_{i}")
    return inputs, blocks.output_layer(graph, x, spec["output"]), None


def recurrent_stack(graph, x, rnn):
    """The recurrent layers of an `rnn` entry, one per `units` value."""
    units = rnn["units"] if isinstance(rnn["units"], list) else [rnn["units"]]
    regularizer = graph.regularizer(rnn.get("regularization"))
    for i, size in enumerate(units):
        path, name = f"$.rnn.units[{i}]", f"rnn_{i}"
        arguments = {
            "units": size,
            "activation": rnn.get("activation", "tanh"),
            "dropout": rnn.get("dropout", 0.0),
            "recurrent_dropout": rnn.get("recurrent_dropout", 0.0),
            "return_sequences": i < len(units) - 1 or bool(rnn.get("return_sequences")),
            "kernel_regularizer": regularizer,
        }
        cell = CELLS[rnn["cell"]]
        if rnn.get("bidirectional"):
            with graph.at(path):
                inner = cell(name=f"{name}_{rnn['cell']}", **arguments)
            x = graph.add(layers.Bidirectional, path, x, name, layer=inner)
        else:
            x = graph.add(cell, path, x, name, **arguments)
    return x
