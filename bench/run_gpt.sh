#!/bin/bash
# Training step of the transformer prior (--model gpt), latent vs PyTorch, side by side in one
# run (issue 13's speed goal: >= 1.5x PyTorch): bench_gpt and torch_gpt.py train the same
# network (7x7 = 49 codes, K 512, 4 pre-LN layers, 4 heads, width 128, AdamW) on the same
# batch size, each in its own process, the two sides alternated REPEATS times, each side's
# best kept. Prints grids/s and ms/step of each, the ratio and the peak RSS ratio, and the
# load average before and after: other processes on the shared 2-core machine distort both.
#   bench/run_gpt.sh [BUILD_DIR] [rounds 3] [steps 5] [threads 2] [repeats 2]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
ROUNDS=${2:-3}
STEPS=${3:-5}
TH=${4:-2}
REPEATS=${5:-2}
PY=/usr/bin/python3
[ -x "$BUILD/bench_gpt" ] || { echo "no $BUILD/bench_gpt (build first)"; exit 1; }
$PY -c 'import torch' 2> /dev/null || { echo "python3-torch missing (scripts/deps.sh test)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $TH threads each"
for b in ${BATCHES:-64}; do
    for r in $(seq "$REPEATS"); do
        LATENT_THREADS=$TH "$BUILD/bench_gpt" "$b" "$ROUNDS" "$STEPS" | tee -a "$T/out.txt" | grep -v '^BENCH'
        $PY "$ROOT/bench/torch_gpt.py" "$b" "$ROUNDS" "$STEPS" "$TH" | tee -a "$T/out.txt" | grep -v '^BENCH'
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$T/out.txt" <<'PYEOF'
import sys
best = {}
for line in open(sys.argv[1]):
    if not line.startswith('BENCH '): continue
    kv = dict(t.split('=', 1) for t in line.split()[1:])
    key = (kv['impl'], kv['batch'])
    old = best.get(key)
    rss = max(float(kv['peak_rss_mb']), float(old['peak_rss_mb']) if old else 0.0)
    if not old or float(kv['ex_per_s']) > float(old['ex_per_s']): old = kv
    best[key] = dict(old, peak_rss_mb=rss)
for (impl, b), kv in sorted(best.items()):
    if impl != 'latent' or ('pytorch', b) not in best: continue
    pt = best[('pytorch', b)]
    s = float(kv['ex_per_s']) / float(pt['ex_per_s'])
    m = float(kv['peak_rss_mb']) / float(pt['peak_rss_mb'])
    print('gpt batch %s T %s: latent %.1f, pytorch %.1f grids/s: %.2fx (goal >= 1.5: %s); peak RSS %.1f / %.1f MB = %.2f'
          % (b, kv['T'], float(kv['ex_per_s']), float(pt['ex_per_s']), s, 'met' if s >= 1.5 else 'NOT met',
             kv['peak_rss_mb'], pt['peak_rss_mb'], m))
PYEOF
