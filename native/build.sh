#!/usr/bin/env bash
# Builds every guest runtime into <output-dir>/<language>/: the native guest library (wasm2c + gcc
# with the sandbox shim), the runtime's own files, and a runtime.json manifest whose build_id changes
# whenever any of them does. Each stage is cached outside the repository, keyed by its inputs, so a
# build with nothing changed takes seconds.
# Usage: build.sh <output-dir>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$1")

"$here/scripts/install-prereqs.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

manifest() {
  local dir=$1 language=$2 version=$3 engine=$4 kind=$5 library=$6 files=$7 packages=$8
  local build_id
  build_id=$(cd "$dir" && find . -type f ! -name runtime.json -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  cat >"$dir/runtime.json" <<JSON
{
  "language": "$language",
  "version": "$version",
  "engine": "$engine",
  "kind": "$kind",
  "library": "$library",
  "build_id": "$language-$build_id",
  "files": $files,
  "packages": $packages
}
JSON
}

# JavaScript: QuickJS-NG as a WASI reactor, driven through its C API, with our guest-side bootstrap.
js=$work/javascript
"$here/guests/javascript/build.sh" "$work/quickjs"
"$here/build-guest-library.sh" "$work/quickjs/quickjs.wasm" quickjs "$js"
cp "$here/guests/javascript/sandbox.js" "$work/quickjs/LICENSE.quickjs-wasi" "$js/"
manifest "$js" javascript "ES2023" "QuickJS-NG 0.17.0 (quickjs-wasi 3.6.2), WebAssembly compiled ahead of time with wasm2c" \
  quickjs libsandbox_quickjs.so '{ "bootstrap": "sandbox.js" }' '[]'

# Python: CPython 3.11 from Debian's sources as a WASI reactor with our entry shim, its stdlib zip,
# and the zip of bundled pure-Python packages, which the manifest lists as name==version.
py=$work/python
"$here/guests/python/build.sh" "$work/cpython"
"$here/build-guest-library.sh" "$work/cpython/python.wasm" python "$py"
cp "$work/cpython/python311.zip" "$work/cpython/site-packages.zip" "$py/"
python_version=$(cat "$work/cpython/VERSION" 2>/dev/null || echo 3.11)
python_packages="[$(sed 's/.*/"&"/' "$work/cpython/site-packages.txt" | paste -sd, - | sed 's/,/, /g')]"
manifest "$py" python "$python_version" "CPython $python_version (Debian sources, WASI reactor), WebAssembly compiled ahead of time with wasm2c" \
  cpython libsandbox_python.so '{ "stdlib": "python311.zip", "site_packages": "site-packages.zip" }' "$python_packages"

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cp -r "$js" "$py" "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"
