"""`archbuilder new rnn`: the design steps of an RNN, in the seed's words."""

__all__ = ["questions"]


def questions(q):
    shape = q("Input size: steps and features per step (e.g. 40 1)", [40, 1], list)
    cell = q("Type of RNN (simple, lstm, gru)", "gru")
    units = q("Units in the hidden layer (several numbers stack layers)", [64], list)
    activation = q("Activation of the hidden layer", "tanh")
    outputs = q("Number of output units", 10, int)
    return {
        "input": {"shape": shape},
        "rnn": {"cell": cell, "units": units if len(units) > 1 else units[0], "activation": activation},
        "output": {"units": outputs},
        "data": {"dataset": "mnist1d"},
    }
