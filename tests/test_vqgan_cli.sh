#!/bin/bash
# VQGAN from the command line on a small Fashion-MNIST set: a tiny run whose discriminator
# starts mid-run (--disc-start, --group discriminator:lr=...), its adversarial scalars in
# metrics.jsonl and config.json's groups; eval --json; encode -> codes -> a GPT prior with
# --stage1 -> latent sample -o decoding through the VQGAN decoder; bad flags exit 2.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
FM=/usr/share/datasets/fashion-mnist
[ -f "$FM/train-images-idx3-ubyte.gz" ] || lt_skip "needs Debian's dataset-fashion-mnist"
lt_tmpdir vqgan
L() { "$LATENT" "$@" --threads 1; }
TINY="--hidden 8 --norm-groups 4 --codes 16 --code-dim 4 --no-attn --disc-hidden 8 --batch 16 --samples 4"

L train --model vqgan --data "$FM" --limit 64 --epochs 2 --disc-start 3 --group discriminator:lr=5e-4,beta2=0.95 \
    --out "$T/run" $TINY --quiet && ok "train" || bad "train"
tail -1 "$T/run/metrics.jsonl" > "$T/m.json"
for k in train_rec_loss train_codebook_loss train_g_loss train_d_loss train_lambda train_logits_real train_logits_fake \
    train_usage train_perplexity valid_mse valid_usage valid_perplexity; do
    grep -q "\"$k\": -\?[0-9]" "$T/m.json" || bad "metrics.jsonl has no $k: $(cat "$T/m.json")"
done
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); g=c["groups"]["discriminator"]; assert g["lr"]==5e-4 and g["beta2"]==0.95, c' \
    "$T/run/config.json" && ok "config.json keeps the group override" || bad "config.json: $(cat "$T/run/config.json")"
[ -f "$T/run/samples/recon-epoch-002.png" ] && ok "reconstruction grid" || bad "no recon-epoch-002.png"
grep -q '"train_perceptual_loss": null' "$T/m.json" && grep -q '"perceptual_weight": 0' "$T/run/config.json" &&
    ok "without --perceptual the term is off, and config.json and metrics say so" || bad "perceptual off: $(cat "$T/m.json")"

# the perceptual term through a tiny mae run's frozen encoder
L train --model mae --data "$FM" --limit 64 --out "$T/mae" --enc-width 8 --enc-stages 2 --enc-blocks 1 --dec-width 8 \
    --batch 16 --epochs 1 --samples 0 --quiet || bad "train mae"
L train --model vqgan --data "$FM" --limit 32 --epochs 1 --disc-start 1 --perceptual "$T/mae" --perceptual-weight 0.5 \
    --out "$T/perc" $TINY --quiet && grep -q '"train_perceptual_loss": [0-9]' "$T/perc/metrics.jsonl" &&
    grep -q "\"perceptual\": \"$(cd "$T/mae" && pwd -P)\"" "$T/perc/config.json" &&
    ok "--perceptual RUN: the distance is trained and logged" || bad "perceptual: $(cat "$T/perc/metrics.jsonl")"
L eval "$T/perc" --json > /dev/null 2>&1 && ok "  eval does not need the perceptual run" || bad "  eval of the perceptual run"

L eval "$T/run" --json > "$T/eval.json" && grep -q '"usage":' "$T/eval.json" && ok "eval --json" || bad "eval: $(cat "$T/eval.json")"
L encode "$T/run" --split train -o "$T/codes-train" --shards 1 2> /dev/null &&
    L encode "$T/run" --split valid -o "$T/codes-valid" --shards 1 2> /dev/null &&
    L encode "$T/run" --split test -o "$T/codes-test" --shards 1 2> /dev/null && ok "encode" || bad "encode"
L train --model gpt --data "tfrecord:$T/codes" --stage1 "$T/run" --layers 1 --heads 2 --width 16 --epochs 1 --batch 16 \
    --out "$T/prior" --quiet && ok "a GPT prior on VQGAN codes" || bad "gpt on vqgan codes"
L sample "$T/prior" -n 4 -o "$T/s.png" 2> "$T/err" && [ -s "$T/s.png" ] && ok "sample --stage1: decoded by the VQGAN" ||
    bad "sample: $(cat "$T/err")"

expect2() { local what=$1; shift; "$@" > /dev/null 2> "$T/err"; local rc=$?
    [ $rc -eq 2 ] && ok "$what: exit 2 ($(head -c 120 "$T/err"))" || bad "$what: exit $rc, expected 2: $(cat "$T/err")"; }
expect2 "--gan-loss wasserstein" "$LATENT" train --model vqgan --data "$FM" --limit 32 --out "$T/x" --gan-loss wasserstein
expect2 "--group critic:lr=1" "$LATENT" train --model vqgan --data "$FM" --limit 32 --out "$T/x" --group critic:lr=1 $TINY
expect2 "--group without KEY=VALUE" "$LATENT" train --model vqgan --data "$FM" --limit 32 --out "$T/x" --group discriminator
expect2 "--perceptual without a run" "$LATENT" train --model vqgan --data "$FM" --limit 32 --out "$T/x" --perceptual "$T/none"
expect2 "--group on a one-group model" "$LATENT" train --model made --data "$FM" --limit 32 --out "$T/x" --group generator:lr=1
[ ! -e "$T/x" ] && ok "no run directory after refused trainings" || bad "a refused training left $T/x"
lt_finish test_vqgan_cli
