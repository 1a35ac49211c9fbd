#!/bin/bash
# The VQ-VAE's autoregressive decoder (--decoder made) from the command line, on a tiny
# thresholded Fashion-MNIST: the run records the choice; eval --bound of a prior on its codes
# is recon + prior with recon = the stage one's uniform-prior bound minus h·w·ln K, as for the
# conv decoder; sample and decode draw pixels (0/1 images; decode the same on every call);
# bad values, and the made decoder on grey data, exit 2.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
command -v python3 > /dev/null || { echo "SKIP: python3 needed to read JSON"; exit 77; }
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
FM=/usr/share/datasets/fashion-mnist
[ -f "$FM/train-images-idx3-ubyte.gz" ] || lt_skip "needs Debian's dataset-fashion-mnist"
lt_tmpdir vq_made
L() { "$LATENT" "$@" --threads 1; }
VQ="--data $FM --limit 64 --binarize threshold --hidden 16 --res-hidden 8 --codes 16 --code-dim 4 --batch 32 --epochs 1 --samples 0 --quiet"

L train --model vqvae $VQ --decoder made --ar-hidden 24 --out "$T/vq" 2> "$T/err" && ok "train --decoder made" ||
    bad "train --decoder made: $(cat "$T/err")"
python3 - "$T/vq/config.json" <<'PY' && ok "config: decoder made, ar_hidden 24" || bad "config: $(cat "$T/vq/config.json")"
import json, sys
m = json.load(open(sys.argv[1]))["model_config"]
assert m["decoder"] == "made" and m["ar_hidden"] == 24, m
PY
L train --model gpt --codes-of "$T/vq" --limit 64 --layers 1 --heads 2 --width 16 --batch 16 --epochs 1 --samples 0 \
    --quiet --out "$T/of" || bad "train its prior"
L eval "$T/vq" --json > "$T/vq.json" 2> /dev/null || bad "eval the stage one"
L eval "$T/of" --json --bound > "$T/bound.json" 2> "$T/err"
rc=$?
python3 - "$T/vq.json" "$T/bound.json" <<'PY' && [ $rc = 0 ] && ok "eval --bound: $(head -c 200 "$T/bound.json")" ||
import json, math, sys
v, b = (json.load(open(p)) for p in sys.argv[1:3])
assert b["bound_examples"] == v["examples"] == 64
assert abs(b["bound_nats"] - b["recon_nats"] - b["prior_nats"]) < 1e-6 * b["bound_nats"]
assert abs(b["prior_nats"] - b["nll_nats"]) < 1e-6 * b["nll_nats"]
assert abs(b["recon_nats"] - (v["nll_nats"] - 49 * math.log(16))) < 1e-5 * v["nll_nats"], (b["recon_nats"], v["nll_nats"])
assert 0 < b["recon_nats"] < 784 * math.log(2) * 1.5
PY
    bad "eval --bound: exit $rc $(cat "$T/err") $(cat "$T/bound.json")"

# decode draws 0/1 pixels, the same ones on every call; different codes, different images
L encode "$T/vq" --split test -o "$T/c.tfrecord" 2> /dev/null || bad "encode"
L decode "$T/vq" "$T/c.tfrecord" -n 16 -o "$T/d1.png" 2> "$T/err" && L decode "$T/vq" "$T/c.tfrecord" -n 16 -o "$T/d2.png" &&
    cmp -s "$T/d1.png" "$T/d2.png" && ok "decode: the same grid twice" || bad "decode: $(cat "$T/err")"
L sample "$T/vq" -n 8 --seed 2 -o "$T/s.png" 2> "$T/err" && [ -s "$T/s.png" ] && ok "sample: drawn pixel by pixel" ||
    bad "sample: $(cat "$T/err")"
L sample "$T/of" -n 8 --seed 2 -o "$T/p.png" 2> "$T/err" && [ -s "$T/p.png" ] && ok "prior sample -o: decoded by the made decoder" ||
    bad "prior sample -o: $(cat "$T/err")"

lt_expect2 "--decoder pixelcnn" "$LATENT" train --model vqvae $VQ --decoder pixelcnn --out "$T/x"
lt_expect2 "--ar-hidden 0" "$LATENT" train --model vqvae $VQ --decoder made --ar-hidden 0 --out "$T/x"
lt_expect2 "--decoder made on grey data" "$LATENT" train --model vqvae --data "$FM" --limit 32 --hidden 16 --codes 16 \
    --code-dim 4 --epochs 1 --samples 0 --quiet --decoder made --out "$T/x"
grep -q "needs binary data" "$T/err" && ok "  says why" || bad "  $(cat "$T/err")"
[ ! -e "$T/x" ] && ok "no run directory left by a refusal" || bad "a refused run left $T/x"
lt_finish test_vqvae_made_cli
