#!/usr/bin/env bash
# Sets up, builds and serves Kindred: open the printed URL.
#   PORT=8080 scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh app
scripts/build-web.sh
cargo build --release --bin kindred
exec target/release/kindred serve --port "${PORT:-8080}"
