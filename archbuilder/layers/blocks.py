"""The Keras building blocks every family shares: dense and conv blocks, the output layer, augmentation.

A `Graph` records, for every layer it makes, the JSON path of the spec entry the
layer came from (`Graph.paths`), and turns an exception Keras raises while a
layer is made or called into a `SpecError` at that path. Layer names derive from
the path: `$.conv[1]` gives `conv_1_conv`, `conv_1_bn`, `conv_1_act`, ...;
`$.dense[0]` gives `dense_0`, `dense_0_bn`, ...; `$.output` gives `output`.
"""

import math

import keras
from keras import layers

from archbuilder.errors import SpecError

__all__ = [
    "Graph",
    "augmentation",
    "conv_block",
    "conv_rank",
    "dense_block",
    "dropout",
    "errors_at",
    "flat_size",
    "global_pool",
    "one_line",
    "output_layer",
    "static_shape",
]

CONV = {1: layers.Conv1D, 2: layers.Conv2D, 3: layers.Conv3D}
CONV_TRANSPOSE = {1: layers.Conv1DTranspose, 2: layers.Conv2DTranspose, 3: layers.Conv3DTranspose}
POOL = {
    "max": {1: layers.MaxPooling1D, 2: layers.MaxPooling2D, 3: layers.MaxPooling3D},
    "avg": {1: layers.AveragePooling1D, 2: layers.AveragePooling2D, 3: layers.AveragePooling3D},
}
GLOBAL_POOL = {
    "max": {1: layers.GlobalMaxPooling1D, 2: layers.GlobalMaxPooling2D, 3: layers.GlobalMaxPooling3D},
    "avg": {1: layers.GlobalAveragePooling1D, 2: layers.GlobalAveragePooling2D, 3: layers.GlobalAveragePooling3D},
}


def one_line(error):
    """A Keras exception as one line: its message without the call-argument dump."""
    text = str(error).split("Arguments received by", 1)[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Exception encountered when calling")]
    return " ".join(lines) or type(error).__name__


def static_shape(tensor):
    """The shape of a symbolic tensor, batch axis excluded, as a tuple."""
    return tuple(tensor.shape[1:])


def conv_rank(tensor):
    """The conv dimension (1, 2 or 3) that fits a feature tensor `[..., C]`."""
    return len(tensor.shape) - 2


class Graph:
    """Builds a functional Keras graph layer by layer, each tied to a spec path.

    Args:
        spec: the concrete spec being built.
        value_range: `(low, high)` of the training inputs, for augmentations that need it (contrast).

    Attributes:
        paths: layer name -> JSON path of the entry it came from, in build order.
    """

    def __init__(self, spec, value_range=(0.0, 1.0)):
        self.spec = spec
        self.value_range = tuple(value_range)
        self.paths = {}
        self._top_regularization = spec["regularization"]

    def add(self, layer_class, path, inputs, name, **kwargs):
        """Makes `layer_class(name=name, **kwargs)` and calls it on `inputs`.

        Args:
            layer_class: a Keras layer class, or any callable returning a layer.
            path: the JSON path of the spec entry the layer comes from.
            inputs: a symbolic tensor or a list of them.
            name: the layer's name (unique within the model).
            **kwargs: the layer's constructor arguments.

        Returns:
            The layer's symbolic output.

        Raises:
            SpecError: at `path`, when Keras refuses the arguments or the input.
        """
        with self.at(path):
            layer = layer_class(name=name, **kwargs)
        return self.call(layer, path, inputs)

    def call(self, layer, path, inputs, **call_kwargs):
        """Calls an existing layer on `inputs` and records its path."""
        if layer.name in self.paths:
            raise SpecError(path, f"layer name {layer.name!r} is used twice; names must be unique")
        with self.at(path):
            outputs = layer(inputs, **call_kwargs)
        self.paths[layer.name] = path
        return outputs

    def at(self, path):
        """A context manager turning a Keras exception into `SpecError(path, ...)`."""
        return errors_at(path)

    def input(self):
        """The model input from `$.input`, named `input`."""
        spec_input = self.spec["input"]
        with self.at("$.input"):
            tensor = keras.Input(
                shape=tuple(spec_input["shape"]), dtype=spec_input["dtype"], name="input"
            )
        self.paths["input"] = "$.input"
        return tensor

    def regularizer(self, own=None):
        """The kernel regularizer for an entry: its own `regularization`, else the top-level one.

        Args:
            own: the entry's `regularization` (`None`: use the top-level one).

        Returns:
            A `keras.regularizers.L1L2`, or None when both factors are zero.
        """
        config = own if own is not None else self._top_regularization
        if not config or not (config.get("l1") or config.get("l2")):
            return None
        return keras.regularizers.L1L2(l1=float(config.get("l1") or 0.0), l2=float(config.get("l2") or 0.0))


def errors_at(path):
    """A context manager that re-raises an exception as `SpecError(path, one_line(e))` from it.

    `SpecError`s pass through unchanged, as do `KeyboardInterrupt` and the like.

    Example:
        >>> with errors_at("$.training.optimizer"):
        ...     keras.optimizers.Adam(learning_rat=0.1)
    """
    return _ErrorsAt(path)


class _ErrorsAt:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or isinstance(error, SpecError) or not isinstance(error, Exception):
            return False
        raise SpecError(self.path, one_line(error)) from error


def dense_block(graph, x, item, path, name):
    """Dense(units) -> [BatchNormalization -> Activation] -> [Dropout] (contract: dense item).

    Args:
        graph: the `Graph` being built.
        x: the block's input.
        item: a concrete dense item (`units`, `activation`, `dropout`, `batch_norm`, `regularization`).
        path: its JSON path, e.g. `$.dense[0]`.
        name: the Dense layer's name; the others add `_bn`, `_act`, `_drop`.

    Returns:
        The block's output.
    """
    batch_norm = item["batch_norm"]
    x = graph.add(
        layers.Dense, path, x, name,
        units=item["units"],
        activation=None if batch_norm else item["activation"],
        kernel_regularizer=graph.regularizer(item["regularization"]),
    )
    if batch_norm:
        x = graph.add(layers.BatchNormalization, path, x, f"{name}_bn")
        x = graph.add(layers.Activation, path, x, f"{name}_act", activation=item["activation"])
    return dropout(graph, x, item["dropout"], path, f"{name}_drop")


def dropout(graph, x, rate, path, name):
    """`Dropout(rate)` when `rate > 0`, else `x` unchanged."""
    if not rate:
        return x
    return graph.add(layers.Dropout, path, x, name, rate=rate)


def conv_block(graph, x, item, path, name):
    """conv -> BN -> [residual add] -> activation -> pool -> dropout.

    The conv's dimension follows `x`'s rank; `transpose: true` makes it a
    ConvNDTranspose. With `residual`, the shortcut is `x` itself when its shape
    matches the block's, else a 1x1 conv (same class, strides and filters,
    padding `same`, the block's `use_bias`) followed by BN when `batch_norm`.
    Without BN or residual the activation is fused into the conv layer.

    Args:
        graph: the `Graph` being built.
        x: the block's input, `[..., C]`.
        item: a concrete conv item.
        path: its JSON path, e.g. `$.conv[1]`.
        name: the prefix of the block's layer names, e.g. `conv_1`.

    Returns:
        The block's output.
    """
    rank = conv_rank(x)
    if rank not in CONV:
        raise SpecError(path, f"a conv block needs a [L, C], [H, W, C] or [D, H, W, C] input; got {static_shape(x)}")
    conv_class = (CONV_TRANSPOSE if item["transpose"] else CONV)[rank]
    batch_norm = item["batch_norm"]
    residual = item["residual"]
    separate_activation = batch_norm or residual
    regularizer = graph.regularizer(item["regularization"])
    y = graph.add(
        conv_class, path, x, f"{name}_conv",
        filters=item["filters"],
        kernel_size=item["kernel_size"],
        strides=item["strides"],
        padding=item["padding"],
        use_bias=item["use_bias"],
        activation=None if separate_activation else item["activation"],
        kernel_regularizer=regularizer,
    )
    if batch_norm:
        y = graph.add(layers.BatchNormalization, path, y, f"{name}_bn")
    if residual:
        shortcut = x
        if static_shape(x) != static_shape(y):
            shortcut = graph.add(
                conv_class, path, x, f"{name}_shortcut",
                filters=item["filters"], kernel_size=1, strides=item["strides"], padding="same",
                use_bias=item["use_bias"], kernel_regularizer=regularizer,
            )
            if batch_norm:
                shortcut = graph.add(layers.BatchNormalization, path, shortcut, f"{name}_shortcut_bn")
        y = graph.add(layers.Add, path, [y, shortcut], f"{name}_add")
    if separate_activation:
        y = graph.add(layers.Activation, path, y, f"{name}_act", activation=item["activation"])
    pool = item["pool"]
    if pool:
        y = graph.add(
            POOL[pool["type"]][rank], f"{path}.pool", y, f"{name}_pool",
            pool_size=pool["size"], strides=pool["strides"], padding=pool["padding"],
        )
    return dropout(graph, y, item["dropout"], path, f"{name}_drop")


def global_pool(graph, x, kind, path, name="global_pool"):
    """`GlobalAverage/MaxPoolingND` for `"avg"`/`"max"`, `Flatten` (named `flatten`) for None."""
    if kind is None:
        if len(x.shape) == 2:
            return x
        return graph.add(layers.Flatten, path, x, "flatten")
    return graph.add(GLOBAL_POOL[kind][len(x.shape) - 2], path, x, name)


def output_layer(graph, x, output, path="$.output", name="output"):
    """[Dropout on its input] -> Dense(units, activation) in float32 (mixed-precision safe).

    Args:
        graph: the `Graph` being built.
        x: the input of the prediction layer.
        output: `{"units", "activation", "dropout"}`.
        path: its JSON path.
        name: the Dense layer's name (also the model output's name).

    Returns:
        The prediction tensor.
    """
    x = dropout(graph, x, output.get("dropout", 0.0), path, f"{name}_drop")  # an autoencoder head has none
    return graph.add(
        layers.Dense, path, x, name,
        units=output["units"],
        activation=output["activation"],
        kernel_regularizer=graph.regularizer(None),
        dtype="float32",
    )


# `training.augmentation` key -> (Keras preprocessing layer, its arguments for the value, the graph).
AUGMENTATIONS = {
    "flip": (layers.RandomFlip, lambda value, graph: {"mode": value}),
    "translate": (layers.RandomTranslation, lambda value, graph: {"height_factor": value, "width_factor": value}),
    "rotate": (layers.RandomRotation, lambda value, graph: {"factor": value}),
    "zoom": (layers.RandomZoom, lambda value, graph: {"height_factor": value}),
    "contrast": (layers.RandomContrast, lambda value, graph: {"factor": value, "value_range": graph.value_range}),
}


def augmentation(graph, x, config):
    """`training.augmentation` as Keras preprocessing layers (active in training only).

    Only for image inputs `[H, W, C]`; other inputs pass through. Layers are
    named `augment_flip`, `augment_translate`, ... and tied to
    `$.training.augmentation.<key>`; `contrast` works on the value range of the
    training images (`Graph.value_range`).

    Args:
        graph: the `Graph` being built.
        x: the model input.
        config: `{"flip": "horizontal", "translate": 0.1, "rotate": 0.05, "zoom": 0.1, "contrast": 0.2}`,
            any subset, or None.

    Returns:
        The augmented tensor.
    """
    if not config or len(x.shape) != 4:
        return x
    for key, (layer_class, arguments) in AUGMENTATIONS.items():
        value = config.get(key)
        if value:
            x = graph.add(layer_class, f"$.training.augmentation.{key}", x, f"augment_{key}",
                          **arguments(value, graph))
    return x


def flat_size(shape):
    """The number of values in a static shape (batch axis excluded)."""
    return math.prod(shape)
