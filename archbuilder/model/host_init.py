"""Initial weights drawn and filled with NumPy on the host while a model is built on JAX.

On the JAX backend each Keras initializer call (`glorot_uniform`, `he_normal`, ...)
runs `jax.random.uniform` or `normal` jitted for the weight's shape: one XLA
compilation per distinct weight shape, on the device. A tuning trial with new layer
widths has new shapes, so every trial paid for several compilations (10 of them,
3.7 s, in two trials of the reference search on a CPU) before its first step.
Inside `host_initializers()` those draws come from NumPy instead: the same
distributions, seeded from the same Keras seed stream, so a seeded build is still
reproducible — but the values differ from plain Keras's on JAX (`env.json`
records `"initial_weights": "numpy"`). `zeros` and `ones` (biases, batch norm, the
optimizer's slots) are likewise filled by NumPy and copied to the device with
`jax.device_put`, where JAX compiled a broadcast (and `jnp.asarray` a copy) per shape.

Draws made while tracing (a random layer's `call` inside a jitted step, or Keras's
symbolic shape inference) keep JAX's own functions; so does every other backend,
where initializers run eagerly and compile nothing.
"""

import contextlib
import threading

import numpy as np

__all__ = ["host_initializers", "initial_weights"]
_FLOATS = ("float16", "bfloat16", "float32", "float64")
_lock = threading.Lock()


def _generator(key):
    return np.random.default_rng(np.asarray(key, dtype=np.uint32).ravel().tolist())


def _uniform(rng, shape, minval=0.0, maxval=1.0):
    return minval + (maxval - minval) * rng.random(shape, dtype=np.float32)


def _normal(rng, shape, mean=0.0, stddev=1.0):
    return rng.standard_normal(shape, dtype=np.float32) * stddev + mean


def _truncated_normal(rng, shape, mean=0.0, stddev=1.0):
    """Normal samples redrawn until inside two standard deviations (Keras's truncation)."""
    values = rng.standard_normal(shape, dtype=np.float32)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()), dtype=np.float32)
        outside = np.abs(values) > 2.0
    return values * stddev + mean


def _host_version(original, sample, first, second):
    """`original` (keyword arguments `first`, `second`, `dtype`, `seed`) drawing with `sample` unless traced."""
    import inspect

    import jax
    import keras

    from archbuilder.compat import jax_draw_seed

    signature = inspect.signature(original)
    traced = jax.core.Tracer

    def draw(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = bound.arguments
        shape, a, b, seed = arguments["shape"], arguments[first], arguments[second], arguments["seed"]
        dtype = keras.backend.standardize_dtype(bound.arguments["dtype"] or keras.config.floatx())
        static = all(isinstance(d, int) for d in tuple(shape))
        if not static or dtype not in _FLOATS or any(isinstance(v, traced) for v in (a, b, seed)):
            return original(*args, **kwargs)
        key = jax_draw_seed(seed)
        if isinstance(key, traced):
            bound.arguments["seed"] = key
            return original(*bound.args, **bound.kwargs)
        values = sample(_generator(key), tuple(shape), float(a), float(b))
        return jax.device_put(values.astype(jax.numpy.dtype(dtype)))  # jnp.asarray compiles a copy per shape

    return draw


def initial_weights(backend):
    """What env.json says about the initial weights on `backend`: `"numpy"` (drawn here) or `"keras"`."""
    return "numpy" if backend == "jax" else "keras"


def _filled(fill):
    """`Zeros.__call__` / `Ones.__call__` made with NumPy: a device copy, no compiled broadcast."""
    import jax

    from archbuilder.compat import standardize_dtype

    def call(self, shape, dtype=None):
        return jax.device_put(np.full(tuple(shape), fill, dtype=jax.numpy.dtype(standardize_dtype(dtype))))

    return call


@contextlib.contextmanager
def host_initializers():
    """Within the block, Keras's initial weights on JAX come from NumPy (a no-op elsewhere).

    Random initializers draw with NumPy (above); `zeros` and `ones` (biases, batch norm,
    optimizer slots) are filled by NumPy, where JAX compiled a broadcast per shape.
    """
    import keras

    if keras.backend.backend() != "jax":
        yield
        return
    from archbuilder.compat import constant_initializers
    from archbuilder.compat import jax_random

    names = {"uniform": (_uniform, "minval", "maxval"), "normal": (_normal, "mean", "stddev"),
             "truncated_normal": (_truncated_normal, "mean", "stddev")}
    fills = {constant_initializers.Zeros: 0, constant_initializers.Ones: 1}
    with _lock:
        originals = {name: getattr(jax_random, name) for name in names}
        calls = {cls: cls.__call__ for cls in fills}
        try:
            for name, (sample, first, second) in names.items():
                setattr(jax_random, name, _host_version(originals[name], sample, first, second))
            for cls, fill in fills.items():
                cls.__call__ = _filled(fill)
            yield
        finally:
            for name, function in originals.items():
                setattr(jax_random, name, function)
            for cls, function in calls.items():
                cls.__call__ = function
