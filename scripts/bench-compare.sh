#!/usr/bin/env bash
# Kindred's browser bench beside wllama's, in the same headless Chromium on this machine, one after
# the other: both test models at 1 and 2 threads. Prints one Markdown table (tokens per second);
# the JSON lines behind it go to tests/output/bench-compare.jsonl. Figures, not tests: run it
# on a quiet machine (the load average is printed with the table).
#   scripts/bench-compare.sh [--threads 1,2] [--prompts 128,1024] [--decode 128]
set -euo pipefail
cd "$(dirname "$0")/.."

threads=1,2
prompts=128,1024
decode=128
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --prompts) prompts="$2"; shift 2 ;;
    --decode) decode="$2"; shift 2 ;;
    *) echo "usage: $0 [--threads 1,2] [--prompts 128,1024] [--decode 128]" >&2; exit 2 ;;
  esac
done

models=(gemma-3-270m-q4_k_m.gguf qwen2.5-coder-1.5b-instruct-q4_k_m.gguf)
for model in "${models[@]}"; do
  [ -f "models/$model" ] || { echo "models/$model is missing (scripts/fetch-model.py)" >&2; exit 1; }
done

mkdir -p tests/output
out=tests/output/bench-compare.jsonl
: > "$out"
loads=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for model in "${models[@]}"; do
  for script in bench-browser bench-wllama; do
    echo "== $script $model (threads $threads)" >&2
    loads+=("$script $model: load average $(cut -d' ' -f1 /proc/loadavg) at its start")
    # A failed run leaves its lines out of the table rather than stopping the rest.
    node "scripts/$script.mjs" --model "/models/$model" --threads "$threads" --prompts "$prompts" --decode "$decode" \
      | tee -a "$out" || echo "$script on $model failed" >&2
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, $(chromium --version 2>/dev/null || echo Chromium) headless;"
echo "load average (1, 5, 15 min) $load_before before, $load_after after. Tokens per second."
echo
node --input-type=module - "$out" "$prompts" <<'EOF'
import { readFileSync } from 'node:fs';
const [file, prompts] = process.argv.slice(2);
const lengths = prompts.split(',').map(Number);
const rows = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const fixed = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const engine = (r) => r.engine || `Kindred (${r.build || '?'} build)`;
console.log(`| engine | model | threads | ${lengths.map((n) => `prefill ${n} tok/s`).join(' | ')} | decode tok/s |`);
console.log(`|---|---|---|${lengths.map(() => '---:').join('|')}|---:|`);
for (const r of rows) {
  // In the order asked; a prompt that could not be cut to the asked length says its own.
  const prefill = lengths.map((n, i) => {
    const p = r.prefill?.[i];
    return p ? `${fixed(p.tokens_per_second)}${p.prompt_tokens === n ? '' : ` (${p.prompt_tokens} tok)`}` : '–';
  });
  console.log(`| ${engine(r)} | ${r.model} | ${r.threads} | ${prefill.join(' | ')} | ${fixed(r.decode_tokens_per_second)} |`);
}
EOF
echo
printf '%s\n' "${loads[@]}"
