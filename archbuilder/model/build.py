"""Concrete spec -> `keras.Model`: the `build` stage of the pipeline.

The family's builder (`Family.build`) lays out the graph; this module names it,
draws its initial weights and compiles it.

Example:
    >>> from archbuilder.model.build import build_model
    >>> built = build_model(concrete_spec)
    >>> built.model.summary()
    >>> built.paths["conv_0_conv"]
    '$.conv[0]'
"""

import dataclasses
import os

import keras

from archbuilder.errors import ArchbuilderError
from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.families import get_family
from archbuilder.layers.blocks import Graph
from archbuilder.model.compile import compile_model
from archbuilder.model.host_init import host_initializers
from archbuilder.model.saving import save_model
from archbuilder.model.summary import format_table
from archbuilder.model.summary import layer_table
from archbuilder.model.summary import model_summary
from archbuilder.model.summary import plot_model
from archbuilder.spec.load import load_spec
from archbuilder.spec.plan import plan_spec

__all__ = ["Built", "build", "build_model", "build_spec", "build_and_save"]


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

    def summary(self):
        """The layer table (name, type, output shape, params, spec path) and the parameter totals, as text."""
        rows, trainable, non_trainable = layer_table(self)
        return "\n".join([format_table(rows), f"Trainable params: {trainable:,}",
                          f"Non-trainable params: {non_trainable:,}", f"Total params: {trainable + non_trainable:,}"])


def build_model(spec, *, compile=True, value_range=(0.0, 1.0)):
    """Builds (and compiles) the Keras model of a concrete spec.

    Layer names derive from the spec path: `$.conv[1]` gives `conv_1_conv`,
    `conv_1_bn`, `conv_1_act`, `conv_1_pool`, `conv_1_drop` (and
    `conv_1_shortcut`, `conv_1_add` for residual blocks); `$.dense[0]` gives
    `dense_0`; `$.rnn.units[1]` gives `rnn_1`; `$.encoder[0]`/`$.decoder[2]`
    give `encoder_0`/`decoder_2`; `$.output` gives `output` (`reconstruction`
    for autoencoders, whose head is `head`); a custom layer without a `name`
    at `$.layers[3]` is `layers_3`.

    Args:
        spec: a concrete spec (`Spec.concrete()`: defaults filled, spaces
            resolved, shorthands expanded).
        compile: whether to compile with the spec's `training` section.
        value_range: `(low, high)` of the training inputs, for the `contrast` augmentation.

    Returns:
        A `Built`.

    Raises:
        SpecError: when Keras refuses a layer: the error names the JSON path of
            the entry and gives Keras's message on one line.
    """
    family = get_family(spec.get("family"))
    graph = Graph(spec, value_range)
    with host_initializers():  # JAX: initial weights without one XLA compilation per weight shape
        inputs, outputs, code = family.build(spec, graph)
        with graph.at("$"):
            model = keras.Model(inputs, outputs, name=spec.get("name", family.name))
            encoder = keras.Model(inputs, code, name="encoder") if code is not None else None
    if compile:
        compile_model(model, spec)
    return Built(model=model, encoder=encoder, paths=dict(graph.paths))


def build(spec_or_path, *, overrides=(), defaults=False):
    """Builds the Keras model of a spec: what `archbuilder build` does, without saving it.

    Args:
        spec_or_path: a spec file's path, a dict, a JSON string or a `Spec`.
        overrides: applied first: `PATH=VALUE` strings (`--set`) or `(path, value)` pairs.
        defaults: build each search space's default instead of refusing a spec with spaces.

    Returns:
        A `Built`: `.model` (compiled), `.encoder` (autoencoders), `.paths`, and `.summary()`.

    Raises:
        SpecErrors: an invalid spec, or open search spaces without `defaults`.

    Example:
        >>> built = archbuilder.build("specs/mnist1d_cnn.json")
        >>> print(built.summary())
    """
    spec = load_spec(spec_or_path, overrides)
    if not defaults:
        spec.require_concrete(f"build {spec.source}")
    return build_spec(spec)


def build_spec(spec, pick=None):
    """Builds the concrete model of a `Spec` (each space at `pick`, default its default)."""
    concrete = spec.concrete(pick) if pick else spec.concrete()
    try:
        return build_model(concrete)
    except SpecError as e:
        raise SpecErrors([SpecError(e.path, e.message, spec.source)]) from None


def build_and_save(spec, out, plot=None, overwrite=True):
    """Builds `spec`, saves it to `out` (and its encoder beside it), returns the printed report.

    Raises:
        ArchbuilderError: without `overwrite`, the encoder's file exists (nothing is saved).
    """
    built = build_spec(spec)
    encoder_path = os.path.splitext(out)[0] + ".encoder.keras" if built.encoder is not None else None
    if encoder_path and os.path.exists(encoder_path) and not overwrite:
        raise ArchbuilderError(f"{encoder_path}: exists; pass --overwrite to replace it")
    if built.model.optimizer is not None:
        # Saved with built optimizer variables, the file reloads without Keras's "skipping optimizer" warning.
        built.model.optimizer.build(built.model.trainable_variables)
    save_model(built.model, out)
    saved = [out]
    if encoder_path:
        save_model(built.encoder, encoder_path)
        saved.append(encoder_path)
    if plot:
        plot_model(built.model, plot, plan_spec(spec.concrete()))
        saved.append(plot)
    return "\n".join(model_summary(spec, built) + ["Saved: " + ", ".join(saved)])
