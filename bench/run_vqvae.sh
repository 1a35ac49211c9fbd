#!/bin/bash
# VQ-VAE training step, latent vs PyTorch, side by side in one run (issue 12's speed goal:
# >= 1.5x PyTorch's examples/s at batch 32 and 64, peak RSS <= 1/2 of PyTorch's). Each side
# in its own process, the two alternated per batch size, best of `rounds` rounds each; the
# load average is printed before and after because other processes on the shared 2-core
# machine distort both sides.
#   bench/run_vqvae.sh [BUILD_DIR] [rounds 3] [steps 10] [threads 2]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
ROUNDS=${2:-3}
STEPS=${3:-10}
TH=${4:-2}
PY=/usr/bin/python3
$PY -c 'import torch' 2> /dev/null || { echo "python3-torch missing (scripts/deps.sh test)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for b in 32 64; do
    LATENT_THREADS=$TH "$BUILD/bench_vqvae" "$b" "$ROUNDS" "$STEPS" | tee -a "$T/out.txt" | grep -v '^BENCH'
    $PY "$ROOT/bench/torch_vqvae.py" "$b" "$ROUNDS" "$STEPS" "$TH" | tee -a "$T/out.txt" | grep -v '^BENCH'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$T/out.txt" <<'PYEOF'
import sys
r = {}
for line in open(sys.argv[1]):
    if line.startswith('BENCH '):
        kv = dict(t.split('=', 1) for t in line.split()[1:])
        r[(kv['impl'], kv['batch'])] = kv
for b in ('32', '64'):
    s = float(r[('latent', b)]['ex_per_s']) / float(r[('pytorch', b)]['ex_per_s'])
    m = float(r[('latent', b)]['peak_rss_mb']) / float(r[('pytorch', b)]['peak_rss_mb'])
    print('batch %s: latent/pytorch examples/s %.2fx (goal >= 1.5: %s), peak RSS %.2f (goal <= 0.5: %s)'
          % (b, s, 'met' if s >= 1.5 else 'NOT met', m, 'met' if m <= 0.5 else 'NOT met'))
PYEOF
