#!/bin/bash
# Stage one to stage two from the command line on a tiny Fashion-MNIST VQ-VAE (trained with
# --augment flip): a gpt trained with --codes-of RUN encodes RUN's images when it starts
# (no codes file, augmentation off) and records RUN as its stage one; those codes are the
# ones `latent encode` writes (the prior scores the same on the encode files); latent sample
# -o decodes its codes through that stage one, or another given by --stage1 RUN; such a run resumes; eval --bound gives the two-stage bound on binary data; --codes-of's and --stage1's misuses exit 2 with a message.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
command -v python3 > /dev/null || { echo "SKIP: python3 needed to read JSON"; exit 77; }
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
FM=/usr/share/datasets/fashion-mnist
[ -f "$FM/train-images-idx3-ubyte.gz" ] || lt_skip "needs Debian's dataset-fashion-mnist"
lt_tmpdir vq_prior
L() { "$LATENT" "$@" --threads 1; }
GPT="--layers 1 --heads 2 --width 16 --batch 16 --epochs 1 --samples 0 --quiet"

L train --model vqvae --data "$FM" --limit 96 --hidden 16 --res-hidden 8 --codes 16 --code-dim 4 --batch 32 \
    --epochs 1 --samples 0 --augment flip --restart-threshold 0.5 --quiet --out "$T/vq" || bad "train the stage one"
for s in train valid test; do L encode "$T/vq" --split $s -o "$T/c-$s" --shards 1 2> /dev/null || bad "encode $s"; done

L train --model gpt --codes-of "$T/vq" --limit 96 $GPT --out "$T/of" 2> "$T/err" && ok "train --codes-of" ||
    bad "train --codes-of: $(cat "$T/err")"
python3 - "$T/of/config.json" "$(cd "$T/vq" && pwd -P)" <<'PY' && ok "config: data codes-of:RUN, stage1 RUN, vocab K, 7x7" ||
import json, sys
c = json.load(open(sys.argv[1])); m = c["model_config"]
assert c["data"] == "codes-of:" + sys.argv[2] and m["stage1"] == sys.argv[2], c
assert (m["vocab"], m["height"], m["width"]) == (16, 7, 7), m
PY
    bad "config: $(cat "$T/of/config.json")"

# the same codes, in the same order: the prior scores the same on its codes-of data and on the encode files
for s in train test; do
    L eval "$T/of" --split $s --json > "$T/of-$s.json" 2> "$T/err" || bad "eval: $(cat "$T/err")"
    L eval "$T/of" --split $s --json --data "tfrecord:$T/c" > "$T/files-$s.json" 2> "$T/err" ||
        bad "eval --data tfrecord: $(cat "$T/err")"
    python3 - "$T/files-$s.json" "$T/of-$s.json" <<'PY' && ok "$s split: codes-of = encode's codes (same NLL, entropy, count)" ||
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for k in ("examples", "nll_nats", "unigram_entropy_bits"):
    assert a[k] == b[k], (k, a[k], b[k])
assert a["examples"] == 96 and a["unigram_entropy_bits"] > 1, a
PY
        bad "$s: files $(cat "$T/files-$s.json") codes-of $(cat "$T/of-$s.json")"
done

L train --resume "$T/of" --epochs 2 --quiet 2> "$T/err" && [ "$(wc -l < "$T/of/metrics.jsonl")" = 2 ] &&
    ok "--resume re-encodes and trains epoch 2" || bad "resume: $(cat "$T/err")"

# latent sample -o: codes drawn by the prior, decoded through the stage one it records (= latent decode of the
# same codes), or through --stage1 RUN; a stage one that is gone, or cannot decode, exits 2 with no grid
L sample "$T/of" -n 64 --seed 3 --codes-out "$T/s.tfrecord" -o "$T/s.png" 2> "$T/err" && [ -s "$T/s.png" ] &&
    ok "sample -o: a grid" || bad "sample -o: $(cat "$T/err")"
L decode "$T/vq" "$T/s.tfrecord" -n 64 -o "$T/d.png" 2> /dev/null || bad "decode the sampled codes"
cmp -s "$T/s.png" "$T/d.png" && ok "  = latent decode of the sampled codes with the stage one" || bad "  differs from decode's grid"
mv "$T/vq" "$T/vq-moved"
lt_expect2 "sample -o, the recorded stage one gone" "$LATENT" sample "$T/of" -n 4 -o "$T/gone.png"
grep -q "stage-one run $(cd "$T" && pwd -P)/vq: " "$T/err" && [ ! -e "$T/gone.png" ] && ok "  names the run, writes no grid" ||
    bad "  $(cat "$T/err")"
L sample "$T/of" -n 64 --seed 3 --stage1 "$T/vq-moved" -o "$T/s2.png" 2> "$T/err" && cmp -s "$T/s.png" "$T/s2.png" &&
    ok "sample --stage1 RUN (the moved run): the same grid" || bad "sample --stage1: $(cat "$T/err")"
lt_expect2 "sample --stage1 a missing run" "$LATENT" sample "$T/of" -n 4 --stage1 "$T/nothing" -o "$T/gone.png"
grep -q "stage-one run $T/nothing: " "$T/err" && [ ! -e "$T/gone.png" ] && ok "  names it, writes no grid" || bad "  $(cat "$T/err")"
lt_expect2 "sample --stage1 without -o" "$LATENT" sample "$T/of" -n 4 --stage1 "$T/vq-moved" --codes-out "$T/c.tfrecord"
mv "$T/vq-moved" "$T/vq"

# the two-stage bound on binary data (Fashion-MNIST thresholded: the stage one's Bernoulli decoder; codes-of
# binarizes as the stage one did): bound = recon + prior, prior = the prior's own NLL of the codes, recon = the
# stage one's uniform-prior bound minus h*w*log K
L train --model vqvae --data "$FM" --limit 64 --binarize threshold --hidden 16 --res-hidden 8 --codes 16 --code-dim 4 \
    --batch 32 --epochs 1 --samples 0 --quiet --out "$T/bvq" || bad "train a binary stage one"
L train --model gpt --codes-of "$T/bvq" --limit 64 $GPT --out "$T/bof" || bad "train its prior"
L eval "$T/bvq" --json > "$T/bvq.json" 2> /dev/null || bad "eval the binary stage one"
L eval "$T/bof" --json --bound > "$T/bound.json" 2> "$T/err"
rc=$?
python3 - "$T/bvq.json" "$T/bound.json" <<'PY' && [ $rc = 0 ] && ok "eval --bound: $(head -c 200 "$T/bound.json")" ||
import json, math, sys
v, b = (json.load(open(p)) for p in sys.argv[1:3])
assert b["bound_examples"] == b["examples"] == v["examples"] == 64
assert abs(b["bound_nats"] - b["recon_nats"] - b["prior_nats"]) < 1e-6 * b["bound_nats"]
assert abs(b["prior_nats"] - b["nll_nats"]) < 1e-6 * b["nll_nats"], (b["prior_nats"], b["nll_nats"])
assert abs(b["recon_nats"] - (v["nll_nats"] - 49 * math.log(16))) < 1e-5 * v["nll_nats"], (b["recon_nats"], v["nll_nats"])
assert 0 < b["bound_stderr"] < b["bound_nats"]
PY
    bad "eval --bound: exit $rc $(cat "$T/err") $(cat "$T/bound.json")"
lt_expect2 "eval --bound, a grey stage one" "$LATENT" eval "$T/of" --bound
grep -q "no Bernoulli likelihood" "$T/err" && ok "  says why" || bad "  $(cat "$T/err")"

L train --model made --data "$FM" --limit 32 --hidden 8 --epochs 1 --samples 0 --quiet --out "$T/made" || bad "train made"
lt_expect2 "--codes-of and --data" "$LATENT" train --model gpt --codes-of "$T/vq" --data "$FM" --out "$T/x"
lt_expect2 "--codes-of and --stage1" "$LATENT" train --model gpt --codes-of "$T/vq" --stage1 "$T/vq" --out "$T/x"
lt_expect2 "--codes-of a missing run" "$LATENT" train --model gpt --codes-of "$T/nothing" --out "$T/x"
lt_expect2 "--codes-of a run without codes" "$LATENT" train --model gpt --codes-of "$T/made" --out "$T/x"
grep -q "no discrete codes" "$T/err" && ok "  says the stage one has no codes" || bad "  $(cat "$T/err")"
lt_expect2 "a pixel model on --codes-of" "$LATENT" train --model made --codes-of "$T/vq" --limit 32 --out "$T/x"
lt_expect2 "--augment with --codes-of" "$LATENT" train --model gpt --codes-of "$T/vq" --limit 32 --augment flip --out "$T/x"
lt_expect2 "sample --stage1 a run without codes" "$LATENT" sample "$T/of" -n 4 --stage1 "$T/made" -o "$T/x.png"
grep -q "cannot decode grids of 49 codes" "$T/err" && ok "  says it cannot decode" || bad "  $(cat "$T/err")"
lt_expect2 "sample --stage1 with a pixel model" "$LATENT" sample "$T/made" -n 4 --stage1 "$T/vq" -o "$T/x.png"
lt_expect2 "eval --bound of a pixel model" "$LATENT" eval "$T/made" --bound
lt_expect2 "--codes-of with --resume" "$LATENT" train --resume "$T/of" --codes-of "$T/vq"
[ ! -e "$T/x" ] && ok "no run directory left by a refusal" || bad "a refused run left $T/x"
lt_finish test_vq_prior_cli
