"""The `cnn` family's static plan: [backbone] -> conv blocks -> global pool | flatten -> dense -> output."""

import os

from archbuilder.errors import SpecError
from archbuilder.layers.allow_list import UnsafeModelError
from archbuilder.layers.allow_list import unsafe_objects
from archbuilder.layers.model_count import count_model
from archbuilder.layers.model_count import describe_shapes
from archbuilder.layers.model_file import ModelFileError
from archbuilder.layers.model_file import read_model_config
from archbuilder.text import shape as fmt_shape

__all__ = ["BACKBONES", "plan"]

# keras.applications with include_top=False: (params, trainable params if trainable, output channels,
# minimum input side). Output side: ceil(side / 32) for these nets with 'same'-padded stems.
BACKBONES = {
    "MobileNetV2": (2_257_984, 2_223_872, 1280, 32),
    "ResNet50": (23_587_712, 23_534_592, 2048, 32),
    "EfficientNetB0": (4_049_571, 4_007_548, 1280, 32),
    "DenseNet121": (7_037_504, 6_953_856, 1024, 32),
    "VGG16": (14_714_688, 14_714_688, 512, 32),
}
# Published multiply-adds of each net at 224x224x3 without its classifier (MobileNetV2 and EfficientNet
# papers, torchvision's tables); a plan scales them by the input's area, so they are estimates.
BACKBONE_MACS_224 = {
    "MobileNetV2": 299_000_000,
    "ResNet50": 4_087_000_000,
    "EfficientNetB0": 386_000_000,
    "DenseNet121": 2_865_000_000,
    "VGG16": 15_346_000_000,
}


def plan(planner, shape):
    spec = planner.spec
    if spec["backbone"]:
        shape = _backbone(planner, shape, spec["backbone"])
    shape = planner.layer_items(shape, spec["conv"], "conv")
    if spec["global_pool"]:
        shape = planner.global_pool(shape, spec["global_pool"], "$.global_pool", "global_pool")
    elif len(shape) > 1:
        shape = planner.flatten(shape, "$.global_pool")
    shape = planner.layer_items(shape, spec["dense"], "dense")
    return planner.output(shape, spec["output"])


def _model_backbone(planner, shape, backbone):
    """A saved `.keras` base model, counted from its config.json: nothing is loaded, no weight is read.

    Its file is checked as `load_model_safely` will check it (no code, a size archbuilder can
    count); the count and the output shape follow the spec's input through its layers.
    """
    path = backbone["model"]
    try:
        config = read_model_config(path)
        problems = unsafe_objects(config)
        if problems:
            raise UnsafeModelError(path, problems)
        own = count_model(config, source=path)
        if len(own.input_shapes) != 1 or len(own.output_shapes) != 1:
            raise ModelFileError(path, f"a backbone takes one input and gives one output; this model takes "
                                       f"{len(own.input_shapes)} and gives {len(own.output_shapes)}")
        declared = own.input_shapes[0]
        if len(declared) != len(shape) or any(d is not None and d != s for d, s in zip(declared, shape)):
            raise ModelFileError(path, f"the model takes inputs of {describe_shapes([declared])}; the spec's "
                                       f"input.shape is {fmt_shape(shape)}")
        counted = count_model(config, shape, source=path)
    except ModelFileError as e:  # the entry names the file; a missing one is shown as it was looked for
        raise SpecError("$.backbone.model", e.message if os.path.exists(path) else f"{e.message}: {path}") from None
    out = counted.output_shapes[0]
    frozen = counted.params if not backbone.get("trainable") else counted.non_trainable
    # Its FLOPs are not counted (the config walk counts shapes and parameters): 0, flagged as an estimate.
    return planner.add("backbone", "Functional", out, counted.params, "$.backbone", frozen, estimated=True)


def _backbone(planner, shape, backbone):
    if "application" not in backbone:
        return _model_backbone(planner, shape, backbone)
    params, trainable, channels, minimum = BACKBONES.get(backbone["application"], (0, 0, None, 32))
    # A null side (variable size) is checked by Keras when the model is called, not here.
    if any(s is not None and s < minimum for s in shape[:-1]) or shape[-1] != 3:
        raise SpecError("$.backbone.application", f"{backbone['application']} needs RGB images of at "
                        f"least {minimum}x{minimum}x3; the input is {fmt_shape(shape)}")
    out = (*(None if s is None else -(-s // 32) for s in shape[:-1]), channels)
    frozen = params if not backbone.get("trainable") else params - trainable
    area = (shape[0] or 224) * (shape[1] or 224) if len(shape) == 3 else 224 * 224
    flops = BACKBONE_MACS_224.get(backbone["application"], 0) * area // (224 * 224)
    return planner.add("backbone", backbone["application"], out, params, "$.backbone", frozen, flops=flops,
                       estimated=True)
