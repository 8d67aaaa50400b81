#!/usr/bin/env bash
# llama.cpp's own CPU figures on this machine (its llama-bench), to set beside `kindred bench`'s
# measured in the same run. llama.cpp's source comes from the llama-cpp-python sdist on PyPI
# (vendor/llama.cpp, pinned below with its sha256), since package registries are the only network
# this project can count on. The first run builds llama-bench alone (CPU, Release, native ISA, no
# BLAS/GPU/network) under target/llama.cpp/, which later runs reuse; on 2 cores that takes a while.
# Figures, not tests: run it on a quiet machine (the load average is printed with the table).
#   scripts/bench-llamacpp.sh [--models a.gguf,b.gguf] [--threads 1,2] [--prompt 128] [--decode 128]
#                             [--reps 2] [--jobs 2] [--build-only]
set -euo pipefail
cd "$(dirname "$0")/.."

# llama-cpp-python 0.3.36 vendors llama.cpp at commit 0c1e57098 (the commit is read from the sdist).
version=0.3.36
sha256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
url=https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/llama_cpp_python-$version.tar.gz
cmake_version=3.31.6

models=models/gemma-3-270m-q4_k_m.gguf,models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
threads=1,2
prompt=128
decode=128
reps=2
jobs=2
build_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --prompt) prompt="$2"; shift 2 ;;
    --decode) decode="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    *) echo "usage: $0 [--models a.gguf,b.gguf] [--threads 1,2] [--prompt 128] [--decode 128] [--reps 2] [--jobs 2] [--build-only]" >&2; exit 2 ;;
  esac
done

cache=target/llama.cpp
top=llama_cpp_python-$version
src=$cache/$top/vendor/llama.cpp
build=$cache/build-$version
bench=$build/bin/llama-bench
mkdir -p "$cache"

if [ ! -f "$src/CMakeLists.txt" ]; then
  tarball=$cache/$top.tar.gz
  if ! echo "$sha256  $tarball" | sha256sum -c --quiet 2>/dev/null; then
    echo "== downloading llama-cpp-python $version sdist" >&2
    curl -sSfL -o "$tarball.partial" "$url"
    echo "$sha256  $tarball.partial" | sha256sum -c --quiet
    mv "$tarball.partial" "$tarball"
  fi
  # The submodule's HEAD is the only record of which llama.cpp commit the sdist carries.
  tar -xzf "$tarball" -C "$cache" "$top/vendor/llama.cpp" "$top/.git/modules/vendor/llama.cpp/HEAD"
fi
commit=$(cut -c1-9 "$cache/$top/.git/modules/vendor/llama.cpp/HEAD")

if [ ! -x "$bench" ]; then
  cmake=cmake
  if ! command -v cmake > /dev/null; then
    # A private venv, so the machine's Python is left as it was.
    [ -x "$cache/venv/bin/cmake" ] || {
      python3 -m venv "$cache/venv"
      "$cache/venv/bin/pip" install --quiet "cmake==$cmake_version"
    }
    cmake=$cache/venv/bin/cmake
  fi
  echo "== building llama-bench (llama.cpp $commit), -j$jobs" >&2
  start=$(date +%s)
  # The sdist has no git history, so the commit is passed in; its build number stays 0.
  # Static, so the binary does not depend on where the build folder lies. This llama.cpp has
  # dropped curl (LLAMA_CURL only warns); LLAMA_OPENSSL=OFF is what keeps the network code out.
  "$cmake" -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=ON -DGGML_BLAS=OFF -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_COMMIT="$commit" > "$cache/configure.log" 2>&1 \
    || { tail -30 "$cache/configure.log" >&2; exit 1; }
  # GCC 12 warns by the thousand on ggml's AVX-512 intrinsics: the log keeps them off the terminal.
  "$cmake" --build "$build" --target llama-bench -j "$jobs" > "$cache/build.log" 2>&1 \
    || { tail -30 "$cache/build.log" >&2; exit 1; }
  echo "== built in $(( $(date +%s) - start )) s" >&2
fi
[ "$build_only" = 1 ] && exit 0

args=()
IFS=, read -ra files <<< "$models"
for m in "${files[@]}"; do
  [ -f "$m" ] || { echo "$m is missing (scripts/fetch-model.py)" >&2; exit 1; }
  args+=(-m "$m")
done

mkdir -p tests/output
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# JSON to a file for the record, Markdown to stdout for reading; logs stay out of both.
"$bench" "${args[@]}" -p "$prompt" -n "$decode" -t "$threads" -r "$reps" -o json \
  > tests/output/bench-llamacpp.json
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
echo "llama.cpp $commit (llama-cpp-python $version sdist), llama-bench -p $prompt -n $decode -t $threads -r $reps;"
echo "load average (1, 5, 15 min) $load_before before, $load_after after. Tokens per second, mean ± sd."
echo
python3 - tests/output/bench-llamacpp.json <<'PY'
import json, os, sys
rows = json.load(open(sys.argv[1]))
print('| model | threads | test | tok/s |')
print('|---|---:|---|---:|')
for r in rows:
    test = f"pp{r['n_prompt']}" if r['n_gen'] == 0 else f"tg{r['n_gen']}"
    print(f"| {os.path.basename(r['model_filename'])} | {r['n_threads']} | {test} | {r['avg_ts']:.1f} ± {r['stddev_ts']:.1f} |")
PY
