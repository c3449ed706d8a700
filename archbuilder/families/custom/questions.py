"""`archbuilder new custom`: a simple stack of Dense layers written out layer by layer, to edit further."""

from archbuilder.format.schema.vocabulary import ACTIVATIONS

__all__ = ["questions"]


def questions(q):
    data = q.data("mnist1d")
    shape = q.size("Input size (e.g. 40 for a vector of 40 values, 28x28x1 for an image)", [40])
    n_hidden = q.number("Number of hidden Dense layers", 2, minimum=0)
    units = q.each("Units", "hidden Dense layer", [100] * n_hidden, n_hidden)
    activation = q.choice("Activation of the hidden layers", ACTIVATIONS, "relu") if n_hidden else None
    outputs = q.units("Number of output units (classes)", 10)
    layers = [{"type": "Flatten", "name": "flatten"}] if len(shape) > 1 else []
    layers += [{"type": "Dense", "units": u, "activation": activation, "name": f"h{i + 1}"}
               for i, u in enumerate(units)]
    layers.append({"type": "Dense", "units": outputs, "activation": "softmax" if outputs > 1 else "sigmoid",
                   "name": "output"})
    return {"input": {"shape": shape}, "layers": layers, "data": data}
