"""`archbuilder new cnn`: the design steps of a CNN, in the seed's words."""

__all__ = ["questions"]


def questions(q):
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
        "data": {"dataset": "fashion_mnist"},
    }
