"""What a model predicts and what it is trained against: the outputs a family declares.

Every family describes its model's outputs as `Output`s (`Family.outputs(doc)`): a
classifier has one, trained against the labels; a plain autoencoder has one, trained
against its own input; an autoencoder with a head has both, named `reconstruction`
and `head`. Losses, metrics, the tuning objective, fit targets, class weights and
the task of a model are decided from these, without naming any family.
"""

import dataclasses

from archbuilder.format.defaults import RECONSTRUCTION_LOSS
from archbuilder.format.search_space import is_repeat
from archbuilder.format.search_space import is_space

__all__ = ["Output", "CLASSIFICATION_LOSSES", "infer_loss", "output_activation", "concrete"]

CLASSIFICATION_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")


@dataclasses.dataclass(frozen=True)
class Output:
    """One output of a model.

    Attributes:
        name: the Keras output name (`head`, `reconstruction`), or None for a model's only output.
        target: `"labels"` (supervised) or `"input"` (a reconstruction of the input).
        loss_path: where its loss sits in the spec, e.g. `$.training.loss` or `$.head.loss`.
        loss: the loss there, or None when the spec leaves it to be inferred.
        units: the prediction layer's units (None: unknown, or hidden by a search space).
        activation: the prediction layer's activation (None likewise).
        loss_weight: its weight in the total loss.
        per_step: its labels carry a time axis (one label per step).
    """

    name: str | None
    target: str
    loss_path: str
    loss: object = None
    units: object = None
    activation: object = None
    loss_weight: float = 1.0
    per_step: bool = False

    @property
    def metric_prefix(self):
        """How Keras prefixes this output's metrics: `head_` for a named output of several, else ``."""
        return f"{self.name}_" if self.name else ""


def concrete(value):
    """True when `value` is neither a search space nor a repeat form."""
    return not is_space(value) and not is_repeat(value)


def output_activation(units):
    """The prediction layer's default activation: softmax for more than one unit, sigmoid for one."""
    return "softmax" if units > 1 else "sigmoid"


def infer_loss(output):
    """The loss an `Output` gets when the spec names none (README: Defaults and decisions), or None when a space hides it."""
    if output.target == "input":
        return RECONSTRUCTION_LOSS
    units, activation = output.units, output.activation
    if not (concrete(units) and concrete(activation)) or activation is None:
        return None
    if activation == "softmax" and (units is None or units > 1):
        return "sparse_categorical_crossentropy"
    if activation == "sigmoid" and units is not None:
        return "binary_crossentropy"
    return "mse"
