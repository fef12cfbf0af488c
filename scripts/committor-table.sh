#!/usr/bin/env bash
# The committor table of BENCHMARKS.md (issue 31): alanine dipeptide C7eq → C7ax in (φ, ψ), per
# route and model, 5 seeds × 40 paths; each path's highest frame (its all-atom structure) shot
# 200 times with `tps committor`. Summarised per seed (mean |p_B − ½|, share in [0.3, 0.7]),
# then mean ± std over seeds and the standard error.
#   scripts/committor-table.sh [OUT]        (TPS names the binary; default target/release/tps)
set -euo pipefail
cd "$(dirname "$0")/.."
tps="${TPS:-target/release/tps}"
out="${1:-target/committor-table}"
[ -x "$tps" ] || cargo build --release -q --bin tps
for spec in "aldp geodesic" "aldp reference" "aldp learned" "aldp_tilted learned"; do
    read -r sys route <<< "$spec"
    for seed in 0 1 2 3 4; do
        dir="$out/$sys-$route-$seed"
        "$tps" -q sample "systems/$sys.toml" --from C7eq --to C7ax --route "$route" --paths 40 \
            --max-trajectories 40 --seed "$seed" --out "$dir"
        "$tps" -q committor "$dir/$sys/C7eq-C7ax" --shots 200 --seed "$seed"
    done
done
python3 - "$out" <<'PY'
import json, math, sys, glob, statistics as st
out = sys.argv[1]
rows = {}
for f in sorted(glob.glob(f"{out}/*/*/C7eq-C7ax/committor/committor.json")):
    c = json.load(open(f))
    name = f.split("/")[-5].rsplit("-", 1)[0]
    p = [x["p_b"] for x in c["frames"] if x["p_b"] is not None]
    rows.setdefault(name, []).append((
        sum(abs(v - 0.5) for v in p) / len(p),
        sum(0.3 <= v <= 0.7 for v in p) / len(p),
        p,
        sum(x["undecided"] for x in c["frames"]),
    ))
print("| route | frames | mean abs(p_B - 1/2): mean ± std (SE) | share in [0.3, 0.7] | histogram (tenths) | undecided shots |")
for name, r in rows.items():
    d = [x[0] for x in r]; q = [x[1] for x in r]
    pooled = [v for x in r for v in x[2]]
    h = [0] * 10
    for v in pooled:
        h[min(int(v * 10), 9)] += 1
    sd = st.stdev(d) if len(d) > 1 else float("nan")
    print(f"| {name} | {len(pooled)} | {st.mean(d):.3f} ± {sd:.3f} ({sd / math.sqrt(len(d)):.3f}) "
          f"| {st.mean(q):.2f} | {h} | {sum(x[3] for x in r)} |")
PY
