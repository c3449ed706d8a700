"""Bench 6's matmul rates: one 2048 x 256 x 1024 float32 product in NumPy, JAX, TensorFlow and PyTorch (CPU).

The contractive penalty's largest product (batch 128 x code 16 rows, against the
1024 x 256 kernel) timed 30 times per library after one untimed call, in one process.

    python bench/matmul_rate.py
"""

import os
import time

import numpy as np

from common import machine

ROWS, INNER, COLUMNS, REPEATS = 2048, 256, 1024, 30


def rate(call):
    call()
    start = time.perf_counter()
    for _ in range(REPEATS):
        call()
    return 2 * ROWS * INNER * COLUMNS / ((time.perf_counter() - start) / REPEATS) / 1e9


def main():
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    a = np.random.default_rng(0).random((ROWS, INNER), dtype=np.float32)
    b = np.random.default_rng(1).random((INNER, COLUMNS), dtype=np.float32)
    rates = {"numpy": rate(lambda: a @ b)}
    import jax
    import jax.numpy as jnp

    product, ja, jb = jax.jit(lambda x, y: x @ y), jnp.asarray(a), jnp.asarray(b)
    rates["jax"] = rate(lambda: product(ja, jb).block_until_ready())
    import tensorflow as tf

    ta, tb = tf.constant(a), tf.constant(b)
    tf_product = tf.function(lambda: tf.matmul(ta, tb))
    rates["tensorflow"] = rate(lambda: tf_product().numpy())
    import torch

    pa, pb = torch.from_numpy(a), torch.from_numpy(b)
    rates["torch"] = rate(lambda: pa @ pb)
    print(f"machine: {machine()}; {ROWS} x {INNER} x {COLUMNS} float32, {REPEATS} calls each")
    for name, value in rates.items():
        print(f"{name}: {value:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
