"""The `training` section -> optimizer, learning-rate schedule, losses and metrics.

Which loss and metrics a spec gets when it names none is decided without Keras
(`archbuilder.spec.normalize`) and written into the concrete spec; this module
turns the concrete values into Keras objects, reading the optimizer and schedule
tables of `archbuilder.format.schema.vocabulary` and the outputs the family
declares. Everything the user can get wrong is reported as a `SpecError` at its path.
"""

import keras

from archbuilder.errors import SpecError
from archbuilder.format.schema.vocabulary import LR_SCHEDULES
from archbuilder.format.schema.vocabulary import OPTIMIZERS
from archbuilder.layers.blocks import errors_at
from archbuilder.spec.normalize import outputs

__all__ = [
    "build_learning_rate",
    "build_loss",
    "build_optimizer",
    "compile_config",
    "compile_model",
    "lr_callbacks",
]

_LOSS_ALIASES = {
    "mse": "MeanSquaredError",
    "mae": "MeanAbsoluteError",
    "mape": "MeanAbsolutePercentageError",
    "msle": "MeanSquaredLogarithmicError",
    "kld": "KLDivergence",
    "kl_divergence": "KLDivergence",
    "log_cosh": "LogCosh",
    "logcosh": "LogCosh",
}


def build_learning_rate(training):
    """The optimizer's learning rate: a float, or a schedule from `lr_schedule`.

    Args:
        training: the concrete `training` section.

    Returns:
        A float or a `keras.optimizers.schedules.LearningRateSchedule`.
    """
    rate = training["optimizer"]["learning_rate"]
    schedule = training["lr_schedule"]
    if not schedule or LR_SCHEDULES[schedule["type"]] is None:
        return rate
    arguments = {key: value for key, value in schedule.items() if key != "type"}
    if schedule["type"] != "piecewise_constant":
        arguments.setdefault("initial_learning_rate", rate)
    with errors_at("$.training.lr_schedule"):
        return getattr(keras.optimizers.schedules, LR_SCHEDULES[schedule["type"]])(**arguments)


def build_optimizer(training):
    """The Keras optimizer of `training.optimizer` (+ `lr_schedule`).

    Args:
        training: the concrete `training` section.

    Returns:
        A `keras.optimizers.Optimizer`.

    Raises:
        SpecError: at `$.training.optimizer` for an unknown type or argument.
    """
    config = dict(training["optimizer"])
    kind = config.pop("type")
    if kind not in OPTIMIZERS:
        raise SpecError("$.training.optimizer.type", f"unknown optimizer {kind!r}; expected one of "
                                                     f"{', '.join(OPTIMIZERS)}")
    config["learning_rate"] = build_learning_rate(training)
    with errors_at("$.training.optimizer"):
        return getattr(keras.optimizers, OPTIMIZERS[kind][0])(**config)


def _loss_class(name):
    camel = _LOSS_ALIASES.get(name) or "".join(part.capitalize() for part in name.split("_"))
    return getattr(keras.losses, camel, None)


def build_loss(loss, path="$.training.loss"):
    """A Keras loss from a name or `{"type", "from_logits", "label_smoothing"}`.

    Args:
        loss: a Keras loss name (`"mse"`, `"sparse_categorical_crossentropy"`,
            ...) or a dict with `type` and the loss class's own arguments;
            `null` arguments are left to Keras's defaults.
        path: the JSON path of `loss`, for errors.

    Returns:
        The name (Keras resolves it) or a `keras.losses.Loss` instance.

    Raises:
        SpecError: for an unknown loss or an argument it does not take.
    """
    if isinstance(loss, str):
        with errors_at(path):
            keras.losses.get(loss)
        return loss
    config = {key: value for key, value in loss.items() if key != "type" and value is not None}
    cls = _loss_class(loss["type"])
    if cls is None:
        raise SpecError(f"{path}.type", f"unknown loss {loss['type']!r}")
    with errors_at(path):
        return cls(**config)


def lr_callbacks(spec):
    """Callbacks the `lr_schedule` needs: `ReduceLROnPlateau` for `reduce_on_plateau`, else none.

    Args:
        spec: the concrete spec.

    Returns:
        A list of `keras.callbacks.Callback`.
    """
    schedule = spec["training"]["lr_schedule"]
    if not schedule or LR_SCHEDULES[schedule["type"]] is not None:
        return []
    arguments = {key: value for key, value in schedule.items() if key != "type"}
    with errors_at("$.training.lr_schedule"):
        return [keras.callbacks.ReduceLROnPlateau(**arguments)]


def _check_metrics(metrics, path):
    for i, metric in enumerate(metrics):
        with errors_at(f"{path}[{i}]"):
            keras.metrics.get(metric)


def compile_config(spec):
    """The `loss`, `loss_weights` and `metrics` arguments of `model.compile` for a spec.

    A model with several outputs (an autoencoder with a head) gets losses and
    weights by output name, and `training.metrics` measured on the output trained
    against the labels (`head_accuracy`).

    Args:
        spec: the concrete spec.

    Returns:
        A dict of `model.compile` keyword arguments.
    """
    metrics = spec["training"]["metrics"]
    _check_metrics(metrics, "$.training.metrics")
    model_outputs = outputs(spec)
    if len(model_outputs) == 1:
        (output,) = model_outputs
        return {"loss": build_loss(output.loss, output.loss_path), "metrics": list(metrics)}
    labels = [o.name for o in model_outputs if o.target == "labels"]
    return {
        "loss": {o.name: build_loss(o.loss, o.loss_path) for o in model_outputs},
        "loss_weights": {o.name: float(o.loss_weight) for o in model_outputs},
        "metrics": {name: list(metrics) for name in labels},
    }


def compile_model(model, spec, **kwargs):
    """Compiles `model` with the spec's optimizer, losses and metrics.

    Args:
        model: the model `build_model` made from `spec`.
        spec: the concrete spec.
        **kwargs: passed on to `model.compile` (e.g. `jit_compile`).

    Returns:
        The model, compiled.
    """
    config = compile_config(spec)
    optimizer = build_optimizer(spec["training"])
    with errors_at("$.training"):
        model.compile(optimizer=optimizer, **config, **kwargs)
    return model
