#!/bin/bash
# latent report: two tiny runs (one evaluated on test), the HTML page opened in
# headless Chromium: the screenshot is not blank, the DOM holds one table row per
# run with the right test NLL cell, one curve per run in every chart, the sample
# grids inlined; the page fetches nothing; a bad run directory exits 2.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "SKIP: the report test needs Debian's chromium (scripts/deps.sh test, or apt-get install chromium)"
    exit 77
fi
PY=/usr/bin/python3
SRC=$LT_SOURCE_DIR/tests/py
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
lt_tmpdir test_report

$PY "$SRC/write_idx.py" "$T/d" 200 60 60 8
"$LATENT" train --model made --data "$T/d" --hidden 16 --epochs 3 --batch 50 --lr 0.01 --samples 16 --limit 150 \
    --threads 1 --quiet --out "$T/made-h16" || bad "train made"
"$LATENT" train --model fvsbn --data "$T/d" --epochs 2 --batch 50 --lr 0.01 --samples 9 --limit 150 \
    --threads 1 --quiet --out "$T/fvsbn" || bad "train fvsbn"
"$LATENT" eval "$T/made-h16" --split test --threads 1 > /dev/null || bad "eval made"
[ -f "$T/made-h16/eval.json" ] && ok "eval records eval.json" || bad "eval did not write eval.json"
test_nll=$($PY -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["test"]["nll_nats"])' "$T/made-h16/eval.json")

"$LATENT" report "$T/made-h16" "$T/fvsbn/" -o "$T/report.html" 2> "$T/err" && ok "report written" || { bad "report: $(cat "$T/err")"; }
H=$T/report.html
[ -s "$H" ] && [ ! -e "$H.tmp" ] || bad "report.html missing or temp file left"
grep -qiE '<script|(src|href)="(https?:)?//' "$H" && bad "the page loads something or runs scripts" || ok "self-contained (no scripts, no remote URLs)"
[ "$(grep -o 'src="data:image/png;base64,' "$H" | wc -l)" = 2 ] && ok "two inlined sample grids" || bad "expected 2 inlined PNGs"

# bad input
"$LATENT" report "$T/nope" -o "$T/r2.html" 2> "$T/err"; rc=$?
{ [ $rc = 2 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q "nope" "$T/err" && [ ! -e "$T/r2.html" ]; } &&
    ok "missing run: exit 2 ($(cat "$T/err"))" || bad "missing run: exit $rc, $(cat "$T/err")"
mkdir "$T/empty"
"$LATENT" report "$T/made-h16" "$T/empty" -o "$T/r2.html" 2> "$T/err"; rc=$?
{ [ $rc = 2 ] && grep -q "config.json" "$T/err"; } && ok "not a run: exit 2" || bad "not a run: exit $rc, $(cat "$T/err")"
"$LATENT" report "$T/made-h16" 2> /dev/null; rc=$?
[ $rc = 2 ] && ok "no -o: exit 2" || bad "no -o: exit $rc"

# headless Chromium: the screenshot and the DOM
chrome() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
        --user-data-dir="$(mktemp -d "$T/profile.XXXXXX")" "$@" 2>> "$T/chrome.log"
}
chrome --screenshot="$T/shot.png" --window-size=1200,900 "file://$H" > /dev/null
if [ -s "$T/shot.png" ]; then
    read -r w h colours frac < <($PY "$SRC/png_stats.py" "$T/shot.png")
    echo "     screenshot ${w}x${h}: $colours colours, non-white fraction $frac"
    $PY -c "import sys; sys.exit(0 if $colours >= 20 and $frac >= 0.02 else 1)" && ok "screenshot is not blank" ||
        bad "screenshot looks blank"
else
    bad "no screenshot (chromium log: $(tail -3 "$T/chrome.log"))"
fi
chrome --dump-dom "file://$H" > "$T/dom.html"
$PY - "$T/dom.html" "$test_nll" <<'PYEOF' && ok "DOM: table rows, curves, samples" || bad "DOM checks"
import re, sys
dom, test_nll = open(sys.argv[1]).read(), sys.argv[2]
rows = re.findall(r'<tr class="run" id="run-(\d)">(.*?)</tr>', dom, re.S)
assert [r[0] for r in rows] == ["0", "1"], f"rows {rows}"
cells = [re.findall(r"<td[^>]*>(.*?)</td>", r[1], re.S) for r in rows]
assert "made-h16" in cells[0][0] and cells[0][1] == "made" and "hidden=[16]" in cells[0][2], cells[0]
assert "fvsbn" in cells[1][0] and cells[1][1] == "fvsbn", cells[1]
assert cells[0][6] == "3 / 3" and cells[1][6] == "2 / 2", (cells[0][6], cells[1][6])
assert cells[0][9].startswith(test_nll), (cells[0][9], test_nll)
assert cells[1][9] == "not evaluated", cells[1][9]
charts = re.findall(r'<figure class="chart" id="chart-\d">(.*?)</figure>', dom, re.S)
assert len(charts) == 3, len(charts)
for c in charts:
    assert c.count("<polyline") == 2 and c.count("<circle") == 5, (c.count("<polyline"), c.count("<circle"))
    assert c.count('class="tick"') >= 6 and ">epoch<" in c, "axes"
    assert "made-h16" in c and "fvsbn" in c, "legend"
print("     DOM:", len(rows), "rows,", len(charts), "charts")
PYEOF
lt_finish "report"
