"""Helpers for the model tests: concrete specs written out in full, and layer tables.

The specs here are what `archbuilder.normalize.concretize` hands the model
builders (the team contract's "concrete spec"), spelled out by hand so the
model tests do not depend on the spec stage.
"""

import copy

TRAINING = {
    "optimizer": {"type": "adam", "learning_rate": 0.001},
    "lr_schedule": None,
    "loss": "sparse_categorical_crossentropy",
    "metrics": ["accuracy"],
    "epochs": 1,
    "batch_size": 8,
    "validation_split": 0.1,
    "early_stopping": None,
    "augmentation": None,
    "class_weight": None,
    "seed": 42,
    "mixed_precision": False,
}


def training(**overrides):
    return {**copy.deepcopy(TRAINING), **overrides}


def pool(size=2, **overrides):
    return {"size": size, "type": "max", "strides": size, "padding": "valid", **overrides}


def conv(filters, kernel_size=3, **overrides):
    item = {"filters": filters, "kernel_size": kernel_size, "strides": 1, "padding": "same", "activation": "relu",
            "use_bias": True, "batch_norm": False, "pool": None, "dropout": 0.0, "residual": False,
            "regularization": None, "transpose": False}
    return {**item, **overrides}


def dense(units, **overrides):
    item = {"units": units, "activation": "relu", "dropout": 0.0, "batch_norm": False, "regularization": None}
    return {**item, **overrides}


def _common(name, family, shape, dtype="float32", **rest):
    spec = {"spec_version": 1, "name": name, "family": family, "input": {"shape": list(shape), "dtype": dtype},
            "activation": "relu", "regularization": None, "training": training(), "tuning": {}}
    spec.update(rest)
    return spec


def cnn(shape, conv_items=(), dense_items=(), units=10, activation="softmax", dropout=0.0, **rest):
    rest.setdefault("backbone", None)
    rest.setdefault("global_pool", None)
    return _common("cnn_test", "cnn", shape, conv=list(conv_items), dense=list(dense_items),
                   output={"units": units, "activation": activation, "dropout": dropout}, **rest)


def rnn(shape, cell, units, dtype="float32", embedding=None, dense_items=(), out_units=10,
        out_activation="softmax", sequence_pool=None, **rnn_overrides):
    block = {"cell": cell, "units": list(units), "activation": "tanh", "bidirectional": False, "dropout": 0.0,
             "recurrent_dropout": 0.0, "return_sequences": False, "regularization": None, **rnn_overrides}
    spec = _common("rnn_test", "rnn", shape, dtype=dtype, embedding=embedding, rnn=block,
                   sequence_pool=sequence_pool, dense=list(dense_items),
                   output={"units": out_units, "activation": out_activation, "dropout": 0.0})
    if out_units == 1:
        spec["training"]["loss"] = "binary_crossentropy"
    return spec


def autoencoder(shape, encoder, decoder, bottleneck=None, output_activation="sigmoid", kernel_size=3,
                variant="plain", head=None, **rest):
    conv_encoder = any("filters" in item for item in encoder)
    output = {"activation": output_activation, **({"kernel_size": kernel_size} if conv_encoder else {})}
    spec = _common("ae_test", "autoencoder", shape, encoder=list(encoder), decoder=list(decoder),
                   bottleneck=bottleneck, output=output, variant=variant, sparsity=None, contractive=None,
                   noise=None, head=head, **{k: v for k, v in rest.items() if k != "training"})
    spec["training"] = training(loss="mse", metrics=["mae"] if not head else ["accuracy"])
    return spec


def head(units, activation="softmax", dense_items=(), loss="sparse_categorical_crossentropy", loss_weight=1.0):
    return {"units": units, "activation": activation, "loss": loss, "loss_weight": loss_weight,
            "dense": list(dense_items)}


def custom(shape, layers, **rest):
    return _common("custom_test", "custom", shape, layers=list(layers), **rest)


def layer_table(model):
    """`(class name, output shape(s), params)` for every layer, in the model's order."""
    rows = []
    for layer in model.layers:
        output = layer.output
        shapes = [tuple(t.shape) for t in output] if isinstance(output, (list, tuple)) else tuple(output.shape)
        rows.append((type(layer).__name__, shapes, layer.count_params()))
    return rows


# What a hand-written model has in place of archbuilder's own layers.
KERAS_EQUIVALENT = {"ActivityL1": "Identity", "KLSparsity": "Identity", "ContractivePenalty": "Identity",
                    "ContractiveDense": "Dense"}


def comparable_table(model):
    """`layer_table` with archbuilder's layers as their plain Keras equivalents.

    A penalty layer reads as `Identity`; a `ContractiveDense` as the `Dense` it
    is, with only its first output (the second carries the Jacobian).
    """
    rows = []
    for kind, shapes, params in layer_table(model):
        if kind == "ContractiveDense":
            shapes = shapes[0]
        rows.append((KERAS_EQUIVALENT.get(kind, kind), shapes, params))
    return rows


def assert_same_model(built, hand):
    """Equal layer classes, output shapes and parameter counts, layer by layer."""
    assert comparable_table(built) == comparable_table(hand)
    assert built.count_params() == hand.count_params()
