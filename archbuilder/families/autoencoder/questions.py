"""`archbuilder new autoencoder`: the design steps of an autoencoder, in the seed's words."""

__all__ = ["questions"]

_PENALTIES = {"sparse": {"sparsity": {"l1": 1e-5}}, "contractive": {"contractive": {"weight": 1e-4}},
              "denoising": {"noise": {"stddev": 0.1}}}


def questions(q):
    shape = q("Input size (e.g. 784, or 28 28 1)", [40], list)
    encoder = q("Units of each encoding layer", [32, 16], list)
    activation = q("Activation", "relu")
    bottleneck = q("Units in the bottleneck", 8, int)
    mirror = q("Decoding layers mirror the encoding layers? (y/n)", "y")
    if mirror.lower().startswith("y"):
        decoder = "mirror"
    else:
        decoder = [{"units": u} for u in q("Units of each decoding layer", encoder[::-1], list)]
    variant = q("Variant (plain, sparse, contractive, denoising)", "plain")
    return {
        "input": {"shape": shape}, "activation": activation,
        "encoder": [{"units": u} for u in encoder],
        "bottleneck": {"units": bottleneck},
        "decoder": decoder,
        "variant": variant,
        **_PENALTIES.get(variant, {}),
        "data": {"dataset": "mnist1d"},
    }
