#!/usr/bin/env bash
# Molecular-dynamics speed next to its reference in one window (machines here are noisy: only
# the ratio of a paired run means something): OpenMM's Reference and 1-thread CPU platforms on
# the same alanine dipeptide and the implicit-solvent (OBC2) energies, then `cargo bench -p tps-mm --bench md`
# and `--bench implicit`, then OpenMM again.
#   pip install openmm==8.6.1 && scripts/bench-md.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 benches/openmm_md.py
python3 benches/openmm_implicit.py
RAYON_NUM_THREADS=1 cargo bench -p tps-mm --bench md -- --noplot "1_walker|energy" 2>&1 | grep -E "^aldp|time:|thrpt:"
cargo bench -p tps-mm --bench md -- --noplot "2_walkers" 2>&1 | grep -E "^aldp|time:|thrpt:"
python3 benches/openmm_md.py
for threads in 1 2; do
    RAYON_NUM_THREADS=$threads cargo bench -p tps-mm --bench implicit -- --noplot 2>&1 | grep -E "^implicit|time:"
done
python3 benches/openmm_implicit.py
