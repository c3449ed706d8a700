"""The `mlp` family's static plan: [flatten] -> dense layers (with their residual projections) -> output."""

__all__ = ["plan"]


def _item(planner, shape, item, path, name):
    block_input = planner.last
    out = planner.dense(shape, item["units"], path, name)
    if item["batch_norm"]:
        out = planner.batch_norm(out, path, f"{name}_bn")
    if item["residual"]:
        main = planner.last
        planner.last = block_input
        if tuple(shape) != tuple(out):
            planner.dense(shape, item["units"], path, f"{name}_shortcut")
            if item["batch_norm"]:
                planner.batch_norm(out, path, f"{name}_shortcut_bn")
        planner.residual_add(out, main, planner.last, path, name)
    return out


def plan(planner, shape):
    spec = planner.spec
    if len(shape) > 1:
        shape = planner.flatten(shape, "$.input")
    for i, item in enumerate(spec["dense"]):
        shape = _item(planner, shape, item, f"$.dense[{i}]", f"dense_{i}")
    return planner.output(shape, spec["output"])
