"""Wall time of `archbuilder validate` per shipped spec, against `import keras` (TensorFlow backend).

Each figure is the wall time of a fresh process, interpreter start-up included:
`archbuilder validate SPEC` (median of 5 runs) and `python -c "import keras"` with
KERAS_BACKEND=tensorflow (median of 3). The README promises validate in about 0.2 s.

Usage:
    python bench/validate_latency.py [SPEC ...]    # default: specs/*.json
"""

import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def wall(command, env=None, repeat=5):
    """Median wall seconds of `command` over `repeat` fresh processes."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv):
    specs = [pathlib.Path(a) for a in argv] or sorted((ROOT / "specs").glob("*.json"))
    script = shutil.which("archbuilder")
    validate = [script] if script else [sys.executable, "-m", "archbuilder"]
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    keras_s = wall([sys.executable, "-c", "import keras"], env=env, repeat=3)

    rows = []
    for spec in specs:
        subprocess.run([*validate, "validate", str(spec)], cwd=ROOT, check=True, capture_output=True)
        rows.append((spec.name, wall([*validate, "validate", str(spec)])))

    width = max(len(name) for name, _ in rows + [("spec", 0)])
    print(f"`{' '.join(validate)} validate SPEC` (median of 5) vs `python -c \"import keras\"`, "
          "TensorFlow backend (median of 3); wall seconds of a fresh process")
    print(f"| {'spec':<{width}} | validate s | import keras s | keras / validate |")
    print(f"|{'-' * (width + 2)}|-----------:|---------------:|-----------------:|")
    for name, seconds in rows:
        print(f"| {name:<{width}} | {seconds:10.3f} | {keras_s:14.3f} | {keras_s / seconds:15.1f}x |")
    worst = max(seconds for _, seconds in rows)
    print(f"slowest validate: {worst:.3f} s ({'under' if worst < 1 else 'OVER'} the 1 s promise)")


if __name__ == "__main__":
    main(sys.argv[1:])
