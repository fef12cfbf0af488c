#!/usr/bin/env bash
# The steps of examples/slurm/ on one machine: plan the route once, run N shards of the paths
# as background processes (what the scheduler's job array does), then merge them into the
# directory one unsharded run writes.
#   scripts/array-local.sh SYSTEM FROM TO PATHS SHARDS [SEED] [OUT]
# TPS names the tps binary (default: target/release/tps, built if missing).
set -euo pipefail
system="$1"; from="$2"; to="$3"; paths="$4"; shards="$5"; seed="${6:-0}"; out="${7:-out}"
root="$(cd "$(dirname "$0")/.." && pwd)"
tps="${TPS:-$root/target/release/tps}"
[ -x "$tps" ] || (cd "$root" && cargo build --release -q --bin tps)
name="$(sed -n 's/^name *= *"\(.*\)".*/\1/p' "$system" | head -1)"
# 1. The route, once (the "geodesic" job).
"$tps" -q geodesic "$system" --from "$from" --to "$to" --seed "$seed" --out "$out"
route="$out/$name/route-$from-$to"
# 2. The shards (the job array), in parallel.
pids=()
for ((k = 0; k < shards; k++)); do
    "$tps" -q sample "$system" --from "$from" --to "$to" --paths "$paths" --seed "$seed" \
        --shard "$k/$shards" --geodesic "$route" --out "$out" &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
# 3. The merge (the job that depends on the array).
parts=()
for ((k = 0; k < shards; k++)); do parts+=("$out/$name/$from-$to-shard-$k-of-$shards"); done
"$tps" -q merge "${parts[@]}" --out "$out"
