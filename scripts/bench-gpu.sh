#!/usr/bin/env bash
# The GPU backend's figures on this machine's GPU, natively: both test models' shapes with random
# weights (so no model file is needed), prefill of a 1,024-token prompt and 128 decoded tokens,
# greedy and with the chat sampler, against the memory-bandwidth bound. With --profile, the GPU
# time per token of each kernel too (KINDRED_GPU_PROFILE; timestamps between dispatches slow the
# run a little). Decode queues each step before the last one's token is read back, as a chat does;
# the table also gives decode one step at a time (`--no-ahead`), what it was before that.
# Prints a Markdown table; the JSON behind it goes to tests/output/bench-gpu-*.json.
#   scripts/bench-gpu.sh [--bandwidth-gbs 3000] [--profile] [--bin target/release/kindred]
set -euo pipefail
cd "$(dirname "$0")/.."

bw=""
profile=0
bin=target/release/kindred
while [ $# -gt 0 ]; do
  case "$1" in
    --bandwidth-gbs) bw="$2"; shift 2 ;;
    --profile) profile=1; shift ;;
    --bin) bin="$2"; shift 2 ;;
    *) echo "usage: $0 [--bandwidth-gbs GB_PER_S] [--profile] [--bin PATH]" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || cargo build --release --bin kindred
mkdir -p tests/output
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for m in gemma3-270m qwen2-1.5b; do
  # Writing the 1.5B shapes takes a minute: once, then from the file.
  "$bin" bench --backend gpu --synthetic "$m" --prompt-tokens 8 --decode-tokens 1 \
    --save-synthetic "$tmp/$m.gguf" --format json > /dev/null
  args=(bench --backend gpu --model "$tmp/$m.gguf" --prompt-tokens 1024 --decode-tokens 128 --format json)
  [ -n "$bw" ] && args+=(--bandwidth-gbs "$bw")
  "$bin" "${args[@]}" > "tests/output/bench-gpu-$m.json"
  "$bin" "${args[@]}" --no-ahead > "tests/output/bench-gpu-$m-no-ahead.json"
  if [ "$profile" = 1 ]; then
    KINDRED_GPU_PROFILE=1 "$bin" "${args[@]}" > "tests/output/bench-gpu-$m-profile.json"
  fi
done

python3 - "$profile" <<'PY'
import json, sys
profile = sys.argv[1] == "1"
rows = []
for m in ("gemma3-270m", "qwen2-1.5b"):
    r = json.load(open(f"tests/output/bench-gpu-{m}.json"))
    single = json.load(open(f"tests/output/bench-gpu-{m}-no-ahead.json"))
    bound = r.get("bandwidth_bound_tokens_per_second")
    share = f"{100 * r['decode_tokens_per_second'] / bound:.0f}%" if bound else "-"
    rows.append((m, r))
    if len(rows) == 1:
        print(f"GPU: {r['adapter']['adapter']} ({r['adapter']['backend']}, {r['adapter']['driver']})\n")
        print("| model (random weights) | prefill 1,024 tok/s | decode tok/s | decode, sampled tok/s | one step at a time: decode / sampled | ms/token | weights MB/token | bandwidth bound tok/s | share of bound |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {m} | {r['prefill_tokens_per_second']:.0f} | {r['decode_tokens_per_second']:.1f} | "
          f"{r['sampled_decode_tokens_per_second']:.1f} | "
          f"{single['decode_tokens_per_second']:.1f} / {single['sampled_decode_tokens_per_second']:.1f} | "
          f"{r['decode_ms_per_token']:.2f} | "
          f"{r['weight_bytes_per_token'] / 1e6:.0f} | {bound if bound else '-'} | {share} |")
if profile:
    for m, _ in rows:
        p = json.load(open(f"tests/output/bench-gpu-{m}-profile.json"))["profile_decode_us_per_token"]
        print(f"\n{m}: GPU time per decoded token, {p['gpu_total_us']:.0f} us (profiled run)\n")
        print("| section | kernel | us/token | dispatches/token |")
        print("| --- | --- | --- | --- |")
        for k in p["kernels"][:12]:
            print(f"| {k['section']} | {k['kernel']} | {k['us']:.0f} | {k['dispatches']:.0f} |")
PY
