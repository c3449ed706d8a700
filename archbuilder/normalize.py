"""Defaults and normal forms: the rendered spec and the concrete spec.

`fill_defaults` is what `archbuilder render` prints: every key the user left out
that has a default (null ones included), search spaces kept. `concretize` takes a spec whose spaces are
resolved (see search_space.resolve) and returns the concrete spec that `plan` and
the model builders consume: shorthands expanded (`pool: 2`, `rnn.units: 64`,
`decoder: "mirror"`), activations inherited, losses and metrics inferred.
"""

import copy

from archbuilder import defaults as D
from archbuilder.search_space import is_repeat
from archbuilder.search_space import is_space

__all__ = ["fill_defaults", "concretize", "infer_loss", "infer_metrics", "infer_objective", "task_of",
           "prediction_layer", "mirror_decoder", "CLASSIFICATION_LOSSES"]

CLASSIFICATION_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")


def _concrete(value):
    return not is_space(value) and not is_repeat(value)


def _fill(obj, defaults):
    # Null defaults are filled too (`"pool": null`): a rendered spec shows every setting, and
    # every key whose default is null accepts null in the schema (tests/test_spec.py checks it).
    if isinstance(obj, dict) and not is_space(obj):
        for key, value in defaults.items():
            obj.setdefault(key, copy.deepcopy(value))
    return obj


def _items(value):
    """The item dicts of a list-valued key, or its `each` for a repeat form."""
    if is_repeat(value):
        return [value["each"]] if isinstance(value["each"], dict) else []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _is_conv_items(items):
    return any("filters" in item for item in items)


def _output_activation(units):
    return "softmax" if units > 1 else "sigmoid"


def _fill_output(output):
    _fill(output, D.OUTPUT)
    if "activation" not in output and _concrete(output.get("units")) and isinstance(output.get("units"), int):
        output["activation"] = _output_activation(output["units"])


def _fill_layer_items(value):
    items = _items(value)
    conv = _is_conv_items(items)
    for item in items:
        if conv:
            _fill(item, D.CONV_BLOCK)
            if isinstance(item.get("pool"), dict):
                _fill(item["pool"], D.POOL)
        else:
            _fill(item, D.DENSE_ITEM)
    return conv


def prediction_layer(doc):
    """`(units, activation)` of the prediction layer, or of a custom spec's last layer."""
    if doc["family"] == "custom":
        last = (doc.get("layers") or [{}])[-1]
        units = last.get("units", 1) if last.get("type") == "Dense" else None
        activation = last.get("activation", "softmax" if last.get("type") == "Softmax" else "linear")
        return units, activation
    source = doc.get("head") if doc["family"] == "autoencoder" else doc.get("output")
    if not isinstance(source, dict):
        return None, None
    return source.get("units"), source.get("activation")


def infer_loss(units, activation):
    """The loss for a prediction layer (design.md 1.6), or None when a space hides it."""
    if not (_concrete(units) and _concrete(activation)) or activation is None:
        return None
    if activation == "softmax" and (units is None or units > 1):
        return "sparse_categorical_crossentropy"
    if activation == "sigmoid" and units is not None:
        return "binary_crossentropy"
    return "mse"


def _loss_name(loss):
    return loss["type"] if isinstance(loss, dict) else loss


def task_of(doc):
    """`classification`, `regression` or `reconstruction` (autoencoders without a head)."""
    if doc["family"] == "autoencoder" and not doc.get("head"):
        return "reconstruction"
    training = doc.get("training", {})
    loss = training.get("loss") if doc["family"] != "autoencoder" else doc["head"].get("loss")
    if loss is None:
        loss = infer_loss(*prediction_layer(doc))
    return "classification" if _loss_name(loss) in CLASSIFICATION_LOSSES else "regression"


def infer_metrics(doc):
    return ["accuracy"] if task_of(doc) == "classification" else ["mae"]


def infer_objective(doc):
    if task_of(doc) == "classification":
        return "val_head_accuracy" if doc["family"] == "autoencoder" else "val_accuracy"
    return "val_loss"


def fill_defaults(doc):
    """Returns a copy of a (schema-valid) spec with every default filled in; spaces stay."""
    doc = copy.deepcopy(doc)
    family = doc["family"]
    _fill(doc["input"], D.INPUT)
    if family != "custom":
        doc.setdefault("activation", D.ACTIVATION)
    for key in ("conv", "dense", "encoder"):
        if key in doc:
            _fill_layer_items(doc[key])
    if family in ("cnn", "rnn"):
        doc.setdefault("dense", [])
        if isinstance(doc.get("output"), dict):
            _fill_output(doc["output"])
    if family == "cnn":
        doc.setdefault("conv", [])
        doc.setdefault("global_pool", D.GLOBAL_POOL)
    if family == "rnn":
        _fill(doc.get("rnn"), D.RNN)
        _fill(doc.get("embedding"), D.EMBEDDING)
        doc.setdefault("sequence_pool", D.SEQUENCE_POOL)
    if family == "autoencoder":
        _fill(doc, D.AUTOENCODER)
        conv = _is_conv_items(_items(doc.get("encoder", [])))
        output = doc.setdefault("output", {})
        _fill(output, D.AE_OUTPUT if conv else {"activation": D.AE_OUTPUT["activation"]})
        if doc["decoder"] != "mirror":
            _fill_layer_items(doc["decoder"])
        if isinstance(doc.get("head"), dict):
            head = doc["head"]
            _fill(head, D.HEAD)
            _fill_layer_items(head.setdefault("dense", []))
            _fill_output(head)
            head.pop("dropout", None)
            if "loss" not in head and infer_loss(head.get("units"), head.get("activation")):
                head["loss"] = infer_loss(head["units"], head["activation"])
    _fill_training(doc)
    return doc


def _fill_training(doc):
    training = doc.setdefault("training", {})
    _fill(training, D.TRAINING)
    if isinstance(training.get("early_stopping"), dict):
        _fill(training["early_stopping"], D.EARLY_STOPPING)
    if "loss" not in training:
        loss = "mse" if doc["family"] == "autoencoder" else infer_loss(*prediction_layer(doc))
        if loss is not None:
            training["loss"] = loss
    head = doc.get("head") if doc["family"] == "autoencoder" else None
    determinable = "loss" in (head if head else training)
    if "metrics" not in training and determinable:
        training["metrics"] = infer_metrics(doc)
    tuning = doc.setdefault("tuning", {})
    _fill(tuning, D.TUNING)
    if tuning["tuner"] == "hyperband":
        tuning.pop("max_trials", None)
        _fill(tuning, D.HYPERBAND)
        if _concrete(training["epochs"]):
            tuning.setdefault("max_epochs", training["epochs"])
    if "objective" not in tuning and determinable:
        tuning["objective"] = infer_objective(doc)


def _regularization(value):
    if not value:
        return None
    l1, l2 = value.get("l1", 0.0), value.get("l2", 0.0)
    return {"l1": float(l1), "l2": float(l2)} if (l1 or l2) else None


def _pool(pool):
    if pool is None:
        return None
    pool = dict(pool) if isinstance(pool, dict) else {"size": pool}
    _fill(pool, D.POOL)
    pool.setdefault("strides", pool["size"])
    return pool


def _layer_item(item, activation):
    item = dict(item)
    item.setdefault("activation", activation)
    item["regularization"] = _regularization(item.get("regularization"))
    if "filters" in item:
        item["pool"] = _pool(item.get("pool"))
        item.setdefault("transpose", False)
    return item


def _per_axis(value, rank):
    return value if isinstance(value, list) else [value] * rank


def mirror_decoder(encoder, rank):
    """The decoder that mirrors `encoder` (design.md 1.4), as concrete items.

    Dense units come back in reverse order; conv blocks become transposed convs
    with the same filters in reverse order, kernel size, activation and batch
    norm, and strides equal to each block's pool size times its strides.
    """
    decoder = []
    for item in reversed(encoder):
        if "filters" not in item:
            decoder.append({"units": item["units"], "activation": item["activation"], "dropout": 0.0,
                            "batch_norm": item["batch_norm"], "regularization": item["regularization"]})
            continue
        pool = item["pool"]["size"] if item["pool"] else 1
        strides = [p * s for p, s in zip(_per_axis(pool, rank), _per_axis(item["strides"], rank))]
        decoder.append({"filters": item["filters"], "kernel_size": item["kernel_size"],
                        "strides": strides[0] if len(set(strides)) == 1 else strides, "padding": "same",
                        "activation": item["activation"], "use_bias": item["use_bias"],
                        "batch_norm": item["batch_norm"], "pool": None, "dropout": 0.0, "residual": False,
                        "regularization": item["regularization"], "transpose": True})
    return decoder


def concretize(resolved):
    """The concrete spec (see the module docstring) of a spec with no spaces left."""
    doc = fill_defaults(resolved)
    family = doc["family"]
    activation = doc.get("activation", D.ACTIVATION)
    doc["regularization"] = _regularization(doc.get("regularization"))
    for key in ("conv", "dense", "encoder"):
        if key in doc:
            doc[key] = [_layer_item(item, activation) for item in doc[key]]
    if family in ("cnn", "rnn"):
        output = doc["output"]
        output.setdefault("activation", _output_activation(output["units"]))
    if family == "cnn":
        doc.setdefault("backbone", None)
    if family == "rnn":
        rnn = doc["rnn"]
        rnn["units"] = rnn["units"] if isinstance(rnn["units"], list) else [rnn["units"]]
        rnn["regularization"] = _regularization(rnn.get("regularization"))
        doc.setdefault("embedding", None)
    if family == "autoencoder":
        rank = len(doc["input"]["shape"]) - 1
        if doc["decoder"] == "mirror":
            doc["decoder"] = mirror_decoder(doc["encoder"], rank)
        else:
            doc["decoder"] = [_layer_item(item, activation) for item in doc["decoder"]]
        if doc.get("bottleneck"):
            doc["bottleneck"] = {"activation": activation, **doc["bottleneck"]}
        for key in ("bottleneck", "sparsity", "contractive", "noise", "head"):
            doc.setdefault(key, None)
        if doc["head"]:
            doc["head"]["dense"] = [_layer_item(item, activation) for item in doc["head"]["dense"]]
    return doc
