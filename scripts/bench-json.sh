#!/usr/bin/env bash
# What keeping a reply to a JSON Schema costs: decode tokens/s of `kindred generate` on the
# default model with and without --json-schema, one run after the other, for a prompt that asks
# for JSON (the model's picks mostly fit: one token checked a step) and one that asks for prose
# (its picks keep not fitting: the whole vocabulary checked on those steps, `masked`).
#   scripts/bench-json.sh [MODEL.gguf] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf}"
runs="${2:-3}"
bin=target/release/kindred
[ -x "$bin" ] || cargo build --release
schema="$(mktemp)"
trap 'rm -f "$schema"' EXIT
cat > "$schema" <<'JSON'
{"type":"object","properties":{"name":{"type":"string","maxLength":20},"age":{"type":"integer"},
 "colour":{"enum":["black","white","ginger","grey"]},"toys":{"type":"array","items":{"type":"string","maxLength":20},"maxItems":3}},
 "required":["name","age","colour","toys"]}
JSON
chatml() { printf '<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n' "$1"; }
asks=("json:$(chatml 'Invent a cat: its name, age, colour and favourite toys, as JSON.')"
      "prose:$(chatml 'Tell me a short story about a cat.')")
echo "| prompt | schema | seed | tokens | decode tokens/s | masked steps |"
echo "| --- | --- | --- | --- | --- | --- |"
for ask in "${asks[@]}"; do
  name="${ask%%:*}" prompt="${ask#*:}"
  for seed in $(seq 1 "$runs"); do
    for with in no yes; do
      extra=()
      [ "$with" = yes ] && extra=(--json-schema "$schema")
      "$bin" generate --model "$model" --prompt "$prompt" --max-tokens 80 --seed "$seed" --threads 2 \
        --format json "${extra[@]}" | python3 -c '
import json, sys
r = json.load(sys.stdin)
masked = "-" if r["json_masked"] is None else r["json_masked"]
print("| %s | %s | %s | %d | %.1f | %s |" % (sys.argv[1], sys.argv[2], sys.argv[3], len(r["ids"]), r["decode_tokens_per_s"], masked))' "$name" "$with" "$seed"
    done
  done
done
