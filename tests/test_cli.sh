#!/usr/bin/env bash
# latent train / eval / sample end to end on tiny synthetic IDX data:
# exit codes (0, 2 for bad input, 130/143 for signals), JSON fields, run files, PNG.
set -u
LATENT=${LATENT:-build/latent}
[ -x "$LATENT" ] || { echo "SKIP: no CLI at $LATENT"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 needed to write test data"; exit 77; }
T=$(mktemp -d /tmp/lt_test_cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
check() { # check "what" command...: the command must succeed
    local what=$1; shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
expect_rc() { # expect_rc RC "what" latent-args...: exit code RC and, for 2, one line on stderr
    local rc=$1 what=$2; shift 2
    "$LATENT" "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ "$got" != "$rc" ]; then
        echo "FAIL $what: exit $got, expected $rc"; cat "$T/err"; fails=$((fails + 1)); return
    fi
    if [ "$rc" = 2 ] && [ "$(wc -l <"$T/err")" != 1 ]; then
        echo "FAIL $what: expected one line on stderr, got:"; cat "$T/err"; fails=$((fails + 1)); return
    fi
    echo "ok   $what (exit $rc: $(head -c 150 "$T/err"))"
}

python3 - "$T" <<'EOF'
import gzip, os, random, struct, sys
root = sys.argv[1]
def write(d, stem, n, h, w, labels=True):
    os.makedirs(d, exist_ok=True)
    rnd = random.Random(hash((stem, h)) & 0xffff)
    imgs, ys = bytearray(), bytearray()
    for i in range(n):
        y = i % 2
        for r in range(h):
            for c in range(w):
                on = (r < h // 2) if y == 0 else (c < w // 2)
                imgs.append(int(on != (rnd.random() < 0.1)))
        ys.append(y)
    with gzip.open(f"{d}/{stem}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, h, w) + bytes(imgs))
    if labels:
        with gzip.open(f"{d}/{stem}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 0x801, n) + bytes(ys))
for s, n in (("train", 200), ("valid", 50), ("test", 50)):
    write(f"{root}/d8", s, n, 8, 8)
    write(f"{root}/d7", s, n, 7, 7)
    write(f"{root}/bad", s, n, 8, 8)
# corrupt: cut the training file in half
p = f"{root}/bad/train-images-idx3-ubyte.gz"
b = open(p, "rb").read()
open(p, "wb").write(b[: len(b) // 2])
EOF

R=$T/run
expect_rc 0 "train made --json" train --model made --data "$T/d8" --hidden 16 --epochs 2 --batch 50 --lr 0.01 \
    --samples 16 --threads 2 --json --out "$R"
check "train --json: 2 JSON lines on stdout with epoch and valid_nll" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 2, lines
for i, l in enumerate(lines):
    o = json.loads(l); assert o["epoch"] == i + 1 and o["valid_nll"] > 0 and "train_loss" in o
' "$T/out"
for f in config.json metrics.jsonl checkpoints/best.safetensors checkpoints/last.safetensors samples/epoch-002.png; do
    check "run has $f" test -s "$R/$f"
done
check "metrics.jsonl has 2 lines" test "$(wc -l <"$R/metrics.jsonl")" = 2
check "no temporary files left" test -z "$(find "$R" -name '*.tmp')"

expect_rc 0 "eval --json" eval "$R" --split test --json
check "eval JSON fields" python3 -c '
import json, math, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1
o = json.loads(lines[0])
for k in ("model", "split", "examples", "nll_nats", "nll_stderr", "bits_per_dim"): assert k in o, k
assert o["model"] == "made" and o["split"] == "test" and o["examples"] == 50
assert abs(o["bits_per_dim"] - o["nll_nats"] / (64 * math.log(2))) < 1e-6
assert 0 < o["nll_nats"] < 64 * math.log(2) + 5
' "$T/out"
expect_rc 0 "eval valid, last checkpoint" eval "$R" --split valid --checkpoint last
expect_rc 2 "eval on data of another image size" eval "$R" --data "$T/d7"
expect_rc 2 "eval --classify on an unconditional model" eval "$R" --classify
expect_rc 2 "eval of a missing run" eval "$T/nope"
expect_rc 2 "eval --split bogus" eval "$R" --split bogus

expect_rc 0 "sample" sample "$R" -n 10 --seed 4 -o "$T/grid.png"
check "sample wrote a PNG" python3 -c 'import sys; assert open(sys.argv[1], "rb").read(8) == b"\x89PNG\r\n\x1a\n"' "$T/grid.png"
expect_rc 2 "sample without -o" sample "$R"

expect_rc 0 "resume to 3 epochs" train --resume "$R" --epochs 3
check "metrics.jsonl has 3 lines after resume" test "$(wc -l <"$R/metrics.jsonl")" = 3
expect_rc 2 "resume with model flags" train --resume "$R" --hidden 8

expect_rc 2 "unknown option" train --model made --data "$T/d8" --out "$T/r2" --bogus
expect_rc 2 "missing data" train --model made --data "$T/none" --out "$T/r2"
expect_rc 2 "corrupt data" train --model made --data "$T/bad" --out "$T/r2"
expect_rc 2 "flag that does not apply to the model" train --model fvsbn --masks 2 --data "$T/d8" --out "$T/r2"
expect_rc 2 "unknown model" train --model gan --data "$T/d8" --out "$T/r2"
expect_rc 2 "bad number" train --model made --data "$T/d8" --out "$T/r2" --lr fast
expect_rc 2 "existing run" train --model made --data "$T/d8" --out "$R"
check "nothing written for rejected runs" test ! -e "$T/r2"

C=$T/cond
expect_rc 0 "train conditional" train --model made --conditional --data "$T/d8" --hidden 16 --epochs 3 --batch 50 \
    --lr 0.01 --samples 0 --out "$C"
expect_rc 0 "eval --classify --json" eval "$C" --classify --json
check "classification accuracy in JSON" python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["accuracy"] > 0.9, o
' "$T/out"

for sig in INT TERM; do
    "$LATENT" train --model made --data "$T/d8" --hidden 16 --epochs 100000 --batch 50 --samples 0 \
        --out "$T/sig$sig" 2>"$T/err" >/dev/null &
    pid=$!
    for _ in $(seq 50); do [ -s "$T/sig$sig/checkpoints/last.safetensors" ] && break; sleep 0.1; done
    kill -$sig $pid
    wait $pid
    rc=$?
    want=$([ $sig = INT ] && echo 130 || echo 143)
    check "SIG$sig exits $want (got $rc)" test "$rc" = "$want"
    check "SIG$sig leaves last checkpoint" test -s "$T/sig$sig/checkpoints/last.safetensors"
done
expect_rc 0 "an interrupted run evaluates" eval "$T/sigINT" --checkpoint last

# A latent-variable model: eval --iw K reports the importance-sampled NLL beside the
# negative ELBO, which bounds it from above (K = 200 samples, 10 ELBO draws).
expect_rc 0 "train vae" train --model vae --data "$T/d8" --hidden 32 --latent 4 --epochs 3 --batch 50 --samples 0 \
    --threads 1 --quiet --out "$T/vae"
expect_rc 0 "eval vae --iw 200" eval "$T/vae" --iw 200 --json
check "vae eval JSON: nll_nats <= neg_elbo_nats, iw_samples 200" python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["iw_samples"] == 200 and 0 < o["nll_nats"] <= o["neg_elbo_nats"] + 2 * o["neg_elbo_stderr"], o
assert o["elbo_nats"] == o["neg_elbo_nats"], o  # the contract key (DESIGN.md), on the loss scale
' "$T/out"
# A periodic checkpoint by name; anything else named is refused before any file is opened.
expect_rc 0 "eval --checkpoint epoch-002" eval "$T/vae" --checkpoint epoch-002 --split valid --json
check "eval of epoch-002 says so" grep -q '"checkpoint":"epoch-002"' "$T/out"
expect_rc 2 "eval --checkpoint epoch-009 (not kept)" eval "$T/vae" --checkpoint epoch-009
expect_rc 2 "sample --checkpoint ../x" sample "$T/vae" --checkpoint ../x -o "$T/x.png"

echo "$fails failures"
[ "$fails" = 0 ]
