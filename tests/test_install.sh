#!/bin/bash
# `cmake --install` into a temporary prefix, then use it the way a C user would, with
# nothing from the source tree but examples/*.c: the layout (program, liblatent.so.0 with
# its soname, liblatent.a, headers, latent.pc, man page, completion); liblatent.so exports
# exactly the LT_API functions of the installed headers; the headers compile alone as C
# and C++; both examples build with `pkg-config --cflags --libs latent` and run: one
# trains a MADE from TFRecord files through a feature spec (its test NLL must equal
# `latent eval`'s on the same run), the other samples a grid (byte-equal to `latent
# sample`'s PNG with the same seed), also linked statically with `pkg-config --static`.
# Under LT_SANITIZE (make sanitize) the examples are compiled with the library's sanitizers.
set -euo pipefail
: "${LT_BUILD_DIR:?}" "${LT_SOURCE_DIR:?}"
. "$LT_SOURCE_DIR/tests/lib/python.sh"
command -v pkg-config >/dev/null || lt_skip "pkg-config missing"
command -v python3 >/dev/null || lt_skip "python3 missing"
lt_tmpdir install
P=$T/prefix
cmake --install "$LT_BUILD_DIR" --prefix "$P" >/dev/null
export PKG_CONFIG_PATH=$P/lib/pkgconfig
san=()
[ -n "${LT_SANITIZE:-}" ] && san=(-fsanitize=address,undefined -fno-omit-frame-pointer)
cd "$T"

# -- layout
for f in bin/latent lib/liblatent.so.0 lib/liblatent.a include/latent/latent.h lib/pkgconfig/latent.pc \
         share/man/man1/latent.1 share/bash-completion/completions/latent; do
    [ -f "$P/$f" ] && ok "installed $f" || bad "not installed: $f"
done
[ "$(readlink "$P/lib/liblatent.so")" = liblatent.so.0 ] && ok "liblatent.so -> liblatent.so.0" ||
    bad "liblatent.so should link to liblatent.so.0, links to '$(readlink "$P/lib/liblatent.so")'"
soname=$(readelf -d "$P/lib/liblatent.so.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = liblatent.so.0 ] && ok "soname $soname" || bad "soname '$soname', expected liblatent.so.0"
"$P/bin/latent" --version | grep -q "^latent $(pkg-config --modversion latent) " && ok "latent --version matches latent.pc" ||
    bad "latent --version: '$("$P/bin/latent" --version)', latent.pc says $(pkg-config --modversion latent)"
cmp -s "$P/share/man/man1/latent.1" "$LT_BUILD_DIR/latent.1" && ok "man page installed" || bad "installed latent.1 differs"

# -- exported symbols: exactly the LT_API functions the installed headers declare
nm -D --defined-only "$P/lib/liblatent.so.0" | awk '$2 != "A" {sub(/@.*/, "", $3); print $3}' | sort > exported
sed -n 's/^LT_API .*[ *]\(lt_[a-z0-9_]*\)(.*/\1/p' "$P"/include/latent/*.h | sort > declared
leaked=$(comm -23 exported declared | head -5 | tr '\n' ' ')
missing=$(comm -13 exported declared | tr '\n' ' ')
[ -z "$leaked" ] && [ -z "$missing" ] && [ "$(wc -l < declared)" -ge 15 ] &&
    ok "liblatent.so exports exactly the $(wc -l < declared) LT_API functions" ||
    bad "exports: not declared: '$leaked' ($(comm -23 exported declared | wc -l) in all); declared, not exported: '$missing'"

# -- the headers alone, strict C and C++
printf '#include <latent/latent.h>\nint main(void) { return lt_version()[0] == 0; }\n' > h.c
cc -std=c99 -pedantic -Wall -Wextra -Werror "${san[@]}" h.c $(pkg-config --cflags --libs latent) -Wl,-rpath,"$P/lib" -o h_c &&
    ./h_c && ok "latent.h: C99 -pedantic, links and runs" || bad "latent.h as C99"
cp h.c h.cc
c++ -std=c++11 -pedantic -Wall -Wextra -Werror "${san[@]}" h.cc $(pkg-config --cflags --libs latent) -Wl,-rpath,"$P/lib" -o h_cc &&
    ./h_cc && ok "latent.h: C++11" || bad "latent.h as C++"

# -- the examples, against the prefix only
for ex in sample_grid train_tfrecord; do
    cc -std=c11 -Wall -Wextra -Werror "${san[@]}" "$LT_SOURCE_DIR/examples/$ex.c" -o "$ex" \
        $(pkg-config --cflags --libs latent) -Wl,-rpath,"$P/lib" 2> cc.err && ok "examples/$ex.c builds" ||
        { bad "examples/$ex.c: $(head -3 cc.err)"; continue; }
done
[ -x sample_grid ] && [ -x train_tfrecord ] || { lt_finish test_install; }
# ldd's whole output first: `ldd | grep -q` under pipefail fails when grep exits before ldd has written it all
libs=$(ldd ./sample_grid)
grep -q "liblatent.so.0 => $P/lib/" <<< "$libs" && ok "sample_grid runs on the installed liblatent.so.0" ||
    bad "sample_grid does not load $P/lib/liblatent.so.0: $(grep latent <<< "$libs")"

# synthetic binary 12x10 images (bars by class), 300/100/100, converted to TFRecord by the installed CLI
mkdir syn
python3 - syn <<'PY'
import gzip, random, struct, sys
random.seed(5)
for split, n in (("train", 300), ("valid", 100), ("test", 100)):
    ys = [random.randrange(4) for _ in range(n)]
    px = bytearray(1 if random.random() < (0.85 if (k % 10) // 3 == y else 0.1) else 0 for y in ys for k in range(120))
    with gzip.open("%s/%s-images-idx3-ubyte.gz" % (sys.argv[1], split), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 12, 10) + bytes(px))
PY
"$P/bin/latent" tfrecord convert --from syn --to syn/tf --shards 2 2>/dev/null
echo '{"columns": [{"type": "numeric_column", "key": "image/raw", "shape": [12, 10], "decode_raw": "uint8"}]}' > spec.json

if ./train_tfrecord run "tfrecord:$T/syn/tf" "$T/spec.json" 3 > train.out 2> train.err; then
    ok "train_tfrecord: $(grep -c '^epoch' train.out) epochs, $(tail -1 train.out)"
    nll=$(sed -n 's/^test NLL \([0-9.]*\) nats.*/\1/p' train.out)
    cli=$("$P/bin/latent" eval run --split test --json | python3 -c 'import json,sys; print("%.6f" % json.load(sys.stdin)["nll_nats"])')
    [ -n "$nll" ] && [ "$nll" = "$cli" ] && ok "its test NLL $nll = latent eval's" || bad "test NLL '$nll', latent eval says $cli"
    awk -v n="$nll" 'BEGIN { exit !(n != "" && n < 0.8 * 120 * log(2)) }' &&
        ok "the model learned (NLL $nll < 80% of a uniform model's 83.18)" ||
        bad "test NLL $nll not below 80% of a uniform model's 83.18"
else
    bad "train_tfrecord failed: $(cat train.err)"
fi

if [ -f run/checkpoints/best.safetensors ]; then
    ./sample_grid run a.png 12 5 > /dev/null && "$P/bin/latent" sample run -n 12 --seed 5 -o b.png 2>/dev/null &&
        cmp -s a.png b.png && ok "sample_grid's PNG = latent sample's (12 samples, seed 5)" ||
        bad "sample_grid and latent sample differ (or failed)"
    # the same program linked statically against liblatent.a through latent.pc's private libs
    cc -std=c11 "${san[@]}" "$LT_SOURCE_DIR/examples/sample_grid.c" -o sample_static $(pkg-config --cflags latent) \
        "$P/lib/liblatent.a" $(pkg-config --static --libs latent | sed 's/ -llatent / /') 2> cc.err &&
        ! ldd ./sample_static | grep -q liblatent && ./sample_static run c.png 12 5 > /dev/null && cmp -s a.png c.png &&
        ok "sample_grid linked with liblatent.a (pkg-config --static): same PNG" ||
        bad "static sample_grid: $(head -3 cc.err)"
fi
# errors come back as a status and a message; the library prints nothing itself
set +e
./sample_grid "$T/no-such-run" x.png > out 2> err
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "no-such-run" err && [ ! -s out ] && [ "$(wc -l < err)" = 1 ] &&
    ok "a missing run: exit 1, $(cat err)" || bad "missing run: rc $rc, stderr '$(cat err)', stdout '$(cat out)'"
lt_finish test_install
