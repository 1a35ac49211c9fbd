#!/bin/bash
# VQGAN training step (generator + discriminator), latent vs PyTorch, side by side in one
# run (issue 15's goal: >= 1.5x PyTorch's examples/s). Each side in its own process, the
# two alternated `rounds` times (each process itself best of 3 rounds of `steps` steps); the
# best of each side is compared. The load average is printed before and after: the 2-core
# machine is shared and other processes distort both sides.
#   bench/run_vqgan.sh [BUILD_DIR] [rounds 2] [steps 5] [threads 2] [batch 32]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
ROUNDS=${2:-2}
STEPS=${3:-5}
TH=${4:-2}
B=${5:-32}
PY=/usr/bin/python3
$PY -c 'import torch' 2> /dev/null || { echo "python3-torch missing (scripts/deps.sh test)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
    LATENT_THREADS=$TH "$BUILD/bench_vqgan" "$B" 3 "$STEPS" | tee -a "$T/out.txt" | grep -v '^BENCH'
    $PY "$ROOT/bench/torch_vqgan.py" "$B" 3 "$STEPS" "$TH" | tee -a "$T/out.txt" | grep -v '^BENCH'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$T/out.txt" <<'PYEOF'
import sys
best = {}
for line in open(sys.argv[1]):
    if line.startswith('BENCH '):
        kv = dict(t.split('=', 1) for t in line.split()[1:])
        best[kv['impl']] = max(best.get(kv['impl'], 0), float(kv['ex_per_s']))
s = best['latent'] / best['pytorch']
print('vqgan G+D step: latent %.1f vs pytorch %.1f examples/s: %.2fx (goal >= 1.5: %s)'
      % (best['latent'], best['pytorch'], s, 'met' if s >= 1.5 else 'NOT met'))
PYEOF
