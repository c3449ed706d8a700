"""Bench 4: peak RSS of a CPU search after trial 2 and after trial 20.

keras-tuner users report memory growing across trials until a crash. The same
small mnist1d search runs twice as `archbuilder tune` processes, stopped after 2
and after 20 trials (same seed, so the first 2 trials are the same); the peak RSS
of each process is the peak after that trial.

    python bench/tune_memory.py [--trials 20]
"""

import argparse
import json
import os
import sys
import tempfile

from common import machine
from common import peak_rss_mb
from common import table

SPEC = {
    "spec_version": 1, "name": "memory_search", "family": "cnn",
    "input": {"shape": [40, 1]},
    "conv": [{"filters": {"choice": [8, 16, 32]}, "kernel_size": {"choice": [3, 5]}, "pool": 2}],
    "dense": [{"units": {"int": {"min": 16, "max": 64, "step": 16}}}],
    "output": {"units": 10},
    "training": {"epochs": 1, "batch_size": 64},
    "tuning": {"tuner": "random", "max_trials": 20, "seed": 1},
    "data": {"dataset": "mnist1d", "max_samples": 1000},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-memory-")
    spec = os.path.join(tmp, "spec.json")
    with open(spec, "w") as f:
        json.dump(SPEC, f)
    peaks = {}
    for trials in (2, args.trials):
        cmd = [sys.executable, "-m", "archbuilder", "tune", spec, "--quiet", "--max-trials", str(trials),
               "--out", os.path.join(tmp, f"run{trials}")]
        peaks[trials] = peak_rss_mb(cmd)[1]
    print(f"machine: {machine()}; backend: {os.environ.get('KERAS_BACKEND', 'default')}")
    table([("after trial 2", f"{peaks[2]:.0f}"), (f"after trial {args.trials}", f"{peaks[args.trials]:.0f}"),
           ("ratio", f"{peaks[args.trials] / peaks[2]:.2f}")], ["peak RSS", "MB"])


if __name__ == "__main__":
    main()
