#!/usr/bin/env bash
# Translates a guest WebAssembly module to C with wasm2c and compiles it, with the sandbox shim, into a
# shared library. Explicit bounds checks (no signal handlers: .NET owns SIGSEGV) and a thread-local
# copy of wasm2c's trap state. The translated module is compiled once per module hash and flag set,
# so a change to the shim only recompiles the small files.
# Usage: build-guest-library.sh <module.wasm> <module-name> <output-dir>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wasm=$(realpath "$1")
module=$2
out=$3

cache_root=${SANDBOX_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sandboxfunctions}
runtime_src=/usr/src/wasm2c
# Deep enough for the interpreters' own recursion checks to fire first; the guest threads' native
# stacks are sized for this depth.
max_depth=40000
cflags=(-O2 -fPIC -fvisibility=hidden -ftls-model=initial-exec -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 "-DWASM_RT_MAX_CALL_STACK_DEPTH=$max_depth")

# Keys hash file contents only, never paths, so that every clone and temporary folder shares the cache.
content_hash() { for file in "$@"; do sha256sum <"$file"; done | sha256sum | cut -c1-16; }
toolchain="$(wasm2c --version) $(gcc -dumpfullversion) ${cflags[*]}"
module_key=$( { content_hash "$wasm" "$here/shim/patch_runtime.sh" "$runtime_src"/*; echo "$toolchain $module"; } | sha256sum | cut -c1-16)
library_key=$( { echo "$module_key"; content_hash "$here/shim"/* "$0"; } | sha256sum | cut -c1-16)
library_dir="$cache_root/guestlib-$module-$library_key"
library="libsandbox_$module.so"

if [ ! -f "$library_dir/$library" ]; then
  module_dir="$cache_root/guestmodule-$module-$module_key"
  if [ ! -f "$module_dir/$module.o" ]; then
    echo "Translating and compiling the $module guest to native code (first build only; large guests take minutes)..." >&2
    rm -rf "$module_dir.tmp"
    mkdir -p "$module_dir.tmp"
    "$here/shim/patch_runtime.sh" "$runtime_src" "$module_dir.tmp/runtime"
    wasm2c -n "$module" "$wasm" -o "$module_dir.tmp/$module.c"
    start=$(date +%s)
    gcc "${cflags[@]}" -I"$module_dir.tmp/runtime" -c "$module_dir.tmp/$module.c" -o "$module_dir.tmp/$module.o"
    echo "Compiled the $module guest in $(( $(date +%s) - start )) s." >&2
    rm "$module_dir.tmp/$module.c"
    rm -rf "$module_dir"
    mv "$module_dir.tmp" "$module_dir"
  fi

  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp "$module_dir/$module.h" "$work/"
  python3 "$here/shim/generate_glue.py" "$work/$module.h" "$module" "$work"
  includes=(-I"$module_dir/runtime" -I"$work" -I"$here/shim")
  # The shim's sandbox_memory.c provides the memory functions; the runtime's own are renamed away.
  gcc "${cflags[@]}" "${includes[@]}" \
    -Dwasm_rt_allocate_memory=wasm_rt_allocate_memory_unused \
    -Dwasm_rt_grow_memory=wasm_rt_grow_memory_unused \
    -Dwasm_rt_free_memory=wasm_rt_free_memory_unused \
    -c "$module_dir/runtime/wasm-rt-impl.c" -o "$work/wasm-rt-impl.o"
  gcc "${cflags[@]}" "${includes[@]}" -c "$here/shim/sandbox_memory.c" -o "$work/sandbox_memory.o"
  gcc "${cflags[@]}" "${includes[@]}" -c "$work/guest_glue.c" -o "$work/guest_glue.o"
  gcc "${cflags[@]}" "${includes[@]}" -c "$here/shim/sandbox_shim.c" -o "$work/sandbox_shim.o"
  mkdir -p "$library_dir.tmp"
  gcc -shared -Wl,-Bsymbolic -o "$library_dir.tmp/$library" \
    "$module_dir/$module.o" "$work/wasm-rt-impl.o" "$work/guest_glue.o" "$work/sandbox_shim.o" "$work/sandbox_memory.o" -lm -lpthread
  rm -rf "$library_dir"
  mv "$library_dir.tmp" "$library_dir"
fi

mkdir -p "$out"
cp "$library_dir/$library" "$out/$library"
