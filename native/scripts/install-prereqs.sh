#!/usr/bin/env bash
# Installs the Debian packages the guest runtime builds need and enables Debian source
# packages, from which the guests are built. Safe to run repeatedly: it changes nothing and
# stays quiet when the machine is already prepared.
set -euo pipefail
# shellcheck source=progress.sh
source "$(dirname "$0")/progress.sh"

packages=(
  clang-16 lld-16 llvm-16 libclang-rt-16-dev-wasm32 wasi-libc
  autoconf make dpkg-dev wabt gcc
  zlib1g-dev xz-utils tcl python3 python3.11 openssl
)
source_packages=(python3.11 zlib sqlite3 bzip2 xz-utils)

fail() {
  echo "install-prereqs: $*" >&2
  exit 1
}

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || fail "must run as root (or with sudo available)"
  as_root=(sudo)
fi

# A concurrent apt run holds the dpkg lock; waiting beats failing halfway through.
apt_get=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=900)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run_logged() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "failed: $*"
  fi
}

sources_configured() {
  local targets
  targets=$(apt-get indextargets --format '$(CREATED_BY)' 2>/dev/null || true)
  grep -qx Sources <<<"$targets"
}

sources_indexed() {
  local pkg record
  for pkg in "${source_packages[@]}"; do
    record=$(apt-cache showsrc --only-source "$pkg" 2>/dev/null || true)
    grep -q '^Package:' <<<"$record" || return 1
  done
}

# Debian's own archive entries are the ones whose suites are named after the release; third-party
# repositories often publish no sources, and adding deb-src for them would break `apt-get update`.
derive_deb_src() {
  local codename=$1 file
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -e $file ]] || continue
    awk -v codename="$codename" '
      function flush() {
        if (is_deb && enabled && has_suite) { printf "%s%s", sep, stanza; sep = "\n" }
        stanza = ""; is_deb = 0; enabled = 1; has_suite = 0
      }
      BEGIN { enabled = 1 }
      /^[ \t]*$/ { flush(); next }
      /^#/ { next }
      tolower($1) == "types:" {
        for (i = 2; i <= NF; i++) if ($i == "deb") is_deb = 1
        stanza = stanza "Types: deb-src\n"; next
      }
      tolower($1) == "enabled:" && tolower($2) == "no" { enabled = 0 }
      tolower($1) == "suites:" {
        for (i = 2; i <= NF; i++) if ($i == codename || index($i, codename "-") == 1) has_suite = 1
      }
      { stanza = stanza $0 "\n" }
      END { flush() }
    ' "$file"
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -e $file ]] || continue
    awk -v codename="$codename" '
      $1 == "deb" {
        for (i = 2; i <= NF; i++) if ($i == codename || index($i, codename "-") == 1) {
          sub(/^deb/, "deb-src"); print; next
        }
      }
    ' "$file"
  done
}

changed=0
if ! sources_configured; then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ -n $codename ]] || fail "cannot tell the Debian release from /etc/os-release"
  entries=$(derive_deb_src "$codename")
  [[ -n $entries ]] || fail "no Debian '$codename' entry in the apt sources to derive deb-src from"
  if grep -q '^Types:' <<<"$entries"; then
    target=/etc/apt/sources.list.d/debian-src.sources
  else
    target=/etc/apt/sources.list.d/debian-src.list
  fi
  printf '%s\n' "$entries" | "${as_root[@]}" tee "$target" >/dev/null
  changed=1
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if [[ $changed -eq 1 || ${#missing[@]} -gt 0 ]] || ! sources_indexed; then
  progress "updating the Debian package lists…"
  run_logged "${apt_get[@]}" update
  sources_indexed || fail "Debian source packages (${source_packages[*]}) are still not available after apt-get update"
fi

if [[ ${#missing[@]} -gt 0 ]]; then
  progress "installing Debian packages: ${missing[*]}…"
  run_logged "${apt_get[@]}" install -y --no-install-recommends "${missing[@]}"
fi
