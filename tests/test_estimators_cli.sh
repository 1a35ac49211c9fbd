#!/bin/bash
# latent estimators end to end: the toy tables (the score-function rows unbiased,
# straight-through flagged biased on the Bernoulli toy), the PNG plot, --run on a
# tiny trained gsvae (a third table against the local-expectation reference), and
# exit 2 for a run without discrete latents or bad flags.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
command -v python3 > /dev/null || { echo "SKIP: python3 needed to write test data"; exit 77; }
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
lt_tmpdir test_estimators
python3 "$LT_SOURCE_DIR/tests/py/write_idx.py" "$T/d" 200 50 50 8

row() { # row TABLE-NUMBER ESTIMATOR: that estimator's line in the n-th table of $T/out
    awk -v t="$1" -v e="$2" '/draws each\)$/ {n++} n == t && $1 == e {print; exit}' "$T/out"
}
"$LATENT" estimators --draws 20000 --seed 3 -o "$T/plot.png" > "$T/out" 2> "$T/err"
rc=$?
[ $rc = 0 ] && ok "toys: exit 0" || bad "toys: exit $rc $(cat "$T/err")"
for t in 1 2; do
    for e in score score-ma st gumbel st-gumbel; do
        [ -n "$(row $t $e)" ] || bad "table $t has no $e row"
    done
    for e in score score-ma; do
        row $t $e | grep -q biased && bad "table $t: $e flagged biased: $(row $t $e)"
    done
done
row 1 st | grep -q biased && ok "straight-through is biased on the Bernoulli toy" || bad "st row: $(row 1 st)"
plot_rows() { # plot_rows PNG N: a legend of 1 or 2 14-pixel lines (+ 10 + 4), then N rows of two
    # text lines and 160-pixel panels, 10 apart, in the grid's 1-pixel border
    python3 - "$1" "$2" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
w, h = struct.unpack(">II", b[16:24])
legend = h - 2 - 14 - int(sys.argv[2]) * (2 * 14 + 160 + 10)
sys.exit(0 if b[:8] == b"\x89PNG\r\n\x1a\n" and legend in (14, 28) and w > 300 else 1)
PY
}
plot_rows "$T/plot.png" 2 && ok "plot: 2 rows of panels" || bad "plot size"

"$LATENT" train --model gsvae --data "$T/d" --hidden 32 --latent 4 --classes 3 --epochs 2 --batch 50 --samples 0 \
    --anneal-rate 0.05 --anneal-every 1 --threads 1 --quiet --out "$T/gs" 2> "$T/err" || bad "gsvae training: $(cat "$T/err")"
"$LATENT" estimators --run "$T/gs" --checkpoint last --draws 3000 --ref-draws 300 --examples 4 -o "$T/plot3.png" > "$T/out" 2> "$T/err"
rc=$?
[ $rc = 0 ] && grep -q "^run .*4 test images, 48 numbers" "$T/out" && grep -q "reference (300 local-expectation draws)" "$T/out" &&
    plot_rows "$T/plot3.png" 3 && ok "--run: a third table over 4 x 12 logits, a third plot row" || bad "--run: exit $rc $(cat "$T/err") $(cat "$T/out")"
for e in score score-ma st gumbel st-gumbel; do
    [ -n "$(row 3 $e)" ] || bad "run table has no $e row"
done
for e in score score-ma; do
    row 3 $e | grep -q biased && bad "run table: $e flagged biased against the reference: $(row 3 $e)"
done
grep -q "tau 0.705 for" "$T/out" && ok "--run: the checkpoint's temperature (exp(-0.05 * 7), its last step's)" ||
    bad "--run temperature: $(grep '^run' "$T/out")"

"$LATENT" train --model made --data "$T/d" --hidden 16 --epochs 1 --batch 50 --samples 0 --threads 1 --quiet \
    --out "$T/made" 2> /dev/null
for args in "--run $T/made" "--run $T/nothing" "--tau -1" "--run $T/gs --checkpoint newest" "--run $T/gs --split x" \
    "--examples 0"; do
    "$LATENT" estimators --draws 100 $args > /dev/null 2> "$T/err"
    rc=$?
    [ $rc = 2 ] && [ "$(wc -l < "$T/err")" = 1 ] && ok "$args: exit 2 ($(head -c 150 "$T/err"))" ||
        bad "$args: exit $rc, $(cat "$T/err")"
done
lt_finish "estimators"
