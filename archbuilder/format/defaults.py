"""The defaults every family shares (spec_version 1), in one place.

The schema generator copies them into the schema's `default` keywords and
`archbuilder.spec.normalize` applies them; neither restates a value. Defaults
that belong to one family live in that family's folder.
"""

ACTIVATION = "relu"

INPUT = {"dtype": "float32"}

CONV_BLOCK = {
    "kernel_size": 3,
    "strides": 1,
    "padding": "same",
    "use_bias": True,
    "batch_norm": False,
    "pool": None,
    "dropout": 0.0,
    "residual": False,
}
POOL = {"type": "max", "padding": "valid"}  # strides default to size
DENSE_ITEM = {"dropout": 0.0, "batch_norm": False}
OUTPUT = {"dropout": 0.0}

TRAINING = {
    "optimizer": {"type": "adam", "learning_rate": 0.001},
    "lr_schedule": None,
    "epochs": 10,
    "batch_size": 128,
    "validation_split": 0.1,
    "early_stopping": None,
    "augmentation": None,
    "class_weight": None,
    "seed": 42,
    "mixed_precision": "auto",
}
EARLY_STOPPING = {"monitor": "val_loss", "patience": 3, "restore_best_weights": True}
RECONSTRUCTION_LOSS = "mse"

TUNING = {
    "tuner": "random",
    "max_trials": 20,
    "executions_per_trial": 1,
    "seed": 1,
    "max_consecutive_failed_trials": 3,
    "max_time": None,
    "pack": 1,
    "select": "knee",
    "constraints": {},
    "max_infeasible": 100,
    "pruning": None,
    "initial": None,
}
MEDIAN_PRUNING = {"warmup_epochs": 1, "min_trials": 3}
ASHA_PRUNING = {"min_epochs": 1, "reduction_factor": 3}
HYPERBAND = {"factor": 3, "hyperband_iterations": 1}  # max_epochs: training.epochs

MAX_PARAMS = 10**9

# `archbuilder export`: the formats, and how closely an artifact must reproduce Keras on the samples
# checked (`|artifact - keras| <= tolerance * (1 + |keras|)`; bfloat16-trained models against their
# bfloat16 predictions).
EXPORT_FORMATS = ("saved_model", "onnx", "litert")
EXPORT = {"tolerance": 1e-4, "bfloat16_tolerance": 1e-2, "max_samples": 256}
