"""Bench 6: a contractive autoencoder's epoch against the sparse autoencoder's of the same encoder (CPU).

Issue 13: a dense contractive AE (MNIST-1D, 40 -> 1024 -> 256 -> 64 -> 16, tanh, mirror
decoder) took ~30x the sparse AE's epoch, because the penalty carried the full Jacobian
(batch x units x 40) forward through the encoder. It is now multiplied from the code
side. Each row trains in its own process on the backend given, batch 128, and reports
the median epoch after the first (the first compiles):

- `archbuilder train` of the sparse AE and of the contractive AE (the target: <= 5x);
- the same contractive model with the penalty's two orders side by side in plain Keras
  `fit` (archbuilder's layers: `ContractiveDense(carry="factors")`, the code side, and
  `carry="jacobian"`, the full Jacobian carried forward as before).

    python bench/contractive_speed.py [--backends tensorflow jax] [--epochs 5]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile

from common import machine
from common import run
from common import table

ENCODER = [1024, 256, 64]
CODE = 16


def spec(variant, epochs):
    doc = {"spec_version": 1, "name": f"{variant}_ae", "family": "autoencoder", "input": {"shape": [40]},
           "activation": "tanh", "encoder": [{"units": units} for units in ENCODER], "bottleneck": {"units": CODE},
           "variant": variant, "output": {"activation": "linear"}, "data": {"dataset": "mnist1d"},
           "training": {"epochs": epochs, "batch_size": 128}}
    doc.update({"sparsity": {"l1": 1e-4}} if variant == "sparse" else {"contractive": {"weight": 1e-3}})
    return doc


# The two orders of the same penalty, in plain Keras: archbuilder's layers, its family's mirror decoder.
HAND = r"""
import json, sys, time
import numpy as np
import keras
import archbuilder
from archbuilder.layers.penalties import ContractiveDense, ContractivePenalty
import mnist1d.data
args = json.loads(sys.argv[1])
d = mnist1d.data.make_dataset(mnist1d.data.get_dataset_args())
x = d["x"].astype("float32")
keras.utils.set_random_seed(1)
inputs = keras.Input((40,))
h = inputs
for units in args["encoder"] + [args["code"]]:
    h = ContractiveDense(units, activation="tanh", carry=args["carry"])(h)
h = ContractivePenalty(1e-3)(h)
for units in reversed(args["encoder"]):
    h = keras.layers.Dense(units, activation="tanh")(h)
model = keras.Model(inputs, keras.layers.Dense(40)(h))
model.compile("adam", "mse")
times = []
class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        times.append(time.perf_counter() - self.start)
model.fit(x, x, batch_size=128, epochs=args["epochs"], validation_split=0.1, verbose=0, callbacks=[Clock()])
print("RESULT " + json.dumps({"epoch_seconds": times}))
"""


def _median_after_first(times):
    return statistics.median(times[1:] or times)


def archbuilder_epoch(variant, epochs, env):
    tmp = tempfile.mkdtemp(prefix=f"bench-{variant}-")
    path = os.path.join(tmp, "spec.json")
    with open(path, "w") as f:
        json.dump(spec(variant, epochs), f)
    out = os.path.join(tmp, "run")
    run([sys.executable, "-m", "archbuilder", "train", path, "--out", out, "--quiet"], env=env)
    with open(os.path.join(out, "history.csv")) as f:
        header, *rows = [line.strip().split(",") for line in f if line.strip()]
    column = header.index("epoch_seconds")
    return _median_after_first([float(row[column]) for row in rows])


def hand_epoch(carry, epochs, env):
    payload = json.dumps({"carry": carry, "epochs": epochs, "encoder": ENCODER, "code": CODE})
    _, out = run([sys.executable, "-c", HAND, payload], env=env)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return _median_after_first(json.loads(line[len("RESULT "):])["epoch_seconds"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for backend in args.backends:
        env = {"KERAS_BACKEND": backend}
        sparse = archbuilder_epoch("sparse", args.epochs, env)
        contractive = archbuilder_epoch("contractive", args.epochs, env)
        code_side = hand_epoch("factors", args.epochs, env)
        input_side = hand_epoch("jacobian", args.epochs, env)
        rows += [(backend, "archbuilder train, sparse AE", f"{sparse:.3f}", "1.00"),
                 (backend, "archbuilder train, contractive AE", f"{contractive:.3f}", f"{contractive / sparse:.2f}"),
                 (backend, "Keras fit, contractive, code-side penalty (now)", f"{code_side:.3f}",
                  f"{code_side / sparse:.2f}"),
                 (backend, "Keras fit, contractive, full Jacobian carried forward (before)", f"{input_side:.3f}",
                  f"{input_side / sparse:.2f}")]
    print(f"machine: {machine()}; MNIST-1D 40-{'-'.join(map(str, ENCODER))}-{CODE}, batch 128, "
          f"median epoch after the first of {args.epochs}")
    table(rows, ["backend", "run", "epoch s", "x sparse AE epoch"])


if __name__ == "__main__":
    main()
