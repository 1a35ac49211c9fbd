#!/bin/bash
# The VQ-VAE's autoregressive decoders (--decoder made, --decoder nade) from the command line, on a tiny
# thresholded Fashion-MNIST: the run records the choice; eval --bound of a prior on its codes
# is recon + prior with recon = the stage one's uniform-prior bound minus h·w·ln K, as for the
# conv decoder; sample and decode draw pixels (0/1 images; decode the same on every call);
# --trunk-from trains the nade head alone on a frozen trunk (same codes, trunk unchanged);
# bad values, and either decoder on grey data, exit 2.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
command -v python3 > /dev/null || { echo "SKIP: python3 needed to read JSON"; exit 77; }
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
FM=/usr/share/datasets/fashion-mnist
[ -f "$FM/train-images-idx3-ubyte.gz" ] || lt_skip "needs Debian's dataset-fashion-mnist"
lt_tmpdir vq_made
L() { "$LATENT" "$@" --threads 1; }
VQ="--data $FM --limit 64 --binarize threshold --hidden 16 --res-hidden 8 --codes 16 --code-dim 4 --batch 32 --epochs 1 --samples 0 --quiet"

for DEC in made nade; do
    L train --model vqvae $VQ --decoder $DEC --ar-hidden 24 --out "$T/vq$DEC" 2> "$T/err" && ok "train --decoder $DEC" ||
        bad "train --decoder $DEC: $(cat "$T/err")"
    python3 - "$T/vq$DEC/config.json" "$DEC" <<'PY' && ok "config: decoder $DEC, ar_hidden 24" || bad "config: $(cat "$T/vq$DEC/config.json")"
import json, sys
m = json.load(open(sys.argv[1]))["model_config"]
assert m["decoder"] == sys.argv[2] and m["ar_hidden"] == 24, m
PY
    L train --model gpt --codes-of "$T/vq$DEC" --limit 64 --layers 1 --heads 2 --width 16 --batch 16 --epochs 1 --samples 0 \
        --quiet --out "$T/of$DEC" || bad "train its prior"
    L eval "$T/vq$DEC" --json > "$T/vq.json" 2> /dev/null || bad "eval the stage one"
    L eval "$T/of$DEC" --json --bound > "$T/bound.json" 2> "$T/err"
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
    L encode "$T/vq$DEC" --split test -o "$T/c.tfrecord" 2> /dev/null || bad "encode"
    L decode "$T/vq$DEC" "$T/c.tfrecord" -n 16 -o "$T/d1.png" 2> "$T/err" && L decode "$T/vq$DEC" "$T/c.tfrecord" -n 16 -o "$T/d2.png" &&
        cmp -s "$T/d1.png" "$T/d2.png" && ok "decode: the same grid twice" || bad "decode: $(cat "$T/err")"
    L sample "$T/vq$DEC" -n 8 --seed 2 -o "$T/s.png" 2> "$T/err" && [ -s "$T/s.png" ] && ok "sample: drawn pixel by pixel" ||
        bad "sample: $(cat "$T/err")"
    L sample "$T/of$DEC" -n 8 --seed 2 -o "$T/p.png" 2> "$T/err" && [ -s "$T/p.png" ] && ok "prior sample -o: decoded by the $DEC decoder" ||
        bad "prior sample -o: $(cat "$T/err")"
done

# --trunk-from: the nade head alone trains on a conv run's frozen trunk: the same codes, the
# trunk's tensors bit for bit in the new checkpoint beside the head's five
L train --model vqvae $VQ --out "$T/conv" 2> "$T/err" || bad "train the conv trunk: $(cat "$T/err")"
L train --model vqvae $VQ --epochs 2 --decoder nade --ar-hidden 24 --trunk-from "$T/conv" --out "$T/head" 2> "$T/err" &&
    ok "train --trunk-from" || bad "train --trunk-from: $(cat "$T/err")"
L encode "$T/conv" --split test -o "$T/cc.tfrecord" 2> /dev/null && L encode "$T/head" --split test -o "$T/ch.tfrecord" 2> /dev/null &&
    cmp -s "$T/cc.tfrecord" "$T/ch.tfrecord" && ok "--trunk-from: the trunk's codes" || bad "--trunk-from: the codes differ"
python3 - "$T/conv/checkpoints/best.safetensors" "$T/head/checkpoints/last.safetensors" <<'PY' &&
import json, struct, sys
def load(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    return {k: b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in h.items() if k != "__metadata__"}
c, h = load(sys.argv[1]), load(sys.argv[2])
trunk = [k for k in c if k.startswith(("param.", "buffer."))]
assert len(trunk) > 20 and all(c[k] == h[k] for k in trunk), [k for k in trunk if c[k] != h[k]]
heads = [k for k in h if k.startswith("param.decoder.nade.")]
assert len(heads) == 5, heads
PY
    ok "--trunk-from: trunk tensors unchanged" || bad "--trunk-from: the trunk moved"
lt_expect2 "--trunk-from with the conv decoder" "$LATENT" train --model vqvae $VQ --trunk-from "$T/conv" --out "$T/x"
lt_expect2 "--trunk-from a missing run" "$LATENT" train --model vqvae $VQ --decoder nade --trunk-from "$T/nope" --out "$T/x"
lt_expect2 "--trunk-from another architecture" "$LATENT" train --model vqvae ${VQ/hidden 16/hidden 8} --decoder nade \
    --trunk-from "$T/conv" --out "$T/x"
grep -q "param.encoder.down.0.weight" "$T/err" && ok "  names the tensor" || bad "  $(cat "$T/err")"

lt_expect2 "--decoder pixelcnn" "$LATENT" train --model vqvae $VQ --decoder pixelcnn --out "$T/x"
lt_expect2 "--ar-hidden 0" "$LATENT" train --model vqvae $VQ --decoder nade --ar-hidden 0 --out "$T/x"
lt_expect2 "--decoder made on grey data" "$LATENT" train --model vqvae --data "$FM" --limit 32 --hidden 16 --codes 16 \
    --code-dim 4 --epochs 1 --samples 0 --quiet --decoder made --out "$T/x"
grep -q "needs binary data" "$T/err" && ok "  says why" || bad "  $(cat "$T/err")"
lt_expect2 "--decoder nade on grey data" "$LATENT" train --model vqvae --data "$FM" --limit 32 --hidden 16 --codes 16 \
    --code-dim 4 --epochs 1 --samples 0 --quiet --decoder nade --out "$T/x"
grep -q "decoder 'nade'.*needs binary data" "$T/err" && ok "  says why" || bad "  $(cat "$T/err")"
[ ! -e "$T/x" ] && ok "no run directory left by a refusal" || bad "a refused run left $T/x"
lt_finish test_vqvae_made_cli
