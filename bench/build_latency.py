"""Bench 3b: `archbuilder build` against a hand-written script that builds and saves the same model.

Both are whole processes (interpreter start, Keras and backend import, build, save),
timed as the median of --repeat runs each, interleaved so machine noise hits both.

    python bench/build_latency.py [--repeat 5]
"""

import argparse
import os
import statistics
import sys
import tempfile

from common import ROOT
from common import machine
from common import run
from common import table

HAND_WRITTEN = """
import sys
import keras
L = keras.layers
x = inp = keras.Input((28, 28, 1))
for i, f in enumerate((32, 32, 64, 64)):
    x = L.Conv2D(f, 3, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    if i % 2:
        x = L.MaxPooling2D(2)(x)
x = L.Flatten()(x)
x = L.Dense(256, activation="relu")(x)
x = L.Dropout(0.5)(x)
out = L.Dense(10, activation="softmax", dtype="float32")(x)
model = keras.Model(inp, out)
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary(print_fn=lambda *a, **k: None)
model.save(sys.argv[1])
print(model.count_params())
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-build-")
    script = os.path.join(tmp, "hand_written.py")
    with open(script, "w") as f:
        f.write(HAND_WRITTEN)
    spec = os.path.join(ROOT, "bench", "reference_cnn.json")
    hand, ours = [], []
    for _ in range(args.repeat):
        hand.append(run([sys.executable, script, os.path.join(tmp, "hand.keras")])[0])
        ours.append(run([sys.executable, "-m", "archbuilder", "build", spec, "-o", os.path.join(tmp, "ab.keras")])[0])
    h, o = statistics.median(hand), statistics.median(ours)
    print(f"machine: {machine()}; backend: {os.environ.get('KERAS_BACKEND', 'default')}; repeat: {args.repeat}")
    table([("hand-written build + save", f"{h:.2f}", "1.00"), ("archbuilder build", f"{o:.2f}", f"{o / h:.2f}")],
          ["command", "median s", "ratio"])


if __name__ == "__main__":
    main()
