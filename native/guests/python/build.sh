#!/usr/bin/env bash
# Builds the Python guest: CPython 3.11 from Debian's python3.11 source package as a WASI
# reactor with our entry shim (sandbox_entry.c), a pyc-only stdlib zip that also carries
# the guest runtime module (_sandbox.py), and a pyc-only zip of pure-Python packages taken from
# Debian's binary packages. sqlite3, bz2, lzma and zlib come from Debian's source packages too.
#
# Usage: build.sh <output-dir>   writes python.wasm, python311.zip, site-packages.zip,
# site-packages.txt (the bundled packages as name==version lines) and VERSION (the CPython
# version, e.g. 3.11.2) there.
#
# Results are cached outside the repository, keyed by every input; a run with nothing changed
# only copies two files. Expensive stages (wasm libraries, CPython) are
# cached by their own inputs, so changing the shim or the runtime module only relinks.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <output-dir>" >&2
  exit 2
fi
out_dir=$1

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self=$here/$(basename "${BASH_SOURCE[0]}")
cache=${SANDBOX_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sandboxfunctions}
src_cache=$cache/sources
jobs=$(nproc)

source_packages=(python3.11 zlib sqlite3 bzip2 xz-utils)
tool_packages=(clang-16 lld-16 llvm-16 libclang-rt-16-dev-wasm32 wasi-libc wabt gcc tcl dpkg-dev autoconf python3.11)
prereqs_hint="run native/scripts/install-prereqs.sh first"

# Pure-Python packages that ship with the runtime, pinned to exact Debian bookworm versions. Only
# their Python code, data and metadata are used: compiled extensions are dropped, and the three
# packages that have one (markupsafe, pyyaml, simplejson) use their pure-Python implementations.
bundled_packages=(
  python3-attr=22.2.0-1
  python3-bs4=4.11.2-2
  python3-chardet=5.1.0+dfsg-2
  python3-charset-normalizer=3.0.1-2
  python3-dateutil=2.8.2-2
  python3-defusedxml=0.7.1-2
  python3-et-xmlfile=1.0.1-2.1
  python3-idna=3.3-1+deb12u1
  python3-jinja2=3.1.2-1+deb12u3
  python3-jmespath=1.0.1-1
  python3-markdown=3.4.1-2+deb12u1
  python3-markupsafe=2.1.2-1+b1
  python3-more-itertools=8.10.0-2
  python3-mpmath=1.2.1-2
  python3-natsort=8.0.2-2
  python3-networkx=2.8.8-1
  python3-openpyxl=3.0.9-1
  python3-packaging=23.0-1
  python3-pydantic=1.10.4-1+deb12u1
  python3-pyparsing=3.0.9-1
  python3-pypdf=3.4.1-1+deb12u1
  python3-simplejson=3.18.3-1
  python3-six=1.16.0-4
  python3-slugify=4.0.0-2
  python3-sortedcontainers=2.4.0-2
  python3-soupsieve=2.3.2-1
  python3-sympy=1.11.1-1
  python3-tabulate=0.8.9-1
  python3-tomli=2.0.1-2
  python3-tomlkit=0.11.7-1
  python3-toolz=0.12.0-1
  python3-typing-extensions=4.4.0-1
  python3-unidecode=1.3.6-1
  python3-xlsxwriter=3.0.2-2
  python3-xmltodict=0.13.0-1.1~deb12u1
  python3-yaml=6.0-3+b2
)

# The IANA time zone database, from Debian's tzdata, bundled as the tzdata package that zoneinfo
# falls back to: the guest has no /usr/share/zoneinfo.
tzdata_pin=tzdata=2026b-0+deb12u1

# shellcheck source=../../scripts/progress.sh
source "$here/../../scripts/progress.sh"
say() { progress "python guest: $*"; }
die() {
  say "error: $*"
  printf 'python guest: error: %s\n' "$*" >&2
  exit 1
}

# Runs a command with its output in a log, shown only if the command fails.
logged() {
  local log=$1
  shift
  if ! "$@" >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    { tail -n 40 "$log" >/dev/tty; } 2>/dev/null || true
    die "failed: $* (last lines of its log above)"
  fi
}

sha() { sha256sum | cut -c1-16; }

# A source package's identity: its .dsc name and content (which lists the tarballs' checksums).
source_id() {
  local dsc
  for dsc in "$@"; do
    printf '%s %s\n' "${dsc##*/}" "$(sha256sum <"$dsc" | cut -d' ' -f1)"
  done
}

# ---------------------------------------------------------------------------------------------
# Inputs

tool_versions() {
  dpkg-query -W -f='${Package}=${Version}\n' "${tool_packages[@]}" 2>/dev/null ||
    die "missing build tools ($prereqs_hint)"
}

sort_versions_newest_first() {
  local -a versions
  mapfile -t versions
  local i j swap
  for ((i = 0; i < ${#versions[@]}; i++)); do
    for ((j = i + 1; j < ${#versions[@]}; j++)); do
      if dpkg --compare-versions "${versions[j]}" gt "${versions[i]}"; then
        swap=${versions[i]}
        versions[i]=${versions[j]}
        versions[j]=$swap
      fi
    done
  done
  printf '%s\n' "${versions[@]}"
}

apt_lists_stamp() {
  { stat -c '%n %Y' /var/lib/apt/lists/*Sources* 2>/dev/null || true; } | sha
}

# Prints the .dsc of the newest version of a source package that can actually be fetched. A
# mirror may list a security update whose files it does not serve (yet); such a version is
# remembered as unavailable until the apt lists change, so later runs stay offline and fast.
resolve_source() {
  local pkg=$1 records=$2 stamp=$3
  local versions ver base dsc marker tmp
  versions=$(awk -v pkg="$pkg" '
      /^Package: / { current = $2 }
      /^Version: / && current == pkg { print $2 }
    ' <<<"$records" | sort -u | sort_versions_newest_first)
  [[ -n $versions ]] || die "Debian source package $pkg is not known to apt ($prereqs_hint)"
  for ver in $versions; do
    base=${pkg}_${ver#*:}
    dsc=$src_cache/$base.dsc
    marker=$src_cache/$base.unavailable
    if [[ -f $dsc ]]; then
      echo "$dsc"
      return
    fi
    if [[ -f $marker && $(<"$marker") == "$stamp" ]]; then
      continue
    fi
    say "fetching Debian source package $pkg $ver…"
    tmp=$(mktemp -d "$src_cache/.download.XXXXXX")
    if (cd "$tmp" && apt-get source --only-source --download-only "$pkg=$ver") >"$tmp.log" 2>&1; then
      # The .dsc goes last: its presence means the whole package is here.
      find "$tmp" -maxdepth 1 -type f ! -name '*.dsc' -exec mv -f {} "$src_cache/" \;
      mv -f "$tmp/$base.dsc" "$dsc"
      rm -rf "$tmp" "$tmp.log"
      echo "$dsc"
      return
    fi
    if ! grep -q ' 404 ' "$tmp.log"; then
      tail -n 20 "$tmp.log" >&2
      rm -rf "$tmp" "$tmp.log"
      die "could not download Debian source package $pkg $ver"
    fi
    echo "$stamp" >"$marker"
    rm -rf "$tmp" "$tmp.log"
  done
  die "no version of Debian source package $pkg could be downloaded"
}

unpack() {
  local dsc=$1 dest=$2 log=$3
  logged "$log" dpkg-source -x "$dsc" "$dest"
}

# Prints the cached .deb of a pinned Debian binary package ("name=version"), downloading it once.
# A download is kept only if its SHA256 is the one in apt's package lists, which apt took from
# the signed release files.
fetch_deb() {
  local pin=$1 pkg=${1%%=*} ver=${1#*=}
  local deb=$src_cache/debs/${pkg}_${ver/:/%3a}.deb
  if [[ -f $deb ]]; then
    echo "$deb"
    return
  fi
  local expected available tmp
  expected=$(apt-cache show "$pin" 2>/dev/null | awk '/^SHA256: / { print $2; exit }')
  if [[ -z $expected ]]; then
    available=$(apt-cache madison "$pkg" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | sort -u | paste -sd' ')
    die "Debian package $pkg $ver is not known to apt (available: ${available:-none});" \
      "update its pin in bundled_packages in $self, or $prereqs_hint"
  fi
  mkdir -p "$src_cache/debs"
  tmp=$(mktemp -d "$src_cache/debs/.download.XXXXXX")
  local ready=("${prefetched:-/nonexistent}/${pkg}_"*.deb)
  if [[ -f ${ready[0]} ]]; then
    mv "${ready[0]}" "$tmp/"
  elif say "fetching Debian package $pkg $ver…" && ! (cd "$tmp" && apt-get download "$pin") >"$tmp.log" 2>&1; then
    tail -n 20 "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    die "could not download Debian package $pkg $ver"
  fi
  local file=("$tmp"/*.deb)
  if [[ $(sha256sum <"${file[0]}" | cut -d' ' -f1) != "$expected" ]]; then
    rm -rf "$tmp" "$tmp.log"
    die "Debian package $pkg $ver does not match the SHA256 in apt's package lists"
  fi
  mv -f "${file[0]}" "$deb"
  rm -rf "$tmp" "$tmp.log"
  echo "$deb"
}

# Downloads every pinned package that is not cached yet with one apt-get call (one at a time, each
# download costs seconds of setup); fetch_deb then checks and keeps each.
prefetch_debs() {
  local pin pkg ver missing=()
  for pin in "$@"; do
    pkg=${pin%%=*}
    ver=${pin#*=}
    [[ -f $src_cache/debs/${pkg}_${ver/:/%3a}.deb ]] || missing+=("$pin")
  done
  ((${#missing[@]} > 0)) || return 0
  say "fetching ${#missing[@]} Debian packages…"
  mkdir -p "$src_cache/debs"
  prefetched=$(mktemp -d "$src_cache/debs/.download.XXXXXX")
  (cd "$prefetched" && apt-get download "${missing[@]}") >"$prefetched.log" 2>&1 || true
}

# ---------------------------------------------------------------------------------------------
# Stages. Each runs once per distinct set of inputs; the key covers the stage function's own
# text, so editing a stage rebuilds it and everything downstream of it.

stage_dir() {
  local name=$1 fn=$2
  shift 2
  printf '%s/%s-%s' "$cache" "$name" "$({ declare -f "$fn"; printf '%s\n' "$@"; } | sha)"
}

# A stage fills "<dir>.partial" and renames it when done, so a failed or interrupted build never
# leaves an entry that looks complete.
partial=
run_stage() {
  local dir=$1 fn=$2 message=$3
  [[ -f $dir/.complete ]] && return
  say "$message"
  local started=$SECONDS
  partial=$dir.partial
  rm -rf "$partial"
  mkdir -p "$partial"
  "$fn" "$partial"
  touch "$partial/.complete"
  rm -rf "$dir"
  mv "$partial" "$dir"
  partial=
  say "  done in $((SECONDS - started)) s"
}

# WebAssembly features every engine the guest runs on has: memcpy and memset become single instructions
# (memory.copy, memory.fill) that the engine runs natively, and float-to-int conversions need no range checks.
wasm_toolchain() {
  local features="-mbulk-memory -mnontrapping-fptoint -msign-ext -mmutable-globals"
  wasm_cc="clang-16 --target=wasm32-wasi --sysroot=$sysroot $features"
  wasm_cpp="clang-cpp-16 --target=wasm32-wasi --sysroot=$sysroot"
  wasm_cxx="clang++-16 --target=wasm32-wasi --sysroot=$sysroot $features"
  wasm_ar=llvm-ar-16
  wasm_ranlib=llvm-ranlib-16
}

# Debian's clang also searches the host's /usr/include; a sysroot holding only the WASI
# headers and libraries keeps host headers out.
make_sysroot() {
  sysroot=$work/sysroot
  mkdir -p "$sysroot/include" "$sysroot/lib"
  ln -s /usr/include/wasm32-wasi "$sysroot/include/wasm32-wasi"
  ln -s /usr/lib/wasm32-wasi "$sysroot/lib/wasm32-wasi"
}

# The cross build runs CPython's own scripts with a CPython of the same version on this machine, and
# the zips are compiled with it: Debian's python3.11, built from the very sources the guest is built
# from. Its version is part of every stage key that uses it.
build_python=/usr/bin/python3.11

check_build_python() {
  [[ -x $build_python ]] || die "$build_python is missing ($prereqs_hint)"
  local version
  version=$("$build_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  [[ $version == 3.11 ]] || die "$build_python is Python $version; the guest's cross build needs 3.11"
}

build_wasm_libraries() {
  local out=$1 log=$work/wasm-libraries.log
  local cflags="-O2 -D_FILE_OFFSET_BITS=64"
  mkdir -p "$out/include" "$out/lib" "$work/libs"
  local src=$work/libs

  unpack "$zlib_dsc" "$src/zlib" "$log"
  local f
  for f in adler32 compress crc32 deflate gzclose gzlib gzread gzwrite infback inffast inflate \
    inftrees trees uncompr zutil; do
    logged "$log" $wasm_cc $cflags -Wno-deprecated-non-prototype -DZ_HAVE_UNISTD_H \
      -c "$src/zlib/$f.c" -o "$src/zlib/$f.o"
  done
  logged "$log" $wasm_ar rcs "$out/lib/libz.a" "$src"/zlib/*.o
  cp "$src/zlib/zlib.h" "$src/zlib/zconf.h" "$out/include/"

  unpack "$bzip2_dsc" "$src/bzip2" "$log"
  for f in blocksort huffman crctable randtable compress decompress bzlib; do
    logged "$log" $wasm_cc $cflags -c "$src/bzip2/$f.c" -o "$src/bzip2/$f.o"
  done
  logged "$log" $wasm_ar rcs "$out/lib/libbz2.a" "$src"/bzip2/*.o
  cp "$src/bzip2/bzlib.h" "$out/include/"

  # liblzma includes <signal.h> for a helper only the xz tool uses; WASI has no signal masks.
  unpack "$xz_dsc" "$src/xz" "$log"
  cat >"$src/xz-wasi.h" <<'EOF'
#include <signal.h>
#include <sys/select.h>
static inline int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    (void)how; (void)set; (void)old;
    return 0;
}
EOF
  mkdir "$src/xz/wasm"
  (cd "$src/xz/wasm" && logged "$log" env CC="$wasm_cc" AR="$wasm_ar" RANLIB="$wasm_ranlib" \
    CFLAGS="$cflags -D_WASI_EMULATED_SIGNAL -include $src/xz-wasi.h" \
    ../configure --host=wasm32-unknown-wasi --build="$("$src/xz/build-aux/config.guess")" \
    --disable-shared --enable-static --disable-threads --disable-nls --disable-xz \
    --disable-xzdec --disable-lzmadec --disable-lzmainfo --disable-lzma-links --disable-scripts \
    --disable-doc)
  logged "$log" make -C "$src/xz/wasm/src/liblzma" -j"$jobs"
  cp "$src/xz/wasm/src/liblzma/.libs/liblzma.a" "$out/lib/"
  cp -r "$src/xz/src/liblzma/api/lzma.h" "$src/xz/src/liblzma/api/lzma" "$out/include/"

  # Debian ships SQLite's full source tree; its amalgamation is generated natively (with tclsh).
  unpack "$sqlite_dsc" "$src/sqlite" "$log"
  mkdir "$src/sqlite/native"
  (cd "$src/sqlite/native" && logged "$log" ../configure --disable-tcl)
  logged "$log" make -C "$src/sqlite/native" sqlite3.c sqlite3.h
  # The unix VFS refers to POSIX locks and ownership calls that WASI lacks. With "unix-none"
  # as the default VFS (one process owns the files) none of them is called.
  cat >"$src/sqlite-wasi.h" <<'EOF'
#include <fcntl.h>
#include <sys/types.h>
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
static inline int fchmod(int fd, mode_t mode) { (void)fd; (void)mode; return 0; }
static inline int fchown(int fd, uid_t uid, gid_t gid) { (void)fd; (void)uid; (void)gid; return 0; }
static inline uid_t geteuid(void) { return 1; }
EOF
  logged "$log" $wasm_cc $cflags -include "$src/sqlite-wasi.h" -D_WASI_EMULATED_GETPID \
    -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL \
    -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_DEFAULT_UNIX_VFS='"unix-none"' -DSQLITE_TEMP_STORE=2 \
    -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_MATH_FUNCTIONS \
    -c "$src/sqlite/native/sqlite3.c" -o "$src/sqlite/sqlite3.o"
  logged "$log" $wasm_ar rcs "$out/lib/libsqlite3.a" "$src/sqlite/sqlite3.o"
  cp "$src/sqlite/native/sqlite3.h" "$out/include/"
}

# Produces the static libraries the reactor links, the headers the shim compiles against, and
# the generated sysconfig data that belongs in the stdlib zip.
# Configure takes three minutes here: each of its ~700 checks starts the compiler. Its answers depend
# only on the toolchain and the sources, so they are kept in the repository (configure.cache), and
# configure only confirms them when the toolchain is the one they were recorded with. Only its SQLite
# checks need the libraries (zlib, bzip2 and liblzma are taken from the *_CFLAGS/*_LIBS given); with
# sqlite3.h generated up front and the SQLite link answers given (facts of SQLite 3.40 as built above:
# everything but loadable extensions), configure runs while the libraries build. A wrong answer fails
# the link loudly.
configure_cache=$here/configure.cache
sqlite_facts=(ac_cv_header_sqlite3_h=yes ac_cv_lib_sqlite3_sqlite3_load_extension=no)
for sqlite_function in bind_double column_decltype column_double complete enable_shared_cache \
  progress_handler result_double serialize set_authorizer trace_v2 value_double; do
  sqlite_facts+=("ac_cv_lib_sqlite3_sqlite3_$sqlite_function=yes")
done

libraries_job=
wait_for_libraries() {
  if [[ -n $libraries_job ]]; then
    wait "$libraries_job" || die "building the wasm32-wasi libraries failed"
    libraries_job=
  fi
}

build_cpython_wasm() {
  local out=$1 log=$work/cpython-wasm.log
  local src=$work/cpython build=$work/cpython/wasm
  local deps=$wasm_libraries_dir sqlite_header=$work/sqlite-header
  unpack "$python_dsc" "$src" "$log"
  unpack "$sqlite_dsc" "$sqlite_header" "$log"
  (cd "$sqlite_header" && logged "$log" gcc -O2 -o mksourceid tool/mksourceid.c &&
    tclsh tool/mksqlite3h.tcl . >sqlite3.h) || die "could not generate sqlite3.h (see $log)"
  (cd "$src" && logged "$log" autoconf)
  mkdir "$build"
  local recorded
  recorded=$(head -n 1 "$configure_cache" 2>/dev/null || true)
  if [[ $recorded == "# toolchain $configure_key" ]]; then
    cp "$configure_cache" "$build/config.cache"
  else
    say "configure.cache was recorded with another toolchain; running every configure check (minutes)"
  fi
  # posix_fadvise/posix_fallocate are hints without value on the host's in-memory file system;
  # leaving them out drops two WASI imports.
  (cd "$build" && logged "$log" env \
    CONFIG_SITE="$src/Tools/wasm/config.site-wasm32-wasi" \
    CC="$wasm_cc" CPP="$wasm_cpp" CXX="$wasm_cxx" AR="$wasm_ar" RANLIB="$wasm_ranlib" \
    OPT="-DNDEBUG -fwrapv -O3 -Wall" \
    PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$sysroot/lib/pkgconfig" \
    ZLIB_CFLAGS="-I$deps/include" ZLIB_LIBS="-L$deps/lib -lz" \
    BZIP2_CFLAGS="-I$deps/include" BZIP2_LIBS="-L$deps/lib -lbz2" \
    LIBLZMA_CFLAGS="-I$deps/include" LIBLZMA_LIBS="-L$deps/lib -llzma" \
    LIBSQLITE3_CFLAGS="-I$sqlite_header" LIBSQLITE3_LIBS="-L$deps/lib -lsqlite3" \
    ../configure -C --host=wasm32-unknown-wasi --build="$("$src/config.guess")" \
    --with-build-python="$build_python" --prefix=/usr/local \
    --disable-test-modules ac_cv_func_posix_fadvise=no ac_cv_func_posix_fallocate=no \
    "${sqlite_facts[@]}")
  # The libraries build alongside configure; make compiles against their headers.
  wait_for_libraries
  local module
  for module in _sqlite3 _bz2 _lzma zlib _decimal pyexpat; do
    grep -q "^MODULE_$(tr a-z A-Z <<<"$module")_STATE=yes" "$build/Makefile" ||
      die "CPython's configure did not enable $module for wasm32-wasi (see $log)"
  done
  # Only what the reactor links and the stdlib zip needs: no python.wasm executable, no test or
  # shared-module checks.
  logged "$log" make -C "$build" -j"$jobs" \
    CFLAGS_NODIST="-Wno-error=int-conversion -Wno-error=incompatible-function-pointer-types" \
    libpython3.11.a Modules/_decimal/libmpdec/libmpdec.a Modules/expat/libexpat.a pybuilddir.txt

  mkdir -p "$out/lib" "$out/sysconfig"
  cp "$build/libpython3.11.a" "$build/Modules/_decimal/libmpdec/libmpdec.a" \
    "$build/Modules/expat/libexpat.a" "$out/lib/"
  cp -r "$src/Include" "$out/include"
  cp "$build/pyconfig.h" "$out/include/"
  cp "$build/$(<"$build/pybuilddir.txt")"/_sysconfigdata_*.py "$out/sysconfig/"
  cp -r "$src/Lib" "$out/Lib"
  # The answers for this toolchain, without those naming this machine's paths and programs; copy it
  # over configure.cache when the toolchain changes.
  { echo "# toolchain $configure_key"
    grep -vE '^#|^(ac_cv_env_|pkg_cv_|ac_cv_prog_|ac_cv_path_|ac_cv_build|ac_cv_host|ac_cv_objext|ac_cv_exeext)' \
      "$build/config.cache"; } >"$out/configure.cache"
}

# Writes pycs with the path they have inside the zip, so tracebacks show where the guest finds
# them, and with unchecked hashes instead of timestamps, so the same sources give the same zip.
write_pyc_zip_tool() {
  cat >"$work/pyczip.py" <<'EOF'
import os
import py_compile
import sys
import tempfile
import zipfile

ZIP_PATH = '/usr/local/lib/python311.zip/'
SKIPPED_TOP_LEVEL = {'test', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'lib2to3',
                     'distutils', 'venv', 'pydoc_data', 'site-packages'}
SKIPPED_ANYWHERE = {'__pycache__', 'test', 'tests', 'idle_test'}


def sources(root):
    if os.path.isfile(root):
        yield root, os.path.basename(root)
        return
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIPPED_ANYWHERE and not (rel_dir == '.' and d in SKIPPED_TOP_LEVEL))
        for name in sorted(filenames):
            if name.endswith('.py'):
                yield os.path.join(dirpath, name), os.path.normpath(os.path.join(rel_dir, name))


def main():
    mode, archive, *roots = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp, \
            zipfile.ZipFile(archive, mode, zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        cfile = os.path.join(tmp, 'module.pyc')
        for root in roots:
            for path, name in sources(root):
                py_compile.compile(
                    path, cfile=cfile, dfile=ZIP_PATH + name, doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                info = zipfile.ZipInfo(name[:-3] + '.pyc', date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(cfile, 'rb') as f:
                    zf.writestr(info, f.read())


main()
EOF
}

run_build_python() {
  PYTHONDONTWRITEBYTECODE=1 "$build_python" -I "$@"
}

build_stdlib_zip() {
  local out=$1
  write_pyc_zip_tool
  logged "$work/stdlib.log" run_build_python "$work/pyczip.py" w "$out/stdlib.zip" \
    "$cpython_wasm_dir/Lib" "$cpython_wasm_dir"/sysconfig/*.py
}

# Zips the bundled packages the way the stdlib is zipped (pycs with their in-zip paths, unchecked
# hashes, fixed timestamps), keeping data files and the packages' metadata so that
# importlib.metadata finds them. Tests and type stubs are left out. Where Debian's metadata states
# another version than the Debian upstream version (mpmath's says 0.0.0), the metadata is
# corrected, so that the guest and the runtime manifest report the same versions.
write_site_zip_tool() {
  cat >"$work/sitezip.py" <<'EOF'
import os
import py_compile
import re
import sys
import tempfile
import zipfile

ZIP_PATH = '/usr/local/lib/python3.11/site-packages.zip/'
SKIPPED_DIRS = {'__pycache__', 'test', 'tests'}
SKIPPED_SUFFIXES = ('.so', '.pyc', '.pyi')
METADATA_SUFFIXES = ('.dist-info', '.egg-info')
METADATA_FILES = ('METADATA', 'PKG-INFO')


def files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        in_metadata = rel_dir.split(os.sep)[0].endswith(METADATA_SUFFIXES)
        dirnames[:] = sorted(d for d in dirnames if in_metadata or d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            if not name.endswith(SKIPPED_SUFFIXES):
                yield os.path.join(dirpath, name), os.path.normpath(os.path.join(rel_dir, name))


def header(text, field):
    match = re.search(rf'^{field}: (.*)$', text, re.MULTILINE)
    return match.group(1).strip() if match else None


def main():
    root, archive, listing, *versions = sys.argv[1:]
    upstream = dict(v.split('=', 1) for v in versions)
    packages = []
    with tempfile.TemporaryDirectory() as tmp, \
            zipfile.ZipFile(archive, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        cfile = os.path.join(tmp, 'module.pyc')

        def add(name, data):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)

        for path, name in files(root):
            top, _, leaf = name.partition(os.sep)
            # An egg-info may also be a single file in PKG-INFO format, which importlib.metadata
            # reads from a folder only when the folder is inside a zip.
            if top.endswith(METADATA_SUFFIXES) and not leaf:
                name = top + '/PKG-INFO'
                leaf = 'PKG-INFO'
            if top.endswith(METADATA_SUFFIXES) and leaf in METADATA_FILES:
                with open(path, encoding='utf-8') as f:
                    text = f.read()
                version = upstream.pop(top)
                if header(text, 'Version') != version:
                    text = re.sub(r'^Version: .*$', f'Version: {version}', text, count=1,
                                  flags=re.MULTILINE)
                packages.append(f"{header(text, 'Name')}=={version}")
                add(name, text.encode('utf-8'))
            elif name.endswith('.py') and not top.endswith(METADATA_SUFFIXES):
                py_compile.compile(
                    path, cfile=cfile, dfile=ZIP_PATH + name, doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                with open(cfile, 'rb') as f:
                    add(name[:-3] + '.pyc', f.read())
            else:
                with open(path, 'rb') as f:
                    add(name, f.read())
    if upstream:
        sys.exit(f'no METADATA or PKG-INFO in {sorted(upstream)}')
    with open(listing, 'w', encoding='utf-8') as f:
        f.writelines(p + '\n' for p in sorted(packages, key=str.lower))


main()
EOF
}

# Lays out Debian's zoneinfo folder the way the tzdata wheel does: a package per folder with the
# zone files as its resources, a "zones" list for zoneinfo.available_timezones(), and metadata
# whose version is the PEP 440 form of the IANA release (2026b is 2026.2).
write_tzdata_tool() {
  cat >"$work/tzdata.py" <<'EOF'
import os
import sys

source, site, release = sys.argv[1:]
version = f'{release[:4]}.{ord(release[4:]) - ord("a") + 1}'
package = os.path.join(site, 'tzdata')
zones = []
for dirpath, dirnames, filenames in os.walk(source):
    rel = os.path.relpath(dirpath, source)
    # posix/ and right/ repeat every zone; localtime and posixrules name the build host's zone.
    dirnames[:] = sorted(d for d in dirnames if rel != '.' or d not in ('posix', 'right'))
    target = os.path.normpath(os.path.join(package, 'zoneinfo', rel))
    os.makedirs(target, exist_ok=True)
    open(os.path.join(target, '__init__.py'), 'w').close()
    for name in sorted(filenames):
        if rel == '.' and name in ('localtime', 'posixrules'):
            continue
        with open(os.path.join(dirpath, name), 'rb') as f:
            data = f.read()
        with open(os.path.join(target, name), 'wb') as f:
            f.write(data)
        if data.startswith(b'TZif'):
            zones.append(os.path.normpath(os.path.join(rel, name)).replace(os.sep, '/'))
with open(os.path.join(package, '__init__.py'), 'w') as f:
    f.write(f'IANA_VERSION = "{release}"\n__version__ = "{version}"\n')
with open(os.path.join(package, 'zones'), 'w') as f:
    f.writelines(z + '\n' for z in sorted(zones))
metadata = os.path.join(site, f'tzdata-{version}.dist-info')
os.makedirs(metadata)
with open(os.path.join(metadata, 'METADATA'), 'w') as f:
    f.write(f'Metadata-Version: 2.1\nName: tzdata\nVersion: {version}\n'
            f'Summary: Provider of IANA time zone data (release {release})\n')
print(f'tzdata-{version}.dist-info={version}')
EOF
}

build_site_packages() {
  local out=$1 log=$work/site-packages.log
  local merged=$work/site-packages/dist-packages pin deb unpacked meta upstream
  local -a versions=()
  mkdir -p "$merged"
  prefetch_debs "${bundled_packages[@]}" "$tzdata_pin"
  for pin in "${bundled_packages[@]}"; do
    deb=$(fetch_deb "$pin")
    unpacked=$work/site-packages/${pin%%=*}
    logged "$log" dpkg-deb -x "$deb" "$unpacked"
    # The Debian upstream version: no epoch, Debian revision or repack suffix.
    upstream=${pin#*=}
    upstream=${upstream#*:}
    upstream=${upstream%-*}
    upstream=${upstream%%[+~]*}
    for meta in "$unpacked"/usr/lib/python3/dist-packages/*.{dist,egg}-info; do
      if [[ -e $meta ]]; then
        versions+=("${meta##*/}=$upstream")
      fi
    done
    cp -r "$unpacked"/usr/lib/python3/dist-packages/. "$merged/"
  done
  # _yaml only re-exports PyYAML's C extension, which cannot run in the guest.
  rm -rf "$merged/_yaml"

  deb=$(fetch_deb "$tzdata_pin")
  logged "$log" dpkg-deb -x "$deb" "$work/site-packages/tzdata"
  upstream=${tzdata_pin#*=}
  write_tzdata_tool
  versions+=("$(run_build_python "$work/tzdata.py" "$work/site-packages/tzdata/usr/share/zoneinfo" \
    "$merged" "${upstream%%-*}" 2>>"$log")") || die "could not lay out the time zone database (see $log)"

  write_site_zip_tool
  logged "$log" run_build_python "$work/sitezip.py" "$merged" "$out/site-packages.zip" \
    "$out/site-packages.txt" "${versions[@]}"
  [[ $(wc -l <"$out/site-packages.txt") -eq $((${#bundled_packages[@]} + 1)) ]] ||
    die "the bundled packages' metadata does not match their pins ($out/site-packages.txt)"
}

link_guest() {
  local out=$1 log=$work/link.log
  local cpython=$cpython_wasm_dir deps=$wasm_libraries_dir
  logged "$log" $wasm_cc -O2 -Wall -Wextra -I"$cpython/include" \
    -c "$here/sandbox_entry.c" -o "$work/sandbox_entry.o"
  # The stack pointer is the module's only mutable global; exported, the engine can save and restore it
  # with the memory.
  logged "$log" $wasm_cc -mexec-model=reactor \
    -z stack-size=524288 -Wl,--stack-first -Wl,--initial-memory=10485760 -Wl,--export=__stack_pointer \
    -o "$out/python.wasm" "$work/sandbox_entry.o" \
    "$cpython/lib/libpython3.11.a" "$cpython/lib/libmpdec.a" "$cpython/lib/libexpat.a" \
    -L"$deps/lib" -lsqlite3 -llzma -lbz2 -lz \
    -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks -lm
  logged "$log" wasm-strip "$out/python.wasm"
  local exports name
  exports=$(wasm-objdump -x -j Export "$out/python.wasm")
  for name in memory __stack_pointer _initialize sf_alloc sf_free sf_init sf_call sf_result_ptr \
    sf_result_len sf_interrupt_slots; do
    grep -q "\"$name\"" <<<"$exports" || die "python.wasm does not export $name"
  done

  cp "$stdlib_zip_dir/stdlib.zip" "$out/python311.zip"
  cp "$site_packages_dir/site-packages.zip" "$site_packages_dir/site-packages.txt" "$out/"
  write_pyc_zip_tool
  logged "$log" run_build_python "$work/pyczip.py" a "$out/python311.zip" "$here/_sandbox.py"
  { source_id "${dscs[@]}"; printf '%s\n' "$tools"; } >"$out/inputs.txt"
  local version=${python_dsc##*/python3.11_}
  echo "${version%%-*}" >"$out/VERSION"
}

# ---------------------------------------------------------------------------------------------

mkdir -p "$src_cache"
tools=$(tool_versions)
records=$(apt-cache showsrc --only-source "${source_packages[@]}" 2>/dev/null || true)
stamp=$(apt_lists_stamp)
python_dsc=$(resolve_source python3.11 "$records" "$stamp")
zlib_dsc=$(resolve_source zlib "$records" "$stamp")
sqlite_dsc=$(resolve_source sqlite3 "$records" "$stamp")
bzip2_dsc=$(resolve_source bzip2 "$records" "$stamp")
xz_dsc=$(resolve_source xz-utils "$records" "$stamp")
dscs=("$python_dsc" "$zlib_dsc" "$sqlite_dsc" "$bzip2_dsc" "$xz_dsc")

key=$({
  sha256sum "$self" "$here/sandbox_entry.c" "$here/_sandbox.py" "$configure_cache" | cut -d' ' -f1
  source_id "${dscs[@]}"
  printf '%s\n' "$tools"
} | sha)
final_dir=$cache/python-$key

publish() {
  mkdir -p "$out_dir"
  cp "$final_dir/python.wasm" "$final_dir/python311.zip" "$final_dir/site-packages.zip" \
    "$final_dir/site-packages.txt" "$final_dir/VERSION" "$out_dir/"
}

if [[ -f $final_dir/.complete ]]; then
  publish
  printf 'python guest: up to date (%s)\n' "$final_dir" >&2
  exit 0
fi

# One build at a time per cache; a second run waits and then finds the results.
exec 9>"$cache/.python.lock"
flock 9
if [[ -f $final_dir/.complete ]]; then
  publish
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/python-guest.XXXXXX")
prefetched=
trap '[[ -z $libraries_job ]] || kill "$libraries_job" 2>/dev/null; rm -rf "$work" ${partial:+"$partial"} ${prefetched:+"$prefetched" "$prefetched.log"}' EXIT
make_sysroot
wasm_toolchain
toolchain_text=$(declare -f wasm_toolchain make_sysroot)

python_source=$(source_id "$python_dsc")
check_build_python
# What configure's answers depend on: the compiler, linker, archiver, C library and runtime, the
# sources and the compiler flags.
configure_key=$({
  dpkg-query -W -f='${Package}=${Version}\n' clang-16 lld-16 llvm-16 wasi-libc libclang-rt-16-dev-wasm32 autoconf
  printf '%s\n' "$python_source" "$toolchain_text"
} | sha)

wasm_libraries_dir=$(stage_dir wasm-libraries build_wasm_libraries \
  "$(source_id "$zlib_dsc" "$bzip2_dsc" "$xz_dsc" "$sqlite_dsc")" "$tools" "$toolchain_text")
if [[ ! -f $wasm_libraries_dir/.complete ]]; then
  run_stage "$wasm_libraries_dir" build_wasm_libraries \
    "building zlib, bzip2, liblzma and SQLite for wasm32-wasi…" &
  libraries_job=$!
fi

cpython_wasm_dir=$(stage_dir cpython-wasm build_cpython_wasm "$python_source" "$tools" \
  "$toolchain_text" "$build_python" "$wasm_libraries_dir" "${sqlite_facts[*]}" \
  "$(sha256sum <"$configure_cache" 2>/dev/null)")
run_stage "$cpython_wasm_dir" build_cpython_wasm \
  "building CPython 3.11 for wasm32-wasi (first run takes several minutes)…"
wait_for_libraries

stdlib_zip_dir=$(stage_dir stdlib-zip build_stdlib_zip "$(declare -f write_pyc_zip_tool)" \
  "$build_python" "$cpython_wasm_dir")
run_stage "$stdlib_zip_dir" build_stdlib_zip "compiling the standard library into a zip…"

site_packages_dir=$(stage_dir site-packages build_site_packages \
  "$(declare -f fetch_deb prefetch_debs write_site_zip_tool write_tzdata_tool)" \
  "${bundled_packages[*]} $tzdata_pin" "$tools")
run_stage "$site_packages_dir" build_site_packages "compiling the bundled packages into a zip…"

run_stage "$final_dir" link_guest "linking the python.wasm reactor…"
publish
say "done: $out_dir/python.wasm ($(stat -c %s "$out_dir/python.wasm") bytes)," \
  "$out_dir/python311.zip ($(stat -c %s "$out_dir/python311.zip") bytes)," \
  "$out_dir/site-packages.zip ($(stat -c %s "$out_dir/site-packages.zip") bytes)"
