#!/bin/bash
# SimCLR training step, latent vs PyTorch, side by side in one run (issue 14's speed goal:
# >= 1.5x PyTorch's examples/s on the same encoder and batch). Each side in its own process,
# alternated, best of `rounds` rounds each; `uptime` is printed before and after because
# other processes on the shared 2-core machine distort both sides.
#   bench/run_simclr.sh [BUILD_DIR] [batch 256] [rounds 2] [steps 3] [threads 2] [channels 1] [side 28]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
B=${2:-256}
ROUNDS=${3:-2}
STEPS=${4:-3}
TH=${5:-2}
C=${6:-1}
S=${7:-28}
PY=/usr/bin/python3
$PY -c 'import torch' 2> /dev/null || { echo "python3-torch missing (scripts/deps.sh test)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "before: $(uptime)"
for rep in 1 2; do # alternate the sides twice; the summary takes each side's best
    LATENT_THREADS=$TH "$BUILD/bench_simclr" "$B" "$ROUNDS" "$STEPS" "$C" "$S" | tee -a "$T/out.txt" | grep -v '^BENCH'
    $PY "$ROOT/bench/torch_simclr.py" "$B" "$ROUNDS" "$STEPS" "$TH" "$C" "$S" | tee -a "$T/out.txt" | grep -v '^BENCH'
done
echo "after: $(uptime)"
$PY - "$T/out.txt" <<'PYEOF'
import sys
best = {}
for line in open(sys.argv[1]):
    if line.startswith('BENCH '):
        kv = dict(t.split('=', 1) for t in line.split()[1:])
        best[kv['impl']] = max(best.get(kv['impl'], 0.0), float(kv['ex_per_s']))
s = best['latent'] / best['pytorch']
print('simclr: latent %.1f / pytorch %.1f examples/s = %.2fx (goal >= 1.5: %s)'
      % (best['latent'], best['pytorch'], s, 'met' if s >= 1.5 else 'NOT met'))
PYEOF
