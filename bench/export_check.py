"""Export check: every shipped spec, as shipped, trained one epoch and exported to every format.

Each spec trains on random data of its input's shape and dtype (`tests/export_cases.py`;
token sequences of 200 steps), on the backend of this process (`KERAS_BACKEND`), then
`archbuilder.export` writes each format (from a TensorFlow process when the backend is
another one) and checks it in its runtime. Prints one row per spec and format: the largest
absolute difference to Keras on TensorFlow, to Keras on the training backend, at batch 1,
and the export's wall seconds. Correctness, not speed: the seconds are for planning only.

    KERAS_BACKEND=jax python bench/export_check.py [--specs imdb_bilstm,wine_mlp] [--formats onnx]
"""

import argparse
import glob
import json
import os
import pathlib
import sys
import tempfile
import time

from common import ROOT
from common import machine
from common import table

sys.path.insert(0, os.path.join(ROOT, "tests"))

from export_cases import random_data  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", help="comma-separated spec names (default: every file in specs/)")
    parser.add_argument("--formats", default="saved_model,onnx,litert")
    args = parser.parse_args()
    import keras

    import archbuilder
    from archbuilder.run.train import run_training

    backend = keras.backend.backend()
    wanted = set(args.specs.split(",")) if args.specs else None
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for path in sorted(glob.glob(os.path.join(ROOT, "specs", "*.json"))):
            doc = json.loads(pathlib.Path(path).read_text())
            if wanted and doc["name"] not in wanted:
                continue
            folder = pathlib.Path(work, doc["name"])
            folder.mkdir()
            data = random_data(doc, folder, steps=200)
            run = run_training(path, data, out=str(folder / "run"), quiet=True, defaults=True,
                               overrides=[("training.epochs", 1), ("training.batch_size", 16)]).run_dir
            for fmt in args.formats.split(","):
                start = time.perf_counter()
                try:
                    result = archbuilder.export(run, fmt)
                except archbuilder.ArchbuilderError as e:
                    rows.append([doc["name"], fmt, "failed", str(e)[:90], "", "", ""])
                    continue
                d = result["differences"]
                own = d.get(f"keras ({backend})", d["keras (tensorflow)"])
                rows.append([doc["name"], fmt, "ok", f"{d['keras (tensorflow)']:.2g}", f"{own:.2g}",
                             f"{d['batch of 1']:.2g}", f"{time.perf_counter() - start:.1f}"])
                print(" | ".join(rows[-1]), flush=True)
    print(machine())
    print(f"backend {backend}")
    table(rows, ["spec", "format", "status", "max abs diff vs Keras TF", f"vs Keras {backend}", "batch 1", "s"])


if __name__ == "__main__":
    main()
