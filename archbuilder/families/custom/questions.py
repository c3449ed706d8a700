"""`archbuilder new custom`: a stack of Dense layers written out layer by layer, to edit further."""

__all__ = ["questions"]


def questions(q):
    shape = q("Input size (e.g. 40 for a vector of 40 values)", [40], list)
    units = q("Units of each hidden Dense layer", [100, 100], list)
    activation = q("Activation of the hidden layers", "relu")
    outputs = q("Number of output units (classes)", 10, int)
    layers = [{"type": "Dense", "units": u, "activation": activation, "name": f"h{i + 1}"}
              for i, u in enumerate(units)]
    layers.append({"type": "Dense", "units": outputs, "activation": "softmax" if outputs > 1 else "sigmoid"})
    return {"input": {"shape": shape}, "layers": layers, "data": {"dataset": "mnist1d"}}
