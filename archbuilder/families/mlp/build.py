"""The `mlp` family's Keras builder: [flatten] -> dense layers (optionally residual) -> output."""

from keras import layers

from archbuilder.layers import blocks

__all__ = ["build", "dense_item"]


def dense_item(graph, x, item, path, name):
    """Dense -> [BN] -> [residual add] -> activation -> [dropout].

    With `residual`, the add joins the item's input: as it is when its width is the
    item's `units`, else through a Dense projection (+ BN with `batch_norm`). Without
    BN or residual this is `blocks.dense_block` (the activation fused into the Dense).
    """
    if not item["residual"]:
        return blocks.dense_block(graph, x, item, path, name)
    regularizer = graph.regularizer(item["regularization"])
    y = graph.add(layers.Dense, path, x, name, units=item["units"], kernel_regularizer=regularizer)
    if item["batch_norm"]:
        y = graph.add(layers.BatchNormalization, path, y, f"{name}_bn")
    shortcut = x
    if blocks.static_shape(x) != blocks.static_shape(y):
        shortcut = graph.add(layers.Dense, path, x, f"{name}_shortcut", units=item["units"],
                             kernel_regularizer=regularizer)
        if item["batch_norm"]:
            shortcut = graph.add(layers.BatchNormalization, path, shortcut, f"{name}_shortcut_bn")
    y = graph.add(layers.Add, path, [y, shortcut], f"{name}_add")
    y = graph.add(layers.Activation, path, y, f"{name}_act", activation=item["activation"])
    return blocks.dropout(graph, y, item["dropout"], path, f"{name}_drop")


def build(spec, graph):
    """Builds a concrete `mlp` spec.

    Args:
        spec: the concrete spec.
        graph: the `blocks.Graph` that records layers and paths.

    Returns:
        `(inputs, outputs, None)`.
    """
    inputs = graph.input()
    x = inputs
    if len(inputs.shape) > 2:
        x = graph.add(layers.Flatten, "$.input", x, "flatten")
    for i, item in enumerate(spec["dense"]):
        x = dense_item(graph, x, item, f"$.dense[{i}]", f"dense_{i}")
    return inputs, blocks.output_layer(graph, x, spec["output"]), None
