#!/usr/bin/env bash
# Builds everything (including the guest runtimes, cached after the first build) and runs every test.
set -euo pipefail
cd "$(dirname "$0")"
# A test that hangs is stopped with a dump after ten minutes instead of holding the run until CI gives up.
dotnet test SandboxFunctions.sln --logger "console;verbosity=minimal" \
  --blame-hang-timeout 10m --blame-hang-dump-type mini --results-directory artifacts/test-results "$@"
