#!/usr/bin/env bash
# Builds the deployment package for Azure Functions (Flex Consumption, Linux x64):
#   artifacts/publish/         the app, self-contained, with host.json and functions/*/function.json at its root
#   artifacts/sandboxfunctions.zip   the same folder zipped, executable bits kept
# Then checks the layout and starts the published app once to see /health answer.
#
# Usage: scripts/publish.sh [--no-ready-to-run] [--no-smoke-test]
set -euo pipefail

ready_to_run=true
smoke_test=true
for arg in "$@"; do
  case "$arg" in
    --no-ready-to-run) ready_to_run=false ;;
    --no-smoke-test) smoke_test=false ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "Unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
artifacts="$repo/artifacts"
publish_dir="$artifacts/publish"
package="$artifacts/sandboxfunctions.zip"

fail() { echo "publish: $*" >&2; exit 1; }
command -v python3 > /dev/null || fail "needs python3 (it reads host.json, probes /health and writes the zip)."

# A fresh folder each time, so files from an earlier publish never ship by accident.
rm -rf "$publish_dir" "$package"
mkdir -p "$publish_dir"

started=$(date +%s)
# Self-contained, so the package does not depend on which .NET the Functions custom runtime image carries.
# ReadyToRun compiles the IL ahead of time, which shortens the cold start of every new instance.
dotnet publish "$repo/src/SandboxFunctions.Host" \
  --configuration Release \
  --runtime linux-x64 \
  --self-contained true \
  -p:PublishReadyToRun="$ready_to_run" \
  --output "$publish_dir" \
  --nologo
echo "publish: dotnet publish took $(( $(date +%s) - started )) s (ReadyToRun: $ready_to_run)"

# The Functions host looks for its metadata at the package root.
cp "$repo/host.json" "$publish_dir/host.json"
for function_json in "$repo"/functions/*/function.json; do
  name="$(basename "$(dirname "$function_json")")"
  mkdir -p "$publish_dir/$name"
  cp "$function_json" "$publish_dir/$name/function.json"
done

# The layout the host needs: the executable host.json names, and the guest runtimes next to it.
executable="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["customHandler"]["description"]["defaultExecutablePath"])' "$publish_dir/host.json")"
[ -f "$publish_dir/$executable" ] || fail "host.json starts '$executable', which the publish output does not contain."
[ -x "$publish_dir/$executable" ] || fail "'$executable' is not executable."
compgen -G "$publish_dir/*/function.json" > /dev/null || fail "no functions/*/function.json in the package."
runtime_count=0
for manifest in "$publish_dir"/runtimes/*/runtime.json; do
  [ -f "$manifest" ] || continue
  library="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["library"])' "$manifest")"
  [ -f "$(dirname "$manifest")/$library" ] || fail "$(dirname "$manifest") lacks its library $library."
  runtime_count=$((runtime_count + 1))
done
[ "$runtime_count" -gt 0 ] || fail "runtimes/ holds no guest runtime; the build did not copy them."

if [ "$smoke_test" = true ]; then
  data_dir="$(mktemp -d)"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  log="$data_dir/server.log"
  # Only the embedded store, whatever storage settings the caller's shell has.
  env -u SessionStorage -u AzureWebJobsStorage -u FUNCTIONS_CUSTOMHANDLER_PORT Storage__DataPath="$data_dir/store" \
    "$publish_dir/$executable" --urls "http://127.0.0.1:$port" > "$log" 2>&1 &
  server=$!
  trap 'kill "$server" 2> /dev/null || true; wait "$server" 2> /dev/null || true; rm -rf "$data_dir"' EXIT
  healthy=false
  for _ in $(seq 1 300); do
    if python3 - "$port" <<'PY' 2> /dev/null
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
PY
    then
      healthy=true
      break
    fi
    kill -0 "$server" 2> /dev/null || break
    sleep 0.1
  done
  [ "$healthy" = true ] || { cat "$log" >&2; fail "the published app did not answer GET /health with 200."; }
  kill "$server" 2> /dev/null || true
  wait "$server" 2> /dev/null || true
  rm -rf "$data_dir"
  trap - EXIT
  echo "publish: the published app started and /health answered 200"
fi

# Zip entries keep their Unix modes: the Functions host runs the apphost directly, so it must stay executable.
python3 - "$publish_dir" "$package" <<'PY'
import os, sys, zipfile
root, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
    for folder, folders, files in os.walk(root):
        folders.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            info = zipfile.ZipInfo.from_file(path, os.path.relpath(path, root))
            info.create_system = 3  # Unix, so that external_attr is read as a file mode
            info.external_attr = (os.stat(path).st_mode & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as source:
                archive.writestr(info, source.read(), compresslevel=9)
PY

echo "publish: $(du -sh "$publish_dir" | cut -f1) in $publish_dir"
echo "publish: $(du -h "$package" | cut -f1) package at $package"
