"""`archbuilder new rnn`: the design questions of an RNN: data, input size, cell, recurrent layers, output."""

from archbuilder.families.rnn.spec import CELLS
from archbuilder.format.schema.vocabulary import ACTIVATIONS

__all__ = ["questions"]


def questions(q):
    data = q.data("mnist1d")
    shape = q.size("Input size: steps x features per step (e.g. 40x1)", [40, 1], ranks=(2,),
                   hint="an rnn takes steps x features per step, e.g. 40x1")
    cell = q.choice("Type of RNN", list(CELLS), "gru",
                    aliases={**{keras: cell for cell, keras in CELLS.items()}, "simple_rnn": "simple", "rnn": "simple"})
    layers = q.number("Number of recurrent layers", 1)
    units = q.each("Units", "recurrent layer", [64] * layers, layers)
    activation = q.choice("Activation of the recurrent layers", ACTIVATIONS, "tanh")
    outputs = q.units("Number of output units (classes)", 10)
    return {
        "input": {"shape": shape},
        "rnn": {"cell": cell, "units": units if len(units) > 1 else units[0], "activation": activation},
        "output": {"units": outputs},
        "data": data,
    }
