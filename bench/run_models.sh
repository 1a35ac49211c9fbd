#!/bin/bash
# Training speed and memory of the autoregressive models, latent vs PyTorch, side by side
# in one run: for each model, bench_models (C) and torch_models.py (python3-torch) train the
# same architecture on binarized MNIST, batch 100, Adam, 2 threads, each in its own process
# (so each peak RSS is that model's training alone). Prints ratios against the goals:
# MADE, FVSBN and the VAE 784-500-500-50 >= 2.5x PyTorch examples/s, NADE >= 20x PyTorch's
# per-dimension loop, MADE peak RSS <= 1/3 of PyTorch's.
#   MODELS="vae made" bench/run_models.sh ...   runs only those (default: all five)
#   bench/run_models.sh [BUILD_DIR] [DATA_DIR] [rounds]
# Both sides see the same environment (OMP_WAIT_POLICY etc.); the load average is printed
# because other processes on a 2-core machine distort both sides.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
DATA=${2:-$ROOT/../shared/data/binarized-mnist}
ROUNDS=${3:-3}
PY=/usr/bin/python3
[ -f "$DATA/train-images-idx3-ubyte.gz" ] || { echo "no binarized MNIST in $DATA"; exit 1; }
$PY -c 'import torch' 2> /dev/null || { echo "python3-torch missing (scripts/deps.sh test)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "data: $DATA; load average before: $(cut -d' ' -f1-3 /proc/loadavg); OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}"
for m in ${MODELS:-made fvsbn nade made2 vae}; do
    LATENT_THREADS=2 "$BUILD/bench_models" "$m" "$DATA" "$ROUNDS" | tee -a "$T/out.txt" | grep -v '^BENCH'
    $PY "$ROOT/bench/torch_models.py" "$m" "$DATA" "$ROUNDS" 0 2 | tee -a "$T/out.txt" | grep -v '^BENCH'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$T/out.txt" <<'PYEOF'
import sys
r = {}
for line in open(sys.argv[1]):
    if line.startswith('BENCH '):
        kv = dict(t.split('=', 1) for t in line.split()[1:])
        r[(kv['impl'], kv['model'])] = kv
def ratio(m, key):
    return float(r[('latent', m)][key]) / float(r[('pytorch', m)][key])
goals = [('made', 2.5), ('fvsbn', 2.5), ('nade', 20.0), ('made2', None), ('vae', 2.5)]
for m, goal in goals:
    if ('latent', m) not in r: continue
    x = ratio(m, 'ex_per_s')
    g = '' if goal is None else '  goal >= %.1fx: %s' % (goal, 'met' if x >= goal else 'NOT met')
    print('%-6s latent/pytorch examples/s: %6.1fx%s' % (m, x, g))
if ('latent', 'made') in r:
    x = ratio('made', 'peak_rss_mb')
    print('made   latent/pytorch peak RSS:   %6.2f   goal <= 0.33: %s' % (x, 'met' if x <= 1 / 3 else 'NOT met'))
PYEOF
