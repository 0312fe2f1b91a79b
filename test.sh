#!/usr/bin/env bash
# Builds everything (including the guest runtimes, cached after the first build) and runs every test.
set -euo pipefail
cd "$(dirname "$0")"
dotnet test SandboxFunctions.sln --logger "console;verbosity=minimal" "$@"
