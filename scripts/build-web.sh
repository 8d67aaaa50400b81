#!/usr/bin/env bash
# Builds the wasm engine into www/pkg/ (git-ignored). Assumes the tools the
# set-up installs (scripts/setup.sh): the wasm32 target and wasm-bindgen.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p kindred-web --target wasm32-unknown-unknown --profile wasm
wasm-bindgen --target web --no-typescript --out-dir www/pkg target/wasm32-unknown-unknown/wasm/kindred_web.wasm
if [ -x node_modules/.bin/wasm-opt ]; then
  # binaryen from npm; Debian's older wasm-opt emits modules Chromium rejects.
  node_modules/.bin/wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    www/pkg/kindred_web_bg.wasm -o www/pkg/kindred_web_bg.wasm.opt && mv www/pkg/kindred_web_bg.wasm.opt www/pkg/kindred_web_bg.wasm
fi
ls -l www/pkg/kindred_web_bg.wasm
