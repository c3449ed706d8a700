"""`archbuilder new cnn`: the design questions of a CNN: data, input size, conv and pooling layers, dense layers."""

from archbuilder.format.schema.vocabulary import ACTIVATIONS
from archbuilder.text import shape as fmt_shape

__all__ = ["questions"]

_RANKS = "steps x channels (40x1), height x width x channels (28x28x1) or depth x height x width x channels"


def _pool_check(shape, n_conv):
    """Refuses a pooling size that would shrink the feature map to nothing after `n_conv` conv layers."""

    def check(pool):
        if pool < 2 or not n_conv:
            return None
        after = list(shape[:-1])
        for _ in range(n_conv):
            after = [side // pool for side in after]
        if min(after) < 1:
            return (f"pooling {pool} after each of the {n_conv} conv layers would shrink the "
                    f"{fmt_shape(shape[:-1])} input to {fmt_shape(after)}; use a smaller size, 0 for none, "
                    "or fewer conv layers")
        return None

    return check


def questions(q):
    data = q.data("fashion_mnist")
    shape = q.size("Input size (e.g. 28x28x1 for an image, 40x1 for a sequence)", [28, 28, 1], ranks=(2, 3, 4),
                   hint=f"a cnn takes {_RANKS}")
    n_conv = q.number("Number of conv layers", 2)
    filters = q.each("Filters", "conv layer", [32 * 2**i for i in range(n_conv)], n_conv)
    kernel = q.number("Size of the conv kernels", 3)
    pool = q.number("Size of the pooling after each conv layer (0: none)", 2, minimum=0,
                    check=_pool_check(shape, n_conv))
    activation = q.choice("Activation", ACTIVATIONS, "relu")
    n_dense = q.number("Number of fully connected layers", 1, minimum=0)
    units = q.each("Units", "fully connected layer", [128] * n_dense, n_dense)
    outputs = q.units("Number of output units (classes)", 10)
    return {
        "input": {"shape": shape}, "activation": activation,
        "conv": [{"filters": f, "kernel_size": kernel, **({"pool": pool} if pool else {})} for f in filters],
        "dense": [{"units": u} for u in units],
        "output": {"units": outputs},
        "data": data,
    }
