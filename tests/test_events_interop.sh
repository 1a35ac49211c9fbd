#!/bin/bash
# TensorBoard event files read back with Google's protobuf runtime (python3-protobuf,
# protobuf-compiler, python3-crc32c): a tiny MADE run, then a resumed session
# (a second event file), tags, steps and values against metrics.jsonl, the sample
# grids as PNG images, the configuration as text; --keep prunes periodic checkpoints;
# a VAE adds valid/elbo and reconstructions.
set -euo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
need="event interop needs protobuf-compiler, python3-protobuf and python3-crc32c (apt-get install them)"
command -v protoc > /dev/null || lt_skip "$need"
lt_python_or_skip "$need" google.protobuf crc32c # Debian's python3-protobuf
T=$(mktemp -d /tmp/lt_test_events.XXXXXX)
trap 'rm -rf "$T"' EXIT
SRC=$LT_SOURCE_DIR/tests/py
protoc --python_out="$T" -I"$SRC" "$SRC/event.proto"
$PY "$SRC/write_idx.py" "$T/d" 200 50 50 8

R=$T/run # 200 examples / batch 50 = 4 steps per epoch; scalars every 2 steps
"$LATENT" train --model made --data "$T/d" --hidden 16 --epochs 2 --batch 50 --lr 0.01 --samples 16 \
    --threads 1 --log-every 2 --keep 1 --quiet --out "$R"
$PY "$SRC/events_interop.py" "$T" "$R" 2 4 1
sleep 1 # a new second: the resumed session's file gets its own time in the name
"$LATENT" train --resume "$R" --epochs 3 --threads 1 --log-every 2 --keep 1 --quiet
$PY "$SRC/events_interop.py" "$T" "$R" 2 4 2

# --keep 1: the newest periodic checkpoint plus the best epoch's
best=$($PY -c 'import json,sys; m=[json.loads(l) for l in open(sys.argv[1])]; print(min(m, key=lambda r: r["valid_nll"])["epoch"])' "$R/metrics.jsonl")
want=$(printf 'epoch-%03d.safetensors\n' 3 "$best" | sort -u | tr '\n' ' ')
got=$(cd "$R/checkpoints" && ls epoch-*.safetensors | sort | tr '\n' ' ')
[ "$got" = "$want" ] || { echo "FAIL --keep 1 (best epoch $best): checkpoints $got, expected $want"; exit 1; }
cmp -s "$R/checkpoints/epoch-003.safetensors" "$R/checkpoints/last.safetensors" ||
    { echo "FAIL epoch-003 differs from last after the final epoch"; exit 1; }
echo "keep: ok ($got)"

# A model with a bound and an encoder/decoder: valid/elbo and reconstructions too
"$LATENT" train --model vae --data "$T/d" --hidden 16 --epochs 2 --batch 50 --samples 4 --threads 1 --log-every 2 \
    --quiet --out "$T/vae"
$PY "$SRC/events_interop.py" "$T" "$T/vae" 2 4 1
# A model with a relaxation temperature: train/temperature and valid/temperature too, annealed
"$LATENT" train --model gsvae --data "$T/d" --hidden 16 --latent 4 --classes 3 --epochs 2 --batch 50 --samples 4 \
    --threads 1 --log-every 2 --tau0 1 --tau-min 0.5 --anneal-rate 0.1 --anneal-every 1 --quiet --out "$T/gs"
$PY "$SRC/events_interop.py" "$T" "$T/gs" 2 4 1
# ... and a score-function gsvae has no temperature to log
"$LATENT" train --model gsvae --estimator score-ma --data "$T/d" --hidden 16 --latent 4 --classes 3 --epochs 1 \
    --batch 50 --samples 4 --threads 1 --log-every 2 --quiet --out "$T/gs-score"
$PY "$SRC/events_interop.py" "$T" "$T/gs-score" 2 4 1
grep -q temperature "$T/gs-score/metrics.jsonl" && { echo "FAIL score-ma run logs a temperature"; exit 1; }
$PY - "$T/gs/metrics.jsonl" <<'PYEOF' || exit 1
import json, math, sys
m = [json.loads(l) for l in open(sys.argv[1])]
want = [max(0.5, math.exp(-0.1 * (e["global_step"] - 1))) for e in m]  # tau of each epoch's last step
got = [e["temperature"] for e in m]
if any(abs(a - b) > 1e-5 for a, b in zip(got, want)):
    sys.exit(f"FAIL temperature {got}, expected {want}")
print("temperature: ok", got)
PYEOF
