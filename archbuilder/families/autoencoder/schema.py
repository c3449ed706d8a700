"""The `autoencoder` family's schema section.

The design steps: number of encoding and decoding layers; activation; units in the
bottleneck. Dense items or conv items (as in `cnn`), not mixed.
"""

from archbuilder.format.schema.builder import closed
from archbuilder.format.schema.builder import prop
from archbuilder.format.schema.builder import repeatable
from archbuilder.format.schema.sections import dense_list

__all__ = ["DEFAULTS", "OUTPUT", "HEAD", "VARIANTS", "schema"]

DEFAULTS = {"decoder": "mirror", "variant": "plain"}
OUTPUT = {"activation": "sigmoid", "kernel_size": 3}  # kernel_size: conv autoencoders only
HEAD = {"loss_weight": 1.0}
# variant -> the key holding its penalty (or corruption)
VARIANTS = {"plain": None, "sparse": "sparsity", "contractive": "contractive", "denoising": "noise"}


def schema(b, shared):
    r = shared
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
            "default": DEFAULTS["decoder"],
            "if": {"type": "string"},
            "then": {"enum": ["mirror"]},
            "else": repeatable(b, layer, "Decoder layers.", "The layer repeated."),
        },
        "output": prop(closed({
            "activation": b.tunable("activation", "Activation of the reconstruction: `sigmoid` for inputs in "
                                                  "[0, 1], `linear` for unbounded ones.",
                                    OUTPUT["activation"]),
            "kernel_size": b.tunable("size", "Conv autoencoders: kernel size of the output convolution.",
                                     OUTPUT["kernel_size"]),
        }), "The reconstruction layer: a Dense of the input's size, or a conv with its channels."),
        "variant": b.tunable({"type": "string", "enum": list(VARIANTS)},
                             "`plain`; `sparse` (needs `sparsity`); `contractive` (needs `contractive`); "
                             "`denoising` (needs `noise`).", DEFAULTS["variant"]),
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
                                                            "reconstruction's.", HEAD["loss_weight"]),
            "dense": dense_list(b, r, "Hidden layers of the head."),
        }, required=("units",), nullable=True), "A supervised classifier on the code, trained jointly (outputs "
                                                "`reconstruction` and `head`); null: none."),
    }, ("encoder",)
