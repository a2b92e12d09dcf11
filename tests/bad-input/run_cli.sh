#!/bin/sh
# The bad-input catalogue through the command-line tool.  Run by ctest as
# the test "bad_input_cli":
#
#   sh run_cli.sh SNAPCONF_BINARY BAD_INPUT_DIR WORK_DIR
#
# For every folder in BAD_INPUT_DIR/cases (README.md describes the layout)
# it makes the input (stored, generated or a special file), then runs
#   snapconf check FILE
#   snapconf check --json FILE
#   snapconf get --file FILE server.port
# and compares exit status, stdout and stderr exactly with the case's
# "expected" file.  For every file in BAD_INPUT_DIR/paths it runs
#   snapconf get --file GOOD PATH
# and compares the usage error.  Every run is bounded by `timeout 10`: a
# command that hangs (on a FIFO, say) fails its case instead of the suite.
#
# Prints one line per failed check and exits 1 if any failed.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 SNAPCONF_BINARY BAD_INPUT_DIR WORK_DIR" >&2
    exit 2
fi
bin=$1
src=$2
mkdir -p "$3" || exit 1
tmp=$(mktemp -d "$3/badin.XXXXXX") && tmp=$(cd "$tmp" && pwd) || exit 1
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
# The same words in every locale: the library's messages use strerror.
LC_ALL=C
export LC_ALL

command -v timeout >/dev/null 2>&1 || {
    echo "FAIL: timeout(1) is missing; it bounds every run of the tool" >&2
    exit 1
}

# Whatever the unreadable case's file holds, a valid configuration.
good_yaml='server:\n  host: example\n  port: 8080\n'

cases=0
failures=0
name=

fail() {
    echo "FAIL: $name: $*" >&2
    failures=$((failures + 1))
}

note() {
    echo "NOTE: $name: $*" >&2
}

# field FILE KEY: the value of the first "KEY: value" line of FILE.
field() {
    sed -n "s/^$2: //p" "$1" | sed -n 1p
}

# subst TEXT: TEXT with every @FILE@ replaced by $file.
subst() {
    s=$1
    out=
    while :; do
        case $s in
        *@FILE@*)
            out=$out${s%%@FILE@*}$file
            s=${s#*@FILE@}
            ;;
        *)
            printf '%s' "$out$s"
            return
            ;;
        esac
    done
}

# json_str TEXT: TEXT as the body of a JSON string (quotes and backslashes
# escaped; the messages hold no other character JSON escapes).
json_str() {
    printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

# run ARGS...: runs the tool under timeout 10; stdout in $tmp/out, stderr
# in $tmp/err, the exit status in $status.  $priv prefixes the command
# (the unreadable case as root).
run() {
    cases=$((cases + 1))
    # shellcheck disable=SC2086 # $priv is a list of words, or nothing
    timeout 10 $priv "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    if [ "$status" -eq 124 ]; then
        fail "'snapconf $*' did not finish within 10 s"
    fi
}

expect_status() {
    [ "$status" -eq "$1" ] || fail "$2: exit status $status, want $1; stderr: $(cat "$tmp/err")"
}

# expect_file WHICH TEXT WHAT: $tmp/WHICH holds exactly TEXT and a newline
# (nothing at all when TEXT is empty).
expect_file() {
    if [ -z "$2" ]; then
        [ ! -s "$tmp/$1" ] || fail "$3: unexpected $1: $(cat "$tmp/$1")"
        return
    fi
    printf '%s\n' "$2" >"$tmp/want"
    cmp -s "$tmp/want" "$tmp/$1" || fail "$3: $1 differs:
$(diff "$tmp/want" "$tmp/$1")"
}

# ---- making the inputs ------------------------------------------------------

# generate CASEDIR: writes $file from CASEDIR/generate, one instruction a
# line, in order:
#   text TEXT       TEXT once (printf escapes: \n, \\, \NNN octal)
#   repeat N TEXT   TEXT N times (the same escapes, no NUL)
#   size N          extend the file to N bytes (sparse: costs no disk)
generate() {
    : >"$file"
    while IFS= read -r line; do
        case $line in
        text\ *)
            text=${line#text }
            # shellcheck disable=SC2059 # the text is the format, % escaped
            printf "$(printf '%s' "$text" | sed 's/%/%%/g')" >>"$file"
            ;;
        repeat\ *)
            rest=${line#repeat }
            n=${rest%% *}
            awk -v n="$n" -v s="${rest#* }" \
                'BEGIN { for (i = 0; i < n; i++) printf "%s", s }' >>"$file"
            ;;
        size\ *)
            truncate -s "${line#size }" "$file"
            ;;
        *)
            fail "unknown instruction in generate: $line"
            ;;
        esac
    done <"$1/generate"
}

# special CASEDIR: makes $file the special file CASEDIR/special names.
special() {
    kind=$(cat "$1/special")
    case $kind in
    directory) mkdir "$file" ;;
    symlink-loop)
        ln -s "$file.loop" "$file"
        ln -s "$file" "$file.loop"
        ;;
    fifo) mkfifo "$file" ;;
    unreadable)
        # shellcheck disable=SC2059 # a constant with escapes
        printf "$good_yaml" >"$file"
        chmod 000 "$file"
        ;;
    missing) ;;
    *) fail "unknown special file '$kind'" ;;
    esac
}

# can_read PREFIX...: true when the command prefix can open $file.
can_read() {
    # shellcheck disable=SC2016 # $1 is the inner shell's
    "$@" sh -c 'exec 3<"$1"' sh "$file" 2>/dev/null
}

# For the unreadable case as root, whom permissions do not stop: run the
# tool without the capabilities that bypass them (still uid 0), or else
# as nobody.  When neither makes the file unreadable, say so; the case then
# asserts what does apply (root reads the file), never nothing.
unreadable_priv() {
    priv=
    root_reads=false
    [ "$(id -u)" -eq 0 ] || return 0
    if command -v setpriv >/dev/null 2>&1; then
        for p in "setpriv --bounding-set=-dac_override,-dac_read_search" \
            "setpriv --reuid=65534 --regid=65534 --clear-groups"; do
            # shellcheck disable=SC2086 # $p is a list of words
            if $p true 2>/dev/null && ! can_read $p && $p "$bin" --version >/dev/null 2>&1; then
                priv=$p
                note "running as root: the tool runs under '$p', for which mode 000 applies"
                return 0
            fi
        done
    fi
    root_reads=true
    note "running as root and cannot drop the privilege to read a mode-000 file here;" \
        "asserting instead that root reads it (check OK, get prints the value)"
}

# ---- the file cases ---------------------------------------------------------

for dir in "$src"/cases/*/; do
    dir=${dir%/}
    base=${dir##*/}
    name=$base
    exp=$dir/expected
    file=$tmp/$base.yaml
    priv=
    root_reads=false
    if [ ! -f "$exp" ]; then
        fail "no expected file"
        continue
    fi
    grep -q -F -e "- \`$base\` " "$src/README.md" || fail "not listed in README.md"
    if [ -f "$dir/input.yaml" ]; then
        cp "$dir/input.yaml" "$file"
    elif [ -f "$dir/generate" ]; then
        generate "$dir"
    elif [ -f "$dir/special" ]; then
        special "$dir"
        [ "$(cat "$dir/special")" = unreadable ] && unreadable_priv
    else
        fail "no input.yaml, generate or special file"
        continue
    fi

    code=$(field "$exp" code)
    if [ "$root_reads" = true ]; then
        # The behaviour that applies to root: the file is read.
        run check "$file"
        expect_status 0 check
        expect_file out "$file: OK" check
        run get --file "$file" server.port
        expect_status 0 get
        expect_file out 8080 get
        continue
    fi

    if [ "$code" = SNAPCONF_OK ]; then
        run check "$file"
        expect_status 0 check
        expect_file out "$file: OK" check
        expect_file err "" check
        run check --json "$file"
        expect_status 0 "check --json"
        expect_file out "{\"file\":\"$(json_str "$file")\",\"valid\":true}" "check --json"
        path=$(field "$exp" get)
        run get --file "$file" "$path"
        if grep -q '^value: ' "$exp"; then
            expect_status 0 "get $path"
            expect_file out "$(field "$exp" value)" "get $path"
            expect_file err "" "get $path"
        else
            expect_status 1 "get $path"
            expect_file out "" "get $path"
            expect_file err "snapconf: $path: no value at that path in $file" "get $path"
        fi
        continue
    fi

    message=$(subst "$(field "$exp" message)")
    line=$(field "$exp" line)
    column=$(field "$exp" column)
    want_exit=4
    [ "$code" = SNAPCONF_ENOMEM ] && want_exit=5
    case $message in
    "$file:$line:$column: "*) ;;
    "$file: "*)
        if [ "$line" -ne 0 ] || [ "$column" -ne 0 ]; then
            fail "expected: the message has no position but line/column are $line/$column"
        fi
        ;;
    *) fail "expected: the message does not start with '$file:$line:$column: '" ;;
    esac

    run check "$file"
    expect_status "$want_exit" check
    expect_file out "" check
    expect_file err "$message" check

    run check --json "$file"
    expect_status "$want_exit" "check --json"
    f=$(json_str "$file")
    expect_file out "{\"file\":\"$f\",\"valid\":false,\"error\":{\"code\":\"$code\",\"message\":\"$(json_str "$message")\",\"file\":\"$f\",\"line\":$line,\"column\":$column}}" "check --json"

    run get --file "$file" server.port
    expect_status "$want_exit" get
    expect_file out "" get
    expect_file err "$message" get
done

# ---- bad paths given to get -------------------------------------------------

good=$tmp/good.yaml
# shellcheck disable=SC2059 # a constant with escapes
printf "$good_yaml" >"$good"
priv=
for exp in "$src"/paths/*; do
    name=path/${exp##*/}
    grep -q -F -e "- \`${exp##*/}\`: " "$src/README.md" || fail "not listed in README.md"
    path=$(field "$exp" path)
    message=$(field "$exp" message)
    [ "$(field "$exp" code)" = SNAPCONF_EPATH ] || fail "expected: code is not SNAPCONF_EPATH"
    case $message in
    "invalid path '$path' at column $(field "$exp" column): "*) ;;
    *) fail "expected: the message does not name the path and its column" ;;
    esac
    printf 'snapconf get: %s\nTry '"'"'snapconf get --help'"'"'.\n' "$message" >"$tmp/want-usage"

    run get --file "$good" "$path"
    expect_status 2 "get"
    expect_file out "" "get"
    cmp -s "$tmp/want-usage" "$tmp/err" || fail "get: stderr differs:
$(diff "$tmp/want-usage" "$tmp/err")"

    # The path is checked before the file is read: a missing file changes
    # nothing.
    run get --file "$tmp/no-such-file.yaml" "$path"
    expect_status 2 "get, missing file"
    cmp -s "$tmp/want-usage" "$tmp/err" || fail "get, missing file: stderr differs:
$(diff "$tmp/want-usage" "$tmp/err")"
done

echo "$cases runs, $failures failed"
[ "$failures" -eq 0 ]
