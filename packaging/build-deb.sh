#!/usr/bin/env bash
# make deb: builds the Debian packages from the working tree, then checks
# them with lintian.
#
#   packaging/build-deb.sh [OUT_DIR]     (default build-deb)
#
# The working tree's files (tracked and new ones, not those .gitignore
# ignores; outside git, everything but build*/ directories) are copied to a
# temporary directory outside the source tree as snapconf-VERSION/, with
# snapconf_VERSION.orig.tar.xz beside it and packaging/debian/ as its
# debian/; dpkg-buildpackage builds the source and binary packages there
# (unsigned).  OUT_DIR receives the .deb files (with their -dbgsym
# companions), the source package, the .changes and .buildinfo files, the
# build log and lintian's report.  Any lintian error fails; warnings and
# the rest are listed (and explained in packaging/README.md).
#
# Environment: JOBS (parallel build jobs, default: nproc),
# DEB_BUILD_OPTIONS (added to parallel=JOBS; e.g. nocheck).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
out=${1:-build-deb}
case $out in /*) ;; *) out=$top/$out ;; esac
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
start=$SECONDS

# One version, said twice: CMakeLists.txt's project() and the changelog.
upstream=$(sed -n 's/^project(snapconf VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt)
debversion=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
if [ -z "$upstream" ] || [ "${debversion%-*}" != "$upstream" ]; then
  echo "deb: packaging/debian/changelog is at $debversion but CMakeLists.txt says" \
    "version ${upstream:-?}: add a changelog entry for $upstream-1" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/snapconf-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$tmp/snapconf-$upstream
mkdir "$src"

echo "deb: copying the source tree to $src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked files deleted in the working tree are listed too; skip them.
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
    done |
    tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -
else
  tar -C "$top" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$src" -xf -
fi
tar -C "$tmp" -cJf "$tmp/snapconf_$upstream.orig.tar.xz" "snapconf-$upstream"
cp -a packaging/debian "$src/debian"

mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.dsc "$out"/*.tar.* "$out"/*.changes \
  "$out"/*.buildinfo "$out"/*.log
log=$out/dpkg-buildpackage.log
echo "deb: dpkg-buildpackage (snapconf $debversion, $jobs jobs), log in $log"
if ! (cd "$src" &&
  DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage --build=full --no-sign) >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "deb: dpkg-buildpackage failed; the whole log is $log" >&2
  exit 1
fi
cp "$tmp"/*.deb "$tmp"/*.dsc "$tmp"/*.tar.* "$tmp"/*.changes "$tmp"/*.buildinfo "$out"/
build_time=$((SECONDS - start))

echo "deb: packages in $out:"
for deb in "$out"/*.deb; do
  printf '  %s  (%s)\n' "$(basename "$deb")" "$(du -h "$deb" | cut -f1)"
done
changes=$(ls "$out"/*.changes)

# lintian over the source and binary packages: every tag, explained in
# packaging/README.md; errors fail.
report=$out/lintian.log
echo "deb: lintian (report in $report)"
status=0
lintian --fail-on error --display-info --display-experimental --pedantic \
  --tag-display-limit 0 "$changes" >"$report" 2>&1 || status=$?
if [ -s "$report" ]; then sed 's/^/  /' "$report"; else echo "  (no tags)"; fi
errors=$(grep -c '^E: ' "$report" || true)
warnings=$(grep -c '^W: ' "$report" || true)
echo "deb: lintian: $errors errors, $warnings warnings; built in ${build_time} s," \
  "$((SECONDS - start)) s in all"
if [ "$status" != 0 ] || [ "$errors" != 0 ]; then
  echo "deb: lintian found errors (above)" >&2
  exit 1
fi
