#!/usr/bin/env bash
# The default model requantized by llama.cpp into each weight type people download, then the
# same greedy continuation from llama.cpp and from the engine: a check on real files of what
# crates/engine/tests/reference_llamacpp.rs checks on tiny ones. Not part of the test suite
# (it needs llama.cpp built: run scripts/reference-llamacpp.sh once first). Qwen2.5 0.5B's rows
# of 896 are not whole K-quant blocks, so llama.cpp keeps most of its matrices in Q4_0/Q5_0/
# IQ4_NL and only ffn_down in the K or IQ4_XS type asked for.
#   scripts/check-quant-types.sh [TYPE ...]   (default: Q4_1 Q5_1 Q2_K Q3_K_M IQ4_NL IQ4_XS)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/llama-cpp-python
src=models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
out=target/requantized
types=("$@")
[ ${#types[@]} -gt 0 ] || types=(Q4_1 Q5_1 Q2_K Q3_K_M IQ4_NL IQ4_XS)
"$venv/bin/python" -c 'import llama_cpp' 2>/dev/null || { echo "llama.cpp is not built: run scripts/reference-llamacpp.sh" >&2; exit 1; }
[ -f "$src" ] || { echo "$src is missing: run scripts/setup.sh" >&2; exit 1; }
cargo build --release --bin kindred
mkdir -p "$out"
prompt="The capital of France is"
status=0
for t in "${types[@]}"; do
  f="$out/qwen-$t.gguf"
  want=$("$venv/bin/python" - "$src" "$f" "$t" "$prompt" <<'PY'
import ctypes, os, sys
import llama_cpp as l
src, dst, t, prompt = sys.argv[1:]
if not os.path.exists(dst):
    p = l.llama_model_quantize_default_params()
    p.ftype = getattr(l, "LLAMA_FTYPE_MOSTLY_" + t)
    p.allow_requantize = True
    if l.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p)) != 0:
        sys.exit(f"llama.cpp could not quantize to {t}")
llm = l.Llama(model_path=dst, n_ctx=256, verbose=False, n_threads=2)
out = []
for tok in llm.generate(llm.tokenize(prompt.encode(), add_bos=False), temp=0.0, top_k=1, repeat_penalty=1.0):
    out.append(tok)
    if len(out) >= 20:
        break
print(llm.detokenize(out).decode(errors="replace"))
PY
  )
  got=$(target/release/kindred generate --model "$f" --prompt "$prompt" --max-tokens 20 --temperature 0 --repeat-penalty 1 --format text)
  if [ "$(echo "$want" | xargs)" = "$(echo "$got" | xargs)" ]; then echo "$t: same 20 greedy tokens:$got"
  else echo "$t: differs"; echo "  llama.cpp:$want"; echo "  kindred:  $got"; status=1; fi
done
exit $status
