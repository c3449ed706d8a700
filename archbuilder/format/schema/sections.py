"""Schema sections shared by the families: conv / dense items, output, loss, training, tuning.

Each `*_schema(b)` registers its `$defs` entry on the builder `b` and returns the `$ref`.
"""

import copy

from archbuilder.format import defaults as D
from archbuilder.format.schema.builder import closed
from archbuilder.format.schema.builder import prop
from archbuilder.format.schema.builder import repeatable
from archbuilder.format.schema.builder import variants
from archbuilder.format.schema.vocabulary import LR_SCHEDULES
from archbuilder.format.schema.vocabulary import OPTIMIZER_COMMON_ARGS
from archbuilder.format.schema.vocabulary import OPTIMIZERS
from archbuilder.format.schema.vocabulary import COSTS
from archbuilder.format.schema.vocabulary import PRUNERS
from archbuilder.format.schema.vocabulary import STATIC_COSTS
from archbuilder.format.schema.vocabulary import TUNERS


# --- building blocks -------------------------------------------------------------


def regularization_schema(b):
    return b.define("regularization", closed({
        "l1": b.tunable("non_negative_number", "L1 penalty factor: adds l1 · Σ|w| over the kernel to the loss."),
        "l2": b.tunable("non_negative_number", "L2 penalty factor (weight decay): adds l2 · Σw² over the kernel."),
    }, nullable=True, description="Kernel regularization {l1, l2}; null: none (a layer without its own "
                                  "uses the top-level one)."))


def pool_schema(b):
    p = D.POOL
    return b.define("pool", {
        "description": "Pooling after the block: null (none), an int n (= {\"size\": n}), or an object.",
        "type": ["null", "integer", "object"],
        "minimum": 1,
        "properties": {
            "size": b.tunable("size", "Pooling window: an int for every spatial axis, or one per axis."),
            "type": b.tunable({"type": "string", "enum": ["max", "avg"]},
                              "`max` keeps the largest value of each window, `avg` its mean.", p["type"]),
            "strides": b.tunable("size", "Step of the window (default: equal to size, no overlap)."),
            "padding": b.tunable("padding", "`valid`: drop windows that do not fit; `same`: pad so none is lost.",
                                 p["padding"]),
        },
        "additionalProperties": False,
        "required": ["size"],
    })


def conv_item_schema(b, regularization, pool):
    c = D.CONV_BLOCK
    return b.define("conv_item", closed({
        "filters": b.tunable("positive_int", "Number of filters: the channels of the block's output."),
        "kernel_size": b.tunable("size", "Size of the convolution window: an int for every spatial axis, "
                                         "or one per axis.", c["kernel_size"]),
        "strides": b.tunable("size", "Step of the window; > 1 downsamples the feature map.", c["strides"]),
        "padding": b.tunable("padding", "`same` keeps the size (divided by strides) by zero padding — "
                                        "archbuilder's default, unlike Keras's `valid`; `valid` shrinks it "
                                        "by kernel_size − 1.", c["padding"]),
        "activation": b.tunable("activation", "Activation after the convolution (and BN, residual add); "
                                              "default: the top-level `activation`."),
        "use_bias": b.tunable("boolean", "Whether the convolution adds a bias (redundant before BN).",
                              c["use_bias"]),
        "batch_norm": b.tunable("boolean", "Batch normalization between the convolution and the activation.",
                                c["batch_norm"]),
        "pool": b.tunable(VALUE_POOL, "Pooling after the activation: null (none), an int n for n×n max "
                                      "pooling, or {size, type, strides, padding}.", c["pool"], plain=pool),
        "dropout": b.tunable("rate", "Fraction of the block's outputs dropped in training, in [0, 1).",
                             c["dropout"]),
        "residual": b.tunable("boolean", "Add the block's input to its output before the activation (ResNet); "
                                         "a 1×1 convolution matches shapes when they differ.", c["residual"]),
        "regularization": {"description": "This block's own kernel regularization; default: the top-level one.",
                           **regularization},
        "transpose": b.tunable("boolean", "Use a transposed convolution (upsamples by strides); meant for "
                                          "autoencoder decoders."),
    }, required=("filters",), description="A convolution block: conv → BN (if batch_norm) → [residual add] → "
                                           "activation → pool → dropout. Conv1D/2D/3D follows the input rank."))


# `pool`'s value schema for its search space (choice items); the plain value is the `pool` def.
VALUE_POOL = {"type": ["null", "integer", "object"], "minimum": 1}


def dense_item_schema(b, regularization, name="dense_item", extra=None,
                      description="A fully connected (Dense) layer: Dense → [BN → activation] → dropout."):
    """The `$defs` entry of a dense item; a family may add keys of its own (`extra`) under its own `name`."""
    d = D.DENSE_ITEM
    return b.define(name, closed({
        "units": b.tunable("positive_int", "Number of units (neurons) of the fully connected layer."),
        "activation": b.tunable("activation", "Activation of the layer; default: the top-level `activation`."),
        "dropout": b.tunable("rate", "Fraction of the layer's outputs dropped in training, in [0, 1).",
                             d["dropout"]),
        "batch_norm": b.tunable("boolean", "Batch normalization between the layer and its activation.",
                                d["batch_norm"]),
        "regularization": {"description": "This layer's own kernel regularization; default: the top-level one.",
                           **regularization},
        **(extra or {}),
    }, required=("units",), description=description))


def dense_list(b, shared, description):
    """A list of dense items (or a repeat form to search their number): `dense` of cnn, rnn and mlp."""
    return repeatable(b, shared["dense_item"], description + " A list, or {\"repeat\", \"each\"} to search "
                                                             "their number.",
                      "The layer repeated; each copy gets its own hyperparameters.")


def output_schema(b):
    return b.define("output", closed({
        "units": b.tunable("positive_int", "Number of outputs: classes for a softmax classifier, 1 for a binary "
                                           "classifier or a single regression target."),
        "activation": b.tunable("activation", "Output activation; default `softmax` when units > 1, `sigmoid` "
                                              "when 1. `linear` for regression."),
        "dropout": b.tunable("rate", "Dropout on the input of the output layer, in [0, 1).", D.OUTPUT["dropout"]),
    }, required=("units",), description="The prediction layer: [dropout →] Dense(units, activation)."))


def loss_schema(b):
    return b.define("loss", {
        "description": "A Keras loss name, or {type, from_logits, label_smoothing}; null: inferred from the "
                       "output (softmax → sparse_categorical_crossentropy, sigmoid with 1 unit → "
                       "binary_crossentropy, linear → mse).",
        "type": ["string", "object", "null"],
        "if": {"type": "string"},
        "then": b.kind("loss_name"),
        "else": closed({
            "type": b.tunable("loss_name", "Keras loss name."),
            "from_logits": b.tunable("boolean", "The model outputs logits (a linear output layer) rather than "
                                                "probabilities."),
            "label_smoothing": b.tunable("rate", "Moves one-hot targets towards uniform by this amount, "
                                                 "in [0, 1) (crossentropy losses)."),
        }, required=("type",), nullable=True),
    })



# --- training and tuning --------------------------------------

_OPTIMIZER_ARGS = {
    "learning_rate": ("positive_number", "Step size of each update. Typical: 1e-3 for Adam, 1e-2 for SGD."),
    "weight_decay": ("non_negative_number", "Decoupled weight decay applied each step (AdamW's main knob)."),
    "clipnorm": ("positive_number", "Clip each weight's gradient to this L2 norm."),
    "clipvalue": ("positive_number", "Clip each gradient element to [−clipvalue, clipvalue]."),
    "global_clipnorm": ("positive_number", "Clip all gradients together to this global L2 norm."),
    "use_ema": ("boolean", "Keep an exponential moving average of the weights and use it at the end."),
    "ema_momentum": ("rate", "Momentum of the weights' moving average, in [0, 1)."),
    "ema_overwrite_frequency": ("positive_int", "Every how many steps the weights are overwritten by their "
                                                "moving average."),
    "gradient_accumulation_steps": ("positive_int", "Sum gradients over this many batches before each update."),
    "momentum": ("rate", "Momentum: the fraction of the previous update added to the next, in [0, 1)."),
    "nesterov": ("boolean", "Use Nesterov momentum."),
    "beta_1": ("rate", "Decay of the first-moment (mean) estimate, in [0, 1); Keras default 0.9."),
    "beta_2": ("rate", "Decay of the second-moment (variance) estimate, in [0, 1); Keras default 0.999."),
    "epsilon": ("positive_number", "Small constant for numerical stability."),
    "amsgrad": ("boolean", "Use the AMSGrad variant (the maximum of past second moments)."),
    "rho": ("rate", "Decay of the moving average of squared gradients, in [0, 1)."),
    "centered": ("boolean", "Normalize by the estimated variance of the gradient (centered RMSprop)."),
    "initial_accumulator_value": ("non_negative_number", "Starting value of Adagrad's accumulators."),
}


def _optimizer(b):
    type_description = ("Optimizer: " + ", ".join(OPTIMIZERS) + ". Other keys are that Keras optimizer's "
                        "own arguments.")
    branches = {}
    for name, (_, own) in OPTIMIZERS.items():
        args = (*OPTIMIZER_COMMON_ARGS[:2], *own, *OPTIMIZER_COMMON_ARGS[2:])
        branches[name] = ({arg: b.tunable(*_OPTIMIZER_ARGS[arg]) for arg in args}, ())
    default = D.TRAINING["optimizer"]
    return {
        "description": "The optimizer, as {\"type\": …, Keras arguments…}.",
        "default": copy.deepcopy(default),
        "type": "object",
        "properties": {"type": b.tunable({"type": "string", "enum": list(OPTIMIZERS)}, type_description,
                                         default["type"])},
        "allOf": variants("type", branches, default=default["type"], stub_description=type_description),
    }


def _lr_schedule(b):
    decay_steps = b.tunable("positive_int", "Number of training steps (batches) over which the rate decays.")
    branches = {
        "exponential_decay": ({
            "decay_steps": decay_steps,
            "decay_rate": b.tunable("positive_number", "Factor applied every decay_steps: "
                                                       "lr · decay_rate^(step / decay_steps)."),
            "staircase": b.tunable("boolean", "Decay in discrete steps (integer step / decay_steps)."),
        }, ("decay_steps", "decay_rate")),
        "cosine_decay": ({
            "decay_steps": decay_steps,
            "alpha": b.tunable("unit_interval", "Final rate as a fraction of the initial one, in [0, 1]."),
            "warmup_steps": b.tunable("non_negative_int", "Steps of linear warm-up before the decay."),
            "warmup_target": b.tunable("positive_number", "Rate reached at the end of the warm-up."),
        }, ("decay_steps",)),
        "piecewise_constant": ({
            "boundaries": prop({"type": "array", "minItems": 1, "items": b.tunable(
                "positive_int", "A step at which the rate changes.")},
                "Steps at which the rate changes, increasing."),
            "values": prop({"type": "array", "minItems": 2, "items": b.tunable(
                "positive_number", "A learning rate.")},
                "Learning rates before, between and after the boundaries: one more than the boundaries."),
        }, ("boundaries", "values")),
        "reduce_on_plateau": ({
            "monitor": b.tunable("string", "Metric watched, e.g. `val_loss`."),
            "factor": b.tunable("open_unit_interval", "Factor the rate is multiplied by on a plateau, in (0, 1)."),
            "patience": b.tunable("non_negative_int", "Epochs without improvement before reducing."),
            "min_delta": b.tunable("non_negative_number", "Smallest change that counts as an improvement."),
            "cooldown": b.tunable("non_negative_int", "Epochs to wait after a reduction."),
            "min_lr": b.tunable("non_negative_number", "Lower bound of the rate."),
            "mode": b.tunable({"type": "string", "enum": ["auto", "min", "max"]},
                              "Whether the monitored metric should fall (`min`) or rise (`max`)."),
        }, ()),
    }
    description = ("Schedule: " + ", ".join(LR_SCHEDULES) + "; starts from the optimizer's learning_rate.")
    return {
        "description": "Learning-rate schedule; null: constant rate.",
        "default": D.TRAINING["lr_schedule"],
        "type": ["object", "null"],
        "properties": {"type": b.tunable({"type": "string", "enum": list(LR_SCHEDULES)}, description)},
        "required": ["type"],
        "allOf": variants("type", branches, stub_description=description),
    }


def training_schema(b, loss):
    t = D.TRAINING
    es = D.EARLY_STOPPING
    return b.define("training", closed({
        "optimizer": _optimizer(b),
        "lr_schedule": _lr_schedule(b),
        "loss": b.tunable({"type": ["string", "object", "null"]}, "The loss: a Keras loss name or {type, "
                          "from_logits, label_smoothing}; default inferred from the output.", plain=loss),
        "metrics": prop({"type": "array", "uniqueItems": True, "items": {"type": "string", "minLength": 1}},
                         "Keras metric names; default `[\"accuracy\"]` for classification, `[\"mae\"]` for "
                         "regression."),
        "epochs": b.tunable("positive_int", "Passes over the training data.", t["epochs"]),
        "batch_size": b.tunable("positive_int", "Samples per gradient update.", t["batch_size"]),
        "validation_split": b.tunable("rate", "Fraction of the training data held out for validation, in [0, 1) "
                                              "(ignored when the data has a validation set).",
                                      t["validation_split"]),
        "early_stopping": prop(closed({
            "monitor": b.tunable("string", "Metric watched, e.g. `val_loss` or `val_accuracy`.", es["monitor"]),
            "patience": b.tunable("non_negative_int", "Epochs without improvement before stopping.",
                                  es["patience"]),
            "restore_best_weights": b.tunable("boolean", "Restore the weights of the best epoch at the end.",
                                              es["restore_best_weights"]),
            "min_delta": b.tunable("non_negative_number", "Smallest change that counts as an improvement."),
            "mode": b.tunable({"type": "string", "enum": ["auto", "min", "max"]},
                              "Whether the monitored metric should fall (`min`) or rise (`max`); `auto` infers."),
            "start_from_epoch": b.tunable("non_negative_int", "Epochs of warm-up before stopping may happen."),
        }, nullable=True), "Stop when the monitored metric stops improving; null: train all epochs.",
            t["early_stopping"]),
        "augmentation": prop(closed({
            "flip": b.tunable({"type": ["string", "null"],
                               "enum": ["horizontal", "vertical", "horizontal_and_vertical", None]},
                              "Random flips (keras.layers.RandomFlip); null: none."),
            "translate": b.tunable("rate", "Random shifts up to this fraction of height and width."),
            "rotate": b.tunable("rate", "Random rotations up to this fraction of a full turn (0.05 ≈ 18°)."),
            "zoom": b.tunable("rate", "Random zoom in or out up to this fraction."),
            "contrast": b.tunable("rate", "Random contrast changes up to this factor."),
        }, nullable=True), "Image augmentation as Keras preprocessing layers, active in training only; "
                           "null: none.", t["augmentation"]),
        "class_weight": {
            "description": "Weights of the classes in the loss: `balanced` (inversely proportional to class "
                           "frequency) or {class index or name: weight}; null: equal weights.",
            "default": t["class_weight"],
            "type": ["string", "object", "null"],
            "if": {"type": "string"},
            "then": {"enum": ["balanced"]},
            "else": {"additionalProperties": b.tunable("non_negative_number", "Weight of this class.")},
        },
        "seed": b.tunable("random_seed", "Seeds Python, NumPy and the backend (after any dataset "
                                              "generation).", t["seed"]),
        "mixed_precision": b.tunable({"type": ["string", "boolean"], "enum": ["auto", True, False]},
                                     "`auto`: bfloat16 on a GPU that supports it, float32 elsewhere; "
                                     "true / false force it on or off.", t["mixed_precision"]),
    }, description="How the model is trained."))


def tuning_schema(b):
    t = D.TUNING
    h = D.HYPERBAND
    return b.define("tuning", closed({
        "tuner": prop({"type": "string", "enum": list(TUNERS)},
                       "keras-tuner search algorithm.", t["tuner"]),
        "objective": objective_schema(),
        "max_trials": b.plain("positive_int", "Number of models tried (not for hyperband).", t["max_trials"]),
        "max_epochs": b.plain("positive_int", "Hyperband: epochs of the longest-trained models; default: "
                                              "training.epochs."),
        "factor": prop({"type": "integer", "minimum": 2}, "Hyperband: reduction factor between brackets.",
                        h["factor"]),
        "hyperband_iterations": b.plain("positive_int", "Hyperband: times the whole algorithm is run.",
                                        h["hyperband_iterations"]),
        "executions_per_trial": b.plain("positive_int", "Models trained per trial (scores averaged).",
                                        t["executions_per_trial"]),
        "seed": b.plain("random_seed", "Seed of the search algorithm.", t["seed"]),
        "max_consecutive_failed_trials": b.plain("positive_int", "Stop the search after this many failed "
                                                                 "trials in a row.",
                                                 t["max_consecutive_failed_trials"]),
        "max_time": prop({"type": ["number", "null"], "exclusiveMinimum": 0},
                          "Stop starting new trials after this many seconds; null: no limit.", t["max_time"]),
        "pack": prop({"if": {"type": "string"}, "then": {"const": "auto"}, "else": {"type": "integer", "minimum": 1}},
                     "Trials trained together as one compiled program, on the JAX backend (elsewhere one after "
                     "another): a number, or `auto` for the largest pack that fits the device's memory. The random "
                     "and grid searches then draw the shape-changing hyperparameters once per pack.", t["pack"]),
        "select": select_schema(t["select"]),
        "constraints": prop(closed({name: _bounds(f"Bounds on the model's {name}, from the static plan.")
                                    for name in STATIC_COSTS}),
                            "Trials outside these bounds are decided from the static plan before anything is "
                            "built, recorded as INFEASIBLE, and not trained.", t["constraints"]),
        "max_infeasible": b.plain("positive_int", "Stop the search after this many sampled points in a row break "
                                                  "the constraints.", t["max_infeasible"]),
        "pruning": pruning_schema(),
        "initial": prop({"enum": [None, "defaults"]}, "`defaults`: trial 0 trains every search space at its "
                                                      "default.", t["initial"]),
    }, description="The hyperparameter search. Its values cannot be search spaces."))


def _bounds(description):
    return {"description": description,
            **closed({"max": {"description": "The largest value allowed.", "type": "number"},
                      "min": {"description": "The smallest value allowed.", "type": "number"}})}


def objective_schema():
    """`tuning.objective`: a metric name, or a list of them (a multi-objective search)."""
    named = closed({"name": {"description": "A metric name, or a cost.", "type": "string"},
                    "direction": {"description": "Whether lower (`min`) or higher (`max`) is better; default "
                                                 "inferred from the name.", "enum": ["min", "max"]}},
                   required=("name",))
    return {"description": "Metric to optimize, e.g. `val_accuracy`; direction inferred. Default: val_accuracy "
                           "for classifiers, val_head_accuracy for autoencoders with a head, else val_loss. A list "
                           "(names or {name, direction}) searches the Pareto front of several, e.g. "
                           f"`val_accuracy` and `params`; the costs {', '.join(COSTS)} are minimized.",
            "type": ["string", "array"],
            "if": {"type": "array"},
            "then": {"minItems": 1, "items": {"type": ["string", "object"], "if": {"type": "object"}, "then": named}}}


def select_schema(default):
    """`tuning.select`: which member of the Pareto front `best.json` is."""
    bounds = {"type": "object", "additionalProperties": _bounds("Bounds on this metric.")}
    rule = closed({"max": {"description": "The metric to maximize.", "type": "string"},
                   "min": {"description": "The metric to minimize.", "type": "string"},
                   "subject_to": {"description": "Bounds the chosen trial must keep, by metric.", **bounds}},
                  minProperties=1)
    return prop({"type": ["string", "object"], "if": {"type": "string"}, "then": {"const": "knee"}, "else": rule},
                "With a list of objectives: `knee` (the front's member nearest the ideal point, objectives scaled "
                "to [0, 1] over the front) or {\"max\" | \"min\": METRIC, \"subject_to\": {METRIC: {\"max\": N}}}.",
                default)


def pruning_schema():
    """`tuning.pruning`: stopping bad trials after some epochs."""
    m, a = D.MEDIAN_PRUNING, D.ASHA_PRUNING
    kind = {"description": "`median` or `asha`.", "enum": list(PRUNERS)}
    median = closed({"type": kind,
                     "warmup_epochs": prop({"type": "integer", "minimum": 1}, "Epochs every trial trains before it "
                                                                             "can be stopped.", m["warmup_epochs"]),
                     "min_trials": prop({"type": "integer", "minimum": 1}, "Finished trials needed at an epoch "
                                                                          "before any is compared.", m["min_trials"])},
                    required=("type",))
    asha = closed({"type": kind,
                   "min_epochs": prop({"type": "integer", "minimum": 1}, "Epochs of the first rung.", a["min_epochs"]),
                   "reduction_factor": prop({"type": "integer", "minimum": 2}, "Rungs at min_epochs × factor^k; "
                                            "1/factor of the trials at a rung go on.", a["reduction_factor"])},
                  required=("type",))
    return {"description": "Stop trials early: `median` stops a trial after an epoch when its best objective so "
                           "far is worse than the median of the finished trials' at that epoch; `asha` "
                           "(asynchronous successive halving) keeps the top 1/reduction_factor at each rung. "
                           "null: no pruning. Not with hyperband.",
            "default": None, "type": ["null", "object"],
            "if": {"type": "object", "properties": {"type": {"const": "asha"}}, "required": ["type"]},
            "then": asha, "else": {"if": {"type": "object"}, "then": median}}
