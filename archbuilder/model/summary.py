"""What `archbuilder build` shows of a built model: the layer table, the parameter totals, a diagram.

The diagram is Keras's `plot_model` where pydot and Graphviz are installed; without
them it is drawn from the static plan (`archbuilder.spec.plan`), which knows every
branch and merge, with matplotlib's object API (no pyplot state).
"""

import shutil

from archbuilder.atomic import atomic_write
from archbuilder.format.planner import INPUT
from archbuilder.plotting import new_figure
from archbuilder.plotting import png_bytes
from archbuilder.text import count
from archbuilder.text import shape as fmt_shape

__all__ = ["layer_table", "model_summary", "format_table", "plot_model", "plan_figure", "node_label", "GAP", "SHIFT"]

GAP = 0.18  # from a box's centre to where its arrows start or end: half a box's height, in rows
SHIFT = 0.12  # how far right of a box's centre a skip connection starts and ends


def _shape(layer):
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return "?"
    if isinstance(shape, dict):
        return ", ".join(str(tuple(s)) for s in shape.values())
    return str(tuple(shape)).replace("None", "None")


def layer_table(built):
    """Rows `(name, type, output shape, params, spec path)` of a built model, and the totals."""
    import keras

    model = built.model
    rows = []
    for layer in model.layers:
        rows.append((layer.name, type(layer).__name__, _shape(layer), layer.count_params(),
                     built.paths.get(layer.name, "")))
    trainable = sum(int(keras.ops.size(w)) for w in model.trainable_weights)
    non_trainable = sum(int(keras.ops.size(w)) for w in model.non_trainable_weights)
    return rows, trainable, non_trainable


def model_summary(spec, built):
    """The lines `build` prints and `summary.txt` starts with: layer table, totals, backend."""
    import keras

    rows, trainable, non_trainable = layer_table(built)
    return [
        f"Model: {spec.name} ({spec.family})",
        format_table(rows),
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {non_trainable:,}",
        f"Total params: {trainable + non_trainable:,}",
        f"Backend: {keras.backend.backend()} (Keras {keras.__version__})",
    ]


def format_table(rows, headers=("Layer", "Type", "Output shape", "Params", "Spec path")):
    cells = [headers] + [(str(a), str(b), str(c), f"{d:,}", str(e)) for a, b, c, d, e in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) if i != 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _graphviz():
    """Whether Keras's own `plot_model` can draw: pydot importable and Graphviz's `dot` on PATH."""
    import importlib.util

    return importlib.util.find_spec("pydot") is not None and shutil.which("dot") is not None


def plot_model(model, path, plan):
    """Keras's plot_model where pydot and Graphviz exist; else `plan_figure` of the static plan, as PNG.

    Keras's `plot_model` without them raises, or in IPython prints a line and draws
    nothing, so their presence is checked first.
    """
    if _graphviz():
        import keras

        keras.utils.plot_model(model, to_file=path, show_shapes=True, show_layer_names=True)
        return
    with atomic_write(path, "wb") as f:
        f.write(png_bytes(plan_figure(plan, model.name)))


def _levels(plan):
    """Each node's row: one below the lowest of its inputs (the input on row 0), in the plan's order."""
    level = {INPUT: 0}
    for node in plan.nodes:
        level[node.name] = 1 + max(level[source] for source in node.inputs)
    return level


def node_label(node):
    """A box's text: `name`, then `Type  shape  params`."""
    return f"{node.name}\n{node.type}  {fmt_shape(node.shape)}  {count(node.params)} params"


def plan_figure(plan, title="model"):
    """The model graph drawn from the static plan: a box per node, an arrow per connection.

    Data flows down: the input on top, each node one row below the lowest of the
    nodes it takes its inputs from; nodes of one row sit side by side. A box says the
    node's name, type, output shape and params. An arrow is an annotation from the
    bottom of the box of the node that feeds (`xyann`) to the top of the box of the node
    fed (`xy`), `GAP` from their centres; one that skips rows (a skip connection) leaves
    and enters `SHIFT` right of the centres and bends around the boxes between, in red. Every box
    has the gid `node:NAME`, every arrow `edge:SOURCE->TARGET`.
    """
    level = _levels(plan)
    rows = {}
    for name in [INPUT] + [n.name for n in plan.nodes]:
        rows.setdefault(level[name], []).append(name)
    width = max(len(r) for r in rows.values())
    position = {}
    for row, names in rows.items():
        for i, name in enumerate(names):
            position[name] = ((i + 0.5) * width / len(names), -row)
    labels = {INPUT: f"input\n{fmt_shape(plan.input_shape)}"}
    labels.update((node.name, node_label(node)) for node in plan.nodes)
    fig = new_figure(max(4.5, 3.4 * width), 0.85 * len(rows) + 0.6)
    ax = fig.add_subplot()
    boxes = {}
    for name, (x, y) in position.items():
        boxes[name] = ax.text(x, y, labels[name], ha="center", va="center", fontsize=7, zorder=3,
                              bbox={"boxstyle": "round", "facecolor": "#e8eef7", "edgecolor": "#4a6fa5"})
        boxes[name].set_gid(f"node:{name}")
    for source, target in plan.edges():
        skips = level[target] - level[source] > 1
        (x0, y0), (x1, y1) = position[source], position[target]
        shift = SHIFT if skips else 0.0  # a skip leaves and enters its boxes off-centre, beside the straight arrows
        arrow = ax.annotate("", xy=(x1 + shift, y1 + GAP), xytext=(x0 + shift, y0 - GAP), zorder=2,
                            arrowprops={"arrowstyle": "-|>", "mutation_scale": 10, "linewidth": 1,
                                        "color": "#d1495b" if skips else "#333333", "shrinkA": 0, "shrinkB": 0,
                                        "connectionstyle": f"arc3,rad={-0.5 if skips else 0.0}"})
        arrow.set_gid(f"edge:{source}->{target}")
    ax.set_xlim(-0.1, width + 0.1)
    ax.set_ylim(-max(rows) - 0.5, 0.5)
    ax.axis("off")
    ax.set_title(f"{title} (drawn from archbuilder's plan: install pydot and Graphviz for Keras's own diagram)",
                 fontsize=8)
    return fig
