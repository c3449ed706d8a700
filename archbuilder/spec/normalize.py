"""Defaults and normal forms: the rendered spec and the concrete spec.

`fill_defaults` is what `archbuilder render` prints: every key the user left out
that has a default (null ones included), search spaces kept. `concretize` takes a
spec whose spaces are resolved (see `format.search_space.resolve`) and returns the
concrete spec that the plan and the model builders read: shorthands expanded
(`pool: 2`, `rnn.units: 64`, `decoder: "mirror"`), activations inherited, losses
and metrics inferred. Each family fills and expands its own keys
(`archbuilder.families`); what the model predicts is read from its `outputs`.
"""

import copy

from archbuilder.families import get_family
from archbuilder.format import defaults as D
from archbuilder.format import items
from archbuilder.format import jsonpath
from archbuilder.format.outputs import CLASSIFICATION_LOSSES
from archbuilder.format.outputs import concrete
from archbuilder.format.outputs import infer_loss

__all__ = ["fill_defaults", "concretize", "outputs", "prediction", "task_of", "infer_metrics", "infer_objective",
           "loss_name", "set_at"]


def outputs(doc):
    """The model outputs of a (rendered or concrete) spec, as its family declares them."""
    return get_family(doc["family"]).outputs(doc)


def prediction(doc):
    """The output trained against the labels, or None (an autoencoder without a head)."""
    return next((o for o in outputs(doc) if o.target == "labels"), None)


def loss_name(loss):
    """The name of a loss value: `"mse"`, or the `type` of `{"type": ..., "from_logits": ...}`."""
    return loss["type"] if isinstance(loss, dict) else loss


def task_of(doc):
    """`classification`, `regression` or `reconstruction` (no output is trained against labels)."""
    output = prediction(doc)
    if output is None:
        return "reconstruction"
    loss = output.loss if output.loss is not None else infer_loss(output)
    return "classification" if loss_name(loss) in CLASSIFICATION_LOSSES else "regression"


def infer_metrics(doc):
    return ["accuracy"] if task_of(doc) == "classification" else ["mae"]


def infer_objective(doc):
    """`val_accuracy` for a classifier (`val_head_accuracy` when the labels' output is named `head`), else `val_loss`."""
    if task_of(doc) == "classification":
        output = prediction(doc)
        return f"val_{output.metric_prefix if len(outputs(doc)) > 1 else ''}accuracy"
    return "val_loss"


def set_at(doc, path, value):
    """Sets the value at JSON `path` of `doc` (its parent must exist)."""
    *parents, last = jsonpath.keys(path)
    node = doc
    for key in parents:
        node = node[key]
    node[last] = value


def _get_at(doc, path):
    node = doc
    for key in jsonpath.keys(path):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def fill_defaults(doc):
    """Returns a copy of a (schema-valid) spec with every default filled in; spaces stay."""
    doc = copy.deepcopy(doc)
    family = get_family(doc["family"])
    items.fill(doc["input"], D.INPUT)
    if family.hidden_activation:
        doc.setdefault("activation", D.ACTIVATION)
    family.fill(doc)
    _fill_training(doc)
    return doc


def _fill_training(doc):
    training = doc.setdefault("training", {})
    items.fill(training, D.TRAINING)
    items.fill(training["optimizer"], D.TRAINING["optimizer"])  # {"type": "sgd"} gets the default learning rate
    if isinstance(training.get("early_stopping"), dict):
        items.fill(training["early_stopping"], D.EARLY_STOPPING)
    for output in outputs(doc):
        if output.loss is None and output.loss_path == "$.training.loss":
            loss = infer_loss(output)
            if loss is not None:
                training["loss"] = loss
    labels = prediction(doc)
    determinable = labels is None or _get_at(doc, labels.loss_path) is not None
    if "metrics" not in training and determinable:
        training["metrics"] = infer_metrics(doc)
    tuning = doc.setdefault("tuning", {})
    items.fill(tuning, D.TUNING)
    if tuning["tuner"] == "hyperband":
        tuning.pop("max_trials", None)
        items.fill(tuning, D.HYPERBAND)
        if concrete(training["epochs"]):
            tuning.setdefault("max_epochs", training["epochs"])
    if "objective" not in tuning and determinable:
        tuning["objective"] = infer_objective(doc)


def concretize(resolved):
    """The concrete spec (see the module docstring) of a spec with no spaces left."""
    doc = fill_defaults(resolved)
    activation = doc.get("activation", D.ACTIVATION)
    doc["regularization"] = items.regularization(doc.get("regularization"))
    get_family(doc["family"]).concretize(doc, activation)
    return doc
