"""Static shapes and parameter counts of a concrete spec, with no backend.

`plan_spec` walks the same structure the model builders build (each family's
`plan`, with the steps of `archbuilder.format.planner`) and returns one `Node` per
Keras layer (name, type, output shape, params, JSON path, inputs). `validate` uses it to
refuse feature maps that shrink below 1, mirror decoders that miss the input size,
and models over `--max-params` — all before any weight exists.
"""

from archbuilder.families import get_family
from archbuilder.format.planner import Node
from archbuilder.format.planner import Plan
from archbuilder.format.planner import Planner

__all__ = ["Node", "Plan", "plan_spec"]


def plan_spec(spec):
    """Plans a concrete spec: output shape and parameter count of every layer.

    Args:
        spec: a concrete spec (`archbuilder.spec.normalize.concretize`).

    Returns:
        A `Plan`.

    Raises:
        SpecError: a shape that cannot be built, with the JSON path at fault.
    """
    planner = Planner(spec)
    shape = tuple(spec["input"]["shape"])
    get_family(spec["family"]).plan(planner, shape)
    return Plan(planner.nodes, shape)
