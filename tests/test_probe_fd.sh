#!/bin/bash
# latent probe and latent fd end to end with a small VQ-VAE trained here on 300 Fashion-MNIST
# images, a copy made here (docs/metrics.md): valid_knn_acc logged per epoch; probe --json keys, accuracies and the
# checkpoint's SHA-256; FD_self(test, train) well below FD_self(test, noisy test) and FD_self rising
# monotonically with noise and with blur (PNG grids of degraded test images, tests/tools/degrade_tool.c);
# samples of a run as --fake; compare's table (--json); bad input (missing run, a model without features, a PNG of another size,
# missing flags) exits 2 with one line.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
FM=/usr/share/datasets/fashion-mnist
[ -f "$FM/train-images-idx3-ubyte.gz" ] || lt_skip "needs Debian's dataset-fashion-mnist"
lt_python_or_skip "needs a python3 to read JSON" json
lt_tool degrade_tool
lt_tmpdir probe
L() { "$LATENT" "$@" --threads 1; }
N=300
# A small copy of Fashion-MNIST (the first N images of train, the next N as valid, N of t10k as test,
# with labels): every command below reads it whole, which costs seconds per call on the full set under
# the sanitizers.
$PY - "$FM" "$T/fm" $N <<'PY' || bad "small copy of Fashion-MNIST"
import gzip, os, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(dst)
def read(name):
    b = gzip.open(os.path.join(src, name)).read()
    return b, (16 if struct.unpack(">I", b[:4])[0] == 0x803 else 8)
for kind, per in (("images-idx3-ubyte", 784), ("labels-idx1-ubyte", 1)):
    for out, name, first in (("train", "train", 0), ("valid", "train", n), ("test", "t10k", 0)):
        b, h = read("%s-%s.gz" % (name, kind))
        head = b[:4] + struct.pack(">I", n) + b[8:h]
        with gzip.open(os.path.join(dst, "%s-%s.gz" % (out, kind)), "wb") as f:
            f.write(head + b[h + first * per:h + (first + n) * per])
PY
FM=$T/fm

L train --model vqvae --data "$FM" --out "$T/run" --hidden 16 --res-hidden 8 --codes 16 --code-dim 4 \
    --batch 32 --epochs 1 --samples 4 --seed 3 --quiet || bad "train"
grep -Eq '"valid_knn_acc": (0|1)(\.[0-9]+)?[,}]' "$T/run/metrics.jsonl" && ok "metrics.jsonl: valid_knn_acc" \
    || bad "no valid_knn_acc in $(tail -1 "$T/run/metrics.jsonl")"

L probe "$T/run" --json > "$T/probe.json" 2> "$T/probe.err" || bad "probe: $(cat "$T/probe.err")"
sha=$(sha256sum "$T/run/checkpoints/best.safetensors" | cut -d' ' -f1)
$PY - "$T/probe.json" "$sha" $N <<'PY' && ok "probe --json" || bad "probe --json: $(cat "$T/probe.json")"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["checkpoint_sha256"] == sys.argv[2], "sha256"
assert e["n_train"] == e["n_valid"] == e["n_eval"] == int(sys.argv[3]) and e["n_classes"] == 10
assert e["knn_k"] == 200 and e["knn_temperature"] == 0.1
for k in ["encoder", "random_init", "raw_pixels"]:
    r = e[k]
    for f in ["feature_size", "linear_acc", "linear_valid_acc", "linear_train_acc", "l2", "lbfgs_iterations",
              "grad_norm", "converged", "knn_acc"]:
        assert f in r, (k, f)
    assert 0.1 < r["linear_acc"] <= 1 and 0.1 < r["knn_acc"] <= 1, k   # 10 classes: well above chance
    assert r["converged"] is True, k
assert e["raw_pixels"]["feature_size"] == 784 and e["encoder"]["feature_size"] == 4 * 7 * 7
assert e["raw_pixels"]["linear_acc"] > 0.65, "raw pixels"   # 300 training images of Fashion-MNIST
PY

# --only: the encoder's probe alone gives the same figures as inside the full probe
L probe "$T/run" --json --only encoder > "$T/probe1.json" 2> "$T/probe.err" || bad "probe --only: $(cat "$T/probe.err")"
$PY - "$T/probe.json" "$T/probe1.json" <<'PY' && ok "probe --only encoder" || bad "probe --only: $(cat "$T/probe1.json")"
import json, sys
full, one = (json.load(open(f)) for f in sys.argv[1:])
assert "random_init" not in one and "raw_pixels" not in one, "controls computed"
for f in ["linear_acc", "linear_valid_acc", "l2", "knn_acc", "feature_size"]:
    assert one["encoder"][f] == full["encoder"][f], f
assert one["n_train"] == full["n_train"] and one["n_eval"] == full["n_eval"]
PY

# FD_self against degraded copies of the test images, read back from PNG grids
fd() { L fd --encoder "$T/run" --real "$FM" --fake "$1" -n $N --kid-subsets 5 --json 2> "$T/fd.err" \
    | $PY -c 'import json,sys; print(json.load(sys.stdin)["fd_self"])' || echo "error $(cat "$T/fd.err")"; }
for m in "noise 0" "noise 0.1" "noise 0.2" "noise 0.4" "blur 1" "blur 2" "blur 4"; do
    set -- $m
    mkdir -p "$T/$1_$2"
    "$TOOL" "$FM" test $N "$1" "$2" "$T/$1_$2/grid.png" || bad "degrade_tool $m"
    echo "$m $(fd "$T/$1_$2")" >> "$T/fds"
done
echo "train $(L fd --encoder "$T/run" --real "$FM" --fake "$FM" -n $N --kid-subsets 5 --json \
    | $PY -c 'import json,sys; print(json.load(sys.stdin)["fd_self"])')" >> "$T/fds"
cat "$T/fds"
$PY - "$T/fds" <<'PY' && ok "FD_self: test vs train << test vs noisy test; monotone in noise and blur" || bad "FD_self ordering"
import sys
v = {}
for line in open(sys.argv[1]):
    w = line.split()
    v[" ".join(w[:-1])] = float(w[-1])
assert abs(v["noise 0"]) < 1e-6, "identical sets"
noise = [v["noise 0"], v["noise 0.1"], v["noise 0.2"], v["noise 0.4"]]
blur = [v["noise 0"], v["blur 1"], v["blur 2"], v["blur 4"]]
assert all(a < b for a, b in zip(noise, noise[1:])), noise
assert all(a < b for a, b in zip(blur, blur[1:])), blur
assert v["train"] * 2 < v["noise 0.2"] and v["train"] * 10 < v["noise 0.4"], (v["train"], noise)
PY

L fd --encoder "$T/run" --real "$FM" --fake "$T/run" -n 100 --kid-subsets 5 > "$T/fd.txt" 2>&1 \
    && grep -q "FD_self .* KID_self .* sha256 $sha" "$T/fd.txt" && ! grep -Eq "(^| )FID[ :=]" "$T/fd.txt" \
    && ok "fd --fake RUN (samples): $(head -1 "$T/fd.txt" | cut -c1-60)" || bad "fd --fake RUN: $(cat "$T/fd.txt")"

# --recon: the run's reconstructions of the real split's images, as many as the real ones. Even
# this 10-step VQ-VAE reconstructs closer to the test images than its uniform-prior samples are
# (0.78 against 0.84; a trained Fashion-MNIST VQ-VAE: 29.9 against 2247, docs/metrics.md)
L fd --encoder "$T/run" --real "$FM" --fake "$T/run" --recon -n $N --kid-subsets 5 --json > "$T/rec.json" 2> "$T/rec.err" \
    || bad "fd --recon: $(cat "$T/rec.err")"
L fd --encoder "$T/run" --real "$FM" --fake "$T/run" -n $N --kid-subsets 5 --json > "$T/smp.json" 2> "$T/smp.err" \
    || bad "fd samples: $(cat "$T/smp.err")"
$PY - "$T/rec.json" "$T/smp.json" $N <<'PY' && ok "fd --recon: $(cut -c1-80 "$T/rec.json")" || bad "fd --recon: $(cat "$T/rec.json" "$T/smp.json")"
import json, math, sys
r, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert r["fake_kind"] == "reconstructions" and r["fake_split"] == "test" and r["n_fake"] == r["n_real"] == int(sys.argv[3])
assert 0 < r["fd_self"] < s["fd_self"] and math.isfinite(r["kid_self"]), (r["fd_self"], s["fd_self"])
# subsets of all 300 rows have no spread (sd 0), but the KID still has a standard error
assert r["kid_self_sd"] < 1e-6 and 0 < r["kid_self_se"] < 0.1 * r["kid_self"], r
assert 0 < s["kid_self_se"] < 0.1 * s["kid_self"], s
PY

# bad input exits 2 with one line
expect2() { local what=$1; shift; "$@" > /dev/null 2> "$T/err"; local rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && ok "$what: exit 2 ($(head -c 110 "$T/err"))" \
        || bad "$what: exit $rc, expected 2 and one line: $(cat "$T/err")"; }
L train --model fvsbn --data "$FM" --out "$T/fv" --epochs 1 --samples 4 --quiet || bad "train fvsbn"
L eval "$T/fv" --json > "$T/fv_eval.json" 2> /dev/null || bad "eval fvsbn"
L compare "$T/run" "$T/fv" --encoder "$T/run" -n 100 --kid-subsets 5 --json > "$T/cmp.json" 2> "$T/cmp.err" \
    || bad "compare: $(cat "$T/cmp.err")"
$PY - "$T/cmp.json" "$T/fv_eval.json" "$sha" <<'PY' && ok "compare --json: one row per run, NLL from eval.json" \
    || bad "compare: $(cat "$T/cmp.json")"
import json, math, sys
c, ev = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert c["encoder_sha256"] == sys.argv[3] and c["n_real"] == 100
a, b = c["runs"]
assert a["model"] == "vqvae" and a["nll_source"] == "computed" and math.isfinite(a["nll_nats"])
assert b["model"] == "fvsbn" and b["nll_source"] == "eval.json" and abs(b["nll_nats"] - ev["nll_nats"]) < 1e-6
for r in (a, b):
    assert r["n_samples"] == 100 and r["fd_self"] > 0 and math.isfinite(r["kid_self"]) and r["kid_self_se"] > 0
PY
mkdir -p "$T/small"
$PY - "$T/small/x.png" <<'PY' || bad "write a 20x20 PNG"
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
raw = b"".join(b"\0" + bytes(20) for _ in range(20))  # 20x20 grey, filter 0 per row
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20, 20, 8, 0, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
expect2 "probe: missing run" L probe "$T/nope"
expect2 "probe: model without features" L probe "$T/fv"
expect2 "fd: missing encoder" L fd --encoder "$T/nope" --real "$FM" --fake "$FM"
expect2 "fd: encoder without features" L fd --encoder "$T/fv" --real "$FM" --fake "$FM"
expect2 "fd: PNG that is not a 28x28 image or grid" L fd --encoder "$T/run" --real "$FM" --fake "$T/small"
expect2 "fd: no --fake" L fd --encoder "$T/run" --real "$FM"
expect2 "fd --recon: a model that does not encode" L fd --encoder "$T/run" --real "$FM" --fake "$T/fv" --recon -n 50
expect2 "probe: --split train" L probe "$T/run" --split train
expect2 "probe: --only with an unknown feature space" L probe "$T/run" --only encoder,pixels
expect2 "probe: --only empty" L probe "$T/run" --only ,
expect2 "compare: a run that is not one" L compare "$T/nope" --encoder "$T/run" -n 10
expect2 "compare: no --encoder" L compare "$T/run"
lt_finish test_probe_fd
