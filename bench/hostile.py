"""Time, peak memory and temporary disk of archbuilder's refusals of hostile files (issue 15), for BENCHMARKS.md.

Each row runs the real CLI (or one `load_data` call) in a fresh process, interpreter
start-up included, and reports the median wall time over `--repeat` runs, the peak RSS
of that process (`getrusage(RUSAGE_CHILDREN)` in a helper that runs nothing else) and
the bytes in its own temporary folder (`TMPDIR`, where Keras extracts assets) at their
peak, sampled every 10 ms. Baselines measured in the same run: `python -c "import
archbuilder"`; `predict` with a valid 15-parameter model (the backend's own start-up
and memory, which every `predict` pays before any file is opened); `pandas.read_csv` of
the same file for the wide CSV.
tests/hostile/ asserts the outcomes; this script only measures.

Usage:
    python bench/hostile.py [--repeat 3]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

_MEASURE = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); w = time.perf_counter() - t; "
            "print(json.dumps({'rc': p.returncode, 'wall': w, 'stderr': p.stderr[-600:], "
            "'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))")


def _folder_bytes(folder):
    total = 0
    for path, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(path, name))
            except OSError:
                pass
    return total


def measure(args, repeat, tmp):
    """Median wall, peak RSS (MB), peak temporary disk (MB) and the first stderr line of `args`."""
    runs, disk = [], []
    for i in range(repeat):
        scratch = os.path.join(tmp, f"scratch{time.monotonic_ns()}")
        os.mkdir(scratch)
        env = {**os.environ, "PYTHONPATH": ROOT, "TMPDIR": scratch}
        peak = [0]
        done = threading.Event()

        def watch(folder=scratch):
            while not done.is_set():
                peak[0] = max(peak[0], _folder_bytes(folder))
                time.sleep(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        out = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, env=env,
                             check=True, timeout=900)
        done.set()
        watcher.join()
        runs.append(json.loads(out.stdout))
        disk.append(peak[0])
    lines = [line for line in runs[0]["stderr"].splitlines() if line.strip() and not line.startswith(("I0000", "E0000",
             "WARNING: All", "To enable"))]
    return {"rc": runs[0]["rc"], "wall_s": statistics.median(r["wall"] for r in runs),
            "rss_mb": max(r["maxrss_kb"] for r in runs) / 1024, "tmp_mb": max(disk) / 1e6,
            "message": (lines or [""])[-1][:160]}


def make_files(tmp):
    """The hostile files of the issue's findings 3, 4, 5 and 9, made small."""
    sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]
    import keras
    import numpy as np
    from hostile_corpus import rewrite_keras

    files = {}
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    keras.Model(inputs, keras.layers.Conv2D(16, 3, padding="same")(x)).save(os.path.join(tmp, "small_base.keras"))

    def huge_conv(config):
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "Conv2D":
                layer["config"]["filters"] = 20000

    rewrite_keras(os.path.join(tmp, "small_base.keras"), os.path.join(tmp, "base.keras"), huge_conv)
    files["backbone_spec"] = os.path.join(tmp, "on_base.json")
    with open(files["backbone_spec"], "w") as f:
        json.dump({"spec_version": 1, "name": "on_base", "family": "cnn", "input": {"shape": [16, 16, 3]},
                   "backbone": {"model": "base.keras"}, "global_pool": "avg", "output": {"units": 3}}, f)
    small = files["small"] = os.path.join(tmp, "small.keras")
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]).save(small)

    def huge_dense(config):
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 60000]
        config["config"]["layers"][1]["config"]["units"] = 60000
        config["config"]["layers"][1]["build_config"]["input_shape"] = [None, 60000]
        config["build_config"]["input_shape"] = [None, 60000]

    files["dense_60000"] = os.path.join(tmp, "dense.keras")
    rewrite_keras(small, files["dense_60000"], huge_dense)
    files["assets"] = os.path.join(tmp, "assets.keras")
    rewrite_keras(small, files["assets"], add=[(f"assets/zeros{i}.bin", 200 << 20) for i in range(4)])
    files["weights"] = os.path.join(tmp, "weights.keras")
    rewrite_keras(small, files["weights"], replace={"model.weights.h5": None}, add=[("model.weights.h5", 1500 << 20)])
    files["x"] = os.path.join(tmp, "x.npy")
    np.save(files["x"], np.zeros((2, 4), np.float32))
    for columns in (100_000, 1_000_000):
        path = os.path.join(tmp, f"wide{columns}.csv")
        with open(path, "w") as f:
            f.write(",".join(f"c{i}" for i in range(columns - 1)) + ",label\n")
            row = ",".join(["1"] * (columns - 1))
            for r in range(5):
                f.write(f"{row},{r % 2}\n")
        files[f"wide{columns}"] = path
    files["fifo"] = os.path.join(tmp, "fifo.csv")
    os.mkfifo(files["fifo"])
    return files


def _load(data, shape, units=2):
    return ["-c", f"from archbuilder.data.load import load_data; load_data({data!r}, {shape!r}, output_units={units})"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "archbuilder"]
    py = [sys.executable]
    with tempfile.TemporaryDirectory() as tmp:
        f = make_files(tmp)
        sizes = {name: os.path.getsize(f[name]) for name in ("dense_60000", "assets", "weights")}
        rows = [
            ("baseline: python -c 'import archbuilder'", [*py, "-c", "import archbuilder"]),
            ("validate: backbone .keras declaring 2 x Conv2D(20000)", [*cli, "validate", f["backbone_spec"]]),
            ("build: the same spec", [*cli, "build", f["backbone_spec"]]),
            ("baseline: predict with a valid 15-parameter .keras", [*cli, "predict", f["small"], f["x"]]),
            ("predict: .keras declaring Dense 60000 x 60000", [*cli, "predict", f["dense_60000"], f["x"]]),
            ("predict: .keras with 4 x 200 MiB zero assets", [*cli, "predict", f["assets"], f["x"]]),
            ("predict: .keras with a 1.5 GiB zero model.weights.h5", [*cli, "predict", f["weights"], f["x"]]),
            ("baseline: pandas.read_csv of 100,000 columns x 5 rows",
             [*py, "-c", f"import pandas; pandas.read_csv({f['wide100000']!r})"]),
            ("load_data: 100,000 columns x 5 rows", [*py, *_load({"path": f["wide100000"], "target": "label"},
                                                                  [99_999])]),
            ("load_data: 1,000,000 columns x 5 rows", [*py, *_load({"path": f["wide1000000"], "target": "label"},
                                                                    [999_999])]),
            ("load_data: a FIFO named .csv", [*py, *_load({"path": f["fifo"], "target": "y"}, [1])]),
        ]
        results = []
        for label, command in rows:
            result = measure(command, args.repeat, tmp)
            results.append((label, result))
            print(f"{label}: rc {result['rc']}, {result['wall_s']:.2f} s, {result['rss_mb']:.0f} MB, "
                  f"temp {result['tmp_mb']:.0f} MB -- {result['message']}", flush=True)
    print(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
                      "file_sizes": sizes, "rows": [{"case": label, **r} for label, r in results]}, indent=1))


if __name__ == "__main__":
    main()
