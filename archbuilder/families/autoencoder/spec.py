"""The `autoencoder` family's spec rules: defaults, the mirror decoder, outputs and checks (no backend)."""

from archbuilder.families.autoencoder.schema import DEFAULTS
from archbuilder.families.autoencoder.schema import HEAD
from archbuilder.families.autoencoder.schema import OUTPUT
from archbuilder.families.autoencoder.schema import VARIANTS
from archbuilder.format import items
from archbuilder.format.checks import input_rank
from archbuilder.format.checks import possible
from archbuilder.format.checks import unsized_last_axis
from archbuilder.format.outputs import Output
from archbuilder.format.outputs import infer_loss
from archbuilder.format.shapes import per_axis
from archbuilder.text import listed

__all__ = ["ELEMENTWISE", "fill", "concretize", "mirror_decoder", "outputs", "checks", "concrete_checks"]

# Activations applied value by value: the contractive penalty's Jacobian is diagonal through them.
ELEMENTWISE = {"relu", "sigmoid", "tanh", "linear", "elu", "softplus", "swish", "silu", "leaky_relu", "gelu",
               "selu", "softsign", "relu6", "hard_sigmoid", "exponential", "mish", "hard_swish"}


def fill(doc):
    conv = items.fill_items(doc["encoder"]) if "encoder" in doc else False
    items.fill(doc, DEFAULTS)
    output = doc.setdefault("output", {})
    items.fill(output, OUTPUT if conv else {"activation": OUTPUT["activation"]})
    if doc["decoder"] != "mirror":
        items.fill_items(doc["decoder"])
    head = doc.get("head")
    if isinstance(head, dict):
        items.fill(head, HEAD)
        items.fill_items(head.setdefault("dense", []))
        items.fill_output(head)
        head.pop("dropout", None)  # fill_output's; a head has no dropout of its own
        if "loss" not in head:
            loss = infer_loss(_head_output(doc))
            if loss:
                head["loss"] = loss


def mirror_decoder(encoder, rank):
    """The decoder that mirrors `encoder`, as concrete items.

    Dense units come back in reverse order; conv blocks become transposed convs
    with the same filters in reverse order, kernel size, activation and batch
    norm, and strides equal to each block's pool size times its strides.
    """
    decoder = []
    for item in reversed(encoder):
        if "filters" not in item:
            decoder.append({"units": item["units"], "activation": item["activation"], "dropout": 0.0,
                            "batch_norm": item["batch_norm"], "regularization": item["regularization"]})
            continue
        pool = item["pool"]["size"] if item["pool"] else 1
        strides = [p * s for p, s in zip(per_axis(pool, rank, strict=False),
                                         per_axis(item["strides"], rank, strict=False))]
        decoder.append({"filters": item["filters"], "kernel_size": item["kernel_size"],
                        "strides": strides[0] if len(set(strides)) == 1 else strides, "padding": "same",
                        "activation": item["activation"], "use_bias": item["use_bias"],
                        "batch_norm": item["batch_norm"], "pool": None, "dropout": 0.0, "residual": False,
                        "regularization": item["regularization"], "transpose": True})
    return decoder


def concretize(doc, activation):
    doc["encoder"] = items.concrete_items(doc["encoder"], activation)
    rank = input_rank(doc) - 1
    if doc["decoder"] == "mirror":
        doc["decoder"] = mirror_decoder(doc["encoder"], rank)
    else:
        doc["decoder"] = items.concrete_items(doc["decoder"], activation)
    if doc.get("bottleneck"):
        doc["bottleneck"] = {"activation": activation, **doc["bottleneck"]}
    for key in ("bottleneck", "sparsity", "contractive", "noise", "head"):
        doc.setdefault(key, None)
    if doc["head"]:
        doc["head"]["dense"] = items.concrete_items(doc["head"]["dense"], activation)


def _head_output(doc):
    head = doc["head"]
    return Output("head", "labels", "$.head.loss", head.get("loss"), head.get("units"), head.get("activation"),
                  loss_weight=head.get("loss_weight", HEAD["loss_weight"]))


def outputs(doc):
    """`reconstruction` (trained against the input), and `head` (against the labels) when there is one."""
    reconstruction = Output("reconstruction" if doc.get("head") else None, "input", "$.training.loss",
                            doc.get("training", {}).get("loss"))
    if not isinstance(doc.get("head"), dict):
        return [reconstruction]
    return [reconstruction, _head_output(doc)]


def checks(doc):
    yield from unsized_last_axis(doc)
    yield from _layers(doc)
    if doc.get("training", {}).get("augmentation"):
        # The builder would augment the input only, and the reconstruction target with it.
        yield "$.training.augmentation", ("an autoencoder learns to reconstruct its input: augmenting the "
                                          "input alone would corrupt the target; remove augmentation "
                                          "(variant 'denoising' corrupts the input on purpose)")


def _layers(doc):
    rank = input_rank(doc)
    encoder = items.items(doc["encoder"])
    kinds = {"filters" in item for item in encoder}
    if len(kinds) > 1:
        yield "$.encoder", "encoder items are all dense ({\"units\"}) or all conv ({\"filters\"}), not mixed"
        return
    conv = kinds == {True}
    if conv and rank not in (2, 3, 4):
        yield "$.input.shape", "a conv encoder needs [length, channels] or [height, width, channels] inputs"
    if not conv and None in doc["input"]["shape"][:-1]:
        yield "$.input.shape", "a dense autoencoder reconstructs every input value: give every axis a size"
    if not conv and not doc.get("bottleneck"):
        yield "$", "missing required key 'bottleneck' (a dense encoder needs the code size: {\"units\": 32})"
    if isinstance(doc.get("decoder"), (list, dict)):
        for i, item in enumerate(items.items(doc["decoder"])):
            if ("filters" in item) != conv:
                yield f"$.decoder[{i}]", f"decoder items must be {'conv' if conv else 'dense'} like the encoder's"
    variants = possible(doc.get("variant", DEFAULTS["variant"]))
    yield from _variant_keys(doc, variants)
    default_activation = doc.get("activation", "relu")
    code_activation = (doc.get("bottleneck") or {}).get("activation", default_activation)
    codes = set(possible(code_activation))
    if "sparse" in variants and "target" in (doc.get("sparsity") or {}) and codes - {"sigmoid"}:
        yield "$.sparsity.target", (f"KL sparsity compares mean activations with a target in (0, 1): the code "
                                    f"needs a sigmoid activation, not {listed(sorted(codes - {'sigmoid'}))} "
                                    "(set bottleneck.activation to \"sigmoid\")")
    if "contractive" in variants:
        yield from _contractive(doc, encoder, conv, default_activation, codes)


def _variant_keys(doc, variants):
    for name, key in VARIANTS.items():
        if key is None:
            continue
        if name in variants and doc.get(key) is None:
            yield "$", f"variant '{name}' needs \"{key}\""
        if name not in variants and doc.get(key) is not None:
            yield f"$.{key}", f"{key} applies only to variant '{name}' (this spec is {listed(variants)})"


def _contractive(doc, encoder, conv, default_activation, codes):
    if conv:
        yield "$.variant", ("the contractive penalty is computed exactly for dense encoders; use a dense "
                            "encoder or variant 'denoising'")
    for i, item in enumerate(encoder):
        if any(possible(item.get("batch_norm"))) or any(possible(item.get("dropout"))):
            yield f"$.encoder[{i}]", ("a contractive encoder has no batch_norm or dropout (the Jacobian would "
                                      "depend on the batch)")
        if set(possible(item.get("activation", default_activation))) - ELEMENTWISE:
            where = f"$.encoder[{i}].activation" if "activation" in item else "$.activation"
            yield where, "the contractive penalty needs an elementwise activation"
    if codes - ELEMENTWISE:
        where = "$.bottleneck.activation" if "activation" in (doc.get("bottleneck") or {}) else "$.activation"
        yield where, "the contractive penalty needs an elementwise activation"


def concrete_checks(concrete):
    """The reconstruction's own loss rule: binary crossentropy needs a sigmoid output."""
    rec = concrete["training"]["loss"]
    rec = rec["type"] if isinstance(rec, dict) else rec
    if rec == "binary_crossentropy" and concrete["output"]["activation"] != "sigmoid":
        yield "$.training.loss", "binary_crossentropy reconstruction needs a sigmoid output"
