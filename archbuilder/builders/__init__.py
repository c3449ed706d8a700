"""One builder per spec family; each turns a concrete spec into a functional graph.

Every builder module exposes `build(spec, graph) -> (inputs, outputs, code)`,
where `graph` is a `blocks.Graph` (it names layers and records their JSON
paths) and `code` is the encoder's output for autoencoders, else None.
"""

from archbuilder.builders import autoencoder, cnn, custom, rnn

__all__ = ["FAMILIES"]

FAMILIES = {"cnn": cnn, "rnn": rnn, "autoencoder": autoencoder, "custom": custom}
