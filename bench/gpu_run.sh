#!/usr/bin/env bash
# Benches 1, 2 and 5 on a GPU host, installing nothing from the network (JAX backend).
# Needs carry/ from bench/fetch_wheels.sh. Usage: bash bench/gpu_run.sh [train|overhead|tune|pack|all]
# `pack` (bench 5, issue 13) fits one 10-minute command: 32 Fashion-MNIST trials x 2 epochs, hand-written
# keras-tuner against `--pack 32` with lax.scan epochs (the GPU default), then one program per step.
# SMOKE=1 shrinks the benches to a quick check (bench 5: 2 trials x 1 epoch on 180 images), e.g. on a CPU;
# without carry/wheels the packages already installed are used.
set -euo pipefail
cd "$(dirname "$0")/.."
if compgen -G "carry/wheels/*.whl" > /dev/null; then pip install --no-index --no-deps --quiet carry/wheels/*.whl
else echo "gpu_run.sh: no carry/wheels (bench/fetch_wheels.sh): using the packages installed here" >&2; fi
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
if [[ "$what" == pack || "$what" == all ]]; then
  pack=(--fashion --pack 32 --trials 32 --epochs 2 --seeds 1 --skip-sequential --scan-both)
  python bench/pack_throughput.py "${pack[@]}" | tee "${OUT:-.}/pack_throughput.md"
fi
