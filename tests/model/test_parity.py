"""Built models vs published parameter counts and vs Keras models written out by hand.

Backend-agnostic: `test_model_backends.py` runs this module under JAX and
PyTorch too. The hand-written models never go through archbuilder.
"""

import backend_parity as S
import keras
import pytest
from keras import layers

from archbuilder.model.build import build_model

assert_same = S.assert_same_model


def build(spec):
    return build_model(spec, compile=False).model


# Published figures -----------------------------------------------------------


def mnist_convnet_spec():
    valid_pool = S.pool(2)
    return S.cnn([28, 28, 1], [S.conv(32, padding="valid", pool=valid_pool),
                               S.conv(64, padding="valid", pool=valid_pool)], dropout=0.5)


def test_keras_io_mnist_convnet_has_34826_params():
    model = build(mnist_convnet_spec())
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(32, kernel_size=(3, 3), activation="relu")(inputs)
    x = layers.MaxPooling2D(pool_size=(2, 2))(x)
    x = layers.Conv2D(64, kernel_size=(3, 3), activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=(2, 2))(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    hand = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    assert model.count_params() == 34_826
    assert_same(model, hand)


def keras_io_denoising_autoencoder():
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    return keras.Model(inputs, layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x))


def test_keras_io_denoising_autoencoder_has_28353_params():
    same_pool = S.pool(2, padding="same")
    mirror = [S.conv(32, strides=2, transpose=True), S.conv(32, strides=2, transpose=True)]
    spec = S.autoencoder([28, 28, 1], [S.conv(32, pool=same_pool), S.conv(32, pool=same_pool)], mirror)
    model = build(spec)
    assert model.count_params() == 28_353
    assert_same(model, keras_io_denoising_autoencoder())


def test_keras_io_denoising_autoencoder_as_custom_has_28353_params():
    conv = {"kernel_size": 3, "activation": "relu", "padding": "same"}
    spec = S.custom([28, 28, 1], [
        {"type": "Conv2D", "filters": 32, **conv},
        {"type": "MaxPooling2D", "pool_size": 2, "padding": "same"},
        {"type": "Conv2D", "filters": 32, **conv},
        {"type": "MaxPooling2D", "pool_size": 2, "padding": "same"},
        {"type": "Conv2DTranspose", "filters": 32, "strides": 2, **conv},
        {"type": "Conv2DTranspose", "filters": 32, "strides": 2, **conv},
        {"type": "Conv2D", "filters": 1, "kernel_size": 3, "activation": "sigmoid", "padding": "same"},
    ])
    spec["training"] = S.training(loss="binary_crossentropy", metrics=["mae"])
    model = build(spec)
    assert model.count_params() == 28_353
    assert_same(model, keras_io_denoising_autoencoder())


def test_keras_io_imdb_bidirectional_lstm_has_2757761_params():
    spec = S.rnn([None], "lstm", [64, 64], dtype="int32", bidirectional=True, out_units=1,
                 out_activation="sigmoid", embedding={"input_dim": 20000, "output_dim": 128, "mask_zero": False})
    model = build(spec)
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(20000, 128)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    hand = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    assert model.count_params() == 2_757_761
    assert_same(model, hand)


def test_mnist1d_paper_cnn_has_5210_params():
    # greydanus/mnist1d ConvBase: Conv1d(1,25,5,stride 2,pad 1), Conv1d(25,25,3,2,1) x2, Linear(125, 10).
    # Keras 'same' padding gives the same 40 -> 20 -> 10 -> 5 steps, so the linear layer sees 5 * 25 = 125.
    spec = S.cnn([40, 1], [S.conv(25, 5, strides=2), S.conv(25, 3, strides=2), S.conv(25, 3, strides=2)])
    model = build(spec)
    inputs = keras.Input((40, 1))
    x = layers.Conv1D(25, 5, strides=2, padding="same", activation="relu")(inputs)
    x = layers.Conv1D(25, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv1D(25, 3, strides=2, padding="same", activation="relu")(x)
    hand = keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Flatten()(x)))
    assert model.count_params() == 5_210
    assert model.get_layer("flatten").output.shape == (None, 125)
    assert_same(model, hand)


def test_mnist1d_paper_bidirectional_gru_has_5134_params():
    # greydanus/mnist1d GRUBase: bidirectional GRU(1 -> 6) over 40 steps, flattened, Linear(480, 10).
    spec = S.rnn([40, 1], "gru", [6], bidirectional=True, return_sequences=True, sequence_pool="flatten")
    model = build(spec)
    inputs = keras.Input((40, 1))
    x = layers.Bidirectional(layers.GRU(6, return_sequences=True))(inputs)
    hand = keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Flatten()(x)))
    assert model.count_params() == 5_134
    assert_same(model, hand)


# Every family vs a hand-written model -------------------------------------------


def test_cnn_residual_batch_norm_blocks_match_hand_written():
    reg = {"l1": 0.0, "l2": 1e-4}
    spec = S.cnn([16, 16, 3], [
        S.conv(8, batch_norm=True, residual=True, pool=S.pool(2, type="avg")),
        S.conv(8, residual=True, dropout=0.25),
        S.conv(16, strides=2, residual=True, batch_norm=True, use_bias=False),
    ], [S.dense(32, batch_norm=True, dropout=0.5), S.dense(16, activation="gelu")],
        units=5, dropout=0.2, global_pool="avg", regularization=reg)
    model = build(spec)

    inputs = keras.Input((16, 16, 3))
    y = layers.Conv2D(8, 3, padding="same")(inputs)
    y = layers.BatchNormalization()(y)
    s = layers.BatchNormalization()(layers.Conv2D(8, 1, padding="same")(inputs))
    y = layers.Activation("relu")(layers.Add()([y, s]))
    x = layers.AveragePooling2D(2)(y)
    y = layers.Conv2D(8, 3, padding="same")(x)
    y = layers.Activation("relu")(layers.Add()([y, x]))
    x = layers.Dropout(0.25)(y)
    y = layers.BatchNormalization()(layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(x))
    s = layers.BatchNormalization()(layers.Conv2D(16, 1, strides=2, padding="same", use_bias=False)(x))
    x = layers.Activation("relu")(layers.Add()([y, s]))
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(layers.Dense(32)(x)))
    x = layers.Dense(16, activation="gelu")(layers.Dropout(0.5)(x))
    hand = keras.Model(inputs, layers.Dense(5, activation="softmax")(layers.Dropout(0.2)(x)))
    assert_same(model, hand)


@pytest.mark.parametrize("rank", [1, 3])
def test_cnn_1d_and_3d_match_hand_written(rank):
    shape = (12, 2) if rank == 1 else (6, 6, 6, 1)
    spec = S.cnn(shape, [S.conv(4, pool=S.pool(2)), S.conv(6, kernel_size=2)], global_pool="max", units=3)
    model = build(spec)
    conv = {1: layers.Conv1D, 3: layers.Conv3D}[rank]
    pooling = {1: layers.MaxPooling1D, 3: layers.MaxPooling3D}[rank]
    glob = {1: layers.GlobalMaxPooling1D, 3: layers.GlobalMaxPooling3D}[rank]
    inputs = keras.Input(shape)
    x = pooling(2)(conv(4, 3, padding="same", activation="relu")(inputs))
    x = glob()(conv(6, 2, padding="same", activation="relu")(x))
    hand = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
    assert_same(model, hand)


def test_rnn_embedding_stacked_bidirectional_gru_matches_hand_written():
    spec = S.rnn([None], "gru", [8, 4], dtype="int32", bidirectional=True, return_sequences=True,
                 sequence_pool="avg", embedding={"input_dim": 50, "output_dim": 6, "mask_zero": True},
                 dense_items=[S.dense(8)], out_units=3)
    model = build(spec)
    inputs = keras.Input((None,), dtype="int32")
    x = layers.Embedding(50, 6, mask_zero=True)(inputs)
    x = layers.Bidirectional(layers.GRU(8, return_sequences=True))(x)
    x = layers.Bidirectional(layers.GRU(4, return_sequences=True))(x)
    x = layers.Dense(8, activation="relu")(layers.GlobalAveragePooling1D()(x))
    hand = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
    assert_same(model, hand)


def test_rnn_lstm_per_step_output_matches_hand_written():
    spec = S.rnn([10, 3], "lstm", [5], return_sequences=True, out_units=1, out_activation="sigmoid",
                 activation="relu")
    model = build(spec)
    inputs = keras.Input((10, 3))
    x = layers.LSTM(5, activation="relu", return_sequences=True)(inputs)
    hand = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    assert_same(model, hand)
    assert model.output.shape == (None, 10, 1)


def test_rnn_simple_stack_with_dropout_matches_hand_written():
    spec = S.rnn([12, 2], "simple", [4, 4], dropout=0.1, recurrent_dropout=0.1, out_units=2)
    model = build(spec)
    inputs = keras.Input((12, 2))
    x = layers.SimpleRNN(4, dropout=0.1, recurrent_dropout=0.1, return_sequences=True)(inputs)
    x = layers.SimpleRNN(4, dropout=0.1, recurrent_dropout=0.1)(x)
    hand = keras.Model(inputs, layers.Dense(2, activation="softmax")(x))
    assert_same(model, hand)


def test_dense_sparse_autoencoder_with_head_matches_hand_written():
    spec = S.autoencoder([8, 8, 1], [S.dense(32, batch_norm=True), S.dense(16)], [S.dense(16), S.dense(32)],
                         bottleneck={"units": 4, "activation": "sigmoid"}, variant="sparse",
                         head=S.head(3, dense_items=[S.dense(8, dropout=0.1)]))
    spec["sparsity"] = {"target": 0.05, "weight": 0.1}
    built = build_model(spec, compile=False)

    inputs = keras.Input((8, 8, 1))
    x = layers.Flatten()(inputs)
    x = layers.Activation("relu")(layers.BatchNormalization()(layers.Dense(32)(x)))
    x = layers.Dense(16, activation="relu")(x)
    code = layers.Dense(4, activation="sigmoid")(x)
    x = layers.Identity()(code)
    y = layers.Dense(32, activation="relu")(layers.Dense(16, activation="relu")(x))
    y = layers.Reshape((8, 8, 1))(layers.Dense(64, activation="sigmoid")(y))
    h = layers.Dropout(0.1)(layers.Dense(8, activation="relu")(x))
    hand = keras.Model(inputs, {"reconstruction": y, "head": layers.Dense(3, activation="softmax")(h)})
    assert_same(built.model, hand)
    assert set(built.model.output_names) == {"reconstruction", "head"}
    assert built.encoder.output.shape == (None, 4)


def test_conv_autoencoder_with_bottleneck_matches_hand_written():
    spec = S.autoencoder([16, 16, 1], [S.conv(8, pool=S.pool(2)), S.conv(4, pool=S.pool(2), batch_norm=True)],
                         [S.conv(4, strides=2, transpose=True, batch_norm=True), S.conv(8, strides=2, transpose=True)],
                         bottleneck={"units": 10, "activation": "relu"}, output_activation="sigmoid", kernel_size=5)
    built = build_model(spec, compile=False)
    inputs = keras.Input((16, 16, 1))
    x = layers.MaxPooling2D(2)(layers.Conv2D(8, 3, padding="same", activation="relu")(inputs))
    x = layers.Activation("relu")(layers.BatchNormalization()(layers.Conv2D(4, 3, padding="same")(x)))
    x = layers.MaxPooling2D(2)(x)
    code = layers.Dense(10, activation="relu")(layers.Flatten()(x))
    x = layers.Reshape((4, 4, 4))(layers.Dense(64, activation="relu")(code))
    x = layers.Conv2DTranspose(4, 3, strides=2, padding="same")(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(x)
    hand = keras.Model(inputs, layers.Conv2D(1, 5, padding="same", activation="sigmoid")(x))
    assert_same(built.model, hand)
    assert built.encoder.output.shape == (None, 10)


def test_contractive_autoencoder_matches_hand_written_dense_stack():
    spec = S.autoencoder([40], [S.dense(16, activation="tanh", dropout=0.1)], [S.dense(16, activation="tanh")],
                         bottleneck={"units": 4, "activation": "sigmoid"}, output_activation="linear",
                         variant="contractive")
    spec["contractive"] = {"weight": 0.01}
    built = build_model(spec, compile=False)
    inputs = keras.Input((40,))
    x = layers.Dropout(0.1)(layers.Dense(16, activation="tanh")(inputs))
    code = layers.Identity()(layers.Dense(4, activation="sigmoid")(x))
    hand = keras.Model(inputs, layers.Dense(40)(layers.Dense(16, activation="tanh")(code)))
    assert_same(built.model, hand)
    assert built.encoder.output.shape == (None, 4)
    assert [w.shape for w in built.model.weights] == [w.shape for w in hand.weights]


def test_denoising_dense_autoencoder_matches_hand_written():
    spec = S.autoencoder([20], [S.dense(8)], [S.dense(8)], bottleneck={"units": 3, "activation": "relu"},
                         variant="denoising")
    spec["noise"] = {"dropout": 0.2}
    built = build_model(spec, compile=False)
    inputs = keras.Input((20,))
    x = layers.Dense(8, activation="relu")(layers.Dropout(0.2)(inputs))
    x = layers.Dense(8, activation="relu")(layers.Dense(3, activation="relu")(x))
    hand = keras.Model(inputs, layers.Dense(20, activation="sigmoid")(x))
    assert_same(built.model, hand)


def test_custom_residual_graph_matches_hand_written():
    spec = S.custom([40], [
        {"type": "Dense", "units": 100, "activation": "relu", "name": "h1"},
        {"type": "Dense", "units": 100, "activation": "relu", "name": "h2"},
        {"type": "Add", "inputs": ["h1", "h2"]},
        {"type": "Concatenate", "inputs": ["input", "layers_2"]},
        {"type": "Dense", "units": 10, "activation": "softmax"},
    ])
    model = build(spec)
    inputs = keras.Input((40,))
    h1 = layers.Dense(100, activation="relu")(inputs)
    h2 = layers.Dense(100, activation="relu")(h1)
    x = layers.Concatenate()([inputs, layers.Add()([h1, h2])])
    hand = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    assert_same(model, hand)


def test_mobilenet_v2_backbone_matches_keras_applications():
    spec = S.cnn([32, 32, 3], global_pool="avg", units=4,
                 backbone={"application": "MobileNetV2", "weights": None, "trainable": False, "alpha": 0.35})
    built = build_model(spec, compile=False)
    base = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3), alpha=0.35)
    channels = base.output.shape[-1]
    assert built.model.count_params() == base.count_params() + channels * 4 + 4
    assert built.model.get_layer("backbone").output.shape == base.output.shape
    assert [type(layer).__name__ for layer in built.model.layers] == [
        "InputLayer", "ApplicationPreprocess", "Functional", "GlobalAveragePooling2D", "Dense"]
    assert not built.model.get_layer("backbone").trainable_weights
