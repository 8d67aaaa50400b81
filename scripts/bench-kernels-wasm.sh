#!/usr/bin/env bash
# The quantized kernel bench (crates/engine/benches/kernels.rs) as wasm with simd128, run under
# node's WASI: the simd128 kernels' GB/s beside the scalar ones, in the JS engine Chromium uses.
# Compare with `cargo bench -p kindred-engine --bench kernels` (native). Figures, not tests.
# `--relaxed` builds with relaxed SIMD too (Chromium has it; node 20 behind a flag): the bench lists the
# `Relaxed` kernels beside the simd128 ones, from one binary. Other arguments go to the bench (a type).
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
features=+simd128 dir=target/wasi node=(node --no-warnings)
args=()
for a in "$@"; do
  if [ "$a" = --relaxed ]; then
    # Node 20's V8 has relaxed SIMD behind a flag (Chromium enables it by default since 114).
    features=+simd128,+relaxed-simd dir=target/wasi-relaxed node+=(--experimental-wasm-relaxed-simd)
  else args+=("$a"); fi
done
# A target dir per feature set keeps both builds warm.
export CARGO_TARGET_DIR=$dir RUSTFLAGS="-C target-feature=$features"
bench=$(cargo bench -p kindred-engine --no-default-features --bench kernels --target wasm32-wasip1 --no-run \
  --message-format=json 2>/dev/null | node -e '
    let last = "";
    require("readline").createInterface({ input: process.stdin }).on("line", (l) => {
      try { const m = JSON.parse(l); if (m.executable && m.target?.name === "kernels") last = m.executable; } catch {}
    }).on("close", () => console.log(last));')
[ -n "$bench" ] || { echo "the wasm kernel bench did not build" >&2; exit 1; }
"${node[@]}" scripts/run-wasi.mjs "$bench" ${args[@]+"${args[@]}"}
