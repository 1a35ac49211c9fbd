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
# pause / cont / stop on a detached campaign: SIGSTOP, SIGCONT, then SIGTERM saves `last`
train --epochs 1 --out "$T/long" 2>> "$T/err" || bad "setup long run: $(cat "$T/err")"
python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); c["epochs"]=100000; json.dump(c, open(p,"w"))' "$T/long/config.json"
echo "$T/long" > "$T/llist"
LATENT=$LATENT CAMPAIGN_NICE=0 "$C" start "$T/llist" > "$T/start" 2>&1 || bad "start: $(cat "$T/start")"
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
for _ in $(seq 100); do [ -s "$T/long/campaign.pid" ] && [ "$(epochs "$T/long")" -ge 2 ] && break; sleep 0.1; done
pid=$(cat "$T/long/campaign.pid" 2>/dev/null)
if [ -z "$pid" ]; then
    bad "start: no campaign.pid after 10 s: $(cat "$T/start" "$T/llist.log" 2>&1)"
else
    LATENT=$LATENT "$C" pause "$T/llist" > /dev/null 2>&1
    sleep 0.3
    s1=$(state "$pid") n1=$(epochs "$T/long")
    sleep 0.5
    [ "$s1" = T ] && [ "$(epochs "$T/long")" = "$n1" ] && ok "pause: the run is stopped (state T) and makes no progress" || bad "pause: state '$s1'"
    LATENT=$LATENT "$C" status "$T/llist" | grep -q running && ok "status: a paused run shows as running" || bad "status while paused"
    LATENT=$LATENT "$C" cont "$T/llist" > /dev/null 2>&1
    sleep 0.3
    s2=$(state "$pid")
    for _ in $(seq 100); do [ "$(epochs "$T/long")" -gt "$n1" ] && break; sleep 0.1; done
    [ "$s2" != T ] && [ "$(epochs "$T/long")" -gt "$n1" ] && ok "cont: the run goes on" || bad "cont: state '$s2', epochs $(epochs "$T/long")"
    LATENT=$LATENT "$C" stop "$T/llist" > /dev/null 2>&1
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    for _ in $(seq 50); do [ -e "$T/long/campaign.pid" ] || break; sleep 0.1; done
    n2=$(epochs "$T/long")
    ! kill -0 "$pid" 2>/dev/null && [ ! -e "$T/long/campaign.pid" ] && grep -q "saved" "$T/long/campaign.log" &&
        ok "stop: the run saved and exited after $n2 epochs" || bad "stop: $(tail -3 "$T/long/campaign.log")"
    LATENT=$LATENT "$C" status "$T/llist" | grep -q waiting && ok "status: a stopped run is waiting" || bad "status after stop"
    echo "$T/long --epochs $((n2 + 1))" > "$T/llist2"
    LATENT=$LATENT CAMPAIGN_NICE=0 "$C" run "$T/llist2" > "$T/out2" 2>&1 && [ "$(epochs "$T/long")" = $((n2 + 1)) ] &&
        ok "the stopped run resumes to the list's --epochs $((n2 + 1))" || bad "resume after stop: $(cat "$T/out2")"
fi
lt_finish "campaign"
