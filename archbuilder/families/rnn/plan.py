"""The `rnn` family's static plan: [embedding] -> recurrent layers -> [sequence pool] -> dense -> output."""

from archbuilder.families.rnn.spec import CELLS
from archbuilder.format.shapes import rnn_params

__all__ = ["plan"]


def plan(planner, shape):
    spec, rnn = planner.spec, planner.spec["rnn"]
    if spec["embedding"]:
        emb = spec["embedding"]
        shape = planner.add("embedding", "Embedding", (*shape, emb["output_dim"]),
                            emb["input_dim"] * emb["output_dim"], "$.embedding")
    for i, units in enumerate(rnn["units"]):
        last = i == len(rnn["units"]) - 1
        sequences = rnn["return_sequences"] or not last
        width = units * (2 if rnn["bidirectional"] else 1)
        directions = 2 if rnn["bidirectional"] else 1
        params = rnn_params(rnn["cell"], shape[-1], units) * directions
        out = (shape[0], width) if sequences else (width,)
        flops = rnn_params(rnn["cell"], shape[-1], units, use_bias=False) * directions * (shape[0] or 1)
        shape = planner.add(f"rnn_{i}", CELLS[rnn["cell"]], out, params, f"$.rnn.units[{i}]", flops=flops,
                            estimated=shape[0] is None)
    if rnn["return_sequences"] and spec["sequence_pool"]:
        if spec["sequence_pool"] == "flatten":
            shape = planner.flatten(shape, "$.sequence_pool", "sequence_pool")
        else:
            shape = planner.global_pool(shape, spec["sequence_pool"], "$.sequence_pool", "sequence_pool")
    shape = planner.layer_items(shape, spec["dense"], "dense")
    return planner.output(shape, spec["output"])
