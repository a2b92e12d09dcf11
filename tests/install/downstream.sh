#!/usr/bin/env bash
# packaging_downstream: libsnapconf as a downstream project meets it.
#
#   downstream.sh BUILD_DIR SOURCE_DIR CMAKE CC CXX PREFIX LIBDIR INCLUDEDIR
#
# 1. Installs BUILD_DIR into a temporary DESTDIR, and checks that
#    every file the packages need is there (library with its SONAME, header,
#    pkg-config and CMake files, programs, man pages, completion, units).
# 2. Builds examples/service out of tree against that staged prefix: with
#    its Makefile and pkg-config (shared and static) and, separately, with
#    its CMakeLists.txt and find_package (shared and static).
# 3. Runs each build on a temporary YAML file, edits the file, and waits
#    (polling, with a deadline) for the service to print the new value,
#    from its subscription and from a worker; then SIGTERM must stop it
#    cleanly with exit status 0.
# 4. Compiles tests/install/cxx_include.cpp, which includes snapconf.h, with
#    g++ -std=c++11 -Wall -Wextra -Werror -pedantic, links and runs it.
#
# LIBDIR and INCLUDEDIR are CMAKE_INSTALL_LIBDIR and _INCLUDEDIR (relative
# to PREFIX, or absolute).
set -euo pipefail

[ $# -eq 8 ] || {
  echo "usage: $0 BUILD_DIR SOURCE_DIR CMAKE CC CXX PREFIX LIBDIR INCLUDEDIR" >&2
  exit 2
}
build=$1 src=$2 cmake=$3 cc=$4 cxx=$5 prefix=$6 libdir=$7 includedir=$8
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
case $includedir in /*) ;; *) includedir=$prefix/$includedir ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/snapconf-downstream.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }

# ---- 1. Install into a staging directory -------------------------------------------

# Exactly what the issue names: `cmake --install` on the build as it is
# (the programs link libsnapconf statically, so nothing is relinked).
step "install $build into DESTDIR=$tmp/root"
install_cmd() { DESTDIR=$tmp/root "$cmake" --install "$build"; }
install_cmd >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "installing failed"; }
root=$tmp/root
stage_lib=$root$libdir
stage_inc=$root$includedir

expect() { [ -e "$root$1" ] || [ -L "$root$1" ] || fail "not installed: $1"; }
for f in "$includedir/snapconf.h" \
  "$libdir/libsnapconf.so" "$libdir/libsnapconf.so.0" "$libdir/libsnapconf.a" \
  "$libdir/pkgconfig/snapconf.pc" \
  "$libdir/cmake/snapconf/snapconfConfig.cmake" \
  "$libdir/cmake/snapconf/snapconfConfigVersion.cmake" \
  "$libdir/cmake/snapconf/snapconfTargets.cmake" \
  "$libdir/cmake/snapconf/snapconfStaticTargets.cmake" \
  "$prefix/bin/snapconf" "$prefix/sbin/snapconfd" \
  "$prefix/share/man/man1/snapconf.1" "$prefix/share/man/man8/snapconfd.8" \
  "$prefix/share/man/man3/libsnapconf.3" "$prefix/share/man/man3/snapconf_open.3" \
  "$prefix/share/bash-completion/completions/snapconf" \
  "$prefix/share/doc/snapconf/examples/example.yaml"; do
  expect "$f"
done
# The SONAME carries the major version, and the real file the full one.
soname=$(objdump -p "$stage_lib/libsnapconf.so" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libsnapconf.so.0 ] || fail "SONAME is '$soname', expected libsnapconf.so.0"
real=$(readlink -f "$stage_lib/libsnapconf.so")
case $real in */libsnapconf.so.0.*.*) ;; *) fail "libsnapconf.so resolves to $real" ;; esac
# Installed programs carry no RUNPATH (a packaged binary must not).
for exe in "$root$prefix/bin/snapconf" "$root$prefix/sbin/snapconfd"; do
  if objdump -p "$exe" | grep -Eq '^ *(RUNPATH|RPATH) '; then
    fail "$exe has an RPATH/RUNPATH: $(objdump -p "$exe" | grep -E 'R(UN)?PATH')"
  fi
done
echo "installed: $(cd "$root" && find . -type f -o -type l | wc -l) files, SONAME $soname"

# ---- 2. and 3. Build the example service four ways, run each ---------------------------

config=$tmp/service.yaml
write_config() { # PORT TIMEOUT: written to a temporary file, then renamed over
  cat >"$config.new" <<EOF
service:
  name: downstream
server:
  port: $1
  read_timeout_ms: $2
features:
  new_checkout_flow: true
EOF
  mv "$config.new" "$config"
}

# wait_for LOG PATTERN WHAT: polls LOG for PATTERN (grep -E) until a deadline;
# fails early when the service died.
wait_for() {
  local log=$1 pattern=$2 what=$3 deadline=$((SECONDS + 20))
  until grep -Eq -- "$pattern" "$log"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log" >&2
      fail "$what: the service exited"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      cat "$log" >&2
      fail "$what: not printed within 20 s (pattern: $pattern)"
    fi
    sleep 0.05
  done
}

# run_service NAME BINARY [ENV...]: the edit test on one build.
run_service() {
  local name=$1 exe=$2
  shift 2
  local log=$tmp/$name.log
  write_config 8080 2500
  env "$@" "$exe" "$config" 3 >"$log" 2>&1 &
  pid=$!
  wait_for "$log" '^ready: ' "$name: start"
  wait_for "$log" '^worker [0-9]+: generation 1: .*server\.port=8080' "$name: first read"
  write_config 9090 2500
  wait_for "$log" '^change: generation 1 -> 2: server\.port: 8080 -> 9090$' "$name: subscription"
  wait_for "$log" '^worker [0-9]+: generation 2: .*server\.port=9090' "$name: worker"
  kill -TERM "$pid"
  local status=0
  wait "$pid" || status=$?
  pid=
  [ "$status" = 0 ] || {
    cat "$log" >&2
    fail "$name: exit status $status after SIGTERM"
  }
  grep -Eq '^stopped: [0-9]+ requests served$' "$log" || {
    cat "$log" >&2
    fail "$name: no clean stop"
  }
  echo "$name: saw server.port 8080 -> 9090, stopped cleanly ($(grep '^stopped' "$log"))"
}

# check_linkage NAME BINARY shared|static
check_linkage() {
  local needed
  needed=$(objdump -p "$2" | awk '$1 == "NEEDED" { print $2 }' | tr '\n' ' ')
  case "$3:$needed" in
  shared:*libsnapconf.so.0*) ;;
  static:*libsnapconf*) fail "$1: linked statically, yet needs: $needed" ;;
  static:*) ;;
  *) fail "$1: does not need libsnapconf.so.0: $needed" ;;
  esac
}

# pkg-config against the staged prefix: the .pc file names the final prefix,
# the sysroot puts the staging directory in front of it.
export PKG_CONFIG_PATH=$stage_lib/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$root
pc_version=$(pkg-config --modversion snapconf)
echo "pkg-config: snapconf $pc_version: $(pkg-config --cflags --libs snapconf)"
echo "pkg-config --static: $(pkg-config --static --libs snapconf)"

for kind in shared static; do
  step "example service, Makefile + pkg-config, $kind"
  dir=$tmp/make-$kind
  mkdir -p "$dir"
  static=0
  [ "$kind" = static ] && static=1
  make -s -C "$dir" -f "$src/examples/service/Makefile" CC="$cc" STATIC=$static \
    CFLAGS="-O2 -g -Wall -Wextra -Werror" >"$dir/build.log" 2>&1 ||
    { cat "$dir/build.log" >&2; fail "make (pkg-config, $kind) failed"; }
  check_linkage "make-$kind" "$dir/snapconf-example-service" "$kind"
  # The binary has no RUNPATH: the staged library comes from LD_LIBRARY_PATH.
  run_service "make-$kind" "$dir/snapconf-example-service" LD_LIBRARY_PATH="$stage_lib"
done
unset PKG_CONFIG_SYSROOT_DIR

for kind in shared static; do
  step "example service, CMake find_package(snapconf CONFIG), $kind"
  dir=$tmp/cmake-$kind
  static=OFF
  [ "$kind" = static ] && static=ON
  if ! { "$cmake" -S "$src/examples/service" -B "$dir" -DCMAKE_PREFIX_PATH="$root$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="-Werror" -DSNAPCONF_EXAMPLE_STATIC=$static &&
    "$cmake" --build "$dir"; } >"$tmp/cmake-$kind.log" 2>&1; then
    cat "$tmp/cmake-$kind.log" >&2
    fail "cmake (find_package, $kind) failed"
  fi
  grep -q "snapconf_DIR:PATH=$root" "$dir/CMakeCache.txt" ||
    fail "find_package found another snapconf: $(grep snapconf_DIR "$dir/CMakeCache.txt")"
  check_linkage "cmake-$kind" "$dir/snapconf-example-service" "$kind"
  # CMake gives the build-tree binary a RUNPATH to the staged library.
  run_service "cmake-$kind" "$dir/snapconf-example-service"
done

step "find_package version checks"
probe=$tmp/probe
mkdir -p "$probe"
cat >"$probe/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(probe LANGUAGES C)
find_package(snapconf ${WANT} CONFIG QUIET)
if(EXPECT AND NOT snapconf_FOUND)
  message(FATAL_ERROR "find_package(snapconf ${WANT}) failed; it should succeed")
elseif(NOT EXPECT AND snapconf_FOUND)
  message(FATAL_ERROR "find_package(snapconf ${WANT}) succeeded; it should fail")
endif()
EOF
# The same major version from the installed one down is compatible; the
# next major version (another SONAME) is not.
major=${pc_version%%.*}
for want_expect in "$pc_version:1" "$major.0:1" "$((major + 1)).0:0"; do
  want=${want_expect%:*} expect=${want_expect#*:}
  "$cmake" -S "$probe" -B "$probe/b-$want" -DCMAKE_PREFIX_PATH="$root$prefix" -DWANT="$want" \
    -DEXPECT="$expect" >"$probe/log" 2>&1 ||
    { cat "$probe/log" >&2; fail "find_package(snapconf $want)"; }
  echo "find_package(snapconf $want): $([ "$expect" = 1 ] && echo found || echo refused), as expected"
done

# ---- 4. C++ ------------------------------------------------------------------------

step "C++: $cxx -std=c++11 -Wall -Wextra -Werror -pedantic, including snapconf.h"
"$cxx" -std=c++11 -Wall -Wextra -Werror -pedantic -I"$stage_inc" \
  -o "$tmp/cxx_include" "$src/tests/install/cxx_include.cpp" -L"$stage_lib" -lsnapconf ||
  fail "the C++ translation unit does not compile or link"
LD_LIBRARY_PATH=$stage_lib "$tmp/cxx_include" || fail "the C++ program failed"

echo "packaging_downstream: OK"
