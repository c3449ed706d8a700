"""`archbuilder new mlp`: the design steps of a dense network for tabular or vector data."""

__all__ = ["questions"]


def questions(q):
    shape = q("Input size: the number of features (e.g. 13 for a CSV with 13 feature columns)", [13], list)
    n_dense = q("Number of hidden layers", 2, int)
    units = q(f"Units of each of the {n_dense} hidden layers", [64] * n_dense, list)
    activation = q("Activation", "relu")
    outputs = q("Number of output units (classes; 1 for regression or binary)", 3, int)
    return {
        "input": {"shape": shape}, "activation": activation,
        "dense": [{"units": u} for u in units],
        "output": {"units": outputs},
    }
