"""The `custom` family's static plan: the output shape and parameters of each allow-listed layer.

The arithmetic of each Keras layer is `archbuilder.format.layer_math.layer_node`, which the
count of a saved model's config (a backbone, a model file) uses too.
"""

from archbuilder.errors import SpecError
from archbuilder.families.custom.spec import default_name
from archbuilder.format.layer_math import layer_flops
from archbuilder.format.layer_math import layer_node
from archbuilder.format.shapes import ShapeError

__all__ = ["plan"]


def plan(planner, shape):
    shapes = {"input": shape}
    previous = "input"
    for i, layer in enumerate(planner.spec["layers"]):
        path = f"$.layers[{i}]"
        inputs = layer.get("inputs", previous)
        names = inputs if isinstance(inputs, list) else [inputs]
        name = layer.get("name", default_name(i))
        try:
            in_shapes = [shapes[n] for n in names]
            given = in_shapes if isinstance(inputs, list) else in_shapes[0]
            out, params, frozen = layer_node(layer, given)
        except ShapeError as e:
            raise SpecError(path, str(e)) from None
        flops, estimated = layer_flops(layer, given, out, params)
        planner.add(name, layer["type"], out, params, path, frozen, inputs=names, flops=flops, estimated=estimated)
        shapes[name] = out
        previous = name
