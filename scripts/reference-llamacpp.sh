#!/usr/bin/env bash
# llama.cpp's logits on the engine's tiny random-weight models, kept as the reference the
# engine's tests compare against (crates/engine/tests/reference/llamacpp-tiny.json, read by
# crates/engine/tests/reference_llamacpp.rs), and llama.cpp's token ids for awkward text
# (digits, code, emoji, CJK and Arabic, control tokens, spaces, accents, contractions) with the
# real test models' tokenizers (llamacpp-tokenize.json, read by tests/tokenizer.rs), and the chat
# templates of the families the engine runs, as llama.cpp keeps them, rendered by Jinja2 the way
# Hugging Face renders them (templates.json, read by tests/templates.rs). Run it again after changing an architecture's
# synthetic file or adding one; CI only reads the JSON.
# llama.cpp comes as llama-cpp-python from the pinned sdist on PyPI (llama.cpp 0c1e57098, as
# scripts/bench-llamacpp.sh), built once into target/llama-cpp-python/ without the AMX path
# (it crashes on this project's machine, see ../shared/TOOLCHAIN.md).
#   scripts/reference-llamacpp.sh
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.3.36
sha256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
url=https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/llama_cpp_python-$version.tar.gz
venv=target/llama-cpp-python
files=target/reference-tiny
names="tiny-qwen35 tiny-lfm2 tiny-granite tiny-phi3 tiny-gemma2 tiny-smollm3 tiny-qwen3 tiny-qwen3-q4_k tiny-qwen2 tiny-llama tiny-qwen3-q4_1 tiny-qwen3-q5_1 tiny-qwen3-q2_k tiny-qwen3-q3_k tiny-qwen3-iq4_nl tiny-qwen3-iq4_xs"

if ! "$venv/bin/python" -c 'import llama_cpp' 2>/dev/null; then
  python3 -m venv "$venv"
  python3 - "$url" "$sha256" "$venv/llama_cpp_python-$version.tar.gz" <<'PY'
import hashlib, sys, urllib.request
url, want, out = sys.argv[1:]
data = urllib.request.urlopen(url).read()
if hashlib.sha256(data).hexdigest() != want:
    sys.exit(f"{url}: sha256 mismatch")
open(out, "wb").write(data)
PY
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
    -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_TOOLS=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "$venv/bin/pip" install numpy "$venv/llama_cpp_python-$version.tar.gz"
fi

cargo build --release --bin kindred
mkdir -p "$files"
for name in $names; do
  target/release/kindred bench --synthetic "$name" --save-synthetic "$files/$name.gguf" \
    --prompt-tokens 4 --decode-tokens 1 --format json > /dev/null
done
# LoRA adapters (rank 8, alpha 16) of two of them, at two scales.
adapted="tiny-qwen3 tiny-llama"
for name in $adapted; do
  target/release/kindred bench --synthetic "$name" --save-synthetic "$files/$name.gguf" --save-adapter "$files/$name-lora.gguf" \
    --prompt-tokens 4 --decode-tokens 1 --format json > /dev/null
done

"$venv/bin/python" - "$files" "$adapted" $names > crates/engine/tests/reference/llamacpp-tiny.json <<'PY'
import json, sys
from llama_cpp import Llama, __version__
files, adapted, names = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
# The prompt the test feeds: ids inside every tiny vocabulary.
tokens = [3 + (i * 37) % 200 for i in range(11)]
out = {"llama_cpp_python": __version__, "tokens": tokens, "models": {}, "adapters": {}}
def logits(name, **kw):
    llm = Llama(model_path=f"{files}/{name}.gguf", n_ctx=64, logits_all=True, verbose=False, n_threads=1, **kw)
    llm.eval(tokens)
    return [[round(float(x), 5) for x in row] for row in llm.scores[: len(tokens)]]
for name in names:
    out["models"][name] = logits(name)
for name in adapted:
    out["adapters"][name] = {"rank": 8, "scales": {s: logits(name, lora_path=f"{files}/{name}-lora.gguf", lora_scale=float(s)) for s in ("1", "0.5")}}
json.dump(out, sys.stdout, separators=(",", ":"))
PY
echo "wrote crates/engine/tests/reference/llamacpp-tiny.json"

tokenize_models="gemma-3-270m-q4_k_m qwen2.5-coder-0.5b-instruct-q4_k_m"
"$venv/bin/python" - $tokenize_models > crates/engine/tests/reference/llamacpp-tokenize.json <<'PY'
import json, sys
from llama_cpp import Llama, __version__
TEXTS = [
    "In 2024, 1234567 people paid $3.50 (or 3,50 \u20ac) on 12/31.",
    "fn main() {\n    println!(\"{}\", x[0]);\n}\n\tif a<=b && c!=d: return -1",
    "I \u2764\ufe0f \U0001f980 and \U0001f468\u200d\U0001f469\u200d\U0001f467!",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u4e2d\u6587\u6587\u672c\u3002\ud55c\uad6d\uc5b4 \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "<|im_start|>user\nHi<|im_end|> <start_of_turn>model\nYo<end_of_turn> </s> <eos>",
    "  leading spaces\n\n\ntrailing   \t",
    "\u00c7a va? na\u00efve caf\u00e9 \u00dcn\u00efc\u00f6d\u00e9 -- don't I'm we'll THEY'RE",
]
out = {"llama_cpp_python": __version__, "texts": TEXTS, "models": {}}
for name in sys.argv[1:]:
    # Control tokens in the text count as such (special=True), as the engine encodes a rendered prompt.
    llm = Llama(model_path=f"models/{name}.gguf", vocab_only=True, verbose=False)
    out["models"][name] = [llm.tokenize(t.encode("utf-8"), add_bos=False, special=True) for t in TEXTS]
json.dump(out, sys.stdout, ensure_ascii=True)
PY
echo "wrote crates/engine/tests/reference/llamacpp-tokenize.json"

# The families' own templates (llama.cpp's copies), each rendered by Jinja2 as transformers'
# apply_chat_template does (trim_blocks, lstrip_blocks, a sandbox; thinking off, as the engine
# asks) over chats a character app sends: one that opens with the character's greeting, and
# several turns. A template that refuses a chat (raise_exception) is recorded as refusing it.
templates="Qwen3.5-4B Qwen-Qwen3-0.6B Qwen-Qwen2.5-7B-Instruct HuggingFaceTB-SmolLM3-3B LFM2.5-Instruct
  google-gemma-2-2b-it microsoft-Phi-3.5-mini-instruct ibm-granite-granite-3.3-2B-Instruct
  meta-llama-Llama-3.2-3B-Instruct mistralai-Mistral-Nemo-Instruct-2407"
template_dir=llama_cpp_python-$version/vendor/llama.cpp/models/templates
[ -d "$venv/$template_dir" ] || tar -xzf "$venv/llama_cpp_python-$version.tar.gz" -C "$venv" "$template_dir"
"$venv/bin/python" - "$venv/$template_dir" $templates \
  > crates/engine/tests/reference/templates.json <<'PY'
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.exceptions import TemplateError
folder, names = sys.argv[1], sys.argv[2:]
CHATS = {
    "greeting": [
        {"role": "system", "content": "You are Wren, a lighthouse keeper. Stay in character."},
        {"role": "assistant", "content": "*looks up from the lamp* Oh! A visitor, at this hour?"},
        {"role": "user", "content": "Sorry to bother you. Is the light still working?"},
    ],
    "turns": [
        {"role": "system", "content": "You are Rook, a chess coach.\nAnswer briefly."},
        {"role": "user", "content": "Hi Rook!"},
        {"role": "assistant", "content": "Hello. Ready for a lesson?"},
        {"role": "user", "content": "Yes: what is a fork?"},
        {"role": "assistant", "content": "One piece attacking two at once."},
        {"role": "user", "content": "Show me one with a knight."},
    ],
    "no_system": [
        {"role": "user", "content": "Tell me a short joke."},
    ],
}
def refuse(message):
    raise TemplateError(message)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
env.globals["raise_exception"] = refuse
# Today's date comes from the engine's clock: the test puts it where this marker is.
env.globals["strftime_now"] = lambda fmt: "\u0000DATE:" + fmt + "\u0000"
out = {"source": "llama.cpp models/templates, rendered by Jinja2", "chats": CHATS, "templates": {}}
for name in names:
    source = open(f"{folder}/{name}.jinja", encoding="utf-8").read()
    template = env.from_string(source)
    rendered = {}
    for chat, messages in CHATS.items():
        try:
            rendered[chat] = template.render(messages=messages, add_generation_prompt=True, enable_thinking=False,
                                             bos_token="<BOS>", eos_token="<EOS>")
        except TemplateError:
            rendered[chat] = None
    out["templates"][name] = {"source": source, "rendered": rendered}
json.dump(out, sys.stdout, ensure_ascii=True, indent=1)
PY
echo "wrote crates/engine/tests/reference/templates.json"
