#!/usr/bin/env bash
# The quantized kernel bench (crates/engine/benches/kernels.rs) as wasm with simd128, run under
# node's WASI: the simd128 kernels' GB/s beside the scalar ones, in the JS engine Chromium uses.
# Compare with `cargo bench -p kindred-engine --bench kernels` (native). Figures, not tests.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
export CARGO_TARGET_DIR=target/wasi RUSTFLAGS='-C target-feature=+simd128'
bench=$(cargo bench -p kindred-engine --no-default-features --bench kernels --target wasm32-wasip1 --no-run \
  --message-format=json 2>/dev/null | node -e '
    let last = "";
    require("readline").createInterface({ input: process.stdin }).on("line", (l) => {
      try { const m = JSON.parse(l); if (m.executable && m.target?.name === "kernels") last = m.executable; } catch {}
    }).on("close", () => console.log(last));')
[ -n "$bench" ] || { echo "the wasm kernel bench did not build" >&2; exit 1; }
node --no-warnings scripts/run-wasi.mjs "$bench" "$@"
