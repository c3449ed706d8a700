"""The `autoencoder` family's Keras builder: [noise] -> encoder -> code [-> penalty] -> decoder -> reconstruction."""

from keras import layers

from archbuilder.layers import blocks
from archbuilder.errors import SpecError
from archbuilder.layers.penalties import CONTRACTIVE_ACTIVATIONS
from archbuilder.layers.penalties import ActivityL1
from archbuilder.layers.penalties import ContractiveDense
from archbuilder.layers.penalties import ContractivePenalty
from archbuilder.layers.penalties import KLSparsity
from archbuilder.layers.penalties import unsupported_activation_message

__all__ = ["CONTRACTIVE_NEEDS_DENSE", "build"]

CONTRACTIVE_NEEDS_DENSE = (
    "contractive needs a dense encoder: its penalty is the exact Jacobian of the code, which archbuilder "
    "computes for dense layers; use dense encoder items, or variant 'sparse' or 'denoising' with conv items"
)


def _is_conv(items):
    return any("filters" in item for item in items)


def build(spec, graph):
    """Builds a concrete `autoencoder` spec.

    The model's input is the clean sample and its first output, named
    `reconstruction`, is trained against that same sample. With a `head`, the
    outputs are the dict `{"reconstruction": ..., "head": ...}`.

    Args:
        spec: the concrete spec.
        graph: the `blocks.Graph` that records layers and paths.

    Returns:
        `(inputs, outputs, code)`: `code` is the encoder model's output.
    """
    inputs = graph.input()
    x = _noise(graph, inputs, spec)
    variant = spec["variant"]
    conv = _is_conv(spec["encoder"])
    if variant == "contractive":
        if conv:
            raise SpecError("$.variant", CONTRACTIVE_NEEDS_DENSE)
        code, x = _contractive_encoder(graph, x, spec)
    else:
        code, feature_shape = _encoder(graph, x, spec, conv)
        x = _sparsity(graph, code, spec) if variant == "sparse" else code
    features = x
    if conv and spec["bottleneck"]:
        x = graph.add(layers.Dense, "$.bottleneck", x, "bottleneck_expand",
                      units=blocks.flat_size(feature_shape), activation=spec["activation"],
                      kernel_regularizer=graph.regularizer(None))
        x = graph.add(layers.Reshape, "$.bottleneck", x, "bottleneck_reshape", target_shape=feature_shape)
    for i, item in enumerate(spec["decoder"]):
        path, name = f"$.decoder[{i}]", f"decoder_{i}"
        if "filters" in item:
            x = blocks.conv_block(graph, x, item, path, name)
        else:
            x = blocks.dense_block(graph, x, item, path, name)
    reconstruction = _reconstruction(graph, x, inputs, spec["output"], conv)
    if not spec["head"]:
        return inputs, reconstruction, code
    head = _head(graph, features, spec["head"])
    return inputs, {"reconstruction": reconstruction, "head": head}, code


def _noise(graph, x, spec):
    if spec["variant"] != "denoising":
        return x
    noise = spec["noise"]
    if not noise:
        raise SpecError("$.noise", "variant 'denoising' needs noise: {\"stddev\": s} or {\"dropout\": p}")
    if noise.get("stddev") is not None:
        return graph.add(layers.GaussianNoise, "$.noise", x, "noise", stddev=noise["stddev"])
    return graph.add(layers.Dropout, "$.noise", x, "noise", rate=noise["dropout"])


def _flatten_input(graph, x):
    if len(x.shape) > 2:
        return graph.add(layers.Flatten, "$.input", x, "flatten")
    return x


def _bottleneck(spec):
    bottleneck = spec["bottleneck"]
    if not bottleneck:
        raise SpecError("$.bottleneck", "a dense encoder needs a bottleneck: {\"units\": n}")
    return bottleneck


def _encoder(graph, x, spec, conv):
    """The encoder and bottleneck; returns `(code, conv feature shape or None)`."""
    feature_shape = None
    if not conv:
        x = _flatten_input(graph, x)
        for i, item in enumerate(spec["encoder"]):
            x = blocks.dense_block(graph, x, item, f"$.encoder[{i}]", f"encoder_{i}")
        bottleneck = _bottleneck(spec)
    else:
        for i, item in enumerate(spec["encoder"]):
            x = blocks.conv_block(graph, x, item, f"$.encoder[{i}]", f"encoder_{i}")
        bottleneck = spec["bottleneck"]
        if not bottleneck:
            return x, None
        feature_shape = blocks.static_shape(x)
        x = graph.add(layers.Flatten, "$.bottleneck", x, "bottleneck_flatten")
    code = graph.add(layers.Dense, "$.bottleneck", x, "bottleneck", units=bottleneck["units"],
                     activation=bottleneck["activation"],
                     kernel_regularizer=graph.regularizer(None))
    return code, feature_shape


def _contractive_encoder(graph, x, spec):
    """Dense encoder of `ContractiveDense` layers; returns `(code, penalized code)`.

    Dropout between layers is left out of the Jacobian: the penalty is that of
    the encoder in inference mode. Batch norm is refused (its training-mode
    Jacobian couples the samples of a batch).
    """
    contractive = spec["contractive"]
    if not contractive:
        raise SpecError("$.contractive", "variant 'contractive' needs contractive: {\"weight\": w}")
    x = _flatten_input(graph, x)
    carried = []
    stages = [(f"$.encoder[{i}]", f"encoder_{i}", item) for i, item in enumerate(spec["encoder"])]
    stages.append(("$.bottleneck", "bottleneck",
                   {**_bottleneck(spec), "dropout": 0.0, "batch_norm": False, "regularization": None}))
    for path, name, item in stages:
        if item["batch_norm"]:
            raise SpecError(f"{path}.batch_norm", "the contractive penalty's exact Jacobian does not go "
                            "through batch normalization; set batch_norm to false or use another variant")
        if (item["activation"] or "linear") not in CONTRACTIVE_ACTIVATIONS:
            raise SpecError(f"{path}.activation", unsupported_activation_message(item["activation"]))
        x, *carried = graph.add(
            ContractiveDense, path, [x, *carried] if carried else x, name,
            units=item["units"], activation=item["activation"],
            kernel_regularizer=graph.regularizer(item["regularization"]),
        )
        code = x
        x = blocks.dropout(graph, x, item["dropout"], path, f"{name}_drop")
    penalized = graph.add(ContractivePenalty, "$.contractive", [code, *carried], "contractive",
                          weight=contractive["weight"])
    return code, penalized


def _sparsity(graph, code, spec):
    sparsity = spec["sparsity"]
    if not sparsity:
        raise SpecError("$.sparsity", "variant 'sparse' needs sparsity: {\"l1\": w} or {\"target\": rho, \"weight\": w}")
    if sparsity.get("l1") is not None:
        return graph.add(ActivityL1, "$.sparsity", code, "sparsity", weight=sparsity["l1"])
    return graph.add(KLSparsity, "$.sparsity", code, "sparsity", target=sparsity["target"],
                     weight=sparsity["weight"])


def _reconstruction(graph, x, inputs, output, conv):
    """The output layer, named `reconstruction`, shaped like the input."""
    shape = blocks.static_shape(inputs)
    if conv:
        y = graph.add(
            blocks.CONV[len(shape) - 1], "$.output", x, "reconstruction",
            filters=shape[-1], kernel_size=output["kernel_size"], padding="same",
            activation=output["activation"], kernel_regularizer=graph.regularizer(None), dtype="float32",
        )
    elif len(shape) == 1:
        y = graph.add(layers.Dense, "$.output", x, "reconstruction", units=shape[0],
                      activation=output["activation"], kernel_regularizer=graph.regularizer(None), dtype="float32")
    else:
        y = graph.add(layers.Dense, "$.output", x, "reconstruction_dense", units=blocks.flat_size(shape),
                      activation=output["activation"], kernel_regularizer=graph.regularizer(None), dtype="float32")
        y = graph.add(layers.Reshape, "$.output", y, "reconstruction", target_shape=shape, dtype="float32")
    if blocks.static_shape(y) != shape:
        raise SpecError("$.decoder", f"the decoder gives back shape {list(blocks.static_shape(y))}, "
                        f"not the input's {list(shape)}; adjust the decoder's strides or sizes")
    return y


def _head(graph, code, head):
    """A classifier on the code, trained jointly: [flatten] -> head.dense -> Dense named `head`."""
    x = code
    if len(x.shape) > 2:
        x = graph.add(layers.Flatten, "$.head", x, "head_flatten")
    for i, item in enumerate(head["dense"]):
        x = blocks.dense_block(graph, x, item, f"$.head.dense[{i}]", f"head_dense_{i}")
    return blocks.output_layer(graph, x, {"units": head["units"], "activation": head["activation"]},
                               "$.head", "head")
