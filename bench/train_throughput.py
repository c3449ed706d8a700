"""Bench 2: training throughput of `archbuilder train` against hand-written Keras (and PyTorch).

Runs, on this machine and in this one run: the reference baseline's `keras` (float32
`model.fit`) and, unless --no-torch, `torch`; then `archbuilder train` on the same
network (bench/reference_cnn.json) with its defaults and forced to float32. Prints
samples/s of each steady epoch (median of epochs after the first) and the ratios.

    python bench/train_throughput.py                # full: 10 epochs of Fashion-MNIST
    python bench/train_throughput.py --subset 12000 # 10 epochs of the first 12,000 images (a CPU-sized run)
    SMOKE=1 python bench/train_throughput.py        # tiny CPU check (2,048 samples, 1 epoch)
"""

import argparse
import csv
import gzip
import json
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


def write_subset(n):
    """The first `n` training images (and the whole test set) as IDX files; both runs read them."""
    source = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    folder = tempfile.mkdtemp(prefix="fashion-subset-")
    for name, header, item in (("train-images-idx3-ubyte.gz", 16, 784), ("train-labels-idx1-ubyte.gz", 8, 1)):
        with gzip.open(os.path.join(source, name)) as f:
            data = bytearray(f.read(header + n * item))
        data[4:8] = n.to_bytes(4, "big")
        with gzip.open(os.path.join(folder, name), "wb", compresslevel=1) as f:
            f.write(bytes(data))
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        os.symlink(os.path.join(source, name), os.path.join(folder, name))
    os.environ["FASHION_MNIST_DIR"] = os.environ["ARCHBUILDER_DATA"] = folder


def archbuilder_run(precision, n_train):
    out = tempfile.mkdtemp(prefix="bench-train-")
    cmd = [sys.executable, "-m", "archbuilder", "train", os.path.join(ROOT, "bench", "reference_cnn.json"),
           "--out", out, "--overwrite", "--quiet", "--set", f"training.mixed_precision={precision}",
           "--set", f"training.epochs={1 if SMOKE else 10}"]
    if SMOKE:
        cmd += ["--data", '{"dataset": "fashion_mnist", "max_samples": 2048}']
    wall, _ = run(cmd)
    with open(os.path.join(out, "history.csv")) as f:
        seconds = [float(row["epoch_seconds"]) for row in csv.DictReader(f)]
    with open(os.path.join(out, "env.json")) as f:
        env = json.load(f)
    if env["last_partial_batch"] == "dropped":  # the fast path trains full batches only: count what it trained
        n_train -= n_train % 128
    steady = statistics.median(seconds[1:] or seconds)
    return {"samples_per_s": round(n_train / steady), "steady_epoch_s": round(steady, 3), "wall_s": round(wall, 1),
            "precision": env["precision"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch baseline")
    parser.add_argument("--subset", type=int, help="train on the first N images only (both sides)")
    args = parser.parse_args()
    if args.subset:
        write_subset(args.subset)
    n_train = 2048 if SMOKE else args.subset or 60000
    env = {"SMOKE": "1"} if SMOKE else {}
    results = {"keras fit (float32)": baseline("keras", env)}
    if not args.no_torch:
        results["torch eager (bf16 autocast on GPU)"] = baseline("torch", env)
    defaults = archbuilder_run("auto", n_train)
    results[f"archbuilder train (defaults: {defaults['precision']})"] = defaults
    results["archbuilder train (float32)"] = archbuilder_run("false", n_train)
    base = results["keras fit (float32)"]["samples_per_s"]
    torch = results.get("torch eager (bf16 autocast on GPU)", {}).get("samples_per_s")
    rows = [(name, r["samples_per_s"], r["steady_epoch_s"], f"{r['samples_per_s'] / base:.2f}",
             f"{r['samples_per_s'] / torch:.2f}" if torch else "-") for name, r in results.items()]
    print(f"machine: {machine()}; backend: {os.environ.get('KERAS_BACKEND', 'default')}; smoke: {SMOKE}; "
          f"training images: {n_train}")
    table(rows, ["run", "samples/s", "steady epoch s", "x keras fit", "x torch"])


if __name__ == "__main__":
    main()
