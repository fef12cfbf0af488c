#!/usr/bin/env bash
# Transition paths on a SLURM cluster: one job plans the route, a job array runs the shards of
# the paths once it is done, and one job merges them once they all are.
#   examples/slurm/submit.sh systems/aldp.toml C7eq C7ax 100000 64
# Heavy molecular dynamics belongs on the cluster's MD engine (OpenMM, GROMACS + PLUMED) and
# reaches tps through [data]; model work (tps train, tps geodesic) may use --device gpu.
set -euo pipefail
system="$1"; from="$2"; to="$3"; paths="$4"; shards="$5"; seed="${6:-0}"
export TPS_SYSTEM="$system" TPS_FROM="$from" TPS_TO="$to" TPS_PATHS="$paths" \
       TPS_SHARDS="$shards" TPS_SEED="$seed"
here="$(dirname "$0")"
route=$(sbatch --parsable --export=ALL "$here/geodesic.sbatch")
array=$(sbatch --parsable --export=ALL --dependency=afterok:"$route" \
        --array=0-$((shards - 1)) "$here/shard.sbatch")
sbatch --export=ALL --dependency=afterok:"$array" "$here/merge.sbatch"
