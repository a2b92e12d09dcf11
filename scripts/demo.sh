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

# --- Live reload: a program embedding libsnapconf, while we edit the file ---
dir=$(mktemp -d)
trap 'rm -rf "$dir"; rm -f "$bad"' EXIT
cp "$CONF" "$dir/app.yaml"
printf '\n\033[1m# live reload: %s/examples/live_demo reads %s/app.yaml from two threads\033[0m\n' "$BUILD_DIR" "$dir"
"$BUILD_DIR/examples/live_demo" "$dir/app.yaml" 5 &
demo_pid=$!
sleep 1
say "sed -i 's/port: 8080/port: 9090/' app.yaml      # editors and tools replace the file"
sed -i 's/port: 8080/port: 9090/' "$dir/app.yaml"
sleep 1
say "printf 'server: [oops\\\\n' > app.yaml           # a broken edit is rejected; old values keep serving"
cp "$dir/app.yaml" "$dir/good.yaml"
printf 'server: [oops\n' > "$dir/app.yaml"
sleep 1
say "cp good.yaml app.yaml; sed -i 's/level: info/level: debug/' app.yaml   # fixed again"
cp "$dir/good.yaml" "$dir/app.yaml"
sed -i 's/level: info/level: debug/' "$dir/app.yaml"
wait "$demo_pid"
