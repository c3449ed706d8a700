"""Autoencoder penalties equal their formulas; the contractive one a numerical Jacobian.

Backend-agnostic: `test_model_backends.py` runs this module under JAX and
PyTorch too.
"""

import math

import backend_parity as S
import keras
import numpy as np
import pytest

from archbuilder.errors import SpecError
from archbuilder.layers.penalties import ActivityL1, KLSparsity
from archbuilder.model.build import build_model

RNG = np.random.default_rng(0)


def penalty_of(layer, values):
    output = layer(values)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(output), values)  # identity
    assert len(layer.losses) == 1
    return float(keras.ops.convert_to_numpy(layer.losses[0]))


def test_sparse_l1_is_weight_times_batch_mean_of_abs_sum():
    h = np.array([[0.5, -1.0, 0.0], [2.0, 0.25, -0.25]], dtype="float32")
    # (1.5 + 2.5) / 2 = 2.0
    assert penalty_of(ActivityL1(0.1), h) == pytest.approx(0.1 * 2.0, rel=1e-6)


def test_sparse_l1_sums_over_every_axis_of_a_feature_map():
    h = RNG.normal(size=(3, 4, 4, 2)).astype("float32")
    expected = 1e-3 * np.abs(h).reshape(3, -1).sum(axis=1).mean()
    assert penalty_of(ActivityL1(1e-3), h) == pytest.approx(expected, rel=1e-5)


def test_kl_sparsity_is_weight_times_sum_of_unit_kl_divergences():
    h = np.array([[0.1, 0.9, 0.5], [0.3, 0.7, 0.5]], dtype="float32")
    rho, rho_hat = 0.05, np.array([0.2, 0.8, 0.5])
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    assert penalty_of(KLSparsity(0.05, 2.0), h) == pytest.approx(2.0 * kl.sum(), rel=1e-5)


def test_kl_sparsity_is_zero_at_the_target():
    h = np.full((4, 3), 0.2, dtype="float32")
    assert penalty_of(KLSparsity(0.2, 1.0), h) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("sparsity", [{"l1": 0.01}, {"target": 0.1, "weight": 0.5}])
def test_sparse_autoencoder_loss_adds_the_penalty_on_the_code(sparsity):
    spec = S.autoencoder([6], [S.dense(5)], [S.dense(5)], bottleneck={"units": 3, "activation": "sigmoid"},
                         variant="sparse")
    spec["sparsity"] = sparsity
    built = build_model(spec)
    x = RNG.uniform(size=(8, 6)).astype("float32")
    code = built.encoder.predict(x, verbose=0)
    reconstruction = built.model.predict(x, verbose=0)
    if "l1" in sparsity:
        penalty = 0.01 * np.abs(code).sum(axis=1).mean()
    else:
        rho, rho_hat = 0.1, code.mean(axis=0)
        penalty = 0.5 * (rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))).sum()
    mse = ((reconstruction - x) ** 2).mean()
    loss = built.model.evaluate(x, x, batch_size=8, verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(mse + penalty, rel=1e-4)
    assert penalty > 1e-3  # the check above would not notice a missing penalty otherwise


def numerical_jacobian(function, x, eps=1e-6):
    """Central differences of `function` (batch -> batch of codes), float64: shape (batch, code, input)."""
    columns = []
    for k in range(x.shape[1]):
        step = np.zeros_like(x)
        step[:, k] = eps
        columns.append((function(x + step) - function(x - step)) / (2 * eps))
    return np.stack(columns, axis=-1)


_erf = np.vectorize(math.erf)
_sigmoid = lambda z: 1 / (1 + np.exp(-z))
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
# Keras's activations, rewritten in float64 NumPy (Keras on JAX/PyTorch computes in float32 at most).
NUMPY_ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "softplus": lambda z: np.log1p(np.exp(z)),
    "elu": lambda z: np.where(z > 0, z, np.expm1(z)),
    "selu": lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(z)),
    "gelu": lambda z: 0.5 * z * (1 + _erf(z / math.sqrt(2))),
    "swish": lambda z: z * _sigmoid(z),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
    "relu": lambda z: np.maximum(z, 0),
    "linear": lambda z: z,
    "softsign": lambda z: z / (1 + np.abs(z)),
    "exponential": np.exp,
}


@pytest.mark.parametrize("activation", sorted(NUMPY_ACTIVATIONS))
def test_contractive_penalty_equals_finite_difference_jacobian(activation):
    keras.utils.set_random_seed(7)  # relu codes of unseeded weights are sometimes dead for every sample
    spec = S.autoencoder([5], [S.dense(4, activation=activation), S.dense(3, activation="tanh")],
                         [S.dense(4)], bottleneck={"units": 2, "activation": activation},
                         output_activation="linear", variant="contractive")
    spec["contractive"] = {"weight": 0.3}
    built = build_model(spec, compile=False)
    stack = [(built.model.get_layer(name), NUMPY_ACTIVATIONS[act])
             for name, act in (("encoder_0", activation), ("encoder_1", "tanh"), ("bottleneck", activation))]
    weights = [[keras.ops.convert_to_numpy(w).astype("float64") for w in layer.weights] for layer, _ in stack]

    def encode(values):
        for (kernel, bias), (_, act) in zip(weights, stack):
            values = act(values @ kernel + bias)
        return values

    x = RNG.normal(size=(24, 5)).astype("float32").astype("float64")
    np.testing.assert_allclose(encode(x), keras.ops.convert_to_numpy(built.encoder(x.astype("float32"))),
                               rtol=1e-5, atol=1e-6)  # the NumPy encoder is the model's encoder
    expected = 0.3 * (numerical_jacobian(encode, x) ** 2).sum(axis=(1, 2)).mean()
    built.model(x.astype("float32"))
    assert len(built.model.losses) == 1
    penalty = float(keras.ops.convert_to_numpy(built.model.losses[0]))
    assert penalty == pytest.approx(expected, rel=1e-5)
    assert expected > 1e-4


def test_contractive_penalty_is_in_the_training_loss():
    spec = S.autoencoder([4], [], [], bottleneck={"units": 2, "activation": "linear"}, output_activation="linear",
                         variant="contractive")
    spec["contractive"] = {"weight": 0.5}
    built = build_model(spec)
    kernel = keras.ops.convert_to_numpy(built.model.get_layer("bottleneck").kernel)
    x = RNG.normal(size=(8, 4)).astype("float32")
    mse = ((built.model.predict(x, verbose=0) - x) ** 2).mean()
    loss = built.model.evaluate(x, x, batch_size=8, verbose=0, return_dict=True)["loss"]
    # A linear code h = xW + b has the constant Jacobian W^T.
    assert loss == pytest.approx(mse + 0.5 * (kernel**2).sum(), rel=1e-4)


def test_contractive_refuses_a_conv_encoder():
    spec = S.autoencoder([8, 8, 1], [S.conv(4)], [S.conv(4, transpose=True)], variant="contractive")
    spec["contractive"] = {"weight": 0.1}
    with pytest.raises(SpecError) as error:
        build_model(spec)
    assert error.value.path == "$.variant"
    assert "dense encoder" in error.value.message


def test_contractive_refuses_batch_norm_and_unknown_activations():
    spec = S.autoencoder([8], [S.dense(4, batch_norm=True)], [S.dense(4)], bottleneck={"units": 2, "activation": "tanh"},
                         variant="contractive")
    spec["contractive"] = {"weight": 0.1}
    with pytest.raises(SpecError) as error:
        build_model(spec)
    assert error.value.path == "$.encoder[0].batch_norm"
    spec["encoder"] = [S.dense(4, activation="softmax")]
    with pytest.raises(SpecError) as error:
        build_model(spec)
    assert error.value.path == "$.encoder[0].activation"
    assert "softmax" in error.value.message


def _penalty_of_stack(carry, x, units, activations, seed=3):
    """The contractive penalty of a hand-made `ContractiveDense` stack with carry `carry` (weight 1)."""
    from archbuilder.layers.penalties import ContractiveDense, ContractivePenalty

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((x.shape[1],))
    outputs = inputs
    for width, activation in zip(units, activations):
        outputs = ContractiveDense(width, activation=activation, carry=carry)(outputs)
    model = keras.Model(inputs, ContractivePenalty(1.0)(outputs))
    model(x)
    weights = [[keras.ops.convert_to_numpy(w).astype("float64") for w in layer.weights] for layer in model.layers[1:-1]]
    return float(keras.ops.convert_to_numpy(model.losses[0])), weights


@pytest.mark.parametrize("width", [3, 9])  # narrower than the first layer: direct; wider: through W_1ᵀ W_1
def test_the_code_side_order_equals_the_input_side_jacobian_and_the_numerical_one(width):
    x = RNG.normal(size=(16, width)).astype("float32")
    units, activations = [6, 4, 2], ["tanh", "softplus", "sigmoid"]
    factors, weights = _penalty_of_stack("factors", x, units, activations)
    jacobian, same_weights = _penalty_of_stack("jacobian", x, units, activations)
    for a, b in zip(weights, same_weights):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
    functions = [NUMPY_ACTIVATIONS[name] for name in activations]

    def encode(values):
        for (kernel, bias), act in zip(weights, functions):
            values = act(values @ kernel + bias)
        return values

    expected = (numerical_jacobian(encode, x.astype("float64")) ** 2).sum(axis=(1, 2)).mean()
    assert factors == pytest.approx(expected, rel=1e-5) and jacobian == pytest.approx(expected, rel=1e-5)
    assert expected > 1e-3


def test_a_file_saved_with_the_full_jacobian_carry_loads_with_it():
    from archbuilder.layers.penalties import ContractiveDense

    layer = ContractiveDense(4, activation="tanh", carry="jacobian")
    config = layer.get_config()
    assert ContractiveDense.from_config(config).carry == "jacobian"
    del config["carry"]  # as files written before there was a choice
    assert ContractiveDense.from_config(config).carry == "jacobian"
    assert ContractiveDense(4, activation="tanh").carry == "factors"
    with pytest.raises(ValueError, match="carry"):
        ContractiveDense(4, carry="forward")
