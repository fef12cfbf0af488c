#!/usr/bin/env bash
# Training and geodesic steps next to the authors' PyTorch code in one window (machines here are
# noisy: only the ratio of a paired run means something): PyTorch at one thread and two, the Rust
# benches at one thread and two, then PyTorch again.
#   scripts/bench-torch.sh        (creates target/torch with the PyTorch wheel from PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x target/torch/bin/python ]; then
    python3 -m venv target/torch
    target/torch/bin/pip install -q torch numpy safetensors
fi
target/torch/bin/python benches/torch_reference.py
for threads in 1 2; do
    echo "tps, $threads thread(s)"
    RAYON_NUM_THREADS=$threads cargo bench --bench training -- --noplot authors 2>&1 | grep -E "^training_step|time:"
    RAYON_NUM_THREADS=$threads cargo bench --bench geodesic -- --noplot authors 2>&1 | grep -E "^geodesic_step|time:"
done
target/torch/bin/python benches/torch_reference.py
