#!/usr/bin/env bash
# Copies wasm2c's runtime and makes its trap state thread-local, so that guests running on different
# threads cannot longjmp into each other's frames. Fails if the runtime no longer has the declarations
# this expects, rather than building something that corrupts itself under concurrency.
# Usage: patch_runtime.sh <wasm2c runtime dir> <out dir>
set -euo pipefail
src=$1
out=$2
mkdir -p "$out"
cp "$src/wasm-rt.h" "$src/wasm-rt-impl.h" "$src/wasm-rt-impl.c" "$out/"

sed -i \
  -e 's/^extern uint32_t wasm_rt_call_stack_depth;/extern _Thread_local uint32_t wasm_rt_call_stack_depth;/' \
  "$out/wasm-rt.h"
sed -i \
  -e 's/^extern jmp_buf wasm_rt_jmp_buf;/extern _Thread_local jmp_buf wasm_rt_jmp_buf;/' \
  -e 's/^extern uint32_t wasm_rt_saved_call_stack_depth;/extern _Thread_local uint32_t wasm_rt_saved_call_stack_depth;/' \
  "$out/wasm-rt-impl.h"
sed -i \
  -e 's/^uint32_t wasm_rt_call_stack_depth;/_Thread_local uint32_t wasm_rt_call_stack_depth;/' \
  -e 's/^uint32_t wasm_rt_saved_call_stack_depth;/_Thread_local uint32_t wasm_rt_saved_call_stack_depth;/' \
  -e 's/^jmp_buf wasm_rt_jmp_buf;/_Thread_local jmp_buf wasm_rt_jmp_buf;/' \
  -e 's/^static jmp_buf\* g_unwind_target;/static _Thread_local jmp_buf* g_unwind_target;/' \
  "$out/wasm-rt-impl.c"

count=$(cat "$out/wasm-rt.h" "$out/wasm-rt-impl.h" "$out/wasm-rt-impl.c" | grep -c '_Thread_local')
if [ "$count" -ne 7 ]; then
  echo "patch_runtime: expected 7 thread-local declarations in the wasm2c runtime, found $count" >&2
  exit 1
fi
