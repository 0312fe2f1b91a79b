#!/usr/bin/env bash
# Fetches the JavaScript guest: QuickJS-NG compiled to a WASI reactor, as published in the
# quickjs-wasi npm package (pinned by version and integrity), and writes quickjs.wasm to the output.
# Usage: build.sh <output-dir>
set -euo pipefail
out=$1
# shellcheck source=../../scripts/progress.sh
source "$(dirname "$0")/../../scripts/progress.sh"
package=quickjs-wasi
version=3.6.2
integrity=sha512-FCqGtGOrMgzUiIrMNMA2YnsOxCNwo31dzqXvclXUC6xeT35NJLKXQJsvbeCTjvoFAwZgEAPg8U6+KAPDGXn8Mg==

cache=${SANDBOX_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sandboxfunctions}/$package-$version
if [[ ! -f $cache/quickjs.wasm ]]; then
  progress "javascript guest: fetching $package $version"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack "$package@$version" --silent >/dev/null)
  tarball=$(ls "$work"/*.tgz)
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [[ $actual != "$integrity" ]]; then
    echo "javascript guest: $package $version does not match its pinned integrity ($actual)" >&2
    exit 1
  fi
  tar -xzf "$tarball" -C "$work" package/quickjs.wasm package/LICENSE
  mkdir -p "$cache.tmp"
  cp "$work/package/quickjs.wasm" "$work/package/LICENSE" "$cache.tmp/"
  rm -rf "$cache"
  mv "$cache.tmp" "$cache"
fi

mkdir -p "$out"
cp "$cache/quickjs.wasm" "$out/quickjs.wasm"
cp "$cache/LICENSE" "$out/LICENSE.quickjs-wasi"
