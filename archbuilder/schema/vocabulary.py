"""Keras vocabulary of the spec format: the names a spec may use, and the value kinds.

Kept apart from the schema's structure so that code that maps spec values to Keras
objects (`compile.py`, tests against Keras's signatures) reads the same lists. No
Keras import here.
"""

from archbuilder.layers import registry

__all__ = ["SPACE_KINDS", "OPTIMIZERS", "OPTIMIZER_COMMON_ARGS", "LOSSES", "APPLICATIONS", "LR_SCHEDULES",
           "ACTIVATION_DESCRIPTION", "VALUE_KINDS", "KIND_DESCRIPTIONS"]

SPACE_KINDS = ("choice", "int", "float", "bool")

# Keras optimizer class and its own arguments per `type`; every type also takes OPTIMIZER_COMMON_ARGS.
OPTIMIZER_COMMON_ARGS = ("learning_rate", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm",
                     "use_ema", "ema_momentum", "ema_overwrite_frequency", "gradient_accumulation_steps")
_ADAM = ("beta_1", "beta_2", "epsilon", "amsgrad")
OPTIMIZERS = {
    "sgd": ("SGD", ("momentum", "nesterov")),
    "adam": ("Adam", _ADAM),
    "adamw": ("AdamW", _ADAM),
    "rmsprop": ("RMSprop", ("rho", "momentum", "epsilon", "centered")),
    "adagrad": ("Adagrad", ("initial_accumulator_value", "epsilon")),
    "adadelta": ("Adadelta", ("rho", "epsilon")),
    "adamax": ("Adamax", ("beta_1", "beta_2", "epsilon")),
    "nadam": ("Nadam", ("beta_1", "beta_2", "epsilon")),
    "lion": ("Lion", ("beta_1", "beta_2")),
}
LOSSES = (
    "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_focal_crossentropy", "kl_divergence",
    "mse", "mae", "mape", "msle", "mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "huber", "log_cosh",
    "poisson", "hinge", "squared_hinge", "categorical_hinge", "cosine_similarity",
)
APPLICATIONS = (
    "Xception", "VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2",
    "ResNet152V2", "InceptionV3", "InceptionResNetV2", "MobileNet", "MobileNetV2", "MobileNetV3Small",
    "MobileNetV3Large", "DenseNet121", "DenseNet169", "DenseNet201", "NASNetMobile", "NASNetLarge",
    *(f"EfficientNetB{i}" for i in range(8)), *(f"EfficientNetV2B{i}" for i in range(4)),
    "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L",
    "ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge",
)
LR_SCHEDULES = ("exponential_decay", "cosine_decay", "piecewise_constant", "reduce_on_plateau")

ACTIVATION_DESCRIPTION = (
    "Keras activation name. Output range and derivative f'(x) of the main ones: "
    "relu [0, ∞), 1 if x > 0 else 0 — the default for hidden layers; "
    "sigmoid (0, 1), f(x)(1 − f(x)) — one probability, binary outputs; "
    "tanh (−1, 1), 1 − f(x)² — zero-centred, the RNN default; "
    "softmax (0, 1) summing to 1 over the last axis — class probabilities; "
    "linear (−∞, ∞), 1 — regression outputs, no activation; "
    "leaky_relu (−∞, ∞), 1 if x > 0 else 0.2; "
    "elu (−1, ∞), 1 if x > 0 else f(x) + 1; "
    "selu (−1.758, ∞), λ if x > 0 else f(x) + λα — self-normalizing with lecun_normal init; "
    "gelu (≈ −0.17, ∞), Φ(x) + xφ(x); "
    "swish / silu (≈ −0.28, ∞), f(x) + σ(x)(1 − f(x)); "
    "mish (≈ −0.31, ∞); relu6 [0, 6], 1 if 0 < x < 6 else 0; "
    "softplus (0, ∞), σ(x); softsign (−1, 1), 1 / (1 + |x|)²; "
    "hard_sigmoid [0, 1] and hard_swish: cheap piecewise-linear approximations; "
    "exponential (0, ∞), eˣ; log_softmax (−∞, 0]."
)

# Named value schemas: each gets a `$defs` entry and one for its search space.
VALUE_KINDS = {
    **registry.VALUE_KINDS,
    "string": {"type": "string", "minLength": 1},
    "unit_interval": {"type": "number", "minimum": 0, "maximum": 1},
    "open_unit_interval": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    "loss_name": {"type": "string", "enum": list(LOSSES)},
}
KIND_DESCRIPTIONS = {
    "boolean": "true or false.",
    "integer": "An integer.",
    "positive_int": "An integer ≥ 1.",
    "non_negative_int": "An integer ≥ 0.",
    "number": "A number.",
    "non_negative_number": "A number ≥ 0.",
    "positive_number": "A number > 0.",
    "rate": "A fraction in [0, 1).",
    "activation": ACTIVATION_DESCRIPTION,
    "initializer": "Keras initializer name (keras.initializers).",
    "regularizer": "Keras regularizer name (keras.regularizers, default strength), or null for none.",
    "constraint": "Keras constraint name (keras.constraints), or null for none.",
    "size": "One int ≥ 1 for every spatial axis, or a list with one per axis.",
    "optional_size": "One int ≥ 1 for every spatial axis, a list with one per axis, or null.",
    "padding": "`valid` (no padding: the output shrinks) or `same` (zero padding: output size = input size / strides).",
    "axis": "An axis index (negative counts from the end; -1 is the channels / features axis), or a list of them.",
    "seed": "A random seed ≥ 0, or null.",
    "string": "A non-empty string.",
    "unit_interval": "A number in [0, 1].",
    "open_unit_interval": "A number in (0, 1).",
    "loss_name": "Keras loss name (keras.losses).",
}
