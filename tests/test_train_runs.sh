#!/bin/bash
# Run-directory behaviour of latent train: a NaN/Inf loss stops the run with a
# message naming the step and leaves the last good checkpoints untouched; --quiet
# prints nothing on success; --keep and --log-every reject bad values (exit 2); --keep N
# keeps the N newest periodic checkpoints plus the best epoch's when that is older;
# --select neg_elbo picks the best epoch by the validation bound.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
command -v python3 > /dev/null || { echo "SKIP: python3 needed to write test data"; exit 77; }
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
lt_tmpdir test_train_runs
python3 "$LT_SOURCE_DIR/tests/py/write_idx.py" "$T/d" 200 50 50 8
R=$T/run

"$LATENT" train --model made --data "$T/d" --hidden 16 --epochs 1 --batch 50 --lr 0.01 --samples 4 --threads 1 \
    --quiet --out "$R" > "$T/out" 2> "$T/err"
rc=$?
[ $rc = 0 ] && [ ! -s "$T/out" ] && [ ! -s "$T/err" ] && ok "--quiet: nothing on stdout or stderr" ||
    bad "--quiet: exit $rc, stderr: $(head -c 300 "$T/err")"

# A learning rate of 1e30 makes the next epoch's loss non-finite.
cp "$R/checkpoints/last.safetensors" "$T/last.before"
cp "$R/checkpoints/best.safetensors" "$T/best.before"
python3 - "$R/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["lr"] = 1e30
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
"$LATENT" train --resume "$R" --epochs 3 --threads 1 > /dev/null 2> "$T/err"
rc=$?
msg=$(grep "latent:" "$T/err")
{ [ $rc = 1 ] && echo "$msg" | grep -Eq "loss is -?(nan|inf) at step [0-9]+ \(epoch 2, batch [0-9]+\)" &&
  echo "$msg" | grep -q "epoch 1) is kept"; } && ok "NaN/Inf loss: exit 1, $msg" || bad "NaN/Inf loss: exit $rc, $(cat "$T/err")"
cmp -s "$T/last.before" "$R/checkpoints/last.safetensors" && cmp -s "$T/best.before" "$R/checkpoints/best.safetensors" &&
    ok "last and best checkpoints are the epoch-1 ones" || bad "a checkpoint changed after the non-finite loss"
[ "$(wc -l < "$R/metrics.jsonl")" = 1 ] && ok "metrics.jsonl still has one epoch" || bad "metrics.jsonl: $(cat "$R/metrics.jsonl")"

for args in "--keep 0" "--keep x" "--keep -3" "--log-every 0" "--log-every many"; do
    "$LATENT" train --model made --data "$T/d" --out "$T/r2" $args > /dev/null 2> "$T/err"
    rc=$?
    [ $rc = 2 ] && [ ! -e "$T/r2" ] && ok "$args: exit 2 ($(head -c 120 "$T/err"))" || bad "$args: exit $rc"
done
# --keep 2 where the best epoch is not among the newest: 10 examples per split overfit
# after a few epochs, so validation NLL rises again and the best epoch's file must stay.
"$LATENT" train --model made --data "$T/d" --limit 10 --hidden 64 --epochs 12 --batch 10 --lr 0.05 --samples 0 \
    --threads 1 --keep 2 --quiet --out "$T/k" 2> "$T/err" || bad "--keep 2 run: $(head -c 300 "$T/err")"
best=$(python3 -c 'import json,sys; m=[json.loads(l) for l in open(sys.argv[1])]; print(min(m, key=lambda r: r["valid_nll"])["epoch"])' "$T/k/metrics.jsonl")
want=$(printf 'epoch-%03d.safetensors\n' 11 12 "$best" | sort -u | tr '\n' ' ')
got=$(cd "$T/k/checkpoints" && ls epoch-*.safetensors | sort | tr '\n' ' ')
if [ "$best" -lt 11 ] && [ "$got" = "$want" ] && cmp -s "$T/k/checkpoints/best.safetensors" \
    "$T/k/checkpoints/$(printf 'epoch-%03d.safetensors' "$best")"; then
    ok "--keep 2 with best epoch $best: $got(the best epoch's equals best.safetensors)"
else
    bad "--keep 2: best epoch $best, checkpoints $got, expected $want"
fi
# --select neg_elbo: `best` follows the validation negative ELBO, not the NLL. On this
# overfitting vae the two criteria's running minima differ, so the check can tell them apart.
"$LATENT" train --model vae --data "$T/d" --limit 20 --hidden 32 --latent 4 --epochs 15 --batch 10 --lr 0.02 \
    --samples 0 --threads 1 --quiet --seed 1 --select neg_elbo --out "$T/sel" 2> "$T/err" || bad "--select run: $(cat "$T/err")"
python3 - "$T/sel" <<'PY' && ok "--select neg_elbo: best epochs follow the validation -ELBO (not the NLL)" || bad "--select neg_elbo"
import json, sys
m = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
def new_min(key):
    best, out = float("inf"), []
    for r in m:
        out.append(r[key] < best)
        best = min(best, r[key])
    return out
assert json.load(open(sys.argv[1] + "/config.json"))["select"] == "neg_elbo"
assert [r["best"] for r in m] == new_min("valid_neg_elbo"), [r["best"] for r in m]
assert new_min("valid_nll") != new_min("valid_neg_elbo"), "the criteria agree here: the check tells nothing"
PY
for args in "--model made --select neg_elbo" "--model vae --select elbo"; do
    "$LATENT" train $args --data "$T/d" --out "$T/sel2" > /dev/null 2> "$T/err"
    rc=$?
    [ $rc = 2 ] && [ ! -e "$T/sel2" ] && ok "$args: exit 2 ($(head -c 120 "$T/err"))" || bad "$args: exit $rc $(cat "$T/err")"
done
"$LATENT" train --resume "$T/sel" --select nll > /dev/null 2> "$T/err"
[ $? = 2 ] && ok "--resume refuses --select (the criterion is fixed when a run starts)" || bad "--resume --select: $(cat "$T/err")"
lt_finish "train runs"
