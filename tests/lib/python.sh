# Shared prologue of the shell tests (Python lookup, temp directory, check tally), sourced
# (never run): tests/*.sh are globbed as ctest tests, so this lives in tests/lib/. Exit 77
# is ctest's "skipped" (CMakeLists.txt).

# lt_skip MESSAGE: say why the test cannot run here, then skip it.
lt_skip() {
    echo "SKIP: $1"
    exit 77
}

# lt_python_or_skip MESSAGE MODULE...: PY := the first of python3 (PATH) and Debian's
# /usr/bin/python3 that imports every MODULE; none does: lt_skip MESSAGE.
lt_python_or_skip() {
    local msg=$1 p mods
    shift
    mods=$(IFS=,; echo "$*")
    PY=""
    for p in python3 /usr/bin/python3; do
        if command -v "$p" > /dev/null 2>&1 && "$p" -c "import $mods" > /dev/null 2>&1; then
            PY=$p
            return 0
        fi
    done
    lt_skip "$msg"
}

# lt_tool NAME: TOOL := the test helper $LT_BUILD_DIR/NAME; not built is a failure, not a skip.
lt_tool() {
    TOOL="${LT_BUILD_DIR:?LT_BUILD_DIR not set}/$1"
    [ -x "$TOOL" ] || { echo "missing $TOOL (build the project first)" >&2; exit 1; }
}

# lt_tmpdir NAME: T := a fresh directory /tmp/lt_NAME.*, removed on exit unless KEEP_TMP is set.
lt_tmpdir() {
    T=$(mktemp -d "/tmp/lt_$1.XXXXXX")
    trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"' EXIT
}

# ok / bad WHAT: one check's line; bad counts it. lt_finish NAME: exit 1 if any check failed.
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
# lt_expect2 WHAT CMD...: CMD must exit 2 with a "latent" message on stderr (kept in $T/err)
lt_expect2() {
    local what=$1; shift
    "$@" > /dev/null 2> "$T/err"
    local rc=$?
    [ $rc = 2 ] && grep -q "latent" "$T/err" && ok "$what: exit 2, $(head -c 160 "$T/err" | tr '\n' ' ')" ||
        bad "$what: exit $rc, $(head -c 300 "$T/err")"
}
lt_finish() {
    [ "$fails" = 0 ] || { echo "$fails failures"; exit 1; }
    echo "$1: ok"
}
