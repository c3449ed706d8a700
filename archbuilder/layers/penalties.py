"""Archbuilder's penalty layers: the sparse and contractive autoencoder variants.

Every layer here is an identity (or, for `ContractiveDense`, a Dense layer)
that adds its penalty with `self.add_loss`, so the penalty joins the training
loss on TensorFlow, JAX and PyTorch alike and survives `model.save` /
`keras.saving.load_model(..., safe_mode=True)`. Penalties are computed in
float32 whatever the dtype policy, so mixed precision cannot underflow them.
"""

import math

import keras
from keras import ops

__all__ = [
    "CONTRACTIVE_ACTIVATIONS",
    "ActivityL1",
    "ContractiveDense",
    "ContractivePenalty",
    "KLSparsity",
    "activation_derivative",
    "unsupported_activation_message",
]

_register = keras.saving.register_keras_serializable(package="archbuilder")

# Keras' own constants, so the derivatives match `keras.activations` exactly.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_LEAKY_RELU_SLOPE = 0.2


def _gelu_derivative(z, h):
    # Keras' gelu is the exact one (approximate=False): z * Phi(z).
    cdf = 0.5 * (1.0 + ops.erf(z / math.sqrt(2.0)))
    pdf = ops.exp(-0.5 * ops.square(z)) / math.sqrt(2.0 * math.pi)
    return cdf + z * pdf


def _swish_derivative(z, h):
    s = ops.sigmoid(z)
    return s + z * s * (1.0 - s)


_DERIVATIVES = {
    "linear": lambda z, h: ops.ones_like(z),
    "sigmoid": lambda z, h: h * (1.0 - h),
    "tanh": lambda z, h: 1.0 - ops.square(h),
    "relu": lambda z, h: ops.where(z > 0, ops.ones_like(z), ops.zeros_like(z)),
    "elu": lambda z, h: ops.where(z > 0, ops.ones_like(z), h + 1.0),
    "selu": lambda z, h: _SELU_SCALE * ops.where(z > 0, ops.ones_like(z), _SELU_ALPHA * ops.exp(z)),
    "leaky_relu": lambda z, h: ops.where(z > 0, ops.ones_like(z), _LEAKY_RELU_SLOPE * ops.ones_like(z)),
    "softplus": lambda z, h: ops.sigmoid(z),
    "softsign": lambda z, h: 1.0 / ops.square(1.0 + ops.abs(z)),
    "exponential": lambda z, h: h,
    "gelu": _gelu_derivative,
    "swish": _swish_derivative,
    "silu": _swish_derivative,
}

CONTRACTIVE_ACTIVATIONS = tuple(sorted(_DERIVATIVES))
"""Elementwise activations whose derivative `ContractiveDense` knows."""


def activation_derivative(name, z, h):
    """The derivative of activation `name` at pre-activation `z` (with `h = act(z)`).

    Args:
        name: a Keras activation name from `CONTRACTIVE_ACTIVATIONS`.
        z: the pre-activation tensor.
        h: the activation's output, `act(z)`; cheaper for sigmoid and tanh.

    Returns:
        A tensor shaped like `z`.

    Raises:
        ValueError: for an activation with no known elementwise derivative.
    """
    if name not in _DERIVATIVES:
        raise ValueError(unsupported_activation_message(name))
    return _DERIVATIVES[name](z, h)


def unsupported_activation_message(name):
    """The one-line error for an activation the contractive penalty cannot differentiate."""
    return (
        f"the contractive penalty needs an elementwise activation with a known derivative "
        f"({', '.join(CONTRACTIVE_ACTIVATIONS)}). Received: activation={name!r}"
    )


def _batch_mean_of_sums(values):
    """Mean over the batch axis of the sum over every other axis."""
    return ops.mean(ops.sum(values, axis=tuple(range(1, len(values.shape)))))


class _Penalty(keras.layers.Layer):
    """Base of the identity layers that add a penalty on their input."""

    def __init__(self, weight, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)

    def compute_output_shape(self, input_shape):
        # Declared so that building the functional graph never traces `call`
        # (and so never calls `add_loss` on a symbolic tensor).
        return input_shape

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@_register
class ActivityL1(_Penalty):
    """Sparse penalty `weight · mean over the batch of Σ_j |h_j|` on its input.

    The input passes through unchanged. For a feature-map code the sum runs
    over every non-batch axis.

    Args:
        weight: the penalty's weight `w`.

    Example:
        >>> code = ActivityL1(1e-5, name="sparsity")(code)
    """

    def call(self, inputs):
        h = ops.cast(inputs, "float32")
        self.add_loss(self.weight * _batch_mean_of_sums(ops.abs(h)))
        return inputs


@_register
class KLSparsity(_Penalty):
    """Sparse penalty `weight · Σ_j KL(ρ ‖ ρ̂_j)`, ρ̂_j the batch mean of unit j.

    `KL(ρ ‖ ρ̂) = ρ log(ρ/ρ̂) + (1-ρ) log((1-ρ)/(1-ρ̂))`; ρ̂ is clipped to
    `[1e-7, 1 - 1e-7]` so an all-zero unit costs a large but finite penalty.
    It needs code values in (0, 1): a sigmoid code.

    Args:
        target: the target mean activation ρ, in (0, 1).
        weight: the penalty's weight `w`.
    """

    def __init__(self, target, weight, **kwargs):
        super().__init__(weight, **kwargs)
        self.target = float(target)

    def call(self, inputs):
        rho = self.target
        rho_hat = ops.clip(ops.mean(ops.cast(inputs, "float32"), axis=0), 1e-7, 1.0 - 1e-7)
        kl = rho * ops.log(rho / rho_hat) + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - rho_hat))
        self.add_loss(self.weight * ops.sum(kl))
        return inputs

    def get_config(self):
        return {**super().get_config(), "target": self.target}


def _code_side_frobenius(slopes, kernels):
    """Per sample, ‖∂h/∂x‖²_F of a dense stack, computed from the code back to the input.

    With `D_k = diag(slopes[k])` and `W_k = kernels[k]` (shape `(inputs, units)`), the
    Jacobian is `J = D_L W_Lᵀ ⋯ D_1 W_1ᵀ`, `code × input_dim` per sample. Multiplied
    from the code side, each step is a `code`-row product (a dense encoder narrows, so
    the code is its smallest width): `A = D_L W_Lᵀ`, then `A ← (A D_k) W_kᵀ` down to the
    first layer, where `‖(A D_1) W_1ᵀ‖²_F = tr(A D_1 (W_1ᵀ W_1) D_1 Aᵀ)` goes through
    the batch-independent Gram matrix `W_1ᵀ W_1` when the input is wider than the first
    layer. The same number as carrying the full Jacobian forward from the input (the
    `"jacobian"` carry), in fewer operations.
    """
    first_slope, first_kernel = slopes[0], kernels[0]
    if len(kernels) == 1:  # ‖D W^T‖²_F = Σ_u s_u² Σ_i W_iu²
        return ops.sum(ops.square(first_slope) * ops.sum(ops.square(first_kernel), axis=0), axis=-1)
    code = kernels[-1].shape[1]
    # The rows of every sample's product stacked as one (batch · code, width) matrix: each
    # step is then one 2-D matmul against the shared kernel, whose gradient is one more.
    # (A (batch, code, width) @ kernel product has a kernel gradient contracted over two
    # axes, which XLA computes about 1.5x slower on the CPU.)
    product = ops.expand_dims(slopes[-1], -1) * ops.expand_dims(ops.transpose(kernels[-1]), 0)
    for slope, kernel in zip(slopes[-2:0:-1], kernels[-2:0:-1]):
        product = ops.matmul(_rows(product * ops.expand_dims(slope, 1)), ops.transpose(kernel))
        product = ops.reshape(product, (-1, code, kernel.shape[0]))
    product = _rows(product * ops.expand_dims(first_slope, 1))  # (batch · code, first units)
    inputs, units = first_kernel.shape
    if inputs > units:
        gram = ops.matmul(ops.transpose(first_kernel), first_kernel)
        squares = ops.sum(ops.matmul(product, gram) * product, axis=-1)
    else:
        squares = ops.sum(ops.square(ops.matmul(product, ops.transpose(first_kernel))), axis=-1)
    return ops.sum(ops.reshape(squares, (-1, code)), axis=-1)


def _rows(product):
    """`(batch, code, width)` as `(batch · code, width)`."""
    return ops.reshape(product, (-1, product.shape[-1]))


@_register
class ContractiveDense(keras.layers.Dense):
    """A Dense layer that also hands on what the contractive penalty needs of it.

    Called on `x` (the flattened model input) it returns `[h, act'(z), kernel]`;
    called on the list a previous `ContractiveDense` returned, `[h, *that list's
    factors, act'(z), kernel]`. `ContractivePenalty` computes the exact `‖∂h/∂x‖²_F`
    from those factors, multiplying from the code side (`_code_side_frobenius`).
    The weights and parameter count are `keras.layers.Dense`'s.

    `carry="jacobian"` (the default of files saved before there was a choice) carries
    the full Jacobian forward instead: `[h, J]` with `J = diag(act'(z)) · Wᵀ · J_prev`,
    `(batch, units, input_dim)` — the same penalty, at batch × units × input_dim per layer.

    Args:
        units: as `keras.layers.Dense`.
        activation: an activation name from `CONTRACTIVE_ACTIVATIONS`.
        carry: `"factors"` or `"jacobian"`.
        **kwargs: the other arguments of `keras.layers.Dense`.
    """

    CARRIES = ("factors", "jacobian")

    def __init__(self, units, activation=None, carry="factors", **kwargs):
        if activation is not None and not isinstance(activation, str):
            activation = keras.activations.serialize(activation)
        self.activation_name = activation or "linear"
        if self.activation_name not in _DERIVATIVES:
            raise ValueError(unsupported_activation_message(self.activation_name))
        if carry not in self.CARRIES:
            raise ValueError(f"Expected carry in {self.CARRIES}. Received: carry={carry!r}")
        super().__init__(units, activation=activation, **kwargs)
        self.carry = carry
        self.input_spec = None  # Dense checks for one input; this layer takes several.

    @classmethod
    def from_config(cls, config):
        return cls(**{"carry": "jacobian", **config})  # a file saved before `carry` existed

    def get_config(self):
        return {**super().get_config(), "carry": self.carry}

    @staticmethod
    def _split(inputs):
        if isinstance(inputs, (list, tuple)):
            return inputs[0], list(inputs[1:])
        return inputs, []

    def build(self, input_shape):
        x_shape = input_shape[0] if isinstance(input_shape[0], (list, tuple)) else input_shape
        super().build(x_shape)
        self.input_spec = None

    def call(self, inputs, training=None):
        x, carried = self._split(inputs)
        z = ops.matmul(x, self.kernel)
        if self.bias is not None:
            z = ops.add(z, self.bias)
        h = self.activation(z)
        slope = activation_derivative(self.activation_name, z, h)
        if self.carry == "factors":
            return [h, *carried, slope, ops.convert_to_tensor(self.kernel)]
        if not carried:
            step = ops.expand_dims(ops.transpose(self.kernel), 0)
        else:
            step = ops.einsum("iu,bik->buk", self.kernel, carried[0])
        return [h, ops.expand_dims(slope, -1) * step]

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape[0], (list, tuple)):
            x_shape, carried = input_shape[0], list(input_shape[1:])
        else:
            x_shape, carried = input_shape, []
        h_shape = (*x_shape[:-1], self.units)
        if self.carry == "factors":
            return [h_shape, *carried, h_shape, (x_shape[-1], self.units)]
        input_dim = carried[0][-1] if carried else x_shape[-1]
        return [h_shape, (x_shape[0], self.units, input_dim)]


@_register
class ContractivePenalty(_Penalty):
    """Contractive penalty `weight · mean over the batch of ‖∂h/∂x‖²_F`.

    Called on the list the last `ContractiveDense` returned (`[h, *factors]`, or
    `[h, J]`); returns `h`.

    Args:
        weight: the penalty's weight `w`.
    """

    def call(self, inputs):
        h, carried = inputs[0], [ops.cast(t, "float32") for t in inputs[1:]]
        if len(carried) == 1:  # the full Jacobian
            self.add_loss(self.weight * _batch_mean_of_sums(ops.square(carried[0])))
        else:
            self.add_loss(self.weight * ops.mean(_code_side_frobenius(carried[0::2], carried[1::2])))
        return h

    def compute_output_shape(self, input_shape):
        return input_shape[0]
