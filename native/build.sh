#!/usr/bin/env bash
# Builds every guest runtime into <output-dir>/<language>/: the guest's WebAssembly module, the
# runtime's own files, and a runtime.json manifest whose build_id changes whenever any of them does.
# The engine compiles the modules to native code when it first loads them, and caches the result.
# Each stage is cached outside the repository, keyed by its inputs, so a build with nothing changed
# takes seconds.
# Usage: build.sh <output-dir>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$1")
# shellcheck source=scripts/progress.sh
source "$here/scripts/progress.sh"

"$here/scripts/install-prereqs.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

manifest() {
  local dir=$1 language=$2 version=$3 engine=$4 kind=$5 module=$6 files=$7 packages=$8
  local build_id
  build_id=$(cd "$dir" && find . -type f ! -name runtime.json -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  cat >"$dir/runtime.json" <<JSON
{
  "language": "$language",
  "version": "$version",
  "engine": "$engine",
  "kind": "$kind",
  "module": "$module",
  "build_id": "$language-$build_id",
  "files": $files,
  "packages": $packages
}
JSON
}

# JavaScript: QuickJS-NG as a WASI reactor, driven through its C API, with our guest-side bootstrap.
js=$work/javascript
mkdir -p "$js"
"$here/guests/javascript/build.sh" "$js"
cp "$here/guests/javascript/sandbox.js" "$js/"
manifest "$js" javascript "ES2023" "QuickJS-NG 0.17.0 (quickjs-wasi 3.6.2)" \
  quickjs quickjs.wasm '{ "bootstrap": "sandbox.js" }' '[]'

# Python: CPython 3.11 from Debian's sources as a WASI reactor with our entry shim, its stdlib zip,
# and the zip of bundled pure-Python packages, which the manifest lists as name==version.
py=$work/python
"$here/guests/python/build.sh" "$py"
python_version=$(cat "$py/VERSION")
python_packages="[$(sed 's/.*/"&"/' "$py/site-packages.txt" | paste -sd, - | sed 's/,/, /g')]"
rm "$py/VERSION" "$py/site-packages.txt"
manifest "$py" python "$python_version" "CPython $python_version (Debian sources, WASI reactor)" \
  cpython python.wasm '{ "stdlib": "python311.zip", "site_packages": "site-packages.zip" }' "$python_packages"

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cp -r "$js" "$py" "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"
if (($(date +%s) - SANDBOX_BUILD_STARTED > 5)); then
  progress "guest runtimes built; the first start compiles them to native code (seconds) and caches that too"
fi
