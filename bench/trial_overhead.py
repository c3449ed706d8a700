"""Where a tuning trial's time goes on JAX: XLA compilations per trial, with the fast path off and on.

Runs `archbuilder tune bench/reference_tune.json` twice in fresh processes, with
ARCHBUILDER_FAST_PATH=off and =on, on a subset of Fashion-MNIST whose training and
validation sizes are not multiples of the batch size (as the reference search's
50,000 / 10,000 are not: 128 leaves 80 and 16). Each process logs every XLA
compilation (jax_log_compiles) and prints, per trial: seconds, compilations and their
seconds by function. Needs KERAS_BACKEND=jax.

    KERAS_BACKEND=jax python bench/trial_overhead.py --samples 6000 --trials 3
    KERAS_BACKEND=jax python bench/trial_overhead.py --samples 60000 --trials 8   # the GPU run
"""

import argparse
import collections
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time

from common import ROOT
from common import machine
from common import table

PATTERN = re.compile(r"Finished XLA compilation of (.*) in ([0-9.e-]+) sec")


def child(samples, trials, epochs):
    """Runs the search in this process; prints one RESULT line."""
    import jax

    compiled = []

    class Record(logging.Handler):
        def emit(self, record):
            match = PATTERN.match(record.getMessage())
            if match:
                compiled.append((time.perf_counter(), match.group(1), float(match.group(2))))

    jax.config.update("jax_log_compiles", True)
    log = logging.getLogger("jax")
    log.addHandler(Record())
    log.setLevel(logging.WARNING)
    log.propagate = False
    sys.path.insert(0, ROOT)
    import archbuilder
    from archbuilder.tuning.tuners import RECORD

    out = os.path.join(tempfile.mkdtemp(prefix="bench-overhead-"), "run")
    data = {"dataset": "fashion_mnist", "max_samples": samples}
    overrides = [f"training.epochs={epochs}", "training.validation_split=0.16666666666666666"]
    archbuilder.tune(os.path.join(ROOT, "bench", "reference_tune.json"), data=data, out=out, overwrite=True,
                     quiet=True, max_trials=trials, overrides=overrides)
    rows = []
    trial_dir = os.path.join(out, "tuner")
    for name in sorted(os.listdir(trial_dir)):
        path = os.path.join(trial_dir, name, RECORD)
        if name.startswith("trial_") and os.path.exists(path):
            with open(path) as f:
                rows.append(json.load(f))
    kinds = collections.Counter()
    seconds = collections.Counter()
    for _, function, duration in compiled:
        kind = function if function in ("jit(train_step)", "jit(test_step)") else "other"
        kinds[kind] += 1
        seconds[kind] += duration
    result = {"trials": len(rows), "s_per_trial": sum(r["seconds"] for r in rows) / max(len(rows), 1),
              "compilations": dict(kinds), "compile_s": dict(seconds)}
    print("RESULT " + json.dumps(result), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=6000, help="training images used (before the split)")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.samples, args.trials, args.epochs)
    if os.environ.get("KERAS_BACKEND") != "jax":
        sys.exit("set KERAS_BACKEND=jax: this bench counts XLA compilations")
    results = {}
    for mode in ("off", "on"):
        command = [sys.executable, os.path.abspath(__file__), "--child", "--samples", str(args.samples),
                   "--trials", str(args.trials), "--epochs", str(args.epochs)]
        env = {**os.environ, "ARCHBUILDER_FAST_PATH": mode}
        proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            sys.exit(f"fast path {mode} failed:\n{proc.stderr[-3000:]}")
        results[mode] = json.loads(line[len("RESULT "):])
    print(f"machine: {machine()}; backend: jax; images: {args.samples} (5/6 train, 1/6 validation); "
          f"trials: {args.trials} x {args.epochs} epoch(s)")
    rows = []
    for mode, r in results.items():
        n = max(r["trials"], 1)
        count, secs = r["compilations"], r["compile_s"]
        rows.append((f"fast path {mode}", f"{r['s_per_trial']:.2f}",
                     f"{count.get('jit(train_step)', 0) / n:.1f} ({secs.get('jit(train_step)', 0) / n:.2f} s)",
                     f"{count.get('jit(test_step)', 0) / n:.1f} ({secs.get('jit(test_step)', 0) / n:.2f} s)",
                     f"{count.get('other', 0) / n:.1f} ({secs.get('other', 0) / n:.2f} s)"))
    table(rows, ["archbuilder tune", "s per trial", "train-step compilations per trial",
                 "test-step compilations per trial", "other compilations per trial"])


if __name__ == "__main__":
    main()
