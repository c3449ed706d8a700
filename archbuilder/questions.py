"""The design questions of `archbuilder new`, in the seed's words, per family."""

__all__ = ["ask_spec"]


def _ints(text):
    return [int(t) for t in str(text).replace(",", " ").split()]


def _asker(ask):
    """`ask(question, default, type)`; with no `ask`, every answer is its default."""
    if ask is None:
        return lambda question, default, kind=str: default

    def prompt(question, default, kind=str):
        if kind is list:
            return _ints(ask(question, default=" ".join(map(str, default))))
        return ask(question, default=default, type=kind)

    return prompt


def _cnn(q):
    shape = q("Input size (e.g. 28 28 1 for an image, 40 1 for a sequence)", [28, 28, 1], list)
    n_conv = q("Number of conv layers", 2, int)
    filters = q(f"Filters of each of the {n_conv} conv layers", [32 * 2 ** i for i in range(n_conv)], list)
    kernel = q("Size of the conv kernels", 3, int)
    pool = q("Size of the pooling after each conv layer (0: none)", 2, int)
    activation = q("Activation", "relu")
    n_dense = q("Number of fully connected layers", 1, int)
    units = q(f"Units of each of the {n_dense} fully connected layers", [128] * n_dense, list)
    outputs = q("Number of output units (classes)", 10, int)
    return {
        "input": {"shape": shape}, "activation": activation,
        "conv": [{"filters": f, "kernel_size": kernel, **({"pool": pool} if pool else {})} for f in filters],
        "dense": [{"units": u} for u in units],
        "output": {"units": outputs},
    }


def _rnn(q):
    shape = q("Input size: steps and features per step (e.g. 40 1)", [40, 1], list)
    cell = q("Type of RNN (simple, lstm, gru)", "gru")
    units = q("Units in the hidden layer (several numbers stack layers)", [64], list)
    activation = q("Activation of the hidden layer", "tanh")
    outputs = q("Number of output units", 10, int)
    return {
        "input": {"shape": shape},
        "rnn": {"cell": cell, "units": units if len(units) > 1 else units[0], "activation": activation},
        "output": {"units": outputs},
    }


def _autoencoder(q):
    shape = q("Input size (e.g. 784, or 28 28 1)", [40], list)
    encoder = q("Units of each encoding layer", [32, 16], list)
    activation = q("Activation", "relu")
    bottleneck = q("Units in the bottleneck", 8, int)
    mirror = q("Decoding layers mirror the encoding layers? (y/n)", "y")
    decoder = "mirror" if mirror.lower().startswith("y") else \
        [{"units": u} for u in q("Units of each decoding layer", encoder[::-1], list)]
    variant = q("Variant (plain, sparse, contractive, denoising)", "plain")
    doc = {
        "input": {"shape": shape}, "activation": activation,
        "encoder": [{"units": u} for u in encoder],
        "bottleneck": {"units": bottleneck},
        "decoder": decoder,
        "variant": variant,
    }
    doc.update({"sparse": {"sparsity": {"l1": 1e-5}}, "contractive": {"contractive": {"weight": 1e-4}},
                "denoising": {"noise": {"stddev": 0.1}}}.get(variant, {}))
    return doc


def ask_spec(family, ask=None, name=None):
    """Builds a spec for `family` from the answers to its design steps.

    Args:
        family: `cnn`, `rnn` or `autoencoder`.
        ask: `click.prompt`-like callable, or None to take every default.
        name: the spec's name (default: `my_<family>`).

    Returns:
        The spec document (not yet validated).
    """
    q = _asker(ask)
    name = name or q("Name of the model", f"my_{family}")
    body = {"cnn": _cnn, "rnn": _rnn, "autoencoder": _autoencoder}[family](q)
    return {"spec_version": 1, "name": name, "family": family, **body,
            "data": {"dataset": "mnist1d"} if family != "cnn" else {"dataset": "fashion_mnist"}}
