"""Concrete spec -> `keras.Model`: the `build` stage of the pipeline.

Example:
    >>> from archbuilder.model import build_model
    >>> built = build_model(concrete_spec)
    >>> built.model.summary()
    >>> built.paths["conv_0_conv"]
    '$.conv[0]'
"""

import dataclasses

import keras

from archbuilder.builders import FAMILIES
from archbuilder.builders.blocks import Graph
from archbuilder.compile import compile_model
from archbuilder.errors import SpecError
from archbuilder.host_init import host_initializers

__all__ = ["Built", "build_model"]


@dataclasses.dataclass
class Built:
    """A built model and where its layers came from.

    Attributes:
        model: the `keras.Model`, compiled unless `build_model(compile=False)`.
        encoder: for autoencoders, the model from the input to the code (it
            shares its layers with `model`); None for other families.
        paths: layer name -> JSON path of the spec entry it came from, such as
            `{"input": "$.input", "conv_0_conv": "$.conv[0]", ..., "output": "$.output"}`.
    """

    model: keras.Model
    encoder: keras.Model | None
    paths: dict


def build_model(spec, *, compile=True):
    """Builds (and compiles) the Keras model of a concrete spec.

    Layer names derive from the spec path: `$.conv[1]` gives `conv_1_conv`,
    `conv_1_bn`, `conv_1_act`, `conv_1_pool`, `conv_1_drop` (and
    `conv_1_shortcut`, `conv_1_add` for residual blocks); `$.dense[0]` gives
    `dense_0`; `$.rnn.units[1]` gives `rnn_1`; `$.encoder[0]`/`$.decoder[2]`
    give `encoder_0`/`decoder_2`; `$.output` gives `output` (`reconstruction`
    for autoencoders, whose head is `head`); a custom layer without a `name`
    at `$.layers[3]` is `layers_3`.

    Args:
        spec: a concrete spec (see the team contract: defaults filled, spaces
            resolved, shorthands expanded).
        compile: whether to compile with the spec's `training` section.

    Returns:
        A `Built`.

    Raises:
        SpecError: when Keras refuses a layer: the error names the JSON path of
            the entry and gives Keras's message on one line.
    """
    family = FAMILIES.get(spec.get("family"))
    if family is None:
        raise SpecError("$.family", f"unknown family {spec.get('family')!r}; expected one of {', '.join(FAMILIES)}")
    graph = Graph(spec)
    with host_initializers():  # JAX: initial weights without one XLA compilation per weight shape
        inputs, outputs, code = family.build(spec, graph)
        with graph.at("$"):
            model = keras.Model(inputs, outputs, name=spec.get("name", family.__name__.rsplit(".", 1)[-1]))
            encoder = keras.Model(inputs, code, name="encoder") if code is not None else None
    if compile:
        compile_model(model, spec)
    return Built(model=model, encoder=encoder, paths=dict(graph.paths))
