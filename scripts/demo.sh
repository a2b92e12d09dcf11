#!/bin/sh
# make demo: shows snapconf reading conf/example.yaml.
set -eu
BUILD_DIR=${1:-build}
SNAPCONF="$BUILD_DIR/src/cli/snapconf"
CONF=conf/example.yaml

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@" || printf '(exit status %s)\n' "$?"; }

printf 'snapconf demo: typed lookups on %s\n' "$CONF"
run "$SNAPCONF" get --file "$CONF" server.port
run "$SNAPCONF" get --file "$CONF" database.primary.pool_size
run "$SNAPCONF" get --file "$CONF" database.replica.port
run "$SNAPCONF" get --file "$CONF" 'labels."app.kubernetes.io/name"'
run "$SNAPCONF" get --file "$CONF" 'upstreams[0]'
run "$SNAPCONF" get --file "$CONF" --json features.recommendations
run "$SNAPCONF" get --file "$CONF" server.prot
run "$SNAPCONF" dump --file "$CONF"

bad=$(mktemp --suffix=.yaml)
trap 'rm -f "$bad"' EXIT
printf 'server:\n  port: 8080\n  port: 9090\n' > "$bad"
say "# a config with a mistake is rejected with its position:"
run "$SNAPCONF" check "$bad"
