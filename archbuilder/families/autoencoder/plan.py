"""The `autoencoder` family's static plan: encoder -> code -> decoder -> reconstruction [+ head]."""

import math

from archbuilder.errors import SpecError
from archbuilder.format.planner import positions
from archbuilder.format.shapes import per_axis
from archbuilder.text import shape as fmt_shape

__all__ = ["plan"]


def plan(planner, shape):
    spec = planner.spec
    input_shape = shape
    conv = "filters" in (spec["encoder"] or [{}])[0]
    if not conv and len(shape) > 1:
        shape = planner.add("flatten", "Flatten", (math.prod(shape),), 0, "$.input")
    shape = planner.layer_items(shape, spec["encoder"], "encoder")
    code, code_node = shape, planner.last
    if spec["bottleneck"]:
        units = spec["bottleneck"]["units"]
        flat = planner.flatten(shape, "$.bottleneck", "bottleneck_flatten") if len(shape) > 1 else shape
        code, code_node = planner.dense(flat, units, "$.bottleneck", "bottleneck"), "bottleneck"
        if len(shape) > 1:
            planner.dense(code, flat[0], "$.bottleneck", "bottleneck_expand")
    decoded = planner.layer_items(shape if spec["bottleneck"] and len(shape) > 1 else code, spec["decoder"],
                                  "decoder")
    _reconstruction(planner, decoded, input_shape, conv)
    if spec["head"]:
        head = spec["head"]
        planner.last = code_node  # the head is a classifier on the code, beside the decoder
        head_in = code if len(code) == 1 else planner.flatten(code, "$.head", "head_flatten")
        head_in = planner.layer_items(head_in, head["dense"], "head.dense")
        planner.dense(head_in, head["units"], "$.head", "head")


def _reconstruction(planner, shape, input_shape, conv):
    output = planner.spec["output"]
    if not conv or len(shape) == 1:
        planner.dense(shape, math.prod(input_shape), "$.output", "reconstruction")
        return
    if tuple(shape[:-1]) != tuple(input_shape[:-1]):
        sizes = [fmt_shape(input_shape[:-1])]
        for node in planner.nodes:
            if node.path.startswith("$.encoder") and fmt_shape(node.shape[:-1]) != sizes[-1]:
                sizes.append(fmt_shape(node.shape[:-1]))
        if len(sizes) > 8:
            sizes = [*sizes[:4], "...", *sizes[-3:]]
        raise SpecError("$.decoder", f"the decoder gives {fmt_shape(shape[:-1])} but the input is "
                        f"{fmt_shape(input_shape[:-1])} (encoder: {' -> '.join(sizes)}); "
                        "choose sizes that divide evenly or write the decoder out")
    k = output["kernel_size"]
    weights = math.prod(per_axis(k, len(shape) - 1, strict=False)) * shape[-1] * input_shape[-1]
    planner.add("reconstruction", f"Conv{len(shape) - 1}D", input_shape, weights + input_shape[-1], "$.output",
                flops=positions(input_shape) * weights, estimated=None in input_shape)
