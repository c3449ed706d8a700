"""Every shipped spec in `specs/` builds into the Keras model written out by hand here.

Each spec goes through the real pipeline (`load_spec` -> concrete spec at the
search spaces' defaults -> `build_model`, compiled). The hand-written models
never touch archbuilder; a new spec file needs its model here.
"""

import pathlib

import backend_parity as S
import keras
import pytest
from keras import layers

from archbuilder.model.build import build_model
from archbuilder.spec.load import load_spec

SPECS = pathlib.Path(__file__).resolve().parents[2] / "specs"


def _conv_bn(x, filters, kernel_size, use_bias=True):
    conv = layers.Conv1D if len(x.shape) == 3 else layers.Conv2D
    x = conv(filters, kernel_size, padding="same", use_bias=use_bias)(x)
    return layers.Activation("relu")(layers.BatchNormalization()(x))


def fashion_cnn():
    inputs = keras.Input((28, 28, 1))
    x = _conv_bn(inputs, 32, 3, use_bias=False)
    x = layers.Dropout(0.25)(layers.MaxPooling2D(2)(_conv_bn(x, 32, 3, use_bias=False)))
    x = _conv_bn(x, 64, 3, use_bias=False)
    x = layers.Dropout(0.25)(layers.MaxPooling2D(2)(_conv_bn(x, 64, 3, use_bias=False)))
    x = layers.Activation("relu")(layers.BatchNormalization()(layers.Dense(256)(layers.Flatten()(x))))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Dropout(0.5)(x)))


def fashion_denoising_ae():
    inputs = keras.Input((28, 28, 1))
    x = layers.GaussianNoise(0.2)(inputs)
    x = layers.MaxPooling2D(2)(layers.Conv2D(32, 3, padding="same", activation="relu")(x))
    x = layers.MaxPooling2D(2)(layers.Conv2D(32, 3, padding="same", activation="relu")(x))
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    return keras.Model(inputs, layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x))


def imdb_bilstm():
    inputs = keras.Input((None,), dtype="int32")
    x = layers.Embedding(20000, 128, mask_zero=True)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, dropout=0.2, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64, dropout=0.2))(x)
    return keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))


def mnist1d_cnn():
    inputs = keras.Input((40, 1))
    x = layers.Conv1D(32, 5, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling1D(2)(layers.Conv1D(64, 3, padding="same", activation="relu")(x))
    x = layers.MaxPooling1D(2)(layers.Conv1D(64, 3, padding="same", activation="relu")(x))
    x = layers.Dense(128, activation="relu")(layers.Flatten()(x))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Dropout(0.3)(x)))


def mnist1d_cnn_tune():
    # Search-space defaults: 2 blocks of 16 filters, kernel 3, batch norm, pool 2; 64 dense units.
    inputs = keras.Input((40, 1))
    x = layers.MaxPooling1D(2)(_conv_bn(inputs, 16, 3))
    x = layers.MaxPooling1D(2)(_conv_bn(x, 16, 3))
    x = layers.Dropout(0.2)(layers.Dense(64, activation="relu")(layers.Flatten()(x)))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def mnist1d_contractive_ae():
    inputs = keras.Input((40,))
    code = layers.Dense(16, activation="sigmoid")(layers.Dense(64, activation="tanh")(inputs))
    x = layers.Dense(64, activation="tanh")(layers.Identity()(code))
    return keras.Model(inputs, layers.Dense(40, activation="linear")(x))


def mnist1d_gru():
    inputs = keras.Input((40, 1))
    x = layers.Dense(64, activation="relu")(layers.Bidirectional(layers.GRU(64))(inputs))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def mnist1d_resmlp():
    inputs = keras.Input((40,))
    h1 = layers.Dense(100, activation="relu")(inputs)
    h2 = layers.Dense(100, activation="relu")(h1)
    x = layers.Dropout(0.1)(layers.LayerNormalization()(layers.Add()([h1, h2])))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def mnist1d_rnn_tune():
    # Search-space defaults: the first cell (simple), one layer of 32 units, bidirectional.
    inputs = keras.Input((40, 1))
    x = layers.Bidirectional(layers.SimpleRNN(32))(inputs)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def mnist1d_sparse_ae():
    inputs = keras.Input((40,))
    x = layers.Dense(128, activation="relu")(layers.Dense(256, activation="relu")(inputs))
    code = layers.Identity()(layers.Dense(32, activation="relu")(x))
    x = layers.Dense(256, activation="relu")(layers.Dense(128, activation="relu")(code))
    reconstruction = layers.Dense(40, activation="linear")(x)
    head = layers.Dense(10, activation="softmax")(layers.Dense(64, activation="relu")(code))
    return keras.Model(inputs, {"reconstruction": reconstruction, "head": head})


def wine_mlp():
    inputs = keras.Input((13,))
    x = layers.Activation("relu")(layers.BatchNormalization()(layers.Dense(32)(inputs)))
    x = layers.Activation("relu")(layers.Add()([layers.Dense(32)(x), x]))
    return keras.Model(inputs, layers.Dense(3, activation="softmax")(layers.Dropout(0.1)(x)))


HAND_WRITTEN = {f.__name__: f for f in (fashion_cnn, fashion_denoising_ae, imdb_bilstm, mnist1d_cnn,
                                        mnist1d_cnn_tune, mnist1d_contractive_ae, mnist1d_gru, mnist1d_resmlp,
                                        mnist1d_rnn_tune, mnist1d_sparse_ae, wine_mlp)}


def test_every_shipped_spec_has_a_hand_written_model():
    assert sorted(path.stem for path in SPECS.glob("*.json")) == sorted(HAND_WRITTEN)


@pytest.mark.parametrize("name", sorted(path.stem for path in SPECS.glob("*.json")))
def test_shipped_spec_builds_the_hand_written_model(name):
    path = SPECS / f"{name}.json"
    assert name in HAND_WRITTEN, f"write the Keras model of {path.name} by hand in this module"
    built = build_model(load_spec(str(path)).concrete())
    S.assert_same_model(built.model, HAND_WRITTEN[name]())
    assert built.model.compiled
    assert all(built.paths.get(layer.name, "").startswith("$") for layer in built.model.layers)
