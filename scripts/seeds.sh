#!/usr/bin/env bash
# Statistics over seeds for BENCHMARKS.md: for each seed, train (samples + model, and for
# molecules the metadynamics surface) and sample with that seed, then summarise the per-seed
# means. Copies of the system files live in target/seeds/ so the shipped models stay untouched.
#   scripts/seeds.sh aldp|aldp_cartesian|muller_brown|paper|paper_tps [seeds (default 0 1 2 3 4)] [paths]
set -euo pipefail
cd "$(dirname "$0")/.."
which="$1"; shift
seeds="${1:-0 1 2 3 4}"
paths="${2:-}"
root="$(pwd)"
# TPS names a built binary to use instead (so that rebuilding the tree does not change a run).
tps="${TPS:-$root/target/release/tps}"
cargo build --release -q --example seed_statistics
[ -n "${TPS:-}" ] || cargo build --release -q --bin tps
case "$which" in
    aldp) src=systems/aldp.toml; pair="C7eq C7ax"; extra_pairs="C5 C7ax"; default_paths=8 ;;
    aldp_cartesian) src=systems/aldp_cartesian.toml; pair="C7eq C7ax"; extra_pairs=""; default_paths=8 ;;
    muller_brown) src=systems/muller_brown.toml; pair="A B"; extra_pairs="A C|C B"; default_paths=32 ;;
    paper) src=benches/aldp_paper.toml; pair="start end"; extra_pairs=""; default_paths=1000 ;;
    paper_tps) src=benches/aldp_paper_tps.toml; pair="start end"; extra_pairs=""; default_paths=1000 ;;
    *) echo "unknown system $which" >&2; exit 2 ;;
esac
paths="${paths:-$default_paths}"
srcdir="$(cd "$(dirname "$src")" && pwd)"
for seed in $seeds; do
    dir="target/seeds/$which/seed$seed"
    mkdir -p "$dir"
    # Anchor the file's relative paths to its original directory; models and surfaces go here.
    sed -e "s#^prmtop = \"#prmtop = \"$srcdir/#; s#^coordinates = \"#coordinates = \"$srcdir/#" \
        -e "s#^file = \"#file = \"$srcdir/#" \
        -e "s#^free_energy = .*#free_energy = \"fes.dat\"#" \
        -e "s#^path = .*#path = \"model.tpsmodel\"#" "$src" > "$dir/system.toml"
    grep -q '^path = ' "$dir/system.toml" || sed -i 's#^\[model\]#[model]\npath = "model.tpsmodel"#' "$dir/system.toml"
    (cd "$dir" && "$tps" -q train system.toml --seed "$seed" > train.log)
    IFS='|' read -ra pairs <<< "$pair${extra_pairs:+|$extra_pairs}"
    for p in "${pairs[@]}"; do
        set -- $p
        (cd "$dir" && "$tps" -q sample system.toml --from "$1" --to "$2" --seed "$seed" \
            --paths "$paths" --max-trajectories 4 > "sample-$1-$2.log")
    done
done
IFS='|' read -ra pairs <<< "$pair${extra_pairs:+|$extra_pairs}"
for p in "${pairs[@]}"; do
    set -- $p
    echo "== $which $1 → $2"
    "$root/target/release/examples/seed_statistics" target/seeds/"$which"/seed*/out/*/"$1-$2"/summary.json
done
