"""The `custom` family's allow-list: which Keras layers a spec may name, with which arguments.

`LAYERS` maps a Keras layer class name (`keras.layers.<name>`) to its accepted
constructor arguments, each with the JSON Schema of the value it takes: JSON
scalars, strings, or lists of them — never a nested Keras config. Initializers,
regularizers and constraints are given by their Keras string names. Nothing here
runs user code: `Lambda` and friends are not, and never will be, in the list.

The custom family's schema section turns this table into the per-layer `$defs`
of the spec schema, and the model builder passes the arguments
to the Keras class verbatim. This module imports no Keras, so `validate` stays
backend-free; `tests/test_schema.py` checks every name against Keras's own
constructor signatures.

Left out on purpose: `data_format` (archbuilder is channels-last throughout, which
keeps static shape inference simple), `stateful` and `return_state` (they change
what a layer returns), `use_cudnn`, `lora_*`, `quantization_config`, `weights`,
`renorm_clipping`, `synchronized` (backend or version specific, or not JSON).
"""

from archbuilder.format.schema.vocabulary import VALUE_KINDS

__all__ = ["COMMON_ARGS", "LAYERS", "REQUIRED_ARGS"]

_K = VALUE_KINDS


def _arg(kind, description):
    value = _K[kind] if isinstance(kind, str) else kind
    return {**value, "description": description}


COMMON_ARGS = {
    "trainable": _arg("boolean", "Whether the layer's weights are updated in training (false freezes them)."),
}

# Arguments that mean the same in every layer that takes them.
ARGS = {
    "units": _arg("positive_int", "Number of units (neurons): the size of the layer's output."),
    "filters": _arg("positive_int", "Number of filters: the channels of the output feature map."),
    "kernel_size": _arg("size", "Size of the convolution window: one int for every spatial axis, or one per axis."),
    "strides": _arg("size", "Step of the window along each spatial axis; > 1 downsamples."),
    "padding": _arg("padding", "`valid`: no padding, the output shrinks by kernel_size - 1; "
                               "`same`: zero padding so that the output size is input size / strides."),
    "dilation_rate": _arg("size", "Spacing between kernel elements (atrous convolution); 1 is a plain convolution."),
    "groups": _arg("positive_int", "Number of groups the input channels are split into; each group is "
                                   "convolved with its own filters. Must divide the input channels and filters."),
    "depth_multiplier": _arg("positive_int", "Output channels per input channel of the depthwise step."),
    "activation": _arg("activation", "Activation applied to the layer's output (`linear`: none)."),
    "use_bias": _arg("boolean", "Whether the layer adds a learned bias vector."),
    "pool_size": _arg("size", "Size of the pooling window: one int for every spatial axis, or one per axis."),
    "pool_strides": _arg("optional_size", "Step of the pooling window; null means equal to pool_size."),
    "keepdims": _arg("boolean", "Keep the pooled spatial axes with size 1 instead of dropping them."),
    "dropout": _arg("rate", "Fraction of the input units dropped in training, in [0, 1)."),
    "recurrent_dropout": _arg("rate", "Fraction of the recurrent-state units dropped in training, in [0, 1)."),
    "return_sequences": _arg("boolean", "Return the output of every time step (true) or only the last one."),
    "go_backwards": _arg("boolean", "Process the input sequence backwards."),
    "unroll": _arg("boolean", "Unroll the loop: faster for short sequences, more memory."),
    "recurrent_activation": _arg("activation", "Activation of the gates (Keras default `sigmoid`)."),
    "rate": _arg("rate", "Fraction of the input units to drop in training, in [0, 1)."),
    "seed": _arg("seed", "Seed of the layer's random generator (null: drawn from the global seed)."),
    "noise_shape": _arg({"type": ["array", "null"], "minItems": 1,
                         "items": {"type": ["integer", "null"], "minimum": 1}},
                        "Shape of the binary dropout mask, batch axis included; null entries follow the "
                        "input (e.g. [null, 1, null] drops the same features at every time step)."),
    "axis": _arg("axis", "Axis or axes to normalize over (-1: the channels / features axis)."),
    "epsilon": _arg("positive_number", "Small number added to the variance to avoid dividing by zero."),
    "center": _arg("boolean", "Add a learned offset (beta) after normalizing."),
    "scale": _arg("boolean", "Multiply by a learned scale (gamma) after normalizing."),
}

for _part in ("kernel", "bias", "recurrent", "depthwise", "pointwise", "embeddings", "beta", "gamma",
              "moving_mean", "moving_variance", "alpha"):
    ARGS[f"{_part}_initializer"] = _arg("initializer", f"Keras initializer name for the {_part} weights.")
    ARGS[f"{_part}_regularizer"] = _arg("regularizer", f"Keras regularizer name on the {_part} weights "
                                                      "(default strength); null: none.")
    ARGS[f"{_part}_constraint"] = _arg("constraint", f"Keras constraint name on the {_part} weights; null: none.")
ARGS["activity_regularizer"] = _arg("regularizer", "Keras regularizer name on the layer's output; null: none.")


def _weights(*parts):
    names = []
    for part in parts:
        names += [f"{part}_initializer", f"{part}_regularizer", f"{part}_constraint"]
    return names


def _args(*names, trainable=True, **special):
    """One layer's argument table: shared `ARGS` by name, plus layer-specific ones."""
    args = {name: ARGS[name] for name in names}
    args.update(special)
    if trainable:
        args.update(COMMON_ARGS)
    return args


_DENSE_WEIGHTS = (*_weights("kernel", "bias"), "activity_regularizer")


def _conv(causal=False, transpose=False):
    padding = ARGS["padding"]
    if causal:
        padding = _arg({"type": "string", "enum": ["valid", "same", "causal"]},
                       padding["description"] + " `causal`: output t sees inputs up to t only.")
    special = {"padding": padding}
    if transpose:
        special["output_padding"] = _arg(
            {"type": ["integer", "array", "null"], "minimum": 0, "minItems": 1, "maxItems": 3,
             "items": {"type": "integer", "minimum": 0}},
            "Extra size added to one side of each spatial axis of the output (less than strides); "
            "null: inferred.")
    names = ["filters", "kernel_size", "strides", "dilation_rate"]
    if not transpose:
        names.append("groups")
    return _args(*names, "activation", "use_bias", *_DENSE_WEIGHTS, **special)


def _separable():
    return _args("filters", "kernel_size", "strides", "padding", "dilation_rate", "depth_multiplier",
                 "activation", "use_bias", *_weights("depthwise", "pointwise", "bias"), "activity_regularizer")


def _depthwise():
    return _args("kernel_size", "strides", "padding", "dilation_rate", "depth_multiplier",
                 "activation", "use_bias", *_weights("depthwise", "bias"), "activity_regularizer")


def _pool():
    return _args("pool_size", "padding", strides=ARGS["pool_strides"])


def _rnn(*extra, **special):
    return _args("units", "activation", *extra, "use_bias", *_weights("kernel", "recurrent", "bias"),
                 "activity_regularizer", "dropout", "recurrent_dropout", "return_sequences",
                 "go_backwards", "unroll", "seed", **special)


def _pad_or_crop(rank, minimum, what):
    pair = {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "integer", "minimum": minimum}}
    if rank == 1:
        value = {"type": ["integer", "array"], "minimum": minimum, "minItems": 2, "maxItems": 2,
                 "items": {"type": "integer", "minimum": minimum}}
        text = f"Rows {what} at the start and end of the sequence: an int for both, or [start, end]."
    else:
        value = {"type": ["integer", "array"], "minimum": minimum, "minItems": rank, "maxItems": rank,
                 "items": {"type": ["integer", "array"], "minimum": minimum, "minItems": 2, "maxItems": 2,
                           "items": pair["items"]}}
        text = (f"Rows {what} on each spatial axis: an int for all, one int per axis (both sides), "
                "or one [before, after] pair per axis.")
    return _arg(value, text)


_NORM = ("axis", "epsilon", "center", "scale", *_weights("beta", "gamma"))
_UPSAMPLING_SIZE = _arg("size", "Repetition factor along each spatial axis: one int for all, or one per axis.")

LAYERS = {
    # core
    "Dense": _args("units", "activation", "use_bias", *_DENSE_WEIGHTS),
    "Activation": _args("activation"),
    "Embedding": _args(
        *_weights("embeddings"),
        input_dim=_arg("positive_int", "Size of the vocabulary: the largest integer index + 1."),
        output_dim=_arg("positive_int", "Size of each embedding vector."),
        mask_zero=_arg("boolean", "Treat index 0 as padding and mask it for the layers after."),
    ),
    "Masking": _args(mask_value=_arg("number", "Time steps whose features all equal this value are masked.")),
    "Identity": _args(),
    # convolution
    "Conv1D": _conv(causal=True),
    "Conv2D": _conv(),
    "Conv3D": _conv(),
    "Conv1DTranspose": _conv(transpose=True),
    "Conv2DTranspose": _conv(transpose=True),
    "Conv3DTranspose": _conv(transpose=True),
    "SeparableConv1D": _separable(),
    "SeparableConv2D": _separable(),
    "DepthwiseConv1D": _depthwise(),
    "DepthwiseConv2D": _depthwise(),
    # pooling
    **{f"{kind}Pooling{dim}D": _pool() for kind in ("Max", "Average") for dim in (1, 2, 3)},
    **{f"Global{kind}Pooling{dim}D": _args("keepdims") for kind in ("Max", "Average") for dim in (1, 2, 3)},
    # recurrent
    "SimpleRNN": _rnn(),
    "LSTM": _rnn("recurrent_activation", unit_forget_bias=_arg(
        "boolean", "Add 1 to the forget gate's bias at initialization (Jozefowicz et al., 2015).")),
    "GRU": _rnn("recurrent_activation", reset_after=_arg(
        "boolean", "Apply the reset gate after the matrix multiplication (the cuDNN-compatible variant).")),
    # normalization
    "BatchNormalization": _args(
        *_NORM, *_weights("moving_mean", "moving_variance")[0::3],
        momentum=_arg("rate", "Momentum of the moving mean and variance used at inference, in [0, 1)."),
        renorm=_arg("boolean", "Use batch renormalization."),
        renorm_momentum=_arg("rate", "Momentum of the renormalization statistics, in [0, 1)."),
    ),
    "LayerNormalization": _args(*_NORM),
    "GroupNormalization": _args(
        *_NORM,
        groups=_arg("positive_int", "Number of channel groups normalized separately; must divide the channels."),
    ),
    "UnitNormalization": _args("axis"),
    # regularization
    "Dropout": _args("rate", "noise_shape", "seed"),
    # SpatialDropout* take no **kwargs in Keras 3, hence no `trainable`.
    **{f"SpatialDropout{dim}D": _args("seed", trainable=False, rate=_arg(
        "rate", "Fraction of whole feature maps (channels) to drop in training, in [0, 1).")) for dim in (1, 2, 3)},
    "GaussianNoise": _args("seed", stddev=_arg(
        "non_negative_number", "Standard deviation of the zero-mean Gaussian noise added in training.")),
    "GaussianDropout": _args("seed", rate=_arg(
        "rate", "Drop probability: multiplies inputs by Gaussian noise of mean 1, variance rate / (1 - rate).")),
    "AlphaDropout": _args("rate", "noise_shape", "seed"),
    "ActivityRegularization": _args(
        l1=_arg("non_negative_number", "L1 penalty on the layer's input activity: l1 · Σ|x|."),
        l2=_arg("non_negative_number", "L2 penalty on the layer's input activity: l2 · Σx²."),
    ),
    # reshaping
    "Flatten": _args(),
    "Reshape": _args(target_shape=_arg(
        {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": -1}},
        "New shape without the batch axis; one entry may be -1 (inferred).")),
    "Permute": _args(dims=_arg(
        {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "integer", "minimum": 1}},
        "Permutation of the non-batch axes, numbered from 1: [2, 1] swaps the first two.")),
    "RepeatVector": _args(n=_arg("positive_int", "Number of times the input vector is repeated (a new time axis).")),
    "UpSampling1D": _args(size=_arg("positive_int", "Number of times each time step is repeated.")),
    "UpSampling2D": _args(size=_UPSAMPLING_SIZE, interpolation=_arg(
        {"type": "string", "enum": ["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"]},
        "How new pixels are computed: `nearest` repeats, the others interpolate.")),
    "UpSampling3D": _args(size=_UPSAMPLING_SIZE),
    "ZeroPadding1D": _args(padding=_pad_or_crop(1, 0, "of zeros added")),
    "ZeroPadding2D": _args(padding=_pad_or_crop(2, 0, "of zeros added")),
    "ZeroPadding3D": _args(padding=_pad_or_crop(3, 0, "of zeros added")),
    "Cropping1D": _args(cropping=_pad_or_crop(1, 0, "cropped")),
    "Cropping2D": _args(cropping=_pad_or_crop(2, 0, "cropped")),
    "Cropping3D": _args(cropping=_pad_or_crop(3, 0, "cropped")),
    # merging: `inputs` names two or more earlier layers
    **{name: _args() for name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")},
    "Concatenate": _args(axis=_arg("integer", "Axis along which the inputs are joined (-1: channels / features).")),
    "Dot": _args(
        axes=_arg({"type": ["integer", "array"], "minItems": 2, "maxItems": 2, "items": {"type": "integer"}},
                  "Axis (or one axis per input) along which the dot product is taken."),
        normalize=_arg("boolean", "L2-normalize both inputs first, giving the cosine similarity."),
    ),
    # activation layers
    "ReLU": _args(
        max_value=_arg({"type": ["number", "null"], "minimum": 0}, "Upper bound of the output (6: ReLU6); null: none."),
        negative_slope=_arg("non_negative_number", "Slope for x < threshold (0: plain ReLU)."),
        threshold=_arg("number", "Inputs below this value are mapped to negative_slope · (x - threshold)."),
    ),
    "LeakyReLU": _args(negative_slope=_arg("non_negative_number", "Slope for x < 0: f(x) = slope · x.")),
    "ELU": _args(alpha=_arg("number", "Scale of the negative part: f(x) = alpha · (exp(x) - 1) for x < 0.")),
    "Softmax": _args("axis"),
    "PReLU": _args(
        *_weights("alpha"),
        shared_axes=_arg({"type": ["array", "null"], "minItems": 1, "items": {"type": "integer", "minimum": 1}},
                         "Axes along which the learned slope is shared (e.g. [1, 2] for one slope per channel)."),
    ),
}

# Arguments without a Keras default: a spec must give them.
REQUIRED_ARGS = {
    "Dense": ["units"],
    "Activation": ["activation"],
    "Embedding": ["input_dim", "output_dim"],
    **{name: ["filters", "kernel_size"] for name in LAYERS if "Conv" in name and "Depthwise" not in name},
    "DepthwiseConv1D": ["kernel_size"],
    "DepthwiseConv2D": ["kernel_size"],
    **{f"AveragePooling{dim}D": ["pool_size"] for dim in (1, 2, 3)},
    "SimpleRNN": ["units"],
    "LSTM": ["units"],
    "GRU": ["units"],
    "Dropout": ["rate"],
    **{f"SpatialDropout{dim}D": ["rate"] for dim in (1, 2, 3)},
    "GaussianNoise": ["stddev"],
    "GaussianDropout": ["rate"],
    "AlphaDropout": ["rate"],
    "Reshape": ["target_shape"],
    "Permute": ["dims"],
    "RepeatVector": ["n"],
    "Dot": ["axes"],
}
REQUIRED_ARGS = {name: REQUIRED_ARGS.get(name, []) for name in LAYERS}
