#!/usr/bin/env bash
# Prepares carry/ for a GPU host with no network and no TensorFlow (JAX backend):
# the wheels its image lacks, the Fashion-MNIST files and the reference baseline.
# Run here (with network to PyPI); then pass carry=["carry"] to the device tool and run bench/gpu_run.sh there.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p carry/wheels carry/fashion-mnist
# Keras and keras-tuner at the versions whose internals archbuilder.compat was checked against.
checked() { python -c "from archbuilder.compat import CHECKED; print(CHECKED['$1'])"; }
pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64 \
  --platform manylinux2014_x86_64 --platform any -d carry/wheels \
  "keras==$(checked keras)" namex optree "keras-tuner==$(checked keras_tuner)" kt-legacy jsonschema referencing \
  rpds-py jsonschema-specifications mnist1d attrs typing-extensions
cp /usr/share/datasets/fashion-mnist/*.gz carry/fashion-mnist/
cp "${REFERENCE_BASELINE:-bench/reference_baseline.py}" carry/  # the baseline script, not in this repository
du -sh carry
