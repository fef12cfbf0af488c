#!/usr/bin/env bash
# Builds tps with the opt-in wgpu backend and checks it against flex (geodesic energy and
# gradient, a training run's loss curve, `tps sample` on Müller–Brown with the model and the
# geodesic on either device) — on Mesa's software Vulkan (lavapipe) when no GPU is present.
# CI only compiles the feature (`cargo check --features wgpu`): this build costs ~20 minutes.
# Timings on lavapipe say nothing about GPU speed.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ls /usr/share/vulkan/icd.d/ 2>/dev/null | grep -q .; then
    apt-get update -qq && apt-get install -y -qq mesa-vulkan-drivers >/dev/null
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/wgpu}"
cargo run --release --features wgpu --example wgpu_smoke
