#!/bin/sh
# make demo: shows snapconf reading conf/example.yaml.
set -eu
BUILD_DIR=${1:-build}
SNAPCONF="$BUILD_DIR/src/cli/snapconf"
SNAPCONFD="$BUILD_DIR/src/daemon/snapconfd"
CONF=conf/example.yaml

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@" || printf '(exit status %s)\n' "$?"; }

# Polls for up to 5 s, so the demo neither races the daemon nor hangs.
wait_for_daemon() {
  i=0
  until "$SNAPCONF" status >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -le 50 ] || { echo "snapconfd did not start" >&2; exit 1; }
    sleep 0.1
  done
}
wait_for_value() {
  i=0
  until [ "$("$SNAPCONF" get "$1" 2>/dev/null)" = "$2" ]; do
    i=$((i + 1)); [ "$i" -le 50 ] || { echo "$1 never became $2" >&2; exit 1; }
    sleep 0.1
  done
}

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
say "printf 'server: [oops\\n' > app.yaml           # a broken edit is rejected; old values keep serving"
cp "$dir/app.yaml" "$dir/good.yaml"
printf 'server: [oops\n' > "$dir/app.yaml"
sleep 1
say "cp good.yaml app.yaml; sed -i 's/level: info/level: debug/' app.yaml   # fixed again"
cp "$dir/good.yaml" "$dir/app.yaml"
sed -i 's/level: info/level: debug/' "$dir/app.yaml"
wait "$demo_pid"
# --- The daemon: snapconfd serves the live config; the CLI asks it ---------
ddir=$(mktemp -d)
daemon_pid=
watch_pid=
# Stops what the demo started; the trap makes sure of it on every exit.
stop_daemon_demo() {
  if [ -n "$watch_pid" ]; then kill "$watch_pid" 2>/dev/null || true; wait "$watch_pid" 2>/dev/null || true; fi
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  watch_pid= daemon_pid=
}
trap 'stop_daemon_demo; rm -rf "$ddir" "$dir"; rm -f "$bad"' EXIT
cp "$CONF" "$ddir/app.yaml"
export SNAPCONF_SOCKET="$ddir/snapconf.sock"
printf '\n\033[1m# snapconfd: the daemon, on a copy of %s in %s\033[0m\n' "$CONF" "$ddir"
say "snapconfd --config app.yaml --socket snapconf.sock --log-level info &"
"$SNAPCONFD" --config "$ddir/app.yaml" --socket "$SNAPCONF_SOCKET" --log-level info &
daemon_pid=$!
wait_for_daemon
run "$SNAPCONF" get server.port
run "$SNAPCONF" status
gen=$("$SNAPCONF" status --json | sed -n 's/.*"generation": *\([0-9]*\).*/\1/p' | head -n 1)
say "snapconf watch --since $gen server &       # prints each change under server"
"$SNAPCONF" watch --since "$gen" server > "$ddir/watch.out" &
watch_pid=$!
sleep 0.5
say "sed -i 's/port: 8080/port: 9090/' app.yaml"
sed -i 's/port: 8080/port: 9090/' "$ddir/app.yaml"
wait_for_value server.port 9090
i=0
while [ ! -s "$ddir/watch.out" ] && [ "$i" -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
say "# what snapconf watch printed:"
cat "$ddir/watch.out"
run "$SNAPCONF" get server.port
say "printf 'server: [oops\\n' > app.yaml      # rejected; the daemon keeps serving"
printf 'server: [oops\n' > "$ddir/app.yaml"
sleep 0.5
run "$SNAPCONF" get server.port
run "$SNAPCONF" check
say "kill snapconfd snapconf-watch          # SIGTERM: clean shutdown"
stop_daemon_demo
say "ls $ddir                                # the socket is gone"
ls "$ddir"
