"""Framework time per training step: plain Keras `fit` against archbuilder's fast path.

A model whose steps cost almost nothing (one Dense layer on 784 inputs, batch 128,
60,000 random samples) makes each step's time the framework's own: slicing the
batch, moving it to the device, dispatching the step, the callbacks. Runs, in this
process and this run: plain Keras `fit` on NumPy arrays (steps_per_execution 1),
then `fit` on archbuilder's `FullBatches` with `steps_per_execution` 1 and 8 (the
fast path). Prints the median milliseconds per step of 5 epochs and the ratio.

    KERAS_BACKEND=jax python bench/step_overhead.py
"""

import statistics
import sys
import time

from common import ROOT
from common import machine
from common import table

sys.path.insert(0, ROOT)


def per_step(model_fit, steps, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model_fit()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times) / steps


def main():
    import keras
    import numpy as np

    from archbuilder.run.fast_path import STEPS_PER_EXECUTION
    from archbuilder.run.fast_path import FullBatches

    rng = np.random.default_rng(0)
    x, y = rng.random((60000, 784), dtype=np.float32), rng.integers(0, 10, 60000)
    rows = []
    for name, spe, data in (("keras fit, arrays", 1, {"x": x, "y": y, "batch_size": 128}),
                            ("FullBatches", 1, {"x": FullBatches(x, y, None, 128, 0)}),
                            ("FullBatches (fast path)", STEPS_PER_EXECUTION, {"x": FullBatches(x, y, None, 128, 0)})):
        model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"],
                      steps_per_execution=spe)
        model.fit(x[:1280], y[:1280], batch_size=128, verbose=0)  # compile outside the timing
        ms = per_step(lambda: model.fit(**data, epochs=1, verbose=0), 60000 // 128)
        rows.append((name, spe, ms))
    base = rows[0][2]
    from archbuilder.backend import backend_info

    print(f"machine: {machine()}; backend: {keras.backend.backend()}; device: {backend_info()['device']}")
    table([(name, spe, f"{ms:.3f}", f"{base / ms:.2f}") for name, spe, ms in rows],
          ["fit on", "steps_per_execution", "ms per step (median of 5 epochs)", "speed x keras fit"])


if __name__ == "__main__":
    main()
