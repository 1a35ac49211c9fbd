#!/bin/bash
# The transformer prior from the command line: a small TFRecord set of code grids
# (tests/tools/codes_tool.c) trains a tiny class-conditional gpt for one epoch with AdamW,
# warm-up + cosine and clipping; latent eval --json reports the NLL per grid, bits per code
# and the codes' unigram entropy; latent sample writes code grids with each option
# (temperature, top-k, top-p, class, seed; top-k 1 is the same for every seed); bad flags,
# a gpt on pixels, a pixel model on codes and malformed code files exit 2 with a message.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}" "${LT_BUILD_DIR:?}"
command -v python3 > /dev/null || { echo "SKIP: python3 needed to read JSON"; exit 77; }
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
lt_tmpdir test_gpt_cli
CODES=$LT_BUILD_DIR/codes_tool
"$CODES" toy "$T/toy" 48 2 2 8 labels || { echo "codes_tool failed"; exit 1; }
R=$T/run
GPT="--layers 1 --heads 2 --width 16 --threads 1 --quiet"

"$LATENT" train --model gpt --data "tfrecord:$T/toy" --out "$R" --epochs 1 --batch 16 --conditional --dropout 0.1 \
    --optimizer adamw --weight-decay 0.01 --schedule cosine,warmup:2 --clip 1 --lr 0.01 $GPT 2> "$T/err"
rc=$?
python3 - "$R/config.json" <<'PY' && [ $rc = 0 ] && ok "train: exit 0, config has vocab 8, 2x2 grid, 2 classes" ||
import json, sys
c = json.load(open(sys.argv[1]))["model_config"]
assert (c["vocab"], c["height"], c["width"], c["n_classes"], c["layers"], c["d_model"]) == (8, 2, 2, 2, 1, 16), c
PY
    bad "train: exit $rc, $(head -c 300 "$T/err")"
[ ! -e "$R/samples/epoch-001.png" ] && ok "no pixel sample grid for a prior over codes" || bad "a sample grid was written"

"$LATENT" eval "$R" --json --threads 1 > "$T/eval.json" 2> "$T/err"
rc=$?
python3 - "$T/eval.json" <<'PY' && [ $rc = 0 ] && ok "eval --json: $(cat "$T/eval.json")" || bad "eval: exit $rc $(cat "$T/err")"
import json, math, sys
e = json.load(open(sys.argv[1]))
for k in ("nll_nats", "bits_per_dim", "bits_per_code", "codes_per_grid", "unigram_entropy_bits", "unigram_entropy_nats"):
    assert k in e, k
assert e["codes_per_grid"] == 4 and e["examples"] == 24
assert abs(e["bits_per_code"] - e["nll_nats"] / (4 * math.log(2))) < 1e-6
assert abs(e["unigram_entropy_nats"] - 4 * math.log(2) * e["unigram_entropy_bits"]) < 1e-6
assert 2.0 < e["unigram_entropy_bits"] <= 3.0  # 8 codes, spread over both classes' rules
PY

n_records() { "$LATENT" tfrecord cat "$1" --json | wc -l; }
for opts in "--temperature 0.5" "--top-k 3" "--top-p 0.9" "--class 1" "--seed 5" "--top-k 2 --top-p 0.5 --temperature 2"; do
    "$LATENT" sample "$R" -n 6 $opts --codes-out "$T/s.tfrecord" 2> "$T/err"
    rc=$?
    [ $rc = 0 ] && [ "$(n_records "$T/s.tfrecord")" = 6 ] && ok "sample $opts: 6 code grids" ||
        bad "sample $opts: exit $rc $(cat "$T/err")"
done
"$LATENT" sample "$R" -n 5 --class 1 --codes-out "$T/c1.tfrecord" 2> /dev/null
[ "$("$LATENT" tfrecord cat "$T/c1.tfrecord" --json | grep -c '"label": {"int64List": {"value": \["1"\]}}')" = 5 ] &&
    ok "--class 1: every grid labelled 1" || bad "--class 1: $("$LATENT" tfrecord cat "$T/c1.tfrecord" --json | head -2)"
for s in 1 2; do "$LATENT" sample "$R" -n 8 --top-k 1 --seed $s --codes-out "$T/k1-$s.tfrecord" 2> /dev/null; done
for s in 1 2; do "$LATENT" sample "$R" -n 8 --seed $s --codes-out "$T/r-$s.tfrecord" 2> /dev/null; done
"$LATENT" sample "$R" -n 8 --seed 1 --codes-out "$T/r-1b.tfrecord" 2> /dev/null
cmp -s "$T/k1-1.tfrecord" "$T/k1-2.tfrecord" && ok "--top-k 1: the same grids for seeds 1 and 2" || bad "--top-k 1 depends on the seed"
cmp -s "$T/r-1.tfrecord" "$T/r-1b.tfrecord" && ! cmp -s "$T/r-1.tfrecord" "$T/r-2.tfrecord" &&
    ok "--seed: repeatable, and another seed draws other grids" || bad "seeded sampling"
# the sampled grids are code data themselves
cp "$T/r-1.tfrecord" "$T/again-train-0.tfrecord"; cp "$T/r-2.tfrecord" "$T/again-valid-0.tfrecord"
cp "$T/r-2.tfrecord" "$T/again-test-0.tfrecord"
"$LATENT" train --model gpt --data "tfrecord:$T/again" --out "$T/again" --epochs 1 --batch 8 $GPT 2> "$T/err" &&
    ok "sampled codes train a prior" || bad "training on sampled codes: $(cat "$T/err")"

lt_expect2 "--top-p 1.5" "$LATENT" sample "$R" --top-p 1.5 --codes-out "$T/x"
lt_expect2 "--top-p 0" "$LATENT" sample "$R" --top-p 0 --codes-out "$T/x"
lt_expect2 "--temperature 0" "$LATENT" sample "$R" --temperature 0 --codes-out "$T/x"
lt_expect2 "--top-k -1" "$LATENT" sample "$R" --top-k -1 --codes-out "$T/x"
lt_expect2 "--top-k 9 > K" "$LATENT" sample "$R" --top-k 9 --codes-out "$T/x"
lt_expect2 "--class 2 of 2" "$LATENT" sample "$R" --class 2 --codes-out "$T/x"
lt_expect2 "-o without a stage-one run" "$LATENT" sample "$R" -o "$T/g.png"
[ ! -e "$T/x" ] && [ ! -e "$T/g.png" ] && ok "no output file after a refused sample" || bad "a refused sample wrote a file"
lt_expect2 "--dropout 1.5" "$LATENT" train --model gpt --data "tfrecord:$T/toy" --out "$T/b" --dropout 1.5
lt_expect2 "--width 10 --heads 4" "$LATENT" train --model gpt --data "tfrecord:$T/toy" --out "$T/b" --width 10 --heads 4 --quiet
lt_expect2 "--stage1 missing" "$LATENT" train --model gpt --data "tfrecord:$T/toy" --out "$T/b" --stage1 "$T/nothing"
lt_expect2 "--layers 0" "$LATENT" train --model gpt --data "tfrecord:$T/toy" --out "$T/b" --layers 0
lt_expect2 "--augment on codes" "$LATENT" train --model gpt --data "tfrecord:$T/toy" --out "$T/b" --augment flip --quiet
lt_expect2 "a pixel model on codes" "$LATENT" train --model made --data "tfrecord:$T/toy" --out "$T/b" --quiet
python3 "$LT_SOURCE_DIR/tests/py/write_idx.py" "$T/img" 20 10 10 4
lt_expect2 "gpt on pixels" "$LATENT" train --model gpt --data "$T/img" --out "$T/b" --quiet
# -o decodes through the --stage1 run's decode capability; a made run has none
"$LATENT" train --model made --data "$T/img" --out "$T/made" --hidden 8 --epochs 1 --batch 10 --samples 0 --quiet &&
"$LATENT" train --model gpt --data "tfrecord:$T/toy" --out "$T/s1" --stage1 "$T/made" --epochs 1 --batch 16 $GPT ||
    bad "training with --stage1"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["model_config"]; assert c["stage1"] == sys.argv[2], c' \
    "$T/s1/config.json" "$(cd "$T/made" && pwd -P)" && ok "--stage1 recorded as an absolute path" || bad "--stage1 not recorded"
lt_expect2 "-o with a stage-one run that cannot decode" "$LATENT" sample "$T/s1" -o "$T/g.png"
grep -q "cannot decode grids of 4 codes" "$T/err" && [ ! -e "$T/g.png" ] && ok "  says so, writes no grid" || bad "  $(cat "$T/err")"
[ ! -e "$T/b" ] && ok "no run directory after refused trainings" || bad "a refused training left $T/b"
for kind in grid negative nocodes; do
    "$CODES" bad "$T/bad-$kind" $kind
    lt_expect2 "code file with $kind" "$LATENT" train --model gpt --data "tfrecord:$T/bad-$kind" --out "$T/b" --quiet
    grep -q "bad-$kind-valid-0.tfrecord record 1 offset" "$T/err" && ok "  names file, record 1 and offset" ||
        bad "  message: $(cat "$T/err")"
done
lt_finish test_gpt_cli
