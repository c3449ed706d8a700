"""The `cnn` family's Keras builder: [backbone] -> conv blocks -> global pool | flatten -> dense -> output."""

import inspect

import keras

from archbuilder.errors import SpecError
from archbuilder.layers import blocks
from archbuilder.layers.keras_layers import ApplicationPreprocess
from archbuilder.layers.safe_load import load_model_safely
from archbuilder.text import did_you_mean

__all__ = ["backbone", "build"]

_BACKBONE_KEYS = ("application", "model", "weights", "trainable", "trainable_from")


def build(spec, graph):
    """Builds a concrete `cnn` spec.

    Args:
        spec: the concrete spec.
        graph: the `blocks.Graph` that records layers and paths.

    Returns:
        `(inputs, outputs, None)`.
    """
    inputs = graph.input()
    x = blocks.augmentation(graph, inputs, spec["training"]["augmentation"])
    if spec["backbone"]:
        x = backbone(graph, x, spec["backbone"])
    for i, item in enumerate(spec["conv"]):
        x = blocks.conv_block(graph, x, item, f"$.conv[{i}]", f"conv_{i}")
    x = blocks.global_pool(graph, x, spec["global_pool"], "$.global_pool")
    for i, item in enumerate(spec["dense"]):
        x = blocks.dense_block(graph, x, item, f"$.dense[{i}]", f"dense_{i}")
    return inputs, blocks.output_layer(graph, x, spec["output"]), None


def backbone(graph, x, config):
    """A `keras.applications` model or a saved `.keras` model as the first stage.

    A saved model is opened with `archbuilder.layers.safe_load.load_model_safely`
    (checked for foreign code, then `safe_mode=True`). An application is made with
    `include_top=False` and `weights=None` (nothing is ever downloaded) and then loads
    `weights` when that names a file; its own `preprocess_input` runs first, as an
    `ApplicationPreprocess` layer. Keys of `config` other than the spec's backbone
    keys (e.g. `alpha`) go to the application's constructor. A frozen backbone (`trainable: false`) runs
    in inference mode, so its batch-norm statistics stay put.

    Args:
        graph: the `blocks.Graph` being built.
        x: the model input (after augmentation).
        config: the concrete `backbone` entry.

    Returns:
        The backbone's feature map.
    """
    path = "$.backbone"
    if config.get("model"):
        with graph.at(f"{path}.model"):
            base = load_model_safely(config["model"], compile=False)
    else:
        application = config["application"]
        constructor = getattr(keras.applications, application, None)
        if constructor is None or inspect.ismodule(constructor) or not callable(constructor):
            raise SpecError(f"{path}.application", f"keras.applications has no model named {application!r}")
        extra = {key: value for key, value in config.items() if key not in _BACKBONE_KEYS}
        with graph.at(path):
            base = constructor(
                include_top=False, weights=None, input_shape=tuple(x.shape[1:]), name="backbone", **extra
            )
        if config.get("weights"):
            with graph.at(f"{path}.weights"):
                base.load_weights(config["weights"])
        x = graph.add(ApplicationPreprocess, path, x, "backbone_preprocess", application=application)
    _set_trainable(base, config, path)
    frozen = not config.get("trainable", False) and not config.get("trainable_from")
    return graph.call(base, path, x, **({"training": False} if frozen else {}))


def _set_trainable(base, config, path):
    first = config.get("trainable_from")
    if not first:
        base.trainable = bool(config.get("trainable", False))
        return
    names = [layer.name for layer in base.layers]
    if first not in names:
        raise SpecError(f"{path}.trainable_from",
                        f"the backbone has no layer named {first!r}{did_you_mean(first, names)}")
    base.trainable = True
    trainable = False
    for layer in base.layers:
        trainable = trainable or layer.name == first
        layer.trainable = trainable
