"""Bench 7: median pruning on the tune bench's search — total epochs and wall time, with and without.

Runs bench/reference_tune.json (bench 1's search: random, 8 trials x 3 epochs) twice per
seed in this run: as it is, and with `"pruning": {"type": "median", "warmup_epochs": 1,
"min_trials": 3}`. The random search draws the same trials either way (its sampling does
not depend on scores), so the difference is the epochs the pruned trials did not run.
Prints, per seed, the best validation accuracy, the total epochs trained, the trials'
own seconds (trials.csv) and the command's wall time, and the ratios.

    python bench/prune_bench.py --seeds 1 --max-samples 10000
    SMOKE=1 python bench/prune_bench.py --seeds 1   # tiny check: 2,048 images
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

from common import ROOT
from common import SMOKE
from common import machine
from common import run
from common import table

PRUNING = {"type": "median", "warmup_epochs": 1, "min_trials": 3}


def search(seed, pruned, max_samples):
    out = tempfile.mkdtemp(prefix="bench-prune-")
    cmd = [sys.executable, "-m", "archbuilder", "tune", os.path.join(ROOT, "bench", "reference_tune.json"),
           "--out", out, "--overwrite", "--quiet", "--set", f"tuning.seed={seed}",
           "--data", json.dumps({"dataset": "fashion_mnist", "max_samples": 2048 if SMOKE else max_samples})]
    if pruned:
        cmd += ["--set", f"tuning.pruning={json.dumps(PRUNING)}"]
    wall, _ = run(cmd)
    with open(os.path.join(out, "trials.csv")) as f:
        rows = list(csv.DictReader(f))
    scored = [r for r in rows if r["status"] in ("COMPLETED", "PRUNED")]
    return {"best_val_acc": max(float(r["score"]) for r in scored),
            "epochs": sum(int(r["epochs_run"]) for r in scored),
            "pruned": sum(r["status"] == "PRUNED" for r in rows),
            "trial_s": sum(float(r["seconds"]) for r in scored), "wall_s": wall, "trials": len(scored)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--max-samples", type=int, default=10000)
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {machine()}; backend: {os.environ.get('KERAS_BACKEND', 'default')}; smoke: {SMOKE}; "
          f"max_samples: {args.max_samples}; uptime before: {uptime}")
    rows = []
    for seed in args.seeds:
        plain, pruned = search(seed, False, args.max_samples), search(seed, True, args.max_samples)
        for name, r in (("no pruning", plain), ("median pruning", pruned)):
            rows.append((seed, name, r["trials"], r["pruned"], f"{r['best_val_acc']:.4f}", r["epochs"],
                         f"{r['epochs'] / plain['epochs']:.2f}", f"{r['trial_s']:.1f}", f"{r['wall_s']:.1f}",
                         f"{r['wall_s'] / plain['wall_s']:.2f}"))
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"uptime after: {uptime}")
    table(rows, ["seed", "search", "trials", "pruned", "best val acc", "epochs", "epoch ratio", "trial s",
                 "wall s", "wall ratio"])


if __name__ == "__main__":
    main()
