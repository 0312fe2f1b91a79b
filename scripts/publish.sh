#!/usr/bin/env bash
# Builds the deployment package for Azure Functions (Flex Consumption, Linux x64, dotnet-isolated on .NET 10):
#   artifacts/publish/               the Functions app: the worker, host.json, functions.metadata, the guest runtimes
#   artifacts/sandboxfunctions.zip   the same folder zipped
# Then checks that the layout is what the Functions host loads.
#
# Usage: scripts/publish.sh [--no-ready-to-run]
set -euo pipefail

ready_to_run=true
for arg in "$@"; do
  case "$arg" in
    --no-ready-to-run) ready_to_run=false ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "Unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
artifacts="$repo/artifacts"
publish_dir="$artifacts/publish"
package="$artifacts/sandboxfunctions.zip"

fail() { echo "publish: $*" >&2; exit 1; }
command -v python3 > /dev/null || fail "needs python3 (it checks the layout and writes the zip)."

# A fresh folder each time, so files from an earlier publish never ship by accident.
rm -rf "$publish_dir" "$package"
mkdir -p "$publish_dir"

started=$(date +%s)
# Framework-dependent: the platform runs the worker on its own .NET 10. The runtime identifier keeps only the
# Linux x64 native libraries, and ReadyToRun compiles the IL ahead of time, which shortens every cold start.
dotnet publish "$repo/src/SandboxFunctions.Functions" \
  --configuration Release \
  --runtime linux-x64 \
  --self-contained false \
  -p:PublishReadyToRun="$ready_to_run" \
  --output "$publish_dir" \
  --nologo
echo "publish: dotnet publish took $(( $(date +%s) - started )) s (ReadyToRun: $ready_to_run)"

# The layout the host loads: host.json, the worker that worker.config.json names, every function's entry
# assembly, the host-side extensions, and the guest runtimes with their modules.
python3 - "$publish_dir" <<'PY' || fail "the package layout is not what the Functions host loads."
import json, os, sys
root = sys.argv[1]
def need(condition, message):
    if not condition:
        sys.exit(f"publish: {message}")
def load(name):
    path = os.path.join(root, name)
    need(os.path.isfile(path), f"{name} is missing.")
    with open(path) as f:
        return json.load(f)
host = load("host.json")
need("customHandler" not in host, "host.json still configures a custom handler.")
worker = load("worker.config.json")["description"]
need(worker["language"] == "dotnet-isolated", f"the worker's language is {worker['language']}.")
need(os.path.isfile(os.path.join(root, worker["defaultWorkerPath"])), f"the worker {worker['defaultWorkerPath']} is missing.")
functions = load("functions.metadata")
names = sorted(f["name"] for f in functions)
need(names == ["health", "jobs", "jobs-poison", "mcp", "reaper"], f"the package has the functions {names}.")
for function in functions:
    need(os.path.isfile(os.path.join(root, function["scriptFile"])), f"{function['name']} runs {function['scriptFile']}, which is missing.")
need(os.path.isdir(os.path.join(root, ".azurefunctions")), "the host-side extensions (.azurefunctions/) are missing.")
runtimes = os.path.join(root, "runtimes")
languages = [d for d in sorted(os.listdir(runtimes)) if os.path.isfile(os.path.join(runtimes, d, "runtime.json"))]
need(languages, "runtimes/ holds no guest runtime; the build did not copy them.")
for language in languages:
    with open(os.path.join(runtimes, language, "runtime.json")) as f:
        manifest = json.load(f)
    need(os.path.isfile(os.path.join(runtimes, language, manifest["module"])), f"runtimes/{language} lacks its module {manifest['module']}.")
print(f"publish: {len(functions)} functions, guest runtimes: {', '.join(languages)}")
PY

python3 - "$publish_dir" "$package" <<'PY'
import os, sys, zipfile
root, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
    for folder, folders, files in os.walk(root):
        folders.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            archive.write(path, os.path.relpath(path, root))
PY

echo "publish: $(du -sh "$publish_dir" | cut -f1) in $publish_dir"
echo "publish: $(du -h "$package" | cut -f1) package at $package"
