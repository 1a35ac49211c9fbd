#!/bin/bash
# latent train --data tfrecord:PREFIX --features SPEC.json: the same data in the same
# order as the IDX directory it was converted from, so the same seed gives bit-equal
# losses and validation NLLs (the byte path through decode_raw, and the float path a
# spec with a default_value takes). On synthetic labeled binary images always (with a
# conditional MADE), and on the first 1,000 images of each split of binarized MNIST
# when ../shared/data has it. Then the errors a user meets.
set -euo pipefail
: "${LATENT:?}" "${LT_SOURCE_DIR:?}"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# synthetic IDX: 600/200/200 binary 12x10 images with labels 0..4 (blobs by class)
mkdir syn
python3 - syn <<'EOF'
import gzip, random, struct, sys
random.seed(3)
for split, n in (("train", 600), ("valid", 200), ("test", 200)):
    ys = [random.randrange(5) for _ in range(n)]
    px = bytearray()
    for y in ys:
        for k in range(120):
            p = 0.8 if (k // 10 + k % 10) % 5 == y else 0.1
            px.append(1 if random.random() < p else 0)
    with gzip.open("%s/%s-images-idx3-ubyte.gz" % (sys.argv[1], split), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 12, 10) + bytes(px))
    with gzip.open("%s/%s-labels-idx1-ubyte.gz" % (sys.argv[1], split), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(ys))
EOF
"$LATENT" tfrecord convert --from syn --to syn/tf --shards 3 2>/dev/null
"$LATENT" tfrecord convert --from syn --to syn/gz --compression gzip 2>/dev/null
cat > u8.json <<'EOF'
{"columns": [{"type": "numeric_column", "key": "image/raw", "shape": [12, 10], "decode_raw": "uint8"}]}
EOF
# a default_value rules out the byte path: the spec's float rows are stored instead
cat > float.json <<'EOF'
{"columns": [{"type": "numeric_column", "key": "image/raw", "shape": 120, "decode_raw": "uint8", "default_value": 0}]}
EOF

last() { "$LATENT" train "$@" --json 2>"$tmp/err" | tail -1 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["train_loss"], d["valid_nll"])'; }
common=(--model made --hidden 64 --epochs 8 --batch 20 --seed 11 --samples 0 --threads 1)   # 240 steps

ref=$(last "${common[@]}" --conditional --data syn --out r_idx)
for src in "tfrecord:syn/tf u8.json" "tfrecord:syn/gz u8.json" "tfrecord:syn/tf-{split}-0000?-of-00003 u8.json" \
           "tfrecord:syn/tf float.json"; do
    set -- $src
    got=$(last "${common[@]}" --conditional --data "$1" --features "$2" --out "r_$RANDOM")
    [ "$got" = "$ref" ] || { echo "FAIL: $1 with $2: train loss, valid NLL '$got', IDX gives '$ref'"; cat "$tmp/err"; exit 1; }
done
echo "ok: synthetic conditional MADE, IDX and TFRecord (plain, 3 shards, gzip, {split}, float rows): $ref"

# eval reads the spec back from config.json; test NLL equal too
e1=$("$LATENT" eval r_idx --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["nll_nats"])')
"$LATENT" train "${common[@]}" --conditional --data tfrecord:syn/tf --features u8.json --out r_tf >/dev/null 2>&1
e2=$("$LATENT" eval r_tf --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["nll_nats"])')
[ "$e1" = "$e2" ] || { echo "FAIL: test NLL $e2 from TFRecord, $e1 from IDX"; exit 1; }

# the errors a user meets: exit 2 and a message that says what to do
expect_fail() { # message-substring command...
    local want=$1; shift
    set +e; "$@" >/dev/null 2>"$tmp/err"; local rc=$?; set -e
    [ $rc -eq 2 ] && grep -q -- "$want" "$tmp/err" || { echo "FAIL: '$*' gave exit $rc:"; cat "$tmp/err"; exit 1; }
}
expect_fail "needs a feature spec" "$LATENT" train "${common[@]}" --data tfrecord:syn/tf --out r_e1
expect_fail "PREFIX-train-" "$LATENT" train "${common[@]}" --data 'tfrecord:syn/*.tfrecord' --features u8.json --out r_e2
expect_fail "applies only to tfrecord" "$LATENT" train "${common[@]}" --data syn --features u8.json --out r_e3
echo '{"columns": [{"type": "numeric_column", "key": "image/raw", "shape": 100, "decode_raw": "uint8"}]}' > bad.json
expect_fail "record 0 offset 0" "$LATENT" train "${common[@]}" --data tfrecord:syn/tf --features bad.json --out r_e4
grep -q "expected 1 of 100" "$tmp/err" || { echo "FAIL: wrong-length message"; cat "$tmp/err"; exit 1; }
echo "ok: errors"

data="$LT_SOURCE_DIR/../shared/data/binarized-mnist"
if [ ! -f "$data/train-images-idx3-ubyte.gz" ]; then
    echo "SKIP (binarized MNIST part): $data not found"
    exit 0
fi
"$LATENT" tfrecord convert --from "$data" --to bm --shards 2 2>/dev/null
cat > mnist.json <<'EOF'
{"columns": [{"type": "numeric_column", "key": "image/raw", "shape": [28, 28], "decode_raw": "uint8"}]}
EOF
mnist=(--model made --hidden 100 --epochs 3 --batch 10 --limit 1000 --seed 2 --samples 0 --threads 1)  # 300 steps
a=$(last "${mnist[@]}" --data "$data" --out m_idx)
b=$(last "${mnist[@]}" --data tfrecord:bm --features mnist.json --out m_tf)
[ "$a" = "$b" ] || { echo "FAIL: binarized MNIST: TFRecord '$b', IDX '$a'"; exit 1; }
echo "ok: binarized MNIST (1,000 per split), MADE 300 steps: train loss, valid NLL $a from both"
