#!/usr/bin/env bash
# Builds the wasm four times (all git-ignored):
#   www/pkg-ui/          the page's own thread: cards, prompts, rooms, memory, safety and
#                        storage without the engine (kindred-web's default feature off);
#   www/pkg/             the engine single-threaded, for pages that are not cross-origin isolated;
#   www/pkg-mt/          shared memory + a rayon pool on Web Workers, for isolated pages
#                        (COOP/COEP), built with the pinned nightly's -Zbuild-std;
#   www/pkg-mt-relaxed/  the same with relaxed SIMD (its integer dot products in the
#                        Q4_K/Q5_0/Q6_K kernels), for browsers that validate it.
# The worker chooses between the engine builds at load (www/js/engine-build.js).
# Assumes the tools the set-up installs (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# binaryen from npm; Debian's older wasm-opt emits modules Chromium rejects.
optimise() {
  if [ -x node_modules/.bin/wasm-opt ]; then
    node_modules/.bin/wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals --enable-simd "$@" "$out/kindred_web_bg.wasm" -o "$out/kindred_web_bg.wasm.opt"
    mv "$out/kindred_web_bg.wasm.opt" "$out/kindred_web_bg.wasm"
  fi
  ls -l "$out/kindred_web_bg.wasm"
}

cargo build -p kindred-web --no-default-features --target wasm32-unknown-unknown --profile wasm
out=www/pkg-ui
wasm-bindgen --target web --no-typescript --out-dir "$out" target/wasm32-unknown-unknown/wasm/kindred_web.wasm
optimise

cargo build -p kindred-web --target wasm32-unknown-unknown --profile wasm
out=www/pkg
wasm-bindgen --target web --no-typescript --out-dir "$out" target/wasm32-unknown-unknown/wasm/kindred_web.wasm
optimise

# RUSTFLAGS replaces .cargo/config.toml's flags, so simd128 is named again.
# 4 GiB of addressable shared memory: a 1.5B model plus its KV cache fits.
# The linker flags make the memory shared and imported (wasm-bindgen creates it
# and hands it to every thread) and export the TLS symbols each thread needs;
# given to the final crate only, so changing them does not rebuild the rest.
nightly="$(cat scripts/nightly-toolchain)"
threaded() { # target dir, extra target features, out dir, extra wasm-opt flags
  CARGO_TARGET_DIR="$1" \
  RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128$2 -C link-arg=--max-memory=4294967296" \
    cargo "+$nightly" rustc -p kindred-web --lib --features threads --target wasm32-unknown-unknown --profile wasm \
      -Z build-std=panic_abort,std -- \
      -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--export=__wasm_init_tls \
      -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base
  out="$3"
  rm -rf "$out"
  wasm-bindgen --target web --no-typescript --out-dir "$out" "$1/wasm32-unknown-unknown/wasm/kindred_web.wasm"
  optimise --enable-threads $4
}
threaded target/mt "" www/pkg-mt ""
# Only the threaded build has a relaxed twin: isolated pages (kindred serve, hosts that send
# COOP/COEP) are the ones meant to be fast; a page that cannot share memory is the fallback and
# keeps plain simd128, sparing a fourth build (DEVELOPERS.md). Its own target dir, because other
# RUSTFLAGS would rebuild target/mt (std included) on every switch.
threaded target/mt-relaxed ",+relaxed-simd" www/pkg-mt-relaxed --enable-relaxed-simd
