"""`archbuilder new autoencoder`: the design questions of an autoencoder: data, layers, bottleneck, variant."""

from archbuilder.families.autoencoder.schema import VARIANTS
from archbuilder.format.schema.vocabulary import ACTIVATIONS

__all__ = ["questions"]

_PENALTIES = {"sparse": {"sparsity": {"l1": 1e-5}}, "contractive": {"contractive": {"weight": 1e-4}},
              "denoising": {"noise": {"stddev": 0.1}}}


def questions(q):
    data = q.data("mnist1d", labels=False)
    shape = q.size("Input size (e.g. 784, or 28x28x1)", [40])
    n_encoder = q.number("Number of encoding layers", 2)
    encoder = q.each("Units", "encoding layer", [max(32 // 2**i, 4) for i in range(n_encoder)], n_encoder)
    activation = q.choice("Activation", ACTIVATIONS, "relu")
    bottleneck = q.number("Units in the bottleneck", 8)
    if q.yes("Decoding layers mirror the encoding layers?", True):
        decoder = "mirror"
    else:
        n_decoder = q.number("Number of decoding layers", n_encoder)
        default = (encoder[::-1] + [encoder[0]] * n_decoder)[:n_decoder]
        decoder = [{"units": u} for u in q.each("Units", "decoding layer", default, n_decoder)]
    variant = q.choice("Variant", list(VARIANTS), "plain")
    return {
        "input": {"shape": shape}, "activation": activation,
        "encoder": [{"units": u} for u in encoder],
        "bottleneck": {"units": bottleneck},
        "decoder": decoder,
        "variant": variant,
        **_PENALTIES.get(variant, {}),
        "data": data,
    }
