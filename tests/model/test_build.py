"""build_model: layer names and paths, errors at spec paths, regularization, compile, backbones."""

import backend_parity as S
import keras
import numpy as np
import pytest

from archbuilder.model.compile import build_loss, build_optimizer, lr_callbacks
from archbuilder.errors import SpecError
from archbuilder.model.build import build_model

RNG = np.random.default_rng(0)


def spec_error(spec):
    with pytest.raises(SpecError) as error:
        build_model(spec)
    assert "\n" not in error.value.message
    return error.value


# Names and paths ------------------------------------------------------------------


def test_layer_names_derive_from_spec_paths():
    spec = S.cnn([16, 16, 3], [S.conv(4, batch_norm=True, residual=True, pool=S.pool(2), dropout=0.1)],
                 [S.dense(8, batch_norm=True, dropout=0.2)], dropout=0.3)
    built = build_model(spec)
    assert built.paths == {
        "input": "$.input",
        "conv_0_conv": "$.conv[0]", "conv_0_bn": "$.conv[0]", "conv_0_shortcut": "$.conv[0]",
        "conv_0_shortcut_bn": "$.conv[0]", "conv_0_add": "$.conv[0]", "conv_0_act": "$.conv[0]",
        "conv_0_pool": "$.conv[0].pool", "conv_0_drop": "$.conv[0]",
        "flatten": "$.global_pool",
        "dense_0": "$.dense[0]", "dense_0_bn": "$.dense[0]", "dense_0_act": "$.dense[0]", "dense_0_drop": "$.dense[0]",
        "output_drop": "$.output", "output": "$.output",
    }
    assert sorted(layer.name for layer in built.model.layers) == sorted(built.paths)
    assert built.encoder is None


def test_rnn_and_autoencoder_names():
    rnn = build_model(S.rnn([None], "lstm", [4, 4], dtype="int32", bidirectional=True,
                            embedding={"input_dim": 10, "output_dim": 3, "mask_zero": False}))
    assert rnn.paths == {"input": "$.input", "embedding": "$.embedding", "rnn_0": "$.rnn.units[0]",
                         "rnn_1": "$.rnn.units[1]", "output": "$.output"}
    assert rnn.model.get_layer("rnn_0").forward_layer.name.startswith("forward_rnn_0")
    spec = S.autoencoder([6, 6, 1], [S.conv(2, pool=S.pool(2))], [S.conv(2, strides=2, transpose=True)],
                         bottleneck={"units": 3, "activation": "relu"}, variant="sparse", head=S.head(2))
    spec["sparsity"] = {"l1": 0.1}
    ae = build_model(spec)
    assert list(ae.paths) == ["input", "encoder_0_conv", "encoder_0_pool", "bottleneck_flatten", "bottleneck",
                              "sparsity", "bottleneck_expand", "bottleneck_reshape", "decoder_0_conv",
                              "reconstruction", "head"]
    assert ae.paths["sparsity"] == "$.sparsity" and ae.paths["head"] == "$.head"


def test_model_output_layers_are_float32_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        spec = S.autoencoder([4, 4, 1], [S.dense(8)], [S.dense(8)], bottleneck={"units": 2, "activation": "relu"},
                             head=S.head(3))
        built = build_model(spec)
    finally:
        keras.config.set_dtype_policy(previous)
    outputs = built.model(np.zeros((2, 4, 4, 1), "float32"))
    assert {name: keras.backend.standardize_dtype(t.dtype) for name, t in outputs.items()} == {
        "reconstruction": "float32", "head": "float32"}


# Errors -------------------------------------------------------------------------


def test_keras_errors_come_back_at_the_entry_path():
    error = spec_error(S.cnn([28, 28, 1], dense_items=[S.dense(4), S.dense(8, activation="relux")]))
    assert error.path == "$.dense[1]" and "relux" in error.message
    error = spec_error(S.cnn([4, 1], [S.conv(2, kernel_size=5, padding="valid")]))
    assert error.path == "$.conv[0]"
    error = spec_error(S.cnn([8, 1], [S.conv(2, pool=S.pool(16))]))
    assert error.path == "$.conv[0].pool"


def test_custom_errors_name_the_layer_entry():
    error = spec_error(S.custom([4], [{"type": "Lambda", "function": "x"}]))
    assert error.path == "$.layers[0].type"
    error = spec_error(S.custom([4], [{"type": "Dense", "units": 3, "unitz": 3}]))
    assert error.path == "$.layers[0]" and "unitz" in error.message
    error = spec_error(S.custom([4], [{"type": "Dense", "units": 3, "name": "a"}, {"type": "Add", "inputs": ["a", "b"]}]))
    assert error.path == "$.layers[1].inputs" and "'b'" in error.message


def test_bad_training_entries_come_back_at_their_paths():
    spec = S.cnn([4], units=2)
    spec["training"]["optimizer"] = {"type": "adam", "learning_rate": 0.1, "momentun": 0.9}
    assert spec_error(spec).path == "$.training.optimizer"
    spec["training"]["optimizer"] = {"type": "adamm"}
    assert spec_error(spec).path == "$.training.optimizer.type"
    spec = S.cnn([4], units=2)
    spec["training"]["metrics"] = ["accuracy", "acuracy"]
    assert spec_error(spec).path == "$.training.metrics[1]"
    spec = S.cnn([4], units=2)
    spec["training"]["loss"] = {"type": "sparse_categorical_crossentropy", "label_smoothing": 0.1}
    assert spec_error(spec).path == "$.training.loss"


def test_decoder_that_does_not_return_the_input_size_is_an_error():
    spec = S.autoencoder([14, 14, 1], [S.conv(2, pool=S.pool(2)), S.conv(2, pool=S.pool(2))],
                         [S.conv(2, strides=2, transpose=True), S.conv(2, strides=2, transpose=True)])
    error = spec_error(spec)
    assert error.path == "$.decoder" and "[12, 12, 1]" in error.message


# Regularization -----------------------------------------------------------------


def _l2(layer, attribute="kernel_regularizer"):
    regularizer = getattr(layer, attribute, None)
    return None if regularizer is None else round(float(regularizer.l2), 8)


def test_top_level_regularization_reaches_every_kernel_but_not_bn_bias_or_recurrent():
    spec = S.cnn([8, 8, 1], [S.conv(2, batch_norm=True, residual=True),
                             S.conv(2, regularization={"l1": 0.0, "l2": 0.5})],
                 [S.dense(4, batch_norm=True)], regularization={"l1": 0.0, "l2": 0.01})
    model = build_model(spec).model
    assert _l2(model.get_layer("conv_0_conv")) == 0.01
    assert _l2(model.get_layer("conv_0_shortcut")) == 0.01
    assert _l2(model.get_layer("conv_1_conv")) == 0.5
    assert _l2(model.get_layer("dense_0")) == 0.01
    assert _l2(model.get_layer("output")) == 0.01
    for name in ("conv_0_conv", "dense_0", "output"):
        assert model.get_layer(name).bias_regularizer is None
    bn = model.get_layer("dense_0_bn")
    assert bn.beta_regularizer is None and bn.gamma_regularizer is None

    spec = S.rnn([None], "gru", [3], dtype="int32", bidirectional=True,
                 embedding={"input_dim": 5, "output_dim": 2, "mask_zero": False})
    spec["regularization"] = {"l1": 0.001, "l2": 0.0}
    model = build_model(spec).model
    cell = model.get_layer("rnn_0").forward_layer.cell
    assert cell.kernel_regularizer is not None and cell.recurrent_regularizer is None
    assert model.get_layer("embedding").embeddings_regularizer is None


def test_zero_regularization_is_none():
    spec = S.cnn([4], [], [S.dense(2)], regularization={"l1": 0.0, "l2": 0.0})
    assert build_model(spec).model.get_layer("dense_0").kernel_regularizer is None


def test_regularization_adds_to_the_loss():
    spec = S.cnn([3], [], [], units=1, activation="linear", regularization={"l1": 0.0, "l2": 0.5})
    spec["training"] = S.training(loss="mse", metrics=["mae"])
    model = build_model(spec).model
    kernel = keras.ops.convert_to_numpy(model.get_layer("output").kernel)
    x, y = RNG.normal(size=(4, 3)).astype("float32"), np.zeros((4, 1), "float32")
    mse = (model.predict(x, verbose=0) ** 2).mean()
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(mse + 0.5 * (kernel**2).sum(), rel=1e-4)


def test_custom_layers_get_the_regularizer_only_where_they_set_none():
    spec = S.custom([6, 2], [
        {"type": "Conv1D", "filters": 2, "kernel_size": 3},
        {"type": "Conv1D", "filters": 2, "kernel_size": 3, "kernel_regularizer": "l1"},
        {"type": "LSTM", "units": 2},
        {"type": "BatchNormalization"},
        {"type": "Dense", "units": 1},
    ], regularization={"l1": 0.0, "l2": 0.25})
    model = build_model(spec).model
    assert _l2(model.get_layer("layers_0")) == 0.25
    assert type(model.get_layer("layers_1").kernel_regularizer).__name__ == "L1"
    assert _l2(model.get_layer("layers_2").cell) == 0.25
    assert model.get_layer("layers_2").cell.recurrent_regularizer is None
    assert _l2(model.get_layer("layers_4")) == 0.25


# Compile ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "lion"])
def test_every_optimizer_builds(kind):
    extra = {"sgd": {"momentum": 0.9, "nesterov": True}, "adamw": {"weight_decay": 0.01}}.get(kind, {})
    optimizer = build_optimizer({"optimizer": {"type": kind, "learning_rate": 0.01, **extra}, "lr_schedule": None})
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.01)
    if kind == "sgd":
        assert optimizer.momentum == 0.9 and optimizer.nesterov


@pytest.mark.parametrize("schedule, step, expected", [
    ({"type": "exponential_decay", "decay_steps": 10, "decay_rate": 0.5}, 10, 0.05),
    ({"type": "cosine_decay", "decay_steps": 10}, 10, 0.0),
    ({"type": "piecewise_constant", "boundaries": [5], "values": [0.1, 0.01]}, 6, 0.01),
])
def test_learning_rate_schedules(schedule, step, expected):
    optimizer = build_optimizer({"optimizer": {"type": "sgd", "learning_rate": 0.1}, "lr_schedule": schedule})
    value = optimizer.learning_rate  # the schedule at iteration 0
    assert isinstance(optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule)
    assert float(keras.ops.convert_to_numpy(optimizer._learning_rate(step))) == pytest.approx(expected, abs=1e-7)
    assert value is not None


def test_reduce_on_plateau_is_a_callback():
    spec = {"training": {"lr_schedule": {"type": "reduce_on_plateau", "factor": 0.5, "patience": 2}}}
    (callback,) = lr_callbacks(spec)
    assert isinstance(callback, keras.callbacks.ReduceLROnPlateau) and callback.factor == 0.5
    assert lr_callbacks({"training": {"lr_schedule": None}}) == []


def test_loss_objects_take_from_logits_and_label_smoothing():
    loss = build_loss({"type": "categorical_crossentropy", "from_logits": True, "label_smoothing": 0.1})
    assert isinstance(loss, keras.losses.CategoricalCrossentropy)
    assert loss.get_config()["from_logits"] and loss.get_config()["label_smoothing"] == 0.1
    assert isinstance(build_loss({"type": "mse", "from_logits": None}), keras.losses.MeanSquaredError)
    assert build_loss("binary_crossentropy") == "binary_crossentropy"


def test_autoencoder_with_head_trains_with_named_outputs_and_metrics():
    spec = S.autoencoder([6], [S.dense(4)], [S.dense(4)], bottleneck={"units": 2, "activation": "relu"},
                         head=S.head(3, loss_weight=0.5))
    built = build_model(spec)
    x = RNG.uniform(size=(16, 6)).astype("float32")
    y = RNG.integers(0, 3, size=16)
    history = built.model.fit(x, {"reconstruction": x, "head": y}, epochs=1, batch_size=8, verbose=0,
                              validation_split=0.25)
    assert {"loss", "reconstruction_loss", "head_loss", "head_accuracy", "val_head_accuracy"} <= set(history.history)
    assert built.encoder.predict(x, verbose=0).shape == (16, 2)


def test_denoising_noise_acts_in_training_only():
    spec = S.autoencoder([50], [S.dense(4)], [], bottleneck={"units": 3, "activation": "linear"},
                         variant="denoising")
    spec["noise"] = {"stddev": 1.0}
    model = build_model(spec).model
    x = RNG.uniform(size=(4, 50)).astype("float32")
    inference = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), inference)
    assert not np.allclose(keras.ops.convert_to_numpy(model(x, training=True)), inference, atol=1e-3)
    assert type(model.get_layer("noise")).__name__ == "GaussianNoise"


def test_augmentation_layers_sit_after_the_input_of_image_models():
    spec = S.cnn([8, 8, 3], units=2, global_pool="avg")
    spec["training"]["augmentation"] = {"flip": "horizontal", "translate": 0.1, "rotate": 0.05, "zoom": 0.1}
    built = build_model(spec)
    names = [layer.name for layer in built.model.layers]
    assert names[:5] == ["input", "augment_flip", "augment_translate", "augment_rotate", "augment_zoom"]
    assert built.paths["augment_zoom"] == "$.training.augmentation.zoom"
    x = RNG.uniform(size=(2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(built.model.predict(x, verbose=0), built.model.predict(x, verbose=0))
    assert S.rnn([8, 8], "gru", [2])["training"]["augmentation"] is None


# Backbones ----------------------------------------------------------------------


def _backbone_spec(**backbone):
    return S.cnn([32, 32, 3], global_pool="avg", units=2,
                 backbone={"application": "MobileNetV2", "weights": None, "trainable": False, "alpha": 0.35,
                           **backbone})


def test_backbone_trainable_from_freezes_the_layers_before_it():
    built = build_model(_backbone_spec(trainable_from="block_16_expand"))
    base = built.model.get_layer("backbone")
    flags = {layer.name: layer.trainable for layer in base.layers}
    names = list(flags)
    first = names.index("block_16_expand")
    assert not any(flags[n] for n in names[:first]) and all(flags[n] for n in names[first:])
    error = spec_error(_backbone_spec(trainable_from="block_99"))
    assert error.path == "$.backbone.trainable_from"


def test_backbone_loads_a_local_weights_file_and_preprocesses(tmp_path):
    reference = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3), alpha=0.35)
    path = str(tmp_path / "mobilenet.weights.h5")
    reference.save_weights(path)
    built = build_model(_backbone_spec(weights=path))
    x = RNG.uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    preprocessed = keras.ops.convert_to_numpy(built.model.get_layer("backbone_preprocess")(x))
    np.testing.assert_allclose(preprocessed, x / 127.5 - 1.0, rtol=1e-6, atol=1e-6)
    features = built.model.get_layer("backbone")(preprocessed, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(features),
                               keras.ops.convert_to_numpy(reference(preprocessed, training=False)), rtol=1e-5, atol=1e-5)
    assert spec_error(_backbone_spec(weights=str(tmp_path / "missing.h5"))).path == "$.backbone.weights"
    assert spec_error(_backbone_spec(application="NoSuchNet")).path == "$.backbone.application"


def test_backbone_from_a_saved_keras_model(tmp_path):
    inputs = keras.Input((8, 8, 3))
    base = keras.Model(inputs, keras.layers.Conv2D(4, 3, name="c")(inputs), name="base")
    path = str(tmp_path / "base.keras")
    base.save(path)
    spec = S.cnn([8, 8, 3], global_pool="max", units=2, backbone={"model": path, "trainable": True})
    model = build_model(spec).model
    assert model.count_params() == base.count_params() + 4 * 2 + 2
    assert len(model.trainable_weights) == 4


def test_backbone_model_file_with_a_lambda_is_refused(tmp_path):
    inputs = keras.Input((8, 8, 3))
    unsafe = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    path = str(tmp_path / "unsafe.keras")
    unsafe.save(path)
    error = spec_error(S.cnn([8, 8, 3], global_pool="max", units=2, backbone={"model": path, "trainable": False}))
    assert error.path == "$.backbone.model" and "Lambda" in error.message
