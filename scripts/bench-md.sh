#!/usr/bin/env bash
# Molecular-dynamics speed next to its reference in one window (machines here are noisy: only
# the ratio of a paired run means something): OpenMM's Reference and 1-thread CPU platforms on
# the same alanine dipeptide, then `cargo bench --bench md`, then OpenMM again.
#   pip install openmm==8.6.1 && scripts/bench-md.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 benches/openmm_md.py
RAYON_NUM_THREADS=1 cargo bench --bench md -- --noplot "1_walker|energy" 2>&1 | grep -E "^aldp|time:|thrpt:"
cargo bench --bench md -- --noplot "2_walkers" 2>&1 | grep -E "^aldp|time:|thrpt:"
python3 benches/openmm_md.py
