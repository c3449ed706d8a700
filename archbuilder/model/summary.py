"""What `archbuilder build` shows of a built model: the layer table, the parameter totals, a plot."""

import os

__all__ = ["layer_table", "model_summary", "format_table", "plot_model"]


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


def plot_model(model, path):
    """Keras's plot_model where pydot and Graphviz exist; else a matplotlib layer chart."""
    import keras

    try:
        keras.utils.plot_model(model, to_file=path, show_shapes=True, show_layer_names=True)
        if os.path.exists(path):
            return
    except (ImportError, OSError, AttributeError):
        pass
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = model.layers
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(layers) + 0.6))
    for i, layer in enumerate(layers):
        y = len(layers) - i
        ax.text(0.5, y, f"{layer.name}  ({type(layer).__name__})  {_shape(layer)}", ha="center", va="center",
                fontsize=8, bbox={"boxstyle": "round", "facecolor": "#e8eef7", "edgecolor": "#4a6fa5"})
        if i:
            ax.annotate("", xy=(0.5, y + 0.25), xytext=(0.5, y + 0.75), arrowprops={"arrowstyle": "<-"})
    ax.set_xlim(0, 1)
    ax.set_ylim(0.3, len(layers) + 0.7)
    ax.axis("off")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
