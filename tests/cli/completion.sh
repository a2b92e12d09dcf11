#!/bin/bash
# Tests of the bash completion of snapconf (packaging/bash-completion/
# snapconf): sources it, sets COMP_LINE, COMP_POINT, COMP_WORDS and
# COMP_CWORD as bash does, calls _snapconf and checks COMPREPLY.  Run by
# ctest as the test "cli_completion":
#
#   bash completion.sh SNAPCONF_BINARY SOURCE_DIR WORK_DIR [SNAPCONFD]
#
# With SNAPCONFD, the paths are also completed from a daemon started on a
# temporary socket.  Prints one line per failed case and exits 1 if any
# failed.
set -u

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: $0 SNAPCONF_BINARY SOURCE_DIR WORK_DIR [SNAPCONFD]" >&2
    exit 2
fi
bin=$1
src=$2
conf=$src/conf/example.yaml
daemon=${4:-}
mkdir -p "$3" || exit 1
tmp=$(mktemp -d "$3/completion.XXXXXX") || exit 1
daemon_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# The completion runs "snapconf" as the command line names it: the binary
# under test must be the one found.
PATH=$(dirname "$bin"):$PATH
[ "$(basename "$bin")" = snapconf ] || {
    echo "the binary must be named snapconf, not $(basename "$bin")" >&2
    exit 2
}
export SNAPCONF_SOCKET=$tmp/none.sock
unset RUNTIME_DIRECTORY

# shellcheck source=../../packaging/bash-completion/snapconf
. "$src/packaging/bash-completion/snapconf" || exit 1
complete -p snapconf >/dev/null 2>&1 || {
    echo "the script does not register a completion for snapconf" >&2
    exit 1
}

cases=0
failures=0

# comp LINE [RLWORD]: completes at the end of LINE.  COMP_WORDS is split at
# blanks (quotes kept, as bash keeps them); RLWORD is the word readline
# replaces, bash's $2 (by default the last word, after an opening single
# quote if any).
comp() {
    COMP_LINE=$1
    COMP_POINT=${#COMP_LINE}
    read -r -a COMP_WORDS <<<"$COMP_LINE"
    [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    local cur=${COMP_WORDS[COMP_CWORD]}
    local rl=${2-${cur#\'}}
    COMPREPLY=()
    _snapconf snapconf "$rl" "${COMP_WORDS[COMP_CWORD - 1]}" 2>"$tmp/err"
}

fail() {
    echo "FAIL: $name: $*" >&2
    failures=$((failures + 1))
}

# expect LINE [--rl RLWORD] -- CANDIDATES...: COMPREPLY is exactly the
# candidates, in order, and the completion wrote nothing to stderr.
expect() {
    local line=$1 rl= have_rl=
    shift
    if [ "$1" = --rl ]; then
        rl=$2
        have_rl=1
        shift 2
    fi
    [ "$1" = -- ] && shift
    name="complete '$line'"
    cases=$((cases + 1))
    if [ -n "$have_rl" ]; then comp "$line" "$rl"; else comp "$line"; fi
    local want have
    want=$(printf '<%s>' "$@")
    have=$(printf '<%s>' "${COMPREPLY[@]}")
    [ "$want" = "$have" ] || fail "got $have, want $want"
    [ ! -s "$tmp/err" ] || fail "stderr: $(cat "$tmp/err")"
}

# ---- commands and options ---------------------------------------------------

expect 'snapconf ' -- get dump check status reload set unset revert overrides watch help
expect 'snapconf st' -- status
expect 'snapconf -' -- --socket --help --version
expect 'snapconf --socket /x ' -- get dump check status reload set unset revert overrides \
    watch help
expect 'snapconf --socket=/x rel' -- reload
expect 'snapconf help ' -- get dump check status reload set unset revert overrides watch help
expect 'snapconf get --' -- --file --socket --json --explain --dropin --env-prefix --state-file \
    --help
expect 'snapconf dump --f' -- --file --format
expect 'snapconf dump --format ' -- json yaml
expect 'snapconf dump --format=y' --rl y -- yaml
expect 'snapconf check --' -- --file --socket --json --dropin --env-prefix --state-file --help
expect 'snapconf get --e' -- --explain --env-prefix
expect 'snapconf set --' -- --socket --json --help
expect 'snapconf revert --' -- --socket --json --help
expect 'snapconf overrides --j' -- --json
expect 'snapconf get --env-prefix ' --
expect 'snapconf un' -- unset
expect 'snapconf status --' -- --socket --json --help
expect 'snapconf reload --j' -- --json
expect 'snapconf watch --' -- --socket --since --json --help
expect 'snapconf watch --since ' --
expect 'snapconf status ' --
expect 'snapconf reload ' --

# ---- paths from --file ------------------------------------------------------

F="--file $conf"
expect "snapconf get $F " -- service. server. defaults. database. logging. features. \
    'upstreams\[' labels. motd
expect "snapconf get $F serv" -- service. server.
expect "snapconf get $F server.tls.e" -- server.tls.enabled
expect "snapconf get $F server.tls." -- server.tls.enabled server.tls.cert server.tls.key \
    server.tls.min_version
expect "snapconf get $F ups" -- 'upstreams\['
expect "snapconf get $F upstreams\\[" -- 'upstreams\[0\].' 'upstreams\[1\].' 'upstreams\[2\].'
expect "snapconf get $F upstreams\\[1\\].n" -- 'upstreams\[1\].name'
expect "snapconf get $F 'upstreams[1].n" -- 'upstreams[1].name'
expect "snapconf get $F 'upstreams['1\\].n" --rl "'upstreams['1\\].n" -- 'upstreams\[1\].name'
expect "snapconf get $F labels." -- 'labels.\"app.kubernetes.io/name\"' \
    'labels.\"app.kubernetes.io/part-of\"' labels.team
expect "snapconf get $F labels.\\\"app.kubernetes.io/n" -- 'labels.\"app.kubernetes.io/name\"'
expect "snapconf get $F 'labels.\"app.kubernetes.io/n" -- 'labels."app.kubernetes.io/name"'
# An unescaped double quote opens a shell quote: nothing sensible to offer.
expect "snapconf get $F labels.\"app" --rl app --
expect "snapconf get -f$conf server.p" -- server.port
expect "snapconf get --file=$conf server.p" -- server.port
expect "snapconf get server.p $F" --
expect "snapconf watch $F logging.l" -- logging.level
# The values of the layer options are not operands.
expect "snapconf get $F --dropin /nonexistent --env-prefix APP_ server.p" -- server.port
expect "snapconf get $F --state-file /nonexistent.yaml --explain server.p" -- server.port
expect "snapconf get $F nothing." --
expect "snapconf get --file $tmp/missing.yaml serv" --

# Keys the shell would split or expand: escaped, except ':' and '=' which
# readline breaks words at.
cat >"$tmp/odd.yaml" <<'EOF'
"host:port": 1
"a b": 2
"it's": 3
"$HOME": 4
"k=v": 5
EOF
O="--file $tmp/odd.yaml"
expect "snapconf get $O ho" -- host:port
expect "snapconf get $O host:p" --rl p -- port
expect "snapconf get $O a" -- 'a\ b'
expect "snapconf get $O i" -- "it\\'s"
expect "snapconf get $O 'i" --
expect "snapconf get $O \\\$" -- '\$HOME'
expect "snapconf get $O k=" --rl '' -- v

# ---- paths from the daemon --------------------------------------------------

# No daemon: nothing offered, nothing printed.
expect 'snapconf get serv' --
expect "snapconf --socket $tmp/none2.sock get serv" --
expect "snapconf get --socket $tmp/none2.sock serv" --

if [ -n "$daemon" ]; then
    sock=$tmp/d.sock
    cp "$conf" "$tmp/live.yaml"
    "$daemon" --config "$tmp/live.yaml" --socket "$sock" --foreground \
        >"$tmp/daemon.log" 2>&1 &
    daemon_pid=$!
    for _ in $(seq 100); do
        [ -S "$sock" ] && break
        sleep 0.05
    done
    expect "snapconf --socket $sock get serv" -- service. server.
    expect "snapconf get --socket $sock upstreams\\[2\\].w" -- 'upstreams\[2\].weight'
    SNAPCONF_SOCKET=$sock expect 'snapconf watch labels.t' -- labels.team
    # set completes its PATH, not its VALUE; unset, revert and overrides
    # their PATH.
    expect "snapconf set --socket $sock server.p" -- server.port
    expect "snapconf set --socket $sock server.port 80" --
    expect "snapconf unset --socket $sock server.tls.e" -- server.tls.enabled
    expect "snapconf revert --socket $sock motd" -- motd
    expect "snapconf overrides --socket $sock serv" -- service. server.
    # --file wins over the daemon, as in the command itself.
    expect "snapconf get --socket $sock --file $tmp/odd.yaml ho" -- host:port
fi

echo "$cases cases, $failures failed"
[ "$failures" -eq 0 ]
