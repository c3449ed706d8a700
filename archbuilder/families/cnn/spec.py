"""The `cnn` family's spec side: schema section, defaults, checks, outputs (no backend).

The design steps: input size; number and size of conv and pooling layers;
activation; number of fully connected layers and units. The conv dimension follows
the input rank: `[L, C]` -> Conv1D, `[H, W, C]` -> Conv2D, `[D, H, W, C]` -> Conv3D.
"""

from archbuilder.format import items
from archbuilder.format.checks import input_rank
from archbuilder.format.checks import unsized_last_axis
from archbuilder.format.outputs import Output
from archbuilder.format.schema.builder import closed
from archbuilder.format.schema.builder import repeatable
from archbuilder.format.schema.sections import dense_list

__all__ = ["APPLICATIONS", "GLOBAL_POOL", "schema", "fill", "concretize", "outputs", "checks", "files"]

GLOBAL_POOL = None  # the default: flatten the last feature map

# keras.applications models a `backbone.application` may name.
APPLICATIONS = (
    "Xception", "VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2",
    "ResNet152V2", "InceptionV3", "InceptionResNetV2", "MobileNet", "MobileNetV2", "MobileNetV3Small",
    "MobileNetV3Large", "DenseNet121", "DenseNet169", "DenseNet201", "NASNetMobile", "NASNetLarge",
    *(f"EfficientNetB{i}" for i in range(8)), *(f"EfficientNetV2B{i}" for i in range(4)),
    "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L",
    "ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge",
)  # fmt: skip


def schema(b, shared):
    backbone = {
        "description": "A pretrained base model placed before the conv blocks: {\"application\": a "
                       "keras.applications model, …} or {\"model\": a .keras file, …}; null: none.",
        "type": ["object", "null"],
        "if": {"required": ["application"]},
        "then": closed({
            "application": b.tunable({"type": "string", "enum": list(APPLICATIONS)},
                                     "keras.applications model; its preprocess_input is applied inside "
                                     "the model. Needs an image input (usually 3 channels)."),
            "weights": b.tunable({"type": ["string", "null"]}, "`imagenet`, a weights file path, or null "
                                                               "(random initialization)."),
            "trainable": b.tunable("boolean", "Whether the backbone's weights are trained (false: frozen)."),
            "trainable_from": b.tunable("string", "Name of the first backbone layer to train; layers "
                                                  "before it stay frozen."),
        }, required=("application",), nullable=True),
        "else": closed({
            "model": b.tunable("string", "Path of a saved .keras model used as the base."),
            "trainable": b.tunable("boolean", "Whether the base model's weights are trained (false: frozen)."),
        }, required=("model",), nullable=True),
    }
    return {
        "backbone": backbone,
        "conv": repeatable(b, shared["conv_item"], "Convolution blocks, in order (may be empty), or "
                                                   "{\"repeat\", \"each\"} to search their number.",
                           "The block repeated; each copy gets its own hyperparameters."),
        "global_pool": b.tunable({"type": ["string", "null"], "enum": ["avg", "max", None]},
                                 "How the last feature map becomes a vector: `avg` or `max` global pooling, "
                                 "or null to flatten it.", GLOBAL_POOL),
        "dense": dense_list(b, shared, "Fully connected layers between the features and the output."),
        "output": {"description": "The prediction layer.", **shared["output"]},
    }, ("output",)


def fill(doc):
    for key in ("conv", "dense"):
        if key in doc:
            items.fill_items(doc[key])
    doc.setdefault("dense", [])
    if isinstance(doc.get("output"), dict):
        items.fill_output(doc["output"])
    doc.setdefault("conv", [])
    doc.setdefault("global_pool", GLOBAL_POOL)


def concretize(doc, activation):
    doc["conv"] = items.concrete_items(doc["conv"], activation)
    doc["dense"] = items.concrete_items(doc["dense"], activation)
    items.concrete_output(doc["output"])
    doc.setdefault("backbone", None)


def outputs(doc):
    output = doc.get("output") if isinstance(doc.get("output"), dict) else {}
    return [Output(None, "labels", "$.training.loss", doc.get("training", {}).get("loss"), output.get("units"),
                   output.get("activation"))]


def checks(doc):
    rank = input_rank(doc)
    yield from unsized_last_axis(doc)
    if doc.get("conv") and items.items(doc["conv"]) and not doc.get("backbone") and rank not in (2, 3, 4):
        yield "$.input.shape", (f"conv layers need [length, channels], [height, width, channels] or "
                                f"[depth, height, width, channels]; got {rank} axes (e.g. use [40, 1] "
                                f"instead of [40])")
    if doc.get("backbone") and rank != 3:
        yield "$.backbone", "a backbone takes image inputs [height, width, channels]"


def files(doc):
    """The backbone's `model` and `weights` files (not `imagenet`, a name): relative to the spec file."""
    backbone = doc.get("backbone")
    if not isinstance(backbone, dict):
        return []
    return [["backbone", key] for key in ("model", "weights")
            if isinstance(backbone.get(key), str) and backbone[key] and backbone[key] != "imagenet"]
