#!/usr/bin/env bash
# Sets up and runs every test: Rust unit and integration tests (engine
# against llama.cpp's reference, cards, prompts, chats), then the app in
# headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

echo "== building the app"
scripts/build-web.sh
cargo build --release --bin kindred

echo "== Rust tests"
cargo test --workspace

echo "== browser tests (headless Chromium)"
node --test --test-concurrency=1 tests/browser/
