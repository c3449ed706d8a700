"""Static shapes and parameter counts (plan, plan_layers), computed by hand in each test."""

import math
import pathlib

import pytest

from archbuilder.errors import SpecError
from archbuilder.errors import SpecErrors
from archbuilder.spec.plan import plan_spec
from archbuilder.format.shapes import ShapeError
from archbuilder.format.shapes import conv_output
from archbuilder.format.shapes import pool_output
from archbuilder.format.shapes import rnn_params
from archbuilder.spec.load import load_spec

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.json"))


def plan(family, input_shape, **body):
    doc = {"spec_version": 1, "name": "t", "family": family, "input": {"shape": input_shape}, **body}
    return plan_spec(load_spec(doc).concrete())


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def table(p):
    return [(n.name, n.type, n.shape, n.params, n.path) for n in p.nodes]


def plan_error(family, input_shape, **body):
    doc = {"spec_version": 1, "name": "t", "family": family, "input": {"shape": input_shape}, **body}
    with pytest.raises(SpecErrors) as info:
        load_spec(doc)
    (error,) = info.value.errors
    return error.path, error.message


def test_cnn_2d():
    p = plan("cnn", [28, 28, 1], conv=[{"filters": 8, "pool": 2},
                                       {"filters": 16, "padding": "valid", "batch_norm": True}],
             global_pool="avg", dense=[{"units": 32}], output={"units": 10})
    assert table(p) == [
        ("conv_0_conv", "Conv2D", (28, 28, 8), 3 * 3 * 1 * 8 + 8, "$.conv[0]"),
        ("conv_0_pool", "MaxPooling2D", (14, 14, 8), 0, "$.conv[0]"),
        ("conv_1_conv", "Conv2D", (12, 12, 16), 3 * 3 * 8 * 16 + 16, "$.conv[1]"),
        ("conv_1_bn", "BatchNormalization", (12, 12, 16), 4 * 16, "$.conv[1]"),
        ("global_pool", "GlobalAveragePooling2D", (16,), 0, "$.global_pool"),
        ("dense_0", "Dense", (32,), 16 * 32 + 32, "$.dense[0]"),
        ("output", "Dense", (10,), 32 * 10 + 10, "$.output"),
    ]
    assert p.params == 80 + 1168 + 64 + 544 + 330
    assert p.non_trainable_params == 2 * 16
    assert p.largest().name == "conv_1_conv"


def test_cnn_1d_and_3d_flatten():
    p = plan("cnn", [40, 1], conv=[{"filters": 4, "kernel_size": 5, "padding": "valid", "use_bias": False}],
             output={"units": 10})
    assert table(p)[0] == ("conv_0_conv", "Conv1D", (36, 4), 5 * 1 * 4, "$.conv[0]")
    assert table(p)[1] == ("flatten", "Flatten", (144,), 0, "$.global_pool")
    assert p.params == 20 + 1450
    p = plan("cnn", [8, 8, 8, 1], conv=[{"filters": 2, "pool": {"size": 2, "type": "avg"}}], output={"units": 1})
    assert [n.shape for n in p.nodes] == [(8, 8, 8, 2), (4, 4, 4, 2), (128,), (1,)]
    assert [n.type for n in p.nodes] == ["Conv3D", "AveragePooling3D", "Flatten", "Dense"]
    assert p.params == 27 * 2 + 2 + 129


def test_cnn_strides_and_residual_shortcuts():
    p = plan("cnn", [8, 8, 4], conv=[{"filters": 8, "strides": 2, "residual": True, "batch_norm": True},
                                     {"filters": 8, "residual": True}],
             global_pool="max", output={"units": 2})
    assert table(p)[:4] == [
        ("conv_0_conv", "Conv2D", (4, 4, 8), 9 * 4 * 8 + 8, "$.conv[0]"),
        ("conv_0_bn", "BatchNormalization", (4, 4, 8), 32, "$.conv[0]"),
        ("conv_0_shortcut", "Conv2D", (4, 4, 8), 4 * 8 + 8, "$.conv[0]"),  # 1x1 projection, strides 2
        ("conv_0_shortcut_bn", "BatchNormalization", (4, 4, 8), 32, "$.conv[0]"),
    ]
    assert table(p)[4] == ("conv_0_add", "Add", (4, 4, 8), 0, "$.conv[0]")
    assert [n.name for n in p.nodes[5:]] == ["conv_1_conv", "conv_1_add", "global_pool", "output"]  # identity
    assert p.nodes[-2].type == "GlobalMaxPooling2D"
    assert p.edges() == [
        ("input", "conv_0_conv"), ("conv_0_conv", "conv_0_bn"),
        ("input", "conv_0_shortcut"), ("conv_0_shortcut", "conv_0_shortcut_bn"),  # the projection, beside
        ("conv_0_bn", "conv_0_add"), ("conv_0_shortcut_bn", "conv_0_add"),
        ("conv_0_add", "conv_1_conv"), ("conv_1_conv", "conv_1_add"), ("conv_0_add", "conv_1_add"),  # identity
        ("conv_1_add", "global_pool"), ("global_pool", "output")]


def test_mlp_residual_merges():
    p = plan("mlp", [6], dense=[{"units": 4, "residual": True}, {"units": 4, "residual": True, "batch_norm": True}],
             output={"units": 2})
    assert [(n.name, n.type, n.inputs) for n in p.nodes] == [
        ("dense_0", "Dense", ("input",)),
        ("dense_0_shortcut", "Dense", ("input",)),  # 6 -> 4: a projection
        ("dense_0_add", "Add", ("dense_0", "dense_0_shortcut")),
        ("dense_1", "Dense", ("dense_0_add",)),
        ("dense_1_bn", "BatchNormalization", ("dense_1",)),
        ("dense_1_add", "Add", ("dense_1_bn", "dense_0_add")),  # 4 -> 4: the block's input itself
        ("output", "Dense", ("dense_1_add",))]
    assert p.params == (6 * 4 + 4) * 2 + (4 * 4 + 4) + 16 + (4 * 2 + 2)


def test_cnn_backbone():
    p = plan("cnn", [96, 96, 3], backbone={"application": "MobileNetV2", "trainable": False},
             global_pool="avg", output={"units": 5})
    assert table(p)[0] == ("backbone", "MobileNetV2", (3, 3, 1280), 2_257_984, "$.backbone")
    assert p.non_trainable_params == 2_257_984
    assert p.params == 2_257_984 + 1280 * 5 + 5


def test_rnn_stack_with_embedding_and_sequence_pool():
    p = plan("rnn", [None], **{"input": {"shape": [None], "dtype": "int32"}},
             embedding={"input_dim": 100, "output_dim": 8},
             rnn={"cell": "lstm", "units": [16, 8], "bidirectional": True, "return_sequences": True},
             sequence_pool="max", output={"units": 1})
    assert table(p) == [
        ("embedding", "Embedding", (None, 8), 800, "$.embedding"),
        ("rnn_0", "LSTM", (None, 32), 2 * (4 * 16 * (8 + 16) + 4 * 16), "$.rnn.units[0]"),
        ("rnn_1", "LSTM", (None, 16), 2 * (4 * 8 * (32 + 8) + 4 * 8), "$.rnn.units[1]"),
        ("sequence_pool", "GlobalMaxPooling1D", (16,), 0, "$.sequence_pool"),
        ("output", "Dense", (1,), 17, "$.output"),
    ]


def test_rnn_cells_and_per_step_outputs():
    gru = plan("rnn", [40, 1], rnn={"cell": "gru", "units": 16}, output={"units": 10})
    assert table(gru)[0] == ("rnn_0", "GRU", (16,), 3 * 16 * (1 + 16) + 2 * 3 * 16, "$.rnn.units[0]")
    simple = plan("rnn", [40, 3], rnn={"cell": "simple", "units": 4, "return_sequences": True},
                  dense=[{"units": 6}], output={"units": 2})
    assert [n.shape for n in simple.nodes] == [(40, 4), (40, 6), (40, 2)]
    assert simple.nodes[0].params == 4 * (3 + 4) + 4
    stack = plan("rnn", [40, 1], rnn={"cell": "gru", "units": [8, 4]}, output={"units": 2})
    assert [n.shape for n in stack.nodes] == [(40, 8), (4,), (2,)]  # inner layers return sequences
    flat = plan("rnn", [5, 3], rnn={"cell": "simple", "units": 4, "return_sequences": True},
                sequence_pool="flatten", output={"units": 2})
    assert flat.nodes[1].shape == (20,)


def test_dense_autoencoder_on_an_image_with_a_head():
    p = plan("autoencoder", [28, 28, 1], encoder=[{"units": 32}], bottleneck={"units": 8},
             head={"units": 3, "dense": [{"units": 4}]})
    assert table(p) == [
        ("flatten", "Flatten", (784,), 0, "$.input"),
        ("encoder_0", "Dense", (32,), 784 * 32 + 32, "$.encoder[0]"),
        ("bottleneck", "Dense", (8,), 32 * 8 + 8, "$.bottleneck"),
        ("decoder_0", "Dense", (32,), 8 * 32 + 32, "$.decoder[0]"),
        ("reconstruction", "Dense", (784,), 32 * 784 + 784, "$.output"),
        ("head_dense_0", "Dense", (4,), 8 * 4 + 4, "$.head.dense[0]"),
        ("head", "Dense", (3,), 4 * 3 + 3, "$.head"),
    ]
    assert p.nodes[-2].inputs == ("bottleneck",)  # the head branches off the code, beside the decoder


def test_conv_autoencoder_with_a_bottleneck():
    p = plan("autoencoder", [8, 8, 1], encoder=[{"filters": 4, "pool": 2}], bottleneck={"units": 5},
             head={"units": 2})
    assert table(p) == [
        ("encoder_0_conv", "Conv2D", (8, 8, 4), 9 * 4 + 4, "$.encoder[0]"),
        ("encoder_0_pool", "MaxPooling2D", (4, 4, 4), 0, "$.encoder[0]"),
        ("bottleneck_flatten", "Flatten", (64,), 0, "$.bottleneck"),
        ("bottleneck", "Dense", (5,), 64 * 5 + 5, "$.bottleneck"),
        ("bottleneck_expand", "Dense", (64,), 5 * 64 + 64, "$.bottleneck"),
        ("decoder_0_conv", "Conv2DTranspose", (8, 8, 4), 9 * 4 * 4 + 4, "$.decoder[0]"),
        ("reconstruction", "Conv2D", (8, 8, 1), 9 * 4 + 1, "$.output"),
        ("head", "Dense", (2,), 12, "$.head"),
    ]


def test_keras_io_denoising_autoencoder_has_28353_params():
    # https://keras.io/examples/vision/autoencoder/ prints "Total params: 28,353".
    p = load_spec(ROOT / "specs" / "fashion_denoising_ae.json").plan
    assert p.params == 28_353
    assert [n.shape for n in p.nodes if n.type.startswith("Conv")] == [
        (28, 28, 32), (14, 14, 32), (14, 14, 32), (28, 28, 32), (28, 28, 1)]


def test_custom_graph():
    p = load_spec(ROOT / "specs" / "mnist1d_resmlp.json").plan
    assert table(p) == [
        ("h1", "Dense", (100,), 4100, "$.layers[0]"),
        ("h2", "Dense", (100,), 10100, "$.layers[1]"),
        ("sum", "Add", (100,), 0, "$.layers[2]"),
        ("norm", "LayerNormalization", (100,), 200, "$.layers[3]"),
        ("layers_4", "Dropout", (100,), 0, "$.layers[4]"),
        ("layers_5", "Dense", (10,), 1010, "$.layers[5]"),
    ]
    assert p.edges() == [("input", "h1"), ("h1", "h2"), ("h1", "sum"), ("h2", "sum"), ("sum", "norm"),
                         ("norm", "layers_4"), ("layers_4", "layers_5")]
    assert p.input_shape == (40,)
    p = plan("custom", [10, 10, 3], layers=[
        {"type": "Conv2D", "filters": 4, "kernel_size": 3},
        {"type": "MaxPooling2D"},
        {"type": "Flatten", "name": "flat"},
        {"type": "BatchNormalization", "name": "bn"},
        {"type": "Concatenate", "inputs": ["flat", "bn"]},
        {"type": "Dense", "units": 2}])
    assert [(n.shape, n.params) for n in p.nodes] == [
        ((8, 8, 4), 9 * 3 * 4 + 4), ((4, 4, 4), 0), ((64,), 0), ((64,), 256), ((128,), 0), ((2,), 258)]
    assert p.non_trainable_params == 128


# --- shapes that cannot be built ----------------------------------------------


def test_pooling_that_shrinks_a_feature_map_to_zero():
    path, message = plan_error("cnn", [4, 4, 1], conv=[{"filters": 2, "pool": 2}] * 3, output={"units": 2})
    assert path == "$.conv[2].pool"
    assert message == "pooling 2x2 would shrink the 1x1 feature map to 0x0"


def test_strided_valid_conv_that_shrinks_to_zero():
    path, message = plan_error("cnn", [9, 9, 1], conv=[{"filters": 2, "strides": 2, "padding": "valid"}] * 3,
                               output={"units": 2})
    assert path == "$.conv[2]"  # 9 -> 4 -> 1 -> 0
    assert message == "kernel 3x3 with padding 'valid' would shrink the 1x1 feature map to 0x0"


def test_residual_with_valid_padding():
    path, message = plan_error("cnn", [6, 6, 2], conv=[{"filters": 2, "padding": "valid", "residual": True}],
                               output={"units": 2})
    assert path == "$.conv[0]"
    assert "4x4x2 cannot be added to its input 6x6x2" in message


def test_mirror_decoder_that_cannot_restore_the_input_size():
    path, message = plan_error("autoencoder", [28, 28, 1], encoder=[{"filters": 4, "pool": 2}] * 3)
    assert path == "$.decoder"
    assert "the decoder gives 24x24 but the input is 28x28" in message
    assert "(encoder: 28x28 -> 14x14 -> 7x7 -> 3x3)" in message


def test_a_mirror_that_divides_evenly_is_fine():
    p = plan("autoencoder", [28, 28, 1], encoder=[{"filters": 4, "pool": 2}, {"filters": 4, "pool": 2}])
    assert p.nodes[-1].shape == (28, 28, 1)


def test_flatten_of_an_unknown_length():
    path, message = plan_error("rnn", [None, 2], rnn={"cell": "gru", "units": 4, "return_sequences": True},
                               sequence_pool="flatten", output={"units": 2})
    assert path == "$.sequence_pool"
    assert "fixed sizes" in message


def test_unsized_axes_that_weights_or_reconstructions_depend_on():
    path, message = plan_error("custom", [40, None], layers=[{"type": "Dense", "units": 3}])
    assert (path, message) == ("$.layers[0]", "Dense needs a known size on the last axis; its input is 40x?")
    path, message = plan_error("autoencoder", [None, 3], encoder=[{"units": 4}], bottleneck={"units": 2})
    assert (path, message) == ("$.input.shape", "a dense autoencoder reconstructs every input value: give every "
                                                "axis a size")
    assert plan("rnn", [None, 3], rnn={"cell": "gru", "units": 4}, output={"units": 2}).nodes[0].shape == (4,)


@pytest.mark.parametrize("layer, shape, message", [
    ({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 1}, [8, 3],
     "Conv2DTranspose takes inputs of 2 spatial axes and channels; its input is 8x3"),
    ({"type": "GlobalAveragePooling1D"}, [40], "GlobalAveragePooling1D takes inputs of 1 spatial axes"),
    ({"type": "PReLU"}, [None, 3], "PReLU has one weight per input value"),
    ({"type": "Permute", "dims": [1, 3]}, [4, 5], "Permute dims [1, 3] must order the axes 1..2"),
], ids=["conv-rank", "pool-rank", "prelu-unsized", "permute-dims"])
def test_custom_layers_that_cannot_take_their_input(layer, shape, message):
    path, text = plan_error("custom", shape, layers=[layer])
    assert path == "$.layers[0]" and text.startswith(message)
    assert plan("custom", [None, 3], layers=[{"type": "PReLU", "shared_axes": [1]}]).params == 3


@pytest.mark.parametrize("layer, shape, message", [
    ({"type": "BatchNormalization", "axis": 2}, [4], "BatchNormalization axis 2 is not an axis of its input 4"),
    ({"type": "BatchNormalization", "axis": -2}, [4], "BatchNormalization axis -2 is not an axis"),
    ({"type": "BatchNormalization", "axis": 0}, [4, 3], "BatchNormalization axis 0 is not an axis"),
    ({"type": "BatchNormalization", "axis": [1]}, [4], "BatchNormalization normalizes one axis: give axis an int"),
    ({"type": "BatchNormalization", "axis": 1}, [None, 3], "BatchNormalization has one weight per value of axis 1"),
    ({"type": "LayerNormalization", "axis": [1, -2]}, [4, 3], "LayerNormalization axis [1, -2] names axis"),
    ({"type": "GroupNormalization", "groups": 4}, [6], "GroupNormalization groups=4 must divide the 6 channels"),
], ids=["bn-past-the-end", "bn-batch-from-the-end", "bn-batch", "bn-list", "bn-unsized", "ln-twice", "gn-groups"])
def test_normalization_axes_are_checked_against_the_input(layer, shape, message):
    path, text = plan_error("custom", shape, layers=[layer])
    assert path == "$.layers[0]" and text.startswith(message), text


def test_normalization_axes_count_the_batch_axis_like_keras():
    """Keras's `axis` includes the batch axis: axis 1 of a [4, 3] sample is its 4, not its 3."""
    def layer(kind, **args):
        node = plan("custom", [4, 3], layers=[{"type": kind, **args}]).nodes[0]
        return node.params, node.non_trainable

    assert layer("BatchNormalization", axis=1) == (4 * 4, 2 * 4)
    assert layer("BatchNormalization", axis=-2) == (4 * 4, 2 * 4)
    assert layer("BatchNormalization") == (4 * 3, 2 * 3)
    assert layer("LayerNormalization", axis=[1, 2]) == (2 * 12, 0)
    assert layer("GroupNormalization", groups=3, axis=-1) == (2 * 3, 0)
    assert plan("custom", [4], layers=[{"type": "BatchNormalization", "axis": 1}]).params == 16


def test_merge_axes_count_the_batch_axis_like_keras():
    def merged(kind, shapes, **args):
        layers = [{"type": "Reshape", "target_shape": s, "name": f"in{i}", "inputs": "input"}
                  for i, s in enumerate(shapes)]
        layers.append({"type": kind, "inputs": [f"in{i}" for i in range(len(shapes))], **args})
        return plan("custom", [math.prod(shapes[0])], layers=layers).nodes[-1].shape

    assert merged("Concatenate", [[3, 4], [3, 4]], axis=1) == (6, 4)
    assert merged("Concatenate", [[3, 4], [3, 4]]) == (3, 8)
    assert merged("Dot", [[3, 4], [3, 4]], axes=1) == (4, 4)
    assert merged("Dot", [[3, 4], [3, 4]], axes=[2, 2]) == (3, 3)
    assert merged("Dot", [[12], [12]], axes=1) == (1,)
    path, text = plan_error("custom", [12], layers=[
        {"type": "Reshape", "target_shape": [3, 4], "name": "a"},
        {"type": "Concatenate", "inputs": ["a", "a"], "axis": 3}])
    assert (path, text) == ("$.layers[1]", "Concatenate axis 3 is not an axis of its input 3x4 (valid: 1..2 or "
                                           "-2..-1; axis 0 is the batch)")


def test_keras_agrees_on_axes(keras):
    """The same layers written out in Keras: shapes and parameter counts."""
    x = keras.Input((4, 3))
    for kind, args, params in [("BatchNormalization", {"axis": 1}, 16), ("LayerNormalization", {"axis": [1, 2]}, 24),
                               ("GroupNormalization", {"groups": 3}, 6)]:
        model = keras.Model(x, getattr(keras.layers, kind)(**args)(x))
        assert model.count_params() == params
        assert plan("custom", [4, 3], layers=[{"type": kind, **args}]).params == params
    assert tuple(keras.layers.Concatenate(axis=1)([x, x]).shape[1:]) == (8, 3)
    assert tuple(keras.layers.Dot(axes=1)([x, x]).shape[1:]) == (3, 3)
    assert tuple(keras.layers.Dot(axes=2)([x, x]).shape[1:]) == (4, 4)


def test_backbone_on_an_image_of_unknown_height():
    p = plan("cnn", [None, 64, 3], backbone={"application": "MobileNetV2"}, global_pool="avg",
             output={"units": 2})
    assert p.nodes[0].shape == (None, 2, 1280)
    path, message = plan_error("cnn", [None, 16, 3], backbone={"application": "MobileNetV2"}, global_pool="avg",
                               output={"units": 2})
    assert path == "$.backbone.application" and "at least 32x32x3; the input is ?x16x3" in message


def test_repetition_errors_point_into_the_repeat_form():
    """A repeat form's repetitions are `$.conv[i]` once resolved; the file has `$.conv.each` there."""
    path, message = plan_error("cnn", [8, 1], conv={"repeat": 4, "each": {"filters": 2, "padding": "valid"}},
                               output={"units": 2})
    assert path == "$.conv.each"  # 8 -> 6 -> 4 -> 2 -> 0
    assert message == "kernel 3 with padding 'valid' would shrink the 2 feature map to 0 (in repetition 3)"
    path, message = plan_error("cnn", [8, 1], conv={"repeat": 3, "each": {"filters": 2, "pool": {"choice": [4]}}},
                               output={"units": 2})
    assert (path, message) == ("$.conv.each.pool", "pooling 4 would shrink the 2 feature map to 0 (in repetition 1)")


def test_huge_models_get_a_short_message():
    doc = {"spec_version": 1, "name": "t", "family": "custom", "input": {"shape": [10**90]},
           "layers": [{"type": "Dense", "units": 10**90}]}
    with pytest.raises(SpecErrors) as info:
        load_spec(doc)
    assert sorted(error.path for error in info.value.errors) == ["$.input.shape[0]", "$.layers[0].units"]
    assert all("is greater than the maximum of" in error.message for error in info.value.errors)
    path, message = plan_error("custom", [2**31 - 1], layers=[{"type": "Dense", "units": 2**62},
                                                               {"type": "Dense", "units": 2**62}])
    assert path == "$.layers[1]" and len(message) < 300
    assert message.startswith("the model has 2.13e+37 parameters, over the limit of 1,000,000,000")


def test_too_many_params_names_the_layer_and_the_total():
    doc = {"spec_version": 1, "name": "t", "family": "cnn", "input": {"shape": [40]},
           "dense": [{"units": 64}], "output": {"units": 10}}
    with pytest.raises(SpecErrors) as info:
        load_spec(doc, max_params=2000)
    (error,) = info.value.errors
    assert error.path == "$.dense[0]"
    assert "3,274 parameters, over the limit of 2,000" in error.message
    assert "dense_0 (Dense), has 2,624" in error.message
    assert load_spec(doc, max_params=3274).plan.params == 3274


# --- single layers -------------------------------------------------------------


@pytest.mark.parametrize("args, shape", [
    (((28, 28, 1), 8, 3, 1, "same"), (28, 28, 8)),
    (((28, 28, 1), 8, 3, 2, "same"), (14, 14, 8)),
    (((27, 27, 1), 8, 3, 2, "same"), (14, 14, 8)),
    (((28, 28, 1), 8, 5, 2, "valid"), (12, 12, 8)),
    (((None, 3), 8, 3, 1, "valid"), (None, 8)),
    (((7, 7, 4), 2, 3, 2, "same", True), (14, 14, 2)),
    (((7, 7, 4), 2, 3, 2, "valid", True), (15, 15, 2)),
    (((10, 10, 1), 2, [3, 1], [1, 2], "valid"), (8, 5, 2)),
])
def test_conv_output(args, shape):
    assert conv_output(*args) == shape


def test_pool_output_and_errors():
    assert pool_output((7, 7, 3), 2, 2, "valid") == (3, 3, 3)
    assert pool_output((7, 7, 3), 2, 2, "same") == (4, 4, 3)
    assert pool_output((7, 7, 3), 3, 1, "valid") == (5, 5, 3)
    with pytest.raises(ShapeError, match="has 3 values; the input has 2 spatial axes"):
        pool_output((7, 7, 3), [2, 2, 2], None, "valid")


def test_rnn_params_match_keras_formulas():
    assert rnn_params("simple", 3, 4) == 4 * 3 + 4 * 4 + 4
    assert rnn_params("lstm", 3, 4) == 4 * (4 * 3 + 4 * 4 + 4)
    assert rnn_params("gru", 3, 4) == 3 * (4 * 3 + 4 * 4) + 2 * 3 * 4
    assert rnn_params("gru", 3, 4, reset_after=False) == 3 * (4 * 3 + 4 * 4 + 4)


def test_plan_errors_carry_the_path():
    with pytest.raises(SpecError) as info:
        plan_spec({"family": "cnn", "input": {"shape": [2, 2, 1]}, "backbone": None, "global_pool": None,
                   "dense": [], "output": {"units": 2},
                   "conv": [{"filters": 1, "kernel_size": 3, "strides": 1, "padding": "valid", "use_bias": True,
                             "batch_norm": False, "residual": False, "pool": None}]})
    assert info.value.path == "$.conv[0]"


# --- the plan against Keras ------------------------------------------------------


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_plan_total_equals_the_built_keras_model(path):
    from archbuilder.model.build import build_spec

    spec = load_spec(path)
    built = build_spec(spec)
    assert built.model.count_params() == spec.plan.params
