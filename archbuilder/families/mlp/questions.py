"""`archbuilder new mlp`: the design questions of a dense network for tabular or vector data."""

from archbuilder.format.schema.vocabulary import ACTIVATIONS

__all__ = ["questions"]


def questions(q):
    data = q.data(None)
    shape = q.size("Input size: the number of features (e.g. 13 for a CSV with 13 feature columns)", [13])
    n_dense = q.number("Number of hidden layers", 2)
    units = q.each("Units", "hidden layer", [64] * n_dense, n_dense)
    activation = q.choice("Activation", ACTIVATIONS, "relu")
    outputs = q.units("Number of output units (classes; 1 for regression or binary)", 3)
    return {
        "input": {"shape": shape}, "activation": activation,
        "dense": [{"units": u} for u in units],
        "output": {"units": outputs},
        "data": data,
    }
