"""Multiply-adds per sample in the static plan, computed by hand in each test."""

from archbuilder.spec.load import load_spec
from archbuilder.spec.plan import plan_spec


def plan(family, input_shape, **body):
    doc = {"spec_version": 1, "name": "t", "family": family, "input": {"shape": input_shape}, **body}
    return plan_spec(load_spec(doc).concrete())


def flops(p):
    return {n.name: n.flops for n in p.nodes}


def test_cnn_counts_each_weight_once_per_output_position():
    p = plan("cnn", [28, 28, 1], conv=[{"filters": 8, "pool": 2},
                                       {"filters": 16, "padding": "valid", "batch_norm": True}],
             global_pool="avg", dense=[{"units": 32}], output={"units": 10})
    assert flops(p) == {
        "conv_0_conv": 28 * 28 * (3 * 3 * 1 * 8),
        "conv_0_pool": 0,
        "conv_1_conv": 12 * 12 * (3 * 3 * 8 * 16),
        "conv_1_bn": 12 * 12 * 16,
        "global_pool": 0,
        "dense_0": 16 * 32,
        "output": 32 * 10,
    }
    assert p.flops == sum(flops(p).values())
    assert p.flops_estimated == []


def test_transposed_convolutions_count_per_input_position():
    p = plan("custom", [7, 7, 4], layers=[
        {"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
        {"type": "SeparableConv2D", "filters": 5, "kernel_size": 3},
        {"type": "Flatten"}, {"type": "Dense", "units": 3}])
    f = [n.flops for n in p.nodes]
    assert f[0] == 7 * 7 * (3 * 3 * 4 * 2)  # the output is 14x14, the kernel is applied at 7x7 inputs
    assert f[1] == 12 * 12 * (3 * 3 * 2 + 2 * 5)  # depthwise + pointwise at the 12x12 outputs
    assert f[2] == 0 and f[3] == 12 * 12 * 5 * 3


def test_recurrent_layers_count_their_weights_per_time_step():
    p = plan("rnn", [20, 3], rnn={"cell": "lstm", "units": [8]}, output={"units": 2})
    assert flops(p)["rnn_0"] == 20 * 4 * 8 * (3 + 8)
    assert flops(p)["output"] == 8 * 2


def test_unknown_sizes_and_backbones_are_estimated():
    p = plan("rnn", [None, 3], rnn={"cell": "gru", "units": [4]}, output={"units": 2})
    assert p.flops_estimated == ["rnn_0"]
    assert flops(p)["rnn_0"] == 3 * 4 * (3 + 4)  # one time step
    p = plan("cnn", [112, 112, 3], backbone={"application": "MobileNetV2"}, conv=[], global_pool="avg",
             output={"units": 2})
    assert p.flops_estimated == ["backbone"]
    assert flops(p)["backbone"] == 299_000_000 // 4  # a quarter of 224x224's area
