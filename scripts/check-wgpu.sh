#!/usr/bin/env bash
# Builds tps with the opt-in wgpu backend and checks it against flex on Mesa's software Vulkan
# (lavapipe) when no GPU is present. Kept out of CI: the wgpu build costs ~20 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ls /usr/share/vulkan/icd.d/ 2>/dev/null | grep -q .; then
    apt-get update -qq && apt-get install -y -qq mesa-vulkan-drivers >/dev/null
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/wgpu}"
cargo run --release --features wgpu --example wgpu_smoke
