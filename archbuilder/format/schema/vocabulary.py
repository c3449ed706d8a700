"""Keras vocabulary of the spec format: the names a spec may use, and the value kinds.

Kept apart from the schema's structure so that the code that maps spec values to
Keras objects (`archbuilder.model.compile`, `archbuilder.tuning.tuners`, the tests
against Keras's signatures) reads the same tables. No Keras import here.
"""

from archbuilder.format.search_space import SPACE_KINDS

__all__ = ["SPACE_KINDS", "OPTIMIZERS", "OPTIMIZER_COMMON_ARGS", "LOSSES", "LR_SCHEDULES", "TUNERS",
           "ACTIVATIONS", "COSTS", "STATIC_COSTS",
           "PRUNERS", "INITIALIZERS", "REGULARIZERS", "CONSTRAINTS", "ACTIVATION_DESCRIPTION", "VALUE_KINDS",
           "KIND_DESCRIPTIONS"]

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
# `lr_schedule.type` -> the keras.optimizers.schedules class; reduce_on_plateau is a callback instead.
LR_SCHEDULES = {
    "exponential_decay": "ExponentialDecay",
    "cosine_decay": "CosineDecay",
    "piecewise_constant": "PiecewiseConstantDecay",
    "reduce_on_plateau": None,
}
# `tuning.tuner` -> keras-tuner's name for it.
TUNERS = {"random": "RandomSearch", "grid": "GridSearch", "bayesian": "BayesianOptimization", "hyperband": "Hyperband"}

# What a trial costs, recorded for every trial (trials.csv, its metrics) and usable as objectives (always
# minimized); the static ones (from the plan, before any weight exists) can also be constraints.
STATIC_COSTS = ("params", "flops")
COSTS = (*STATIC_COSTS, "latency_ms", "sample_latency_ms")
PRUNERS = ("median", "asha")

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

ACTIVATIONS = (
    "relu", "sigmoid", "tanh", "softmax", "linear", "gelu", "elu", "selu", "swish", "silu",
    "leaky_relu", "relu6", "softplus", "softsign", "hard_sigmoid", "hard_swish", "mish",
    "exponential", "log_softmax",
)
INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "orthogonal", "random_normal", "random_uniform", "truncated_normal",
    "variance_scaling", "zeros", "ones", "identity",
)
REGULARIZERS = ("l1", "l2", "l1l2", "orthogonal_regularizer")
CONSTRAINTS = ("max_norm", "min_max_norm", "non_neg", "unit_norm")


def _sizes(minimum, nullable=False):
    types = ["integer", "array", "null"] if nullable else ["integer", "array"]
    return {"type": types, "minimum": minimum, "minItems": 1, "maxItems": 3,
            "items": {"type": "integer", "minimum": minimum}}


INT64_MAX = 2**63 - 1

_BASE_KINDS = {
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer"},
    # Counts fit the int64 every backend holds them in (a 100-digit epochs is no count).
    "positive_int": {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
    "non_negative_int": {"type": "integer", "minimum": 0, "maximum": INT64_MAX},
    "random_seed": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},  # what numpy.random.seed takes
    "number": {"type": "number"},
    "non_negative_number": {"type": "number", "minimum": 0},
    "positive_number": {"type": "number", "exclusiveMinimum": 0},
    "rate": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
    "activation": {"type": "string", "enum": list(ACTIVATIONS)},
    "initializer": {"type": "string", "enum": list(INITIALIZERS)},
    "regularizer": {"type": ["string", "null"], "enum": [*REGULARIZERS, None]},
    "constraint": {"type": ["string", "null"], "enum": [*CONSTRAINTS, None]},
    "size": _sizes(1),
    "optional_size": _sizes(1, nullable=True),
    "padding": {"type": "string", "enum": ["valid", "same"]},
    "axis": {"type": ["integer", "array"], "minItems": 1, "items": {"type": "integer"}},
    "seed": {"type": ["integer", "null"], "minimum": 0},
}

# Named value schemas: each gets a `$defs` entry (and one for its search space), so a use costs
# a `$ref`, not a copy.
VALUE_KINDS = {
    **_BASE_KINDS,
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
    "random_seed": "An integer from 0 to 4294967295.",
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
