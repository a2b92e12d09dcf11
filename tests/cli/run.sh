#!/bin/sh
# End-to-end tests of the snapconf command-line tool: each case runs the
# built binary and checks its exact stdout and its exit status (and, for
# errors, what stderr says).  Run by ctest as the test "cli":
#
#   sh run.sh SNAPCONF_BINARY SOURCE_DIR WORK_DIR VERSION
#
# Prints one line per failed case and exits 1 if any failed.
set -u

if [ $# -ne 4 ]; then
    echo "usage: $0 SNAPCONF_BINARY SOURCE_DIR WORK_DIR VERSION" >&2
    exit 2
fi
bin=$1
here=$2/tests/cli
conf=$2/conf/example.yaml
version=$4
mkdir -p "$3" || exit 1
tmp=$(mktemp -d "$3/cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# Whatever the environment says, the daemon commands must find no daemon
# here: the socket named is one that does not exist.
nosock=$tmp/none.sock
SNAPCONF_SOCKET=$nosock
export SNAPCONF_SOCKET
unset RUNTIME_DIRECTORY
# Environment overrides are opt-in, by this variable too: none unless a
# case sets it.
unset SNAPCONF_ENV_PREFIX

cases=0
failures=0
name=

fail() {
    echo "FAIL: $name: $*" >&2
    failures=$((failures + 1))
}

# run NAME ARGS...: runs the tool; stdout lands in $tmp/out, stderr in
# $tmp/err, the exit status in $status.
run() {
    name=$1
    shift
    cases=$((cases + 1))
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
}

expect_status() {
    [ "$status" -eq "$1" ] || fail "exit status $status, want $1; stderr: $(cat "$tmp/err")"
}

# expect_out TEXT: stdout is exactly TEXT and a newline.
expect_out() {
    printf '%s\n' "$1" >"$tmp/want"
    cmp -s "$tmp/want" "$tmp/out" || fail "stdout differs:
$(diff "$tmp/want" "$tmp/out")"
}

# expect_out_file FILE: stdout is exactly FILE's bytes.
expect_out_file() {
    cmp -s "$1" "$tmp/out" || fail "stdout differs from $1:
$(diff "$1" "$tmp/out")"
}

expect_no_out() {
    [ ! -s "$tmp/out" ] || fail "unexpected stdout: $(cat "$tmp/out")"
}

expect_no_err() {
    [ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
}

# expect_err REGEX: some line of stderr matches the basic regex.
expect_err() {
    grep -q -e "$1" "$tmp/err" || fail "stderr does not match '$1': $(cat "$tmp/err")"
}

# expect_err_line N TEXT: line N of stderr is exactly TEXT.
expect_err_line() {
    line=$(sed -n "$1p" "$tmp/err")
    [ "$line" = "$2" ] || fail "stderr line $1 is '$line', want '$2'"
}

# get_ok WANT ARGS...: "get --file example.yaml ARGS" prints WANT, exit 0.
get_ok() {
    want=$1
    shift
    run "get $*" get --file "$conf" "$@"
    expect_status 0
    expect_out "$want"
    expect_no_err
}

# ---- get: scalars as plain text ---------------------------------------------

get_ok checkout service.name
get_ok 2.14.1 service.version
get_ok 8080 server.port
get_ok 3.5 database.primary.connect_timeout_s
get_ok 0.25 logging.sample_rate
get_ok true server.tls.enabled
get_ok false features.gift_cards
get_ok null features.beta_testers
get_ok on features.recommendations
get_ok 1048576 server.max_body_bytes
get_ok 5432 database.primary.port
get_ok 20 database.primary.pool_size
get_ok 10 database.replica.pool_size
get_ok true database.replica.read_only
get_ok checkout 'labels."app.kubernetes.io/name"'
get_ok inventory 'upstreams[1].name'
get_ok /var/log/checkout/app.log 'logging.outputs[1]'
get_ok 'Welcome to checkout.
Maintenance window: Sundays 02:00-03:00 UTC.
' motd

# Operands and options in any order, with -f, after --, and with
# POSIXLY_CORRECT, which would stop a permuting getopt at PATH.
run "get PATH --file" get server.port --file "$conf"
expect_status 0
expect_out 8080
run "get -f" get -f "$conf" server.workers
expect_status 0
expect_out 4
run "get -- PATH" get --file "$conf" -- server.host
expect_status 0
expect_out 0.0.0.0
name="get under POSIXLY_CORRECT"
cases=$((cases + 1))
out=$(POSIXLY_CORRECT=1 "$bin" get server.port --file "$conf")
status=$?
if [ "$status" -ne 0 ] || [ "$out" != 8080 ]; then
    fail "status $status, stdout '$out'"
fi

# Floats: shortest text that reads back the same, YAML's names otherwise.
for pair in tenth=0.1 third=0.3333333333333333 sum=0.30000000000000004 three=3 \
    huge=1e+300 neg_zero=-0 inf=.inf neg_inf=-.inf nan=.nan; do
    run "get float ${pair%%=*}" get --file "$here/floats.yaml" "${pair%%=*}"
    expect_status 0
    expect_out "${pair#*=}"
done

# A string with a NUL byte prints whole.
run "get string with NUL" get --file "$here/types.yaml" strings.nul_byte
expect_status 0
printf 'a\000b\n' >"$tmp/nul"
expect_out_file "$tmp/nul"

# ---- get: collections and --json --------------------------------------------

run "get mapping" get --file "$conf" server.tls
expect_status 0
cat >"$tmp/want" <<'EOF'
{
  "enabled": true,
  "cert": "/etc/checkout/tls/server.crt",
  "key": "/etc/checkout/tls/server.key",
  "min_version": "1.2"
}
EOF
expect_out_file "$tmp/want"

run "get sequence" get --file "$conf" logging.outputs
expect_status 0
cat >"$tmp/want" <<'EOF'
[
  "stderr",
  "/var/log/checkout/app.log"
]
EOF
expect_out_file "$tmp/want"

run "get root" get --file "$conf" ''
expect_status 0
expect_out_file "$here/example.json"

run "get --json string" get --json --file "$conf" service.version
expect_status 0
expect_out '"2.14.1"'
run "get --json int" get --file "$conf" server.port --json
expect_status 0
expect_out 8080
run "get --json null" get --file "$conf" --json features.beta_testers
expect_status 0
expect_out null
run "get --json NUL" get --json --file "$here/types.yaml" strings.nul_byte
expect_status 0
expect_out '"a\u0000b"'
for pair in 'tenth=0.1' 'sum=0.30000000000000004' 'three=3.0' 'huge=1e300' \
    'inf=".inf"' 'neg_inf="-.inf"' 'nan=".nan"'; do
    run "get --json float ${pair%%=*}" get --json --file "$here/floats.yaml" "${pair%%=*}"
    expect_status 0
    expect_out "${pair#*=}"
done

# ---- get: not found, bad paths, usage errors --------------------------------

run "get missing key" get --file "$conf" server.prt
expect_status 1
expect_no_out
expect_err_line 1 "snapconf: server.prt: no value at that path in $conf"
expect_err_line 2 "snapconf: did you mean 'server.port'?"

run "get typo mid-path" get --file "$conf" databse.primary.host
expect_status 1
expect_err_line 2 "snapconf: did you mean 'database.primary.host'?"

run "get missing quoted key" get --file "$conf" 'labels."app.kubernetes.io/nme"'
expect_status 1
expect_err_line 2 "snapconf: did you mean 'labels.\"app.kubernetes.io/name\"'?"

run "get index out of range" get --file "$conf" 'upstreams[7].name'
expect_status 1
expect_no_out
expect_err_line 2 "snapconf: upstreams has 3 items"

run "get through a scalar" get --file "$conf" server.port.number
expect_status 1
expect_err_line 2 "snapconf: server.port is a scalar (int), not a mapping or a sequence"

run "get far off" get --file "$conf" nothing.like.this
expect_status 1
expect_err_line 1 "snapconf: nothing.like.this: no value at that path in $conf"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "a suggestion where none is close: $(cat "$tmp/err")"

run "get empty segment" get --file "$conf" server..port
expect_status 2
expect_no_out
expect_err "invalid path 'server\.\.port' at column [0-9]"

run "get unterminated quote" get --file "$conf" 'labels."app'
expect_status 2
expect_err "invalid path"

run "get bad path before reading the file" get --file /nonexistent.yaml 'a[x]'
expect_status 2

run "get unknown option" get --bogus --file "$conf" server.port
expect_status 2
expect_no_out
expect_err "unrecognized option '--bogus'"
expect_err "Try 'snapconf get --help'"

run "get option of another command" get --format yaml --file "$conf" server.port
expect_status 2

run "get --file without argument" get server.port --file
expect_status 2
expect_err "requires an argument"

# Without --file, get asks snapconfd: here there is none.
run "get without --file" get server.port
expect_status 3
expect_no_out
expect_err_line 1 "snapconf: cannot reach snapconfd at $nosock: No such file or directory (is it running? set --socket or SNAPCONF_SOCKET)"

run "get without PATH" get --file "$conf"
expect_status 2
expect_err "missing PATH"

run "get two paths" get --file "$conf" server.port server.host
expect_status 2
expect_no_out

# ---- configuration errors ---------------------------------------------------

run "get from invalid YAML" get --file "$here/bad.yaml" server.port
expect_status 4
expect_no_out
expect_err "^$here/bad\.yaml:[0-9][0-9]*:[0-9][0-9]*: "

run "get from missing file" get --file "$tmp/missing.yaml" server.port
expect_status 4
expect_err "$tmp/missing\.yaml"

# ---- check ------------------------------------------------------------------

run "check" check "$conf"
expect_status 0
expect_out "$conf: OK"
expect_no_err

run "check --file" check --file "$conf"
expect_status 0
expect_out "$conf: OK"

run "check invalid YAML" check "$here/bad.yaml"
expect_status 4
expect_no_out
expect_err "^$here/bad\.yaml:[0-9][0-9]*:[0-9][0-9]*: "

run "check duplicate key" check "$here/dup.yaml"
expect_status 4
expect_no_out
expect_err "^$here/dup\.yaml:3:3: duplicate key 'port'"

run "check missing file" check "$tmp/missing.yaml"
expect_status 4
expect_err "$tmp/missing\.yaml"

# Without FILE, check asks snapconfd how its latest load went.
run "check without FILE" check
expect_status 3
expect_err "cannot reach snapconfd at $nosock"

run "check two FILEs" check "$conf" "$conf"
expect_status 2

# ---- dump -------------------------------------------------------------------

run "dump" dump --file "$conf"
expect_status 0
expect_out_file "$here/example.json"
expect_no_err

run "dump --format json" dump --format json --file "$conf"
expect_status 0
expect_out_file "$here/example.json"

run "dump types" dump --file "$here/types.yaml"
expect_status 0
expect_out_file "$here/types.json"

# Each float in its own shortest form, whatever the others need.
run "dump floats" dump --file "$here/floats.yaml"
expect_status 0
expect_out_file "$here/floats.json"

run "dump unknown format" dump --file "$conf" --format xml
expect_status 2
expect_no_out
expect_err "unknown format 'xml'"

run "dump invalid YAML" dump --file "$here/bad.yaml"
expect_status 4
expect_no_out

# The YAML dump loads back to the same JSON dump, types included.
for f in "$conf" "$here/types.yaml" "$here/floats.yaml"; do
    base=$(basename "$f" .yaml)
    run "dump yaml $base" dump --file "$f" --format yaml
    expect_status 0
    cp "$tmp/out" "$tmp/$base.rt.yaml"
    run "check dumped $base" check "$tmp/$base.rt.yaml"
    expect_status 0
    expect_out "$tmp/$base.rt.yaml: OK"
    run "dump json $base" dump --file "$f"
    cp "$tmp/out" "$tmp/$base.json"
    run "dump json of dumped $base" dump --file "$tmp/$base.rt.yaml"
    expect_status 0
    expect_out_file "$tmp/$base.json"
done
# Strings that look like other types come out quoted, floats as floats.
for want in "port_text: '8080'" "bool_text: 'true'" "empty: ''" "on_plain: 'on'" \
    "'8080': numeric-looking key" "tagged: !color red"; do
    name="dump yaml types has $want"
    cases=$((cases + 1))
    grep -q -F -e "$want" "$tmp/types.rt.yaml" || fail "not in the YAML dump"
done
for want in "three: 3.0" "huge: 1.0e+300" "neg_zero: -0.0" "nan: .nan"; do
    name="dump yaml floats has $want"
    cases=$((cases + 1))
    grep -q -x -F -e "$want" "$tmp/floats.rt.yaml" || fail "not in the YAML dump"
done

# ---- global options, help, write errors -------------------------------------

run "--version" --version
expect_status 0
expect_out "snapconf $version"
expect_no_err

run "--help" --help
expect_status 0
expect_no_err
for want in "^Usage: snapconf " "^  get  *Print the value at a path" "^  dump " "^  check " \
    "^  status " "^  reload " "^  watch " "--socket SOCKET" "SNAPCONF_SOCKET" \
    "RUNTIME_DIRECTORY" "/run/snapconf/snapconf.sock" \
    "^Exit status:" "^  1  no value at the given path" "^  3  snapconfd cannot be reached" \
    "^  4  the configuration file" "^  set  *Override a value" "^  unset " "^  revert " \
    "^  overrides " "^  6  snapconfd refused a change"; do
    grep -q -e "$want" "$tmp/out" || fail "help lacks '$want'"
done
# paths is for shell completion, not listed.
grep -q -e "^  paths" "$tmp/out" && fail "help lists the hidden paths command"

run "get --help" get --help
expect_status 0
expect_no_err
grep -q -e "^Usage: snapconf get \[--json\] \[--explain\] PATH" "$tmp/out" || fail "no usage line"
grep -q -e "^       snapconf get --file FILE \[LAYERS\] \[--json\] \[--explain\] PATH" "$tmp/out" ||
    fail "no --file usage line"
grep -q -e '"\.inf"' "$tmp/out" || fail "JSON infinity not documented"
cp "$tmp/out" "$tmp/get-help"
run "help get" help get
expect_status 0
expect_out_file "$tmp/get-help"

run "dump --help" dump --help
expect_status 0
grep -q -e "^Usage: snapconf dump" "$tmp/out" || fail "no usage line"

run "check --help" check --help
expect_status 0
grep -q -e "^Usage: snapconf check" "$tmp/out" || fail "no usage line"

run "no command" ""
expect_status 2
run "no arguments"
expect_status 2
expect_no_out
expect_err "missing command"

run "unknown command" frobnicate
expect_status 2
expect_no_out
expect_err "unknown command 'frobnicate'"

run "unknown global option" --bogus
expect_status 2
expect_no_out

# ---- the daemon's commands, with no daemon ----------------------------------

# The message names the socket tried, wherever its path came from.
unreachable="No such file or directory (is it running? set --socket or SNAPCONF_SOCKET)"
for cmd in "get server.port" "get --json server.port" dump "dump --format yaml" status \
    "status --json" reload "reload --json" watch "watch server" "watch --since 3" check \
    "check --json" paths "paths --complete server." "get --explain server.port" \
    "set server.port 9090" "set server.port --json 9090" "unset server.port" revert \
    "revert server" overrides "overrides --json server"; do
    # shellcheck disable=SC2086 # the words of $cmd are separate arguments
    run "$cmd without a daemon" $cmd
    expect_status 3
    expect_no_out
    expect_err_line 1 "snapconf: cannot reach snapconfd at $nosock: $unreachable"
done

run "--socket after the command" get --socket "$tmp/a.sock" server.port
expect_status 3
expect_err_line 1 "snapconf: cannot reach snapconfd at $tmp/a.sock: $unreachable"
run "--socket before the command" --socket "$tmp/b.sock" status
expect_status 3
expect_err_line 1 "snapconf: cannot reach snapconfd at $tmp/b.sock: $unreachable"
run "--socket after beats before" --socket "$tmp/b.sock" dump --socket "$tmp/c.sock"
expect_status 3
expect_err_line 1 "snapconf: cannot reach snapconfd at $tmp/c.sock: $unreachable"

name="RUNTIME_DIRECTORY"
cases=$((cases + 1))
SNAPCONF_SOCKET= RUNTIME_DIRECTORY="$tmp/rt:$tmp/other" "$bin" status >"$tmp/out" 2>"$tmp/err"
status=$?
expect_status 3
expect_err_line 1 "snapconf: cannot reach snapconfd at $tmp/rt/snapconf.sock: $unreachable"

name="SNAPCONF_SOCKET beats RUNTIME_DIRECTORY"
cases=$((cases + 1))
RUNTIME_DIRECTORY="$tmp/rt" "$bin" status >"$tmp/out" 2>"$tmp/err"
status=$?
expect_status 3
expect_err "at $nosock:"

name="the default socket"
cases=$((cases + 1))
SNAPCONF_SOCKET= "$bin" reload >"$tmp/out" 2>"$tmp/err"
status=$?
if [ -e /run/snapconf/snapconf.sock ]; then
    echo "skipped: a daemon listens on /run/snapconf/snapconf.sock" >&2
else
    expect_status 3
    expect_err_line 1 "snapconf: cannot reach snapconfd at /run/snapconf/snapconf.sock: $unreachable"
fi

# A socket left behind by a dead daemon, and a file that is no socket.
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
        "$tmp/stale.sock"
    run "stale socket" get --socket "$tmp/stale.sock" server.port
    expect_status 3
    expect_err_line 1 "snapconf: cannot reach snapconfd at $tmp/stale.sock: Connection refused (is it running? set --socket or SNAPCONF_SOCKET)"
fi
: >"$tmp/plain.sock"
run "not a socket" status --socket "$tmp/plain.sock"
expect_status 3
expect_err "cannot reach snapconfd at $tmp/plain\.sock: Connection refused"

long=$tmp/$(printf '%0120d' 0).sock
for cmd in status watch; do
    run "$cmd: socket path too long" "$cmd" --socket "$long"
    expect_status 3
    expect_err "cannot reach snapconfd at $long: the socket path is longer than 107 bytes"
done

# ---- the daemon's commands: usage errors, before any connection ------------

usage() {
    expected_err=$1
    shift
    run "usage: $*" "$@"
    expect_status 2
    expect_no_out
    expect_err "$expected_err"
}
usage "unexpected argument 'now'" status now
usage "unexpected argument 'now'" reload now
usage "unrecognized option '--file'" status --file "$conf"
usage "unrecognized option '--file'" reload --file "$conf"
usage "unrecognized option '--file'" watch --file "$conf"
usage "unrecognized option '--format'" status --format yaml
usage "unrecognized option '--bogus'" watch --bogus
usage "too many arguments" watch server logging
usage "too many arguments" check "$conf" "$conf"
usage "give FILE either with --file or as an argument" check --file "$conf" "$conf"
usage "--since needs a generation number, not 'x'" watch --since x
usage "--since needs a generation number, not '-1'" watch --since=-1
usage "--since needs a generation number, not '99999999999999999999'" \
    watch --since 99999999999999999999
usage "requires an argument" watch --since
usage "invalid path 'server\.\.port'" watch server..port
usage "invalid path 'server\.\.port'" get server..port
usage "unknown format 'xml'" dump --format xml
usage "--socket needs a path" get --socket '' server.port
usage "--socket needs a path" --socket '' status
usage "requires an argument" status --socket
usage "Try 'snapconf --help'" --socket
usage "missing PATH" get
usage "too many arguments" get server.port server.host
usage "unexpected argument 'x'" paths x
usage "missing PATH" set
usage "missing VALUE" set server.port
usage "too many arguments" set server.port 1 2
usage "missing PATH" unset
usage "too many arguments" unset server.port server.host
usage "too many arguments" revert server.port server.host
usage "too many arguments" overrides server.port server.host
usage "invalid path 'server\.\.port'" set server..port 1
usage "invalid path 'server\.\.port'" unset server..port
usage "invalid path 'server\.\.port'" revert server..port
usage "--file: set changes what snapconfd serves, not a file" set --file "$conf" server.port 1
usage "--file: unset changes what snapconfd serves" unset --file "$conf" server.port
usage "--file: revert changes what snapconfd serves" revert --file "$conf"
usage "unrecognized option '--file'" overrides --file "$conf"
usage "unrecognized option '--explain'" set --explain server.port 1
usage "--dropin goes with --file" get --dropin "$tmp" server.port
usage "--env-prefix goes with --file" dump --env-prefix APP_
usage "--state-file goes with --file" check --state-file "$tmp/state.yaml"
usage "--dropin needs a directory" get --file "$conf" --dropin '' server.port
usage "unrecognized option '--dropin'" status --dropin "$tmp"

# ---- help of the daemon's commands ------------------------------------------

for cmd in status reload watch dump check set unset revert overrides; do
    run "$cmd --help" "$cmd" --help
    expect_status 0
    expect_no_err
    grep -q -e "^Usage: snapconf $cmd" "$tmp/out" || fail "no usage line"
    grep -q -e "--socket SOCKET" "$tmp/out" || fail "--socket not documented"
    grep -q -e "--json" "$tmp/out" || fail "--json not documented"
done
run "watch --help" watch --help
grep -q -e "GENERATION PATH OLD -> NEW" "$tmp/out" || fail "the line format is not documented"
grep -q -e "(absent)" "$tmp/out" || fail "(absent) is not documented"
run "paths --help" help paths
expect_status 0
grep -q -e "^Usage: snapconf paths" "$tmp/out" || fail "no usage line"

# ---- check --json -----------------------------------------------------------

run "check --json valid" check --json "$conf"
expect_status 0
expect_out "{\"file\":\"$conf\",\"valid\":true}"
run "check --json invalid" check --json --file "$here/dup.yaml"
expect_status 4
expect_out "{\"file\":\"$here/dup.yaml\",\"valid\":false,\"error\":{\"code\":\"SNAPCONF_EPARSE\",\"message\":\"$here/dup.yaml:3:3: duplicate key 'port' (first defined at line 2)\",\"file\":\"$here/dup.yaml\",\"line\":3,\"column\":3}}"

# ---- layers: get --explain, dump and check with --dropin, --env-prefix,
# ---- --state-file -----------------------------------------------------------

# Relative names, so that the positions print as they are given.
mkdir -p "$tmp/layers/conf.d" "$tmp/layers/bad.d"
cat >"$tmp/layers/app.yaml" <<'EOF'
server:
  host: 0.0.0.0
  port: 8080
  tls:
    enabled: true
feature:
  beta: false
EOF
printf 'server:\n  port: 8081\n' >"$tmp/layers/conf.d/10-port.yaml"
printf 'server:\n  tls: null\n' >"$tmp/layers/conf.d/20-tls.yaml"
printf 'not: [yaml\n' >"$tmp/layers/conf.d/README"
printf 'server: [\n' >"$tmp/layers/bad.d/10-bad.yaml"
cat >"$tmp/layers/state.yaml" <<'EOF'
version: 1
overrides:
  - {op: set, path: "feature.beta", value: "true"}
EOF
here_dir=$(pwd)
cd "$tmp/layers" || exit 1

run "get --explain --file" get --file app.yaml --explain server.port
expect_status 0
expect_no_err
printf '8080\n  app.yaml:3:9  value       8080\n' >"$tmp/want"
expect_out_file "$tmp/want"

run "get --explain --dropin" get --file app.yaml --dropin conf.d --explain server.port
expect_status 0
expect_no_err
cat >"$tmp/want" <<'EOF'
8081
  conf.d/10-port.yaml:2:9  value       8081
  app.yaml:3:9             overridden  8080
EOF
expect_out_file "$tmp/want"

export T_SERVER__HOST=10.0.0.1
run "get --explain --env-prefix" get --file app.yaml --dropin conf.d --env-prefix T_ \
    --explain server.host
expect_status 0
cat >"$tmp/want" <<'EOF'
10.0.0.1
  env T_SERVER__HOST  value       "10.0.0.1"
  app.yaml:2:9        overridden  "0.0.0.0"
EOF
expect_out_file "$tmp/want"

run "get --explain --json, three layers" get --file app.yaml --dropin conf.d --env-prefix T_ \
    --explain --json server
expect_status 0
expect_out '{"path":"server","value":{"host":"10.0.0.1","port":8081},"type":"map","origin":[{"layer":"file","name":"app.yaml","path":"server","line":2,"column":3,"role":"merged","value":{"host":"0.0.0.0","port":8080,"tls":{"enabled":true}}},{"layer":"dropin","name":"conf.d/10-port.yaml","path":"server","line":2,"column":3,"role":"merged","value":{"port":8081}},{"layer":"dropin","name":"conf.d/20-tls.yaml","path":"server","line":2,"column":3,"role":"merged","value":{"tls":null}},{"layer":"env","name":"environment","path":"server","line":0,"column":0,"role":"merged","value":{"host":"10.0.0.1"}}]}'

# SNAPCONF_ENV_PREFIX is --env-prefix's default; --env-prefix '' turns it off.
export SNAPCONF_ENV_PREFIX=T_
run "get with SNAPCONF_ENV_PREFIX" get --file app.yaml server.host
expect_status 0
expect_out 10.0.0.1
run "get --env-prefix ''" get --file app.yaml --env-prefix '' server.host
expect_status 0
expect_out 0.0.0.0
unset SNAPCONF_ENV_PREFIX T_SERVER__HOST

run "get --explain deleted by a drop-in" get --file app.yaml --dropin conf.d --explain \
    server.tls.enabled
expect_status 1
expect_no_out
expect_err_line 1 "snapconf: server.tls.enabled: no value at that path in app.yaml"
expect_err "^  conf.d/20-tls.yaml:2:8 (at server.tls)  deleted     null\$"
expect_err "^  app.yaml:5:14                           overridden  true\$"

run "get --explain --state-file" get --file app.yaml --state-file state.yaml --explain \
    feature.beta
expect_status 0
cat >"$tmp/want" <<'EOF'
true
  runtime override (set feature.beta)  value       true
  app.yaml:7:9                         overridden  false
EOF
expect_out_file "$tmp/want"

run "dump --dropin" dump --file app.yaml --dropin conf.d --format yaml
expect_status 0
cat >"$tmp/want" <<'EOF'
server:
  host: '0.0.0.0'
  port: 8081
feature:
  beta: false
EOF
expect_out_file "$tmp/want"

run "check --dropin" check --file app.yaml --dropin conf.d
expect_status 0
expect_out "app.yaml: OK"
run "check a broken drop-in" check --file app.yaml --dropin conf.d --dropin bad.d
expect_status 4
expect_no_out
expect_err "^bad.d/10-bad.yaml:[0-9][0-9]*:[0-9][0-9]*: "
run "check --json a broken drop-in" check --json app.yaml --dropin bad.d
expect_status 4
grep -q -F -e '"file":"bad.d/10-bad.yaml"' "$tmp/out" || fail "the error does not name the drop-in"
cd "$here_dir" || exit 1

# ---- paths (for shell completion) -------------------------------------------

run "paths --file" paths --file "$conf"
expect_status 0
expect_no_err
for want in service service.name server.tls.enabled 'upstreams[0]' 'upstreams[2].retries' \
    'labels."app.kubernetes.io/name"' labels.team 'logging.outputs[1]' motd; do
    grep -q -x -F -e "$want" "$tmp/out" || fail "no '$want' in the paths"
done
[ "$(sed -n 1p "$tmp/out")" = service ] || fail "paths do not start at the first key"
while IFS= read -r p; do
    "$bin" get --file "$conf" "$p" >/dev/null 2>&1 || fail "listed path '$p' has no value"
done <"$tmp/out"

run "paths of types.yaml" paths --file "$here/types.yaml"
expect_status 0
for want in keys.8080 'keys."a.b"' 'keys.""' keys.true 'others.nested[1][1][0]' \
    'anchors.merged.x'; do
    grep -q -x -F -e "$want" "$tmp/out" || fail "no '$want' in the paths"
done
grep -q -F -e 'ey"' "$tmp/out" && fail "a key with a NUL byte is listed"

complete_ok() {
    word=$1
    shift
    run "paths --complete '$word'" paths --file "$conf" --complete "$word"
    expect_status 0
    expect_no_err
    printf '%s\n' "$@" >"$tmp/want"
    cmp -s "$tmp/want" "$tmp/out" || fail "candidates differ:
$(diff "$tmp/want" "$tmp/out")"
}
complete_ok '' service. server. defaults. database. logging. features. upstreams[ labels. motd
complete_ok serv service. server.
complete_ok server.t server.tls.
complete_ok server.tls. server.tls.enabled server.tls.cert server.tls.key server.tls.min_version
complete_ok 'upstreams[' 'upstreams[0].' 'upstreams[1].' 'upstreams[2].'
complete_ok 'upstreams[1' 'upstreams[1].'
complete_ok 'upstreams[1].' 'upstreams[1].name' 'upstreams[1].url' 'upstreams[1].weight' \
    'upstreams[1].retries'
complete_ok 'labels.' 'labels."app.kubernetes.io/name"' 'labels."app.kubernetes.io/part-of"' \
    labels.team
complete_ok 'labels."app.kubernetes.io/p' 'labels."app.kubernetes.io/part-of"'
complete_ok 'logging.outputs[' 'logging.outputs[0]' 'logging.outputs[1]'
run "paths --complete under a missing key" paths --file "$conf" --complete nothing.x
expect_status 1
expect_no_out

# The commands that read a file do not load libcurl (curl_load.h): its
# thirty-odd libraries would cost more than the whole command.
name="get --file without libcurl"
cases=$((cases + 1))
LD_DEBUG=files "$bin" get --file "$conf" server.port >/dev/null 2>"$tmp/err"
if grep -q "file=libsnapconf" "$tmp/err"; then
    grep -q "file=libcurl" "$tmp/err" && fail "libcurl was loaded"
else
    echo "skipped: LD_DEBUG says nothing here" >&2
fi
name="get without --file loads libcurl"
cases=$((cases + 1))
LD_DEBUG=files "$bin" get server.port >/dev/null 2>"$tmp/err"
if grep -q "file=libsnapconf" "$tmp/err"; then
    grep -q "file=libcurl" "$tmp/err" || fail "libcurl was not loaded"
fi

name="write error"
cases=$((cases + 1))
if [ -w /dev/full ]; then
    "$bin" dump --file "$conf" >/dev/full 2>"$tmp/err"
    status=$?
    expect_status 5
    expect_err "cannot write output"
else
    fail "/dev/full is missing"
fi

echo "$cases cases, $failures failed"
[ "$failures" -eq 0 ]
