#!/usr/bin/env bash
# Benches 1 and 2 on a GPU host, installing nothing from the network (JAX backend).
# Needs carry/ from bench/fetch_wheels.sh. Usage: bash bench/gpu_run.sh [train|overhead|tune|all]
set -euo pipefail
cd "$(dirname "$0")/.."
pip install --no-index --no-deps --quiet carry/wheels/*.whl
export KERAS_BACKEND=jax PYTHONPATH="$PWD" REFERENCE_BASELINE="$PWD/carry/reference_baseline.py"
export FASHION_MNIST_DIR="$PWD/carry/fashion-mnist" ARCHBUILDER_DATA="$PWD/carry/fashion-mnist"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
what="${1:-all}"
if [[ "$what" == train || "$what" == all ]]; then python bench/train_throughput.py | tee "${OUT:-.}/train_throughput.md"; fi
if [[ "$what" == overhead || "$what" == all ]]; then
  python bench/step_overhead.py | tee "${OUT:-.}/step_overhead.md"
  python bench/trial_overhead.py --samples 60000 --trials 3 | tee "${OUT:-.}/trial_overhead.md"
fi
if [[ "$what" == tune || "$what" == all ]]; then python bench/tune_throughput.py --seeds 1 2 | tee "${OUT:-.}/tune_throughput.md"; fi
