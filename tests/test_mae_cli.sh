#!/bin/bash
# The masked autoencoder end to end on a small Fashion-MNIST set: train a tiny mae (its flags
# in config.json), resume it, eval --json (the masked-reconstruction figure), the denoising
# mode, `latent sample` refusing (an encoder does not sample) and bad flags exiting 2.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
FM=/usr/share/datasets/fashion-mnist
[ -f "$FM/train-images-idx3-ubyte.gz" ] || lt_skip "needs Debian's dataset-fashion-mnist"
lt_tmpdir mae
L() { "$LATENT" "$@" --threads 1; }
TINY="--enc-width 8 --enc-stages 2 --enc-blocks 1 --dec-width 8 --batch 32 --limit 96 --quiet"

L train --model mae --data "$FM" --out "$T/run" $TINY --epochs 1 --patch 4 --mask-ratio 0.6 \
    && ok "train" || bad "train"
grep -q '"mask_ratio": 0.6' "$T/run/config.json" && grep -q '"patch": 4' "$T/run/config.json" \
    && grep -q '"enc_width": 8' "$T/run/config.json" && ok "flags in config.json" || bad "config: $(cat "$T/run/config.json")"
[ -f "$T/run/checkpoints/best.safetensors" ] && ok "checkpoint" || bad "no best.safetensors"
L train --resume "$T/run" --epochs 2 --quiet && [ "$(wc -l < "$T/run/metrics.jsonl")" = 2 ] \
    && ok "resume to epoch 2" || bad "resume: $(cat "$T/run/metrics.jsonl")"
L eval "$T/run" --json > "$T/eval.json" && grep -q '"nll_nats": *[0-9]' "$T/eval.json" \
    && ok "eval --json" || bad "eval: $(cat "$T/eval.json")"
L train --model mae --data "$FM" --out "$T/dae" $TINY --epochs 1 --corrupt noise --mask-ratio 1 --noise-std 0.3 \
    && grep -q '"corrupt": "noise"' "$T/dae/config.json" && ok "denoising mode" || bad "denoising mode"

expect2() { local what=$1; shift; "$@" > /dev/null 2> "$T/err"; local rc=$?
    [ $rc -eq 2 ] && ok "$what: exit 2 ($(head -c 120 "$T/err"))" || bad "$what: exit $rc, expected 2: $(cat "$T/err")"; }
expect2 "sample" "$LATENT" sample "$T/run" -o "$T/grid.png"
[ ! -e "$T/grid.png" ] && ok "no grid written" || bad "a grid was written"
expect2 "--corrupt blur" "$LATENT" train --model mae --data "$FM" --limit 50 --out "$T/x" --corrupt blur
expect2 "--mask-ratio 0" "$LATENT" train --model mae --data "$FM" --limit 50 --out "$T/x" --mask-ratio 0
expect2 "--mask-ratio 1 with masks" "$LATENT" train --model mae --data "$FM" --limit 50 --out "$T/x" --mask-ratio 1
expect2 "--patch 5 on 28x28" "$LATENT" train --model mae --data "$FM" --limit 50 --out "$T/x" --patch 5
expect2 "--pix-loss bad" "$LATENT" train --model mae --data "$FM" --limit 50 --out "$T/x" --pix-loss l1
[ ! -e "$T/x/config.json" ] && ok "no run left by bad flags" || bad "bad flags left $T/x"
lt_finish "mae cli"
