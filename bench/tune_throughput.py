"""Bench 1: search throughput of `archbuilder tune` against plain keras-tuner.

The baseline is reference_baseline.py's `tuner` run (RandomSearch, 8 trials x 3 epochs,
batch 128, validation on the last 10,000 training images); archbuilder runs
bench/reference_tune.json, the same search written as a spec. Both run here, in this
run, once per seed; prints seconds per trial, best validation accuracy and the ratio.

    python bench/tune_throughput.py --seeds 1 2
    SMOKE=1 python bench/tune_throughput.py --seeds 1   # tiny CPU check: 2 trials x 1 epoch
"""

import argparse
import csv
import os
import statistics
import sys
import tempfile

from common import ROOT
from common import SMOKE
from common import baseline
from common import machine
from common import run
from common import table


def archbuilder_tune(seed):
    out = tempfile.mkdtemp(prefix="bench-tune-")
    cmd = [sys.executable, "-m", "archbuilder", "tune", os.path.join(ROOT, "bench", "reference_tune.json"),
           "--out", out, "--overwrite", "--quiet", "--set", f"tuning.seed={seed}"]
    if SMOKE:
        cmd += ["--max-trials", "2", "--set", "training.epochs=1",
                "--data", '{"dataset": "fashion_mnist", "max_samples": 2048}',
                "--set", "training.validation_split=0.125"]
    wall, _ = run(cmd)
    with open(os.path.join(out, "trials.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["status"] == "COMPLETED"]
    # The trials' own seconds (build, fit, checkpoints), as trials.csv records them. Like the
    # baseline's figure (its search() loop) they leave out start-up, imports and data loading;
    # unlike it, they also leave out the oracle's bookkeeping between trials (milliseconds on one host).
    return {"s_per_trial": sum(float(r["seconds"]) for r in rows) / len(rows), "wall_s": wall,
            "best_val_acc": max(float(r["score"]) for r in rows), "trials": len(rows)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    env = {"SMOKE": "1"} if SMOKE else {}
    ours, theirs = [], []
    for seed in args.seeds:
        theirs.append(baseline("tuner", env))  # the baseline's seed is fixed at 1: repeats show its noise
        ours.append(archbuilder_tune(seed))
    base_s = statistics.mean(r["s_per_trial"] for r in theirs)
    our_s = statistics.mean(r["s_per_trial"] for r in ours)
    base_acc = statistics.mean(r["best_val_acc"] for r in theirs)
    our_acc = statistics.mean(r["best_val_acc"] for r in ours)
    print(f"machine: {machine()}; backend: {os.environ.get('KERAS_BACKEND', 'default')}; smoke: {SMOKE}; "
          f"seeds: {args.seeds}")
    table([("keras-tuner RandomSearch (baseline)", f"{base_s:.2f}", f"{base_acc:.4f}", "1.00"),
           ("archbuilder tune", f"{our_s:.2f}", f"{our_acc:.4f}", f"{our_s / base_s:.2f}")],
          ["search", "s per trial", "best val acc (mean)", "time ratio"])


if __name__ == "__main__":
    main()
