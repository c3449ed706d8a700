"""The fallback `--plot` diagram (no pydot/Graphviz): drawn from the static plan, every branch and merge."""

import pathlib

import pytest

from archbuilder.model import summary
from archbuilder.model.build import build_and_save
from archbuilder.model.build import build_model
from archbuilder.spec.load import load_spec

ROOT = pathlib.Path(__file__).resolve().parents[2]

RESIDUAL_CNN = {
    "spec_version": 1, "name": "rescnn", "family": "cnn", "input": {"shape": [40, 1]},
    "conv": [{"filters": 8, "strides": 2, "residual": True, "batch_norm": True, "pool": 2},
             {"filters": 8, "residual": True}],
    "global_pool": "avg", "dense": [{"units": 16}], "output": {"units": 10},
}
SPECS = {"resmlp": ROOT / "specs" / "mnist1d_resmlp.json", "rescnn": RESIDUAL_CNN}


def drawn(fig):
    """`{name: (x, y)}` of the boxes and `{(source, target): (start, end)}` of the arrows a figure draws."""
    (ax,) = fig.axes
    boxes = {t.get_gid()[5:]: tuple(t.get_position()) for t in ax.texts if (t.get_gid() or "").startswith("node:")}
    arrows = {tuple(a.get_gid()[5:].split("->")): (tuple(a.xyann), tuple(a.xy))
              for a in ax.texts if (a.get_gid() or "").startswith("edge:")}
    return boxes, arrows


@pytest.mark.parametrize("name", SPECS)
def test_the_diagram_draws_the_plan_edges_in_the_direction_data_flows(name):
    plan = load_spec(SPECS[name]).plan
    boxes, arrows = drawn(summary.plan_figure(plan, name))
    assert set(boxes) == {"input"} | {n.name for n in plan.nodes}
    assert sorted(arrows) == sorted(plan.edges())
    merges = [n for n in plan.nodes if n.type == "Add"]
    assert merges and all(len(n.inputs) == 2 for n in merges)  # the skip connections are there to draw
    for (source, target), (start, end) in arrows.items():
        (x0, y0), (x1, y1) = boxes[source], boxes[target]
        assert start[1] == y0 - summary.GAP and end[1] == y1 + summary.GAP  # from below one box to above the next
        assert start[0] - x0 in (0, pytest.approx(summary.SHIFT)) and end[0] - x1 == pytest.approx(start[0] - x0)  # skips: beside
        assert start[1] > end[1], f"{source}->{target} points up"  # data flows down the page
    labels = {t.get_gid()[5:]: t.get_text() for t in summary.plan_figure(plan).axes[0].texts
              if (t.get_gid() or "").startswith("node:")}
    for node in plan.nodes:
        assert labels[node.name] == summary.node_label(node)
        assert node.type in labels[node.name] and f"{node.params:,} params" in labels[node.name]


def test_labels_say_type_shape_and_params():
    plan = load_spec(SPECS["resmlp"]).plan
    labels = {n.name: summary.node_label(n) for n in plan.nodes}
    assert labels["h2"] == "h2\nDense  100  10,100 params"
    assert labels["sum"] == "sum\nAdd  100  0 params"


def test_the_residual_cnn_edges_by_hand():
    edges = load_spec(RESIDUAL_CNN).plan.edges()
    assert ("input", "conv_0_shortcut") in edges  # the projection starts at the block's input
    assert {("conv_0_bn", "conv_0_add"), ("conv_0_shortcut_bn", "conv_0_add")} <= set(edges)
    assert {("conv_0_pool", "conv_1_conv"), ("conv_0_pool", "conv_1_add"), ("conv_1_conv", "conv_1_add")} <= set(edges)


def _keras_edges(model, planned):
    """The Keras graph's connections between planned layers (unplanned ones, e.g. Activation, looked through)."""
    def sources(layer):
        found = []
        for parent in layer._inbound_nodes[0].parent_nodes:
            op = parent.operation
            found += [op.name] if op.name in planned else sources(op)
        return found

    return sorted((s, layer.name) for layer in model.layers if layer.name in planned - {"input"}
                  for s in sources(layer))


@pytest.mark.parametrize("name", SPECS)
def test_the_plan_edges_are_the_built_model_graph(name):
    spec = load_spec(SPECS[name])
    planned = {"input"} | {n.name for n in spec.plan.nodes}
    model = build_model(spec.concrete(), compile=False).model
    assert _keras_edges(model, planned) == sorted(spec.plan.edges())


def test_build_plot_without_graphviz_draws_the_plan(tmp_path, monkeypatch):
    drawn_plans = []
    original = summary.plan_figure
    monkeypatch.setattr(summary, "plan_figure", lambda plan, title: drawn_plans.append(plan) or original(plan, title))
    monkeypatch.setattr(summary, "_graphviz", lambda: False)
    plot = tmp_path / "model.png"
    report = build_and_save(load_spec(SPECS["resmlp"]), str(tmp_path / "model.keras"), str(plot))
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and str(plot) in report
    (plan,) = drawn_plans
    assert ("h1", "sum") in plan.edges()  # the skip connection, not a chain
