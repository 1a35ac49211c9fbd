#!/bin/bash
# VQ-VAE end to end on a small Fashion-MNIST set: train a tiny vqvae a few steps (codebook
# health in metrics.jsonl), eval --json keys, encode -> codes.tfrecord parsed by Google's
# protobuf runtime, decode of those codes equal to reconstruct's grid, the Bernoulli bound
# on binarized data, --codebook none (the continuous autoencoder: it learns, reports no code
# metrics, has no codes to encode), and bad flags / mismatched codes exiting 2.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
FM=/usr/share/datasets/fashion-mnist
[ -f "$FM/train-images-idx3-ubyte.gz" ] || lt_skip "needs Debian's dataset-fashion-mnist"
need="vqvae codes interop needs protobuf-compiler and python3-protobuf"
command -v protoc > /dev/null || lt_skip "$need"
lt_python_or_skip "$need" google.protobuf
lt_tmpdir vqvae
SRC=$LT_SOURCE_DIR/tests/py
protoc --python_out="$T" -I"$SRC" "$SRC/example.proto"
L() { "$LATENT" "$@" --threads 1; }
TINY="--hidden 16 --res-hidden 8 --codes 16 --code-dim 4 --batch 32 --epochs 1 --samples 8"

L train --model vqvae --data "$FM" --limit 200 --out "$T/run" $TINY --restart-threshold 0.5 --quiet \
    && ok "train" || bad "train"
tail -1 "$T/run/metrics.jsonl" > "$T/m.json"
for k in valid_mse valid_psnr valid_usage valid_dead_codes valid_perplexity valid_commitment valid_codebook_loss \
    train_mse train_nmse train_perplexity; do
    grep -q "\"$k\": [0-9]" "$T/m.json" || bad "metrics.jsonl has no $k: $(cat "$T/m.json")"
done
grep -q '"binary": false' "$T/run/config.json" && grep -q '"binarize": "none"' "$T/run/config.json" \
    && ok "grey data: MSE, not binarized" || bad "config: $(cat "$T/run/config.json")"
[ -f "$T/run/samples/recon-epoch-001.png" ] && ok "reconstruction grid per epoch" || bad "no recon-epoch-001.png"

L eval "$T/run" --json > "$T/eval.json" || bad "eval"
$PY - "$T/eval.json" <<'PY' && ok "eval --json keys" || bad "eval --json: $(cat "$T/eval.json")"
import json, math, sys
e = json.load(open(sys.argv[1]))
for k in ["nll_nats", "mse", "psnr", "normalized_mse", "usage", "dead_codes", "perplexity", "commitment", "codebook_loss"]:
    assert k in e and e[k] is not None and math.isfinite(e[k]), k
assert abs(e["psnr"] + 10 * math.log10(e["mse"])) < 1e-6
assert 0 < e["usage"] <= 1 and 1 <= e["perplexity"] <= 16 and e["dead_codes"] == round(16 * (1 - e["usage"]))
PY

L encode "$T/run" --split test -o "$T/codes.tfrecord" 2> /dev/null && ok "encode" || bad "encode"
$PY "$SRC/vq_codes.py" "$T" codes "$T/codes.tfrecord" 200 7 7 16 && ok "codes parse" || bad "codes.tfrecord"
L encode "$T/run" --split test -o "$T/sharded-test" --shards 2 2> /dev/null && [ -f "$T/sharded-test-00001-of-00002" ] \
    && ok "encode --shards 2" || bad "encode --shards 2"
L encode "$T/run" --split valid -o "$T/pre-valid" --shards 1 2> /dev/null && [ -f "$T/pre-valid-00000-of-00001" ] \
    && ok "encode --shards 1: PREFIX-valid-00000-of-00001" || bad "encode --shards 1"
L reconstruct "$T/run" -n 8 -o "$T/recon.png" 2> /dev/null || bad "reconstruct"
L decode "$T/run" "$T/sharded-test@2" -n 8 -o "$T/decoded.png" 2> /dev/null || bad "decode"
$PY "$SRC/vq_codes.py" "$T" same "$T/recon.png" "$T/decoded.png" 8 && ok "decode(encode(x)) = reconstruct(x)" \
    || bad "decoded grid differs from reconstruct's"

# Bernoulli decoder on binarized data: nll_nats is the uniform-prior bound, >= h*w*log K
L train --model vqvae --data "$FM" --limit 100 --binarize threshold --out "$T/bin" $TINY --codebook plain --cosine-codes --quiet \
    || bad "train binary"
L eval "$T/bin" --json > "$T/eb.json" || bad "eval binary"
$PY -c "import json,math,sys; e=json.load(open('$T/eb.json')); sys.exit(not (e['nll_nats'] > 49*math.log(16)))" \
    && grep -q '"binary": true' "$T/bin/config.json" && grep -q '"cosine": true' "$T/bin/config.json" && ok "Bernoulli bound (plain, cosine codes)" || bad "binary eval: $(cat "$T/eb.json")"

# --codebook none: the continuous autoencoder of the same architecture (issue 12's baseline)
L train --model vqvae --codebook none --data "$FM" --limit 200 --out "$T/ae" $TINY --epochs 3 --lr 1e-3 --quiet \
    && ok "train --codebook none" || bad "train --codebook none"
L eval "$T/ae" --json > "$T/ae.json" || bad "eval --codebook none"
L reconstruct "$T/ae" -n 8 -o "$T/ae-recon.png" 2> /dev/null && ok "reconstruct --codebook none" || bad "reconstruct --codebook none"
$PY - "$T/ae/metrics.jsonl" "$T/ae.json" "$T/ae/checkpoints/best.safetensors" <<'PY' \
    && ok "codebook none: reconstructions improve, no code metrics, no quantizer tensors" || bad "codebook none: $(cat "$T/ae.json")"
import json, math, struct, sys
m = [json.loads(l) for l in open(sys.argv[1])]
first, last = m[0]["valid_normalized_mse"], m[-1]["valid_normalized_mse"]
assert last < 0.9 * first, (first, last)
assert all(math.isfinite(r["train_nmse"]) and r["train_nmse"] > 0 for r in m), m
assert all(r["train_perplexity"] is None for r in m), m
e = json.load(open(sys.argv[2]))
for k in ["nll_nats", "mse", "psnr", "normalized_mse"]:
    assert k in e and math.isfinite(e[k]), k
for k in ["usage", "dead_codes", "perplexity", "commitment", "codebook_loss"]:
    assert k not in e and "valid_" + k not in m[-1], k
f = open(sys.argv[3], "rb")
names = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
assert names and not any(n.startswith("quantizer.") for n in names), sorted(names)
PY

# bad input exits 2
expect2() { local what=$1; shift; "$@" > /dev/null 2> "$T/err"; local rc=$?
    [ $rc -eq 2 ] && ok "$what: exit 2 ($(head -c 120 "$T/err"))" || bad "$what: exit $rc, expected 2: $(cat "$T/err")"; }
expect2 "--codes 1" "$LATENT" train --model vqvae --data "$FM" --limit 50 --out "$T/x" --codes 1
expect2 "--downsample 3" "$LATENT" train --model vqvae --data "$FM" --limit 50 --out "$T/x" --downsample 3
expect2 "--downsample 8 on 28x28" "$LATENT" train --model vqvae --data "$FM" --limit 50 --out "$T/x" --downsample 8
expect2 "--codebook bad" "$LATENT" train --model vqvae --data "$FM" --limit 50 --out "$T/x" --codebook kmeans
expect2 "--code-dim on resume" "$LATENT" train --resume "$T/run" --code-dim 8
echo '{"features": {"feature": {"codes": {"int64List": {"value": ["1", "2", "3", "4"]}}, "codes/height": {"int64List": {"value": ["2"]}}, "codes/width": {"int64List": {"value": ["2"]}}}}}' > "$T/bad.jsonl"
"$LATENT" tfrecord encode "$T/bad.jsonl" "$T/bad.tfrecord" 2> /dev/null
expect2 "decode of 2x2 codes with a 7x7 model" "$LATENT" decode "$T/run" "$T/bad.tfrecord" -o "$T/x.png"
echo '{"features": {"feature": {"codes": {"int64List": {"value": ['"$(printf '"%d",' $(seq 1 48))"'"99"]}}, "codes/height": {"int64List": {"value": ["7"]}}, "codes/width": {"int64List": {"value": ["7"]}}}}}' > "$T/bad2.jsonl"
"$LATENT" tfrecord encode "$T/bad2.jsonl" "$T/bad2.tfrecord" 2> /dev/null
expect2 "decode of code 99 with K = 16" "$LATENT" decode "$T/run" "$T/bad2.tfrecord" -o "$T/x.png"
expect2 "encode of a --codebook none run" "$LATENT" encode "$T/ae" --split test -o "$T/x.tfrecord"
expect2 "decode with a --codebook none run" "$LATENT" decode "$T/ae" "$T/codes.tfrecord" -o "$T/x.png"
expect2 "gpt --codes-of a --codebook none run" "$LATENT" train --model gpt --codes-of "$T/ae" --out "$T/x"
expect2 "--codebook bad (three choices named)" "$LATENT" train --model vqvae --data "$FM" --limit 50 --out "$T/x" --codebook nope
[ ! -e "$T/x.tfrecord" ] && [ ! -e "$T/x.png" ] && [ ! -e "$T/x" ] && ok "nothing written on bad input" || bad "bad input left files"
lt_finish "vqvae cli"
