#!/bin/bash
# `cpack -G DEB` from the build directory makes a .deb whose Depends name the Debian
# packages of the libraries it links (dpkg-shlibdeps); `dpkg -i` installs it; the
# installed latent runs, and so does a program built against it with `pkg-config --cflags
# --libs latent`; `dpkg -P` removes it again. Needs root and dpkg-deb/dpkg-shlibdeps (skips
# otherwise); never touches an existing install of latent (skips); runs take turns (flock).
set -euo pipefail
: "${LT_BUILD_DIR:?}" "${LT_SOURCE_DIR:?}"
. "$LT_SOURCE_DIR/tests/lib/python.sh"
[ "$(id -u)" = 0 ] || lt_skip "not root: dpkg -i needs root"
[ -z "${LT_SANITIZE:-}" ] || lt_skip "a sanitizer build is not packaged (make sanitize); test_install covers installing and linking it"
for t in dpkg dpkg-deb dpkg-shlibdeps cpack flock; do command -v $t >/dev/null || lt_skip "$t missing (dpkg-dev: scripts/deps.sh)"; done
[ -f "$LT_BUILD_DIR/CPackConfig.cmake" ] || { echo "FAIL: no CPackConfig.cmake in $LT_BUILD_DIR"; exit 1; }
lt_tmpdir deb
exec 9> /tmp/lt_test_deb.lock
flock 9
if dpkg-query -W -f='${Status}' latent 2>/dev/null | grep -q "ok installed"; then
    lt_skip "a latent package is installed already; not replacing it"
fi
for f in /usr/bin/latent /usr/lib/liblatent.so.0 /usr/include/latent/latent.h; do
    [ -e "$f" ] && lt_skip "$f exists (not from a package); not overwriting it"
done

cpack -G DEB -B "$T" --config "$LT_BUILD_DIR/CPackConfig.cmake" > "$T/cpack.log" 2>&1 ||
    { echo "FAIL: cpack:"; tail -20 "$T/cpack.log"; exit 1; }
deb=$(ls "$T"/latent_*.deb)
ok "cpack made $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
depends=$(dpkg-deb -f "$deb" Depends)
for p in libc6 libjansson4 zlib1g libgomp1 libfarmhash0 libopenblas0; do
    [[ ", $depends," == *", $p"[\ ,]* ]] && ok "Depends: $p" || bad "Depends lacks $p: $depends"
done
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/latent ./usr/lib/liblatent.so.0 ./usr/include/latent/latent.h ./usr/lib/pkgconfig/latent.pc \
         ./usr/share/man/man1/latent.1 ./usr/share/bash-completion/completions/latent; do
    grep -q " $f\( \|$\)" <<< "$contents" && ok "package has $f" || bad "package lacks $f"
done

installed=0
cleanup() {
    [ "$installed" = 1 ] && dpkg -P latent > /dev/null 2>&1 || true
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
# dpkg's own lock may be held by apt elsewhere for a moment: retry for up to a minute
# (the man page stays out of the system: man-db's trigger would re-index every page, ~8 s each way)
for i in $(seq 1 30); do
    if dpkg --path-exclude='/usr/share/man/*' -i "$deb" > "$T/dpkg.log" 2>&1; then installed=1; break; fi
    grep -qi "lock" "$T/dpkg.log" || break
    sleep 2
done
[ "$installed" = 1 ] && ok "dpkg -i" || { bad "dpkg -i: $(tail -5 "$T/dpkg.log")"; installed=1; lt_finish test_deb; }
v=$(/usr/bin/latent --version)
[[ $v == "latent $(dpkg-deb -f "$deb" Version) "* ]] && ok "/usr/bin/latent --version: $v" || bad "latent --version: '$v'"
# a program built against the system-wide install: headers, latent.pc and the loader find liblatent.so.0
san=()
[ -n "${LT_SANITIZE:-}" ] && san=(-fsanitize=address,undefined)
printf '#include <latent/latent.h>\n#include <stdio.h>\nint main(void) { puts(lt_version()); return 0; }\n' > "$T/v.c"
cc "${san[@]}" "$T/v.c" -o "$T/v" $(pkg-config --cflags --libs latent) 2> "$T/cc.err" && [ "$("$T/v")" = "$(dpkg-deb -f "$deb" Version)" ] &&
    ok "a program built with pkg-config --cflags --libs latent runs: lt_version() = $("$T/v")" ||
    bad "program against the package: $(head -3 "$T/cc.err")"
dpkg -P latent > "$T/dpkg.log" 2>&1 && installed=0 && ok "dpkg -P" || bad "dpkg -P: $(tail -3 "$T/dpkg.log")"
[ ! -e /usr/bin/latent ] && [ ! -e /usr/lib/liblatent.so.0 ] && ok "removed cleanly" || bad "files left after dpkg -r"
lt_finish test_deb
