#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) and prints a table:
# executions, coverage, corpus size and what it found.
#   scripts/fuzz.sh [SECONDS] [TARGET ...]
#   scripts/fuzz.sh --runs N [TARGET ...]   N inputs each from the seeds alone, with a
#                                           fixed random seed: the same inputs every time (CI)
# Targets: the engine's (crates/engine/fuzz: gguf_file, gguf_header,
# chat_template, tokenizer, json_schema, lora_adapter) and the cards' (crates/characters/fuzz:
# read_json, read_png, read_charx, macros, lorebook). Corpora grow in
# target/fuzz-corpus/TARGET between runs, seeded each run from the starters,
# ../shared/fixtures and minute generated models. An input that crashes is
# copied to crates/*/fuzz/regressions/TARGET/ (replayed by the engine's
# tests/fuzz_regressions.rs; a card target's gets a test of its own) and the
# script fails. Needs the pinned nightly (scripts/setup.sh) and cargo-fuzz,
# which it installs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=60 runs=""
if [ "${1:-}" = --runs ]; then runs="$2"; shift 2
elif [ $# -gt 0 ]; then secs="$1"; shift; fi
nightly="$(cat scripts/nightly-toolchain)"
CARGO_FUZZ_VERSION=0.13.1
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION (once)"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

engine=(gguf_file gguf_header chat_template tokenizer json_schema lora_adapter)
cards=(read_json read_png read_charx macros lorebook)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${engine[@]}" "${cards[@]}")

seeds=target/fuzz-seeds
rm -rf "$seeds"
models=()
for m in models/*.gguf; do [ -f "$m" ] && models+=("$m"); done
cargo run -q --release -p kindred-engine --example fuzz_seeds -- "$seeds" "${models[@]}"
mkdir -p "$seeds"/{read_json,read_png,read_charx,macros,lorebook}
cp www/characters/*.json "$seeds/read_json/"
cp www/characters/*.json "$seeds/macros/"
fixtures=../shared/fixtures/cards
if [ -d "$fixtures" ]; then
  cp "$fixtures"/sillytavern-seraphina-v2.png "$seeds/read_png/"
  cp "$fixtures"/sillytavern-eldoria-worldinfo.json "$seeds/lorebook/"
  if [ -x target/release/kindred ]; then
    target/release/kindred card convert "$fixtures"/sillytavern-seraphina-v2.png "$seeds/read_charx/seraphina.charx" >/dev/null
  fi
fi
# A card's own book is a lorebook too.
python3 -c 'import json,sys; [open(f"{sys.argv[1]}/{i}.json","w").write(json.dumps(b)) for i,b in enumerate(c["data"]["character_book"] for c in map(lambda p: json.load(open(p)), sys.argv[2:]) if c.get("data",{}).get("character_book"))]' "$seeds/lorebook" www/characters/*.json

failed=0
printf '%-14s %12s %10s %8s %10s  %s\n' target executions exec/s cov corpus found > target/fuzz-report.txt
for t in "${targets[@]}"; do
  case " ${engine[*]} " in *" $t "*) dir=crates/engine/fuzz ;; *) dir=crates/characters/fuzz ;; esac
  corpus="target/fuzz-corpus/$t"
  limit=(-max_total_time="$secs")
  if [ -n "$runs" ]; then
    corpus="target/fuzz-corpus-fixed/$t"
    rm -rf "$corpus"
    limit=(-runs="$runs" -seed=1)
  fi
  mkdir -p "$corpus" "$seeds/$t"
  log="target/fuzz-$t.log"
  found=none
  # -timeout: an input that takes 10 s is a hang; -rss_limit_mb: one that
  # takes 2 GB is a blow-up. Both count as crashes.
  if ! CARGO_TARGET_DIR=target/fuzz cargo "+$nightly" fuzz run --fuzz-dir "$dir" "$t" "$corpus" "$seeds/$t" -- \
      "${limit[@]}" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len=65536 >"$log" 2>&1; then
    failed=1
    mkdir -p "$dir/regressions/$t"
    found=""
    for a in "$dir/artifacts/$t"/*; do
      [ -f "$a" ] || continue
      cp "$a" "$dir/regressions/$t/"
      found="$found $(basename "$a")"
    done
    found="${found:-the run failed: see $log}"
    # CI keeps only this output: the reason goes with it.
    grep -m1 -A3 -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer' "$log" >&2 || tail -20 "$log" >&2
  fi
  done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  took=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  size=$(ls "$corpus" | wc -l)
  printf '%-14s %12s %10s %8s %10s  %s\n' "$t" "$done_runs" "$took" "$cov" "$size" "$found" >> target/fuzz-report.txt
done
cat target/fuzz-report.txt
exit "$failed"
