#!/usr/bin/env bash
# Installs what Kindred needs and is missing; safe to run again.
#   scripts/setup.sh app    wasm target, wasm-bindgen, the default model (Qwen2.5-Coder 0.5B Instruct)
#   scripts/setup.sh test   all of the above, plus Gemma 3 270M (the engine's reference), Chromium, Vulkan (lavapipe),
#                           the npm packages of the browser tests and Hugging Face datasets (a Python venv)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-app}"
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate's version in crates/web
DATASETS_VERSION=5.2.0         # Hugging Face datasets, which loads the training-data exports in the tests
# The threaded wasm build needs nightly's -Zbuild-std (std rebuilt with atomics).
# Pinned so a new machine builds what was tested; scripts/build-web.sh reads it.
NIGHTLY="$(cat scripts/nightly-toolchain)"

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: its lockfile pins a webpki-roots the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src'; then
  say "installing the $NIGHTLY toolchain with rust-src (for the threaded wasm build)"
  rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src
fi

python3 scripts/fetch-model.py

if [ "$what" = test ]; then
  # The engine's reference tests, and the browser tests that are about the page, run Gemma 3 270M.
  python3 scripts/fetch-model.py gemma-3-270m-q4_k_m
  missing=()
  for pkg in chromium chromium-driver mesa-vulkan-drivers python3-venv; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # The training-data exports are loaded with Hugging Face datasets (tests/datasets/).
  if ! target/py-datasets/bin/python -c 'import datasets' 2>/dev/null; then
    say "installing Hugging Face datasets $DATASETS_VERSION in target/py-datasets (for the export checks)"
    python3 -m venv target/py-datasets
    target/py-datasets/bin/pip install -q "datasets==$DATASETS_VERSION"
  fi
  if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing the browser tests' npm packages (playwright-core drives Debian's Chromium)"
    npm ci --no-audit --no-fund
  fi
fi
say "ready ($what)"
