"""The `rnn` family's Keras builder: [embedding] -> recurrent stack -> [sequence pool] -> dense -> output."""

from keras import layers

from archbuilder.families.rnn.spec import CELLS
from archbuilder.layers import blocks

__all__ = ["SEQUENCE_POOL", "build", "recurrent_stack"]

SEQUENCE_POOL = {"flatten": layers.Flatten, "avg": layers.GlobalAveragePooling1D, "max": layers.GlobalMaxPooling1D}


def build(spec, graph):
    """Builds a concrete `rnn` spec.

    Each entry of `rnn.units` is one recurrent layer named `rnn_<i>` (a
    `Bidirectional` wrapper when `bidirectional`, its inner layer then
    `rnn_<i>_<cell>`); every layer but the last returns sequences, the last
    follows `rnn.return_sequences`. The kernel regularizer is the input
    kernel's only (not the recurrent kernel's).

    Args:
        spec: the concrete spec.
        graph: the `blocks.Graph` that records layers and paths.

    Returns:
        `(inputs, outputs, None)`.
    """
    inputs = graph.input()
    x = inputs
    embedding = spec["embedding"]
    if embedding:
        x = graph.add(
            layers.Embedding, "$.embedding", x, "embedding",
            input_dim=embedding["input_dim"], output_dim=embedding["output_dim"], mask_zero=embedding["mask_zero"],
        )
    x = recurrent_stack(graph, x, spec["rnn"])
    pool = spec["sequence_pool"]
    if spec["rnn"]["return_sequences"] and pool:
        x = graph.add(SEQUENCE_POOL[pool], "$.sequence_pool", x, "sequence_pool")
    for i, item in enumerate(spec["dense"]):
        x = blocks.dense_block(graph, x, item, f"$.dense[{i}]", f"dense_{i}")
    return inputs, blocks.output_layer(graph, x, spec["output"]), None


def recurrent_stack(graph, x, rnn):
    """The recurrent layers of a concrete `rnn` entry, one per `units` value."""
    units = rnn["units"]
    regularizer = graph.regularizer(rnn["regularization"])
    for i, size in enumerate(units):
        path, name = f"$.rnn.units[{i}]", f"rnn_{i}"
        arguments = {
            "units": size,
            "activation": rnn["activation"],
            "dropout": rnn["dropout"],
            "recurrent_dropout": rnn["recurrent_dropout"],
            "return_sequences": i < len(units) - 1 or rnn["return_sequences"],
            "kernel_regularizer": regularizer,
        }
        cell = getattr(layers, CELLS[rnn["cell"]])
        if rnn["bidirectional"]:
            with graph.at(path):
                inner = cell(name=f"{name}_{rnn['cell']}", **arguments)
            x = graph.add(layers.Bidirectional, path, x, name, layer=inner)
        else:
            x = graph.add(cell, path, x, name, **arguments)
    return x
