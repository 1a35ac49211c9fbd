#!/bin/bash
# scripts/campaign.sh: resumes each unfinished run of a list (with the list's flags) at low
# priority until done, leaves finished runs alone, reports status, and refuses a bad list
# with exit 2 naming the file and line.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
command -v python3 > /dev/null || { echo "SKIP: python3 needed to write test data"; exit 77; }
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
lt_tmpdir test_campaign
C=$LT_SOURCE_DIR/scripts/campaign.sh
python3 "$LT_SOURCE_DIR/tests/py/write_idx.py" "$T/d" 100 20 20 8
train() { "$LATENT" train --model made --data "$T/d" --hidden 8 --batch 50 --samples 0 --threads 1 --quiet "$@"; }
train --epochs 1 --out "$T/a" 2> "$T/err" && train --epochs 1 --out "$T/b" 2>> "$T/err" &&
    train --epochs 2 --out "$T/c" 2>> "$T/err" || bad "setup runs: $(cat "$T/err")"
# a was configured for 2 epochs and stopped after 1 (as if a session ended); c is done
python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); c["epochs"]=2; json.dump(c, open(p,"w"))' "$T/a/config.json"
cp "$T/c/checkpoints/last.safetensors" "$T/c.last"
printf '# runs to finish\n%s\n%s --epochs 3 --valid-every 3   # longer, validated at the end\n\n%s\n' "$T/a" "$T/b" "$T/c" > "$T/list"
LATENT=$LATENT CAMPAIGN_NICE=0 "$C" run "$T/list" -j 2 > "$T/out" 2>&1
rc=$?
epochs() { wc -l < "$1/metrics.jsonl"; }
[ $rc = 0 ] && [ "$(epochs "$T/a")" = 2 ] && [ "$(epochs "$T/b")" = 3 ] && [ "$(epochs "$T/c")" = 2 ] &&
    ok "run: a resumed to its configured 2 epochs, b to the list's --epochs 3, c untouched" ||
    bad "run: exit $rc, epochs $(epochs "$T/a") $(epochs "$T/b") $(epochs "$T/c"): $(cat "$T/out")"
grep -q '"valid_every": 3' "$T/b/config.json" && python3 - "$T/b" <<'PY' && ok "the list's flags reach the resume (--valid-every 3)" || bad "flags: $(cat "$T/b/config.json")"
import json, sys
m = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
assert m[1]["valid_nll"] is None and m[2]["valid_nll"] is not None, m
PY
cmp -s "$T/c.last" "$T/c/checkpoints/last.safetensors" && ok "a finished run is left alone" || bad "c was trained again"
LATENT=$LATENT "$C" status "$T/list" > "$T/st" 2>&1
[ "$(grep -c finished "$T/st")" = 3 ] && grep -q "b: epoch 3/3" "$T/st" && grep -q "a: epoch 2/2" "$T/st" && ok "status: $(tr '\n' ';' < "$T/st" | head -c 200)" ||
    bad "status: $(cat "$T/st")"
printf '%s\n%s/nope --epochs 2\n' "$T/a" "$T" > "$T/bad"
"$C" run "$T/bad" > /dev/null 2> "$T/err"
rc=$?
[ $rc = 2 ] && grep -q "$T/bad line 2: .*nope' is not a run directory" "$T/err" && ok "bad list: exit 2, $(cat "$T/err")" ||
    bad "bad list: exit $rc $(cat "$T/err")"
"$C" run "$T/list" -j 0 > /dev/null 2>&1
[ $? = 2 ] && ok "-j 0: exit 2" || bad "-j 0 accepted"
lt_finish "campaign"
