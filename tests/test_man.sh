#!/bin/bash
# The man page (generated at build time from the commands' --help by scripts/man.sh) and
# the bash completion stay in step with the program: latent.1 has a section for every
# command `latent --help` lists and every flag each command's --help names; it renders
# without groff warnings; completion offers the commands, a command's flags and a
# flag's choices, as the program prints them now.
set -euo pipefail
: "${LT_BUILD_DIR:?}" "${LT_SOURCE_DIR:?}" "${LATENT:?}"
. "$LT_SOURCE_DIR/tests/lib/python.sh"
page=$LT_BUILD_DIR/latent.1
[ -f "$page" ] || { echo "FAIL: $page not built"; exit 1; }
cmds=$("$LATENT" --help | awk '/^commands:/ {f = 1; next} f && /^  [a-z]/ {print $1} f && /^$/ {f = 0}')
[ "$(echo "$cmds" | wc -w)" -ge 5 ] && ok "latent --help lists $(echo $cmds | wc -w) commands" || bad "commands: '$cmds'"
for c in $cmds; do
    grep -qx "\.SS $c" "$page" || { bad "latent.1 has no section for '$c'"; continue; }
    missing=""
    for f in $("$LATENT" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        grep -qF -- "${f//-/\\-}" "$page" || missing="$missing $f"
    done
    [ -z "$missing" ] && ok "latent.1: $c and its flags" || bad "latent.1 lacks $c's flags:$missing"
done
if command -v groff >/dev/null; then
    warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    [ -z "$warn" ] && ok "groff renders latent.1 without warnings" || bad "groff: $warn"
fi

# bash completion, as bash-completion would call it
comp() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    _latent
    echo "${COMPREPLY[*]}"
}
. "$LT_SOURCE_DIR/scripts/completion/latent.bash"
PATH=$(dirname "$LATENT"):$PATH
got=$(comp latent "")
[ "$got" = "$(echo $cmds) --help --version" ] && ok "completion: every command" || bad "completion of commands: '$got'"
check() { # WANT WORDS...: the completion of WORDS is WANT
    local want=$1 got
    shift
    got=$(comp "$@")
    [ "$got" = "$want" ] && ok "completion: $* -> $want" || bad "completion: $* -> '$got', expected '$want'"
}
check train latent tr
check --epochs latent train --ep
check "--binarize" latent train --bin
check stochastic latent train --binarize st
check "valid test" latent eval --split ""
check "gzip" latent tfrecord convert --compression g
lt_finish test_man
