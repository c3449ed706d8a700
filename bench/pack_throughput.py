"""Bench 5: packed trials — trials per hour of a 16-trial search, hand-written keras-tuner against archbuilder.

The search (issue 13): the MNIST-1D reference CNN (3 x Conv1D(25, 5, strides 2, relu),
Flatten, Dense(10, softmax); 7,710 params), batch 100, 10 epochs, validation_split 0.1,
Adam; learning rate log-uniform in 1e-3..3e-2, L2 factor log-uniform in 1e-5..1e-3
on every kernel, seed in 1..1000: 16 trials of one shape. Three searches, each in its own
process, JAX backend, the same random-search seed:

  (a) a hand-written keras-tuner RandomSearch (the HyperModel below, plain Keras);
  (b) `archbuilder tune` one trial at a time (`tuning.pack` 1);
  (c) `archbuilder tune --pack 16`.

Each side's seconds run from before its data is loaded to after its best model is saved
(imports excluded): trials per hour = trials / seconds x 3600. Best validation accuracy
is the best trial's `val_accuracy`. Repeated for each seed; means are printed.

    KERAS_BACKEND=jax python bench/pack_throughput.py --seeds 1 2        # CPU (issue 13's targets)
    KERAS_BACKEND=jax python bench/pack_throughput.py --memory            # peak RSS after 1 and 4 packs of 4
    KERAS_BACKEND=jax python bench/pack_throughput.py --fashion --pack 32 --trials 32 --epochs 2 --seeds 1 --skip-sequential --scan-both
        (the GPU run, bench/gpu_run.sh pack: the packed search with lax.scan epochs, then one program per step)
    SMOKE=1 ...                    # 4 trials x 1 epoch on 1,000 samples (--fashion: 2 on 180), a quick check

`--fashion`: the Fashion-MNIST reference CNN of the reference baseline script (reference_baseline.py, $REFERENCE_BASELINE)
(f=32, units=256, batch 128, validation on the last 10,000 training images) with the
same three hyperparameters.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from common import ROOT
from common import SMOKE
from common import machine
from common import peak_rss_mb
from common import run
from common import table

RATE = {"float": {"min": 1e-3, "max": 3e-2, "sampling": "log"}}
L2 = {"float": {"min": 1e-5, "max": 1e-3, "sampling": "log"}}
SEED = {"int": {"min": 1, "max": 1000}}
# SMOKE=1's trials and samples (MNIST-1D, Fashion-MNIST). Fashion-MNIST's: a pack of 2, each epoch one full
# batch of 128 and a partial one, as a CPU runs the GPU run's lax.scan epochs (convolutions inside a loop) on a
# very slow path: the GPU command then runs through on a CPU in minutes.
SMOKE_TRIALS = {False: 4, True: 2}
SMOKE_SAMPLES = {False: 1000, True: 180}


def spec(fashion, trials, epochs):
    """The search as an archbuilder spec."""
    if fashion:  # reference_baseline.keras_cnn(f=32, units=256)
        block = {"kernel_size": 3, "use_bias": False, "batch_norm": True}
        conv = [{"filters": 32, **block}, {"filters": 32, "pool": 2, **block},
                {"filters": 64, **block}, {"filters": 64, "pool": 2, **block}]
        shape, dense, data, batch = [28, 28, 1], [{"units": 256, "dropout": 0.5}], {"dataset": "fashion_mnist"}, 128
        split = 10000 / 60000
    else:
        conv = [{"filters": 25, "kernel_size": 5, "strides": 2}] * 3
        shape, dense, data, batch, split = [40, 1], [], {"dataset": "mnist1d"}, 100, 0.1
    if SMOKE:
        data = {**data, "max_samples": SMOKE_SAMPLES[fashion]}
    return {"spec_version": 1, "name": "pack_bench", "family": "cnn", "input": {"shape": shape},
            "regularization": {"l2": L2}, "conv": conv, "dense": dense, "output": {"units": 10}, "data": data,
            "training": {"epochs": epochs, "batch_size": batch, "validation_split": split, "seed": SEED,
                         "optimizer": {"type": "adam", "learning_rate": RATE}},
            "tuning": {"tuner": "random", "max_trials": trials, "objective": "val_accuracy"}}


# The hand-written side: what a keras-tuner user writes for the same search.
KERAS_TUNER = r"""
import json, os, sys, tempfile, time
import numpy as np
args = json.loads(sys.argv[1])
import keras, keras_tuner
L = keras.layers
start = time.perf_counter()
if args["fashion"]:
    sys.path.insert(0, os.path.dirname(args["baseline"]))
    import reference_baseline
    reference_baseline.SMOKE = args["smoke"]
    x, y, _, _ = reference_baseline.load()
    if args["smoke"]:
        x, y = x[:args["smoke_samples"]], y[:args["smoke_samples"]]
    n_val = 10000 if not args["smoke"] else len(x) // 6
    x_val, y_val, x, y = x[-n_val:], y[-n_val:], x[:-n_val], y[:-n_val]
    batch = 128
else:
    import mnist1d.data
    d = mnist1d.data.make_dataset(mnist1d.data.get_dataset_args())
    x, y = d["x"].astype("float32")[..., None], d["y"].astype("int64")
    if args["smoke"]:
        x, y = x[:args["smoke_samples"]], y[:args["smoke_samples"]]
    cut = int(len(x) * 0.9)
    x, y, x_val, y_val = x[:cut], y[:cut], x[cut:], y[cut:]
    batch = 100

def build(hp):
    rate = hp.Float("learning_rate", 1e-3, 3e-2, sampling="log")
    l2 = keras.regularizers.L2(hp.Float("l2", 1e-5, 1e-3, sampling="log"))
    keras.utils.set_random_seed(hp.Int("seed", 1, 1000))
    if args["fashion"]:
        h = inputs = keras.Input((28, 28, 1))
        for f in (32, 64):
            for _ in range(2):
                h = L.Conv2D(f, 3, padding="same", use_bias=False, kernel_regularizer=l2)(h)
                h = L.Activation("relu")(L.BatchNormalization()(h))
            h = L.MaxPooling2D(2)(h)
        h = L.Dropout(0.5)(L.Dense(256, activation="relu", kernel_regularizer=l2)(L.Flatten()(h)))
    else:
        h = inputs = keras.Input((40, 1))
        for _ in range(3):
            h = L.Conv1D(25, 5, strides=2, padding="same", activation="relu", kernel_regularizer=l2)(h)
        h = L.Flatten()(h)
    model = keras.Model(inputs, L.Dense(10, activation="softmax", kernel_regularizer=l2)(h))
    model.compile(keras.optimizers.Adam(rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

tuner = keras_tuner.RandomSearch(build, objective="val_accuracy", max_trials=args["trials"], seed=args["seed"],
                                 directory=tempfile.mkdtemp(), project_name="pack_bench")
tuner.search(x, y, validation_data=(x_val, y_val), epochs=args["epochs"], batch_size=batch, verbose=0)
tuner.get_best_models(1)[0].save(os.path.join(tempfile.mkdtemp(), "best.keras"))
seconds = time.perf_counter() - start
print("RESULT " + json.dumps({"seconds": seconds, "trials": len(tuner.oracle.trials),
                              "best_val_acc": tuner.oracle.get_best_trials(1)[0].score}))
"""

ARCHBUILDER = r"""
import json, os, sys, tempfile, time
args = json.loads(sys.argv[1])
import keras, keras_tuner, archbuilder
from archbuilder.tuning import search  # imported before the clock starts, as the baseline imports Keras
from archbuilder.spec.load import load_spec
start = time.perf_counter()
result = archbuilder.tune(load_spec(args["spec"]), out=os.path.join(tempfile.mkdtemp(), "run"), quiet=True,
                          pack=args["pack"], overrides=[("tuning.seed", args["seed"])])
seconds = time.perf_counter() - start
print("RESULT " + json.dumps({"seconds": seconds, "trials": len(result.trials), "best_val_acc": result.best_score}))
"""


def _result(script, payload, env=None):
    _, out = run([sys.executable, "-c", script, json.dumps(payload)], env=env)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def throughput(args):
    trials, epochs = (SMOKE_TRIALS[args.fashion], 1) if SMOKE else (args.trials, args.epochs)
    doc = spec(args.fashion, trials, epochs)
    baseline = os.environ.get("REFERENCE_BASELINE", os.path.join(ROOT, "bench", "reference_baseline.py"))
    sequential = "archbuilder tune (pack 1)"
    packed = {f"archbuilder tune --pack {args.pack}": None}
    if args.scan_both:  # the accelerators' default (an epoch per program) and one program per step
        packed = {f"archbuilder tune --pack {args.pack}, lax.scan epochs": {"ARCHBUILDER_PACK_SCAN": "on"},
                  f"archbuilder tune --pack {args.pack}, one program per step": {"ARCHBUILDER_PACK_SCAN": "off"}}
    runs = {"keras-tuner RandomSearch (hand-written)": [], **({} if args.skip_sequential else {sequential: []}),
            **{name: [] for name in packed}}
    names = list(runs)
    for seed in args.seeds:
        common = {"seed": seed, "trials": trials, "epochs": epochs, "fashion": args.fashion, "smoke": SMOKE,
                  "smoke_samples": SMOKE_SAMPLES[args.fashion]}
        runs[names[0]].append(_result(KERAS_TUNER, {**common, "baseline": os.path.abspath(baseline)}))
        if sequential in runs:
            runs[sequential].append(_result(ARCHBUILDER, {**common, "spec": doc, "pack": 1}))
        for name, env in packed.items():
            runs[name].append(_result(ARCHBUILDER, {**common, "spec": doc, "pack": args.pack}, env))
        print(f"seed {seed}: " + json.dumps({name: results[-1] for name, results in runs.items()}), flush=True)
    per_hour = {name: statistics.mean(r["trials"] / r["seconds"] * 3600 for r in results)
                for name, results in runs.items()}
    rows = []
    for name, results in runs.items():
        against = f"{per_hour[name] / per_hour[sequential]:.2f}" if sequential in per_hour else "-"
        rows.append((name, f"{statistics.mean(r['seconds'] for r in results):.1f}", f"{per_hour[name]:.0f}",
                     f"{per_hour[name] / per_hour[names[0]]:.2f}", against,
                     f"{statistics.mean(r['best_val_acc'] for r in results):.4f}"))
    scan = os.environ.get("ARCHBUILDER_PACK_SCAN", "auto")
    print(f"machine: {machine()}; backend: {os.environ.get('KERAS_BACKEND', 'default')}; smoke: {SMOKE}; "
          f"{trials} trials x {epochs} epochs; seeds {args.seeds}; ARCHBUILDER_PACK_SCAN={scan}")
    table(rows, ["search", "seconds (mean)", "trials per hour", "x keras-tuner", "x archbuilder pack 1",
                 "best val acc (mean)"])


def memory(args):
    """Peak RSS of one packed search stopped after 1 pack and after 4 packs (same seed: the same first pack)."""
    tmp = tempfile.mkdtemp(prefix="bench-pack-memory-")
    path = os.path.join(tmp, "spec.json")
    with open(path, "w") as f:
        json.dump({**spec(False, 4 * args.memory_pack, 2), "name": "pack_memory"}, f)
    peaks = {}
    for packs in (1, 4):
        cmd = [sys.executable, "-m", "archbuilder", "tune", path, "--quiet", "--pack", str(args.memory_pack),
               "--max-trials", str(packs * args.memory_pack), "--out", os.path.join(tmp, f"run{packs}")]
        peaks[packs] = peak_rss_mb(cmd)[1]
    print(f"machine: {machine()}; backend: {os.environ.get('KERAS_BACKEND', 'default')}; "
          f"packs of {args.memory_pack}, 2 epochs")
    table([("after pack 1", f"{peaks[1]:.0f}"), ("after pack 4", f"{peaks[4]:.0f}"),
           ("ratio", f"{peaks[4] / peaks[1]:.2f}")], ["peak RSS", "MB"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--pack", default="16")
    parser.add_argument("--fashion", action="store_true", help="the Fashion-MNIST reference CNN (a GPU run)")
    parser.add_argument("--memory", action="store_true", help="peak RSS after 1 and 4 packs instead")
    parser.add_argument("--memory-pack", type=int, default=4)
    parser.add_argument("--skip-sequential", action="store_true", help="leave out archbuilder's pack 1 run")
    parser.add_argument("--scan-both", action="store_true", help="the packed search with and without lax.scan")
    args = parser.parse_args()
    args.pack = args.pack if args.pack == "auto" else int(args.pack)
    started = time.time()
    memory(args) if args.memory else throughput(args)
    print(f"({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
