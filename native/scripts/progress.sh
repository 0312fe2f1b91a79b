# Progress lines for guest builds, which take minutes the first time. `dotnet run` builds quietly, so
# when there is a terminal the lines go straight to it; otherwise to stderr, which the build log keeps.
# Every line carries the time since the build started. Source this file; then call `progress <text>`.

: "${SANDBOX_BUILD_STARTED:=$(date +%s)}"
export SANDBOX_BUILD_STARTED

progress() {
  local elapsed=$(($(date +%s) - SANDBOX_BUILD_STARTED)) line
  printf -v line '[%d:%02d] %s\n' $((elapsed / 60)) $((elapsed % 60)) "$*"
  if ! { printf '%s' "$line" >/dev/tty; } 2>/dev/null; then
    printf '%s' "$line" >&2
  fi
}
