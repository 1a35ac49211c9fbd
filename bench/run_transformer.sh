#!/bin/bash
# Transformer training speed and memory, latent vs PyTorch, side by side in one run:
# bench_transformer (C, from the ops) and torch_transformer.py (python3-torch) train the
# same GPT-style model (4 pre-LN layers, 4 heads, width 128, vocabulary 512, batch 64) at
# 49 and at 196 tokens, each (side, T) in its own process so each peak RSS is that run's
# alone; the two sides alternate, REPEATS times, and each side's best is kept. Then the
# attention op alone (qkv (64,T,384), 4 heads, causal; forward, forward+backward) both
# ways, and latent's KV-cache sampling against re-running the prefix per token.
# Prints tokens/s of each side and the ratio (goal >= 1.5x), peak RSS of each (goal
# latent <= 1/2 of PyTorch's), the attention op's ratio, and the load average before and
# after: other processes on a 2-core machine distort both sides.
#   bench/run_transformer.sh [BUILD_DIR] [rounds] [repeats]     (defaults: build, 3, 2)
#   TOKENS="49" bench/run_transformer.sh ...                      only those lengths
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
ROUNDS=${2:-3}
REPEATS=${3:-2}
PY=/usr/bin/python3
[ -x "$BUILD/bench_transformer" ] || { echo "no $BUILD/bench_transformer (build first)"; exit 1; }
$PY -c 'import torch' 2> /dev/null || { echo "python3-torch missing (scripts/deps.sh test)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); 2 threads each; OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}"
for n in ${TOKENS:-49 196}; do
    for r in $(seq "$REPEATS"); do
        LATENT_THREADS=2 "$BUILD/bench_transformer" train "$n" "$ROUNDS" | tee -a "$T/out.txt" | grep -v '^BENCH'
        $PY "$ROOT/bench/torch_transformer.py" train "$n" "$ROUNDS" 0 2 | tee -a "$T/out.txt" | grep -v '^BENCH'
    done
done
for n in ${TOKENS:-49 196}; do
    for r in $(seq "$REPEATS"); do
        LATENT_THREADS=2 "$BUILD/bench_transformer" attn "$n" "$ROUNDS" | tee -a "$T/out.txt" | grep -v '^BENCH'
        $PY "$ROOT/bench/torch_transformer.py" attn "$n" "$ROUNDS" 0 2 | tee -a "$T/out.txt" | grep -v '^BENCH'
    done
done
for n in ${TOKENS:-49 196}; do
    LATENT_THREADS=2 "$BUILD/bench_transformer" sample "$n" 1 | tee -a "$T/out.txt" | grep -v '^BENCH'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$T/out.txt" <<'PYEOF'
import sys
best = {}
for line in open(sys.argv[1]):
    if not line.startswith('BENCH '): continue
    kv = dict(t.split('=', 1) for t in line.split()[1:])
    key = (kv['impl'], kv['what'], int(kv['T']))
    old = best.get(key)
    if kv['what'] == 'train':  # most tokens/s; the largest peak RSS seen
        rss = max(float(kv['peak_rss_mb']), float(old['peak_rss_mb']) if old else 0.0)
        cpu = min(float(kv['cpu_s']), float(old['cpu_s']) if old else 1e30)
        if not old or float(kv['tok_per_s']) > float(old['tok_per_s']): old = kv
        best[key] = dict(old, peak_rss_mb=rss, cpu_s=cpu)
    elif kv['what'] == 'attn':  # least ms of each
        best[key] = kv if not old else {k: (min(float(v), float(old[k])) if k.endswith('_ms') else v)
                                        for k, v in kv.items()}
    else:
        best[key] = kv
print('\n%-22s %12s %12s %8s' % ('', 'latent', 'pytorch', 'ratio'))
for (impl, what, n), kv in sorted(best.items()):
    if impl != 'latent' or what != 'train' or ('pytorch', what, n) not in best: continue
    pt = best[('pytorch', what, n)]
    x = float(kv['tok_per_s']) / float(pt['tok_per_s'])
    print('%-22s %12.0f %12.0f %7.2fx  goal >= 1.5x: %s' % ('train T=%d tokens/s' % n, float(kv['tok_per_s']),
          float(pt['tok_per_s']), x, 'met' if x >= 1.5 else 'NOT met'))
    c = float(pt['cpu_s']) / float(kv['cpu_s'])
    print('%-22s %12.2f %12.2f %7.2fx  (CPU time of all threads, spinning included)' % (
          'train T=%d CPU s/step' % n, float(kv['cpu_s']), float(pt['cpu_s']), c))
    m = float(kv['peak_rss_mb']) / float(pt['peak_rss_mb'])
    print('%-22s %12.1f %12.1f %8.2f  goal <= 0.5: %s' % ('train T=%d peak RSS MB' % n, float(kv['peak_rss_mb']),
          float(pt['peak_rss_mb']), m, 'met' if m <= 0.5 else 'NOT met'))
for (impl, what, n), kv in sorted(best.items()):
    if impl != 'latent' or what != 'attn' or ('pytorch', what, n) not in best: continue
    pt = best[('pytorch', what, n)]
    for k, label in (('fwd_ms', 'fwd'), ('fwdbwd_ms', 'fwd+bwd')):
        print('%-22s %10.2fms %10.2fms %7.2fx' % ('attention T=%d %s' % (n, label), float(kv[k]), float(pt[k]),
              float(pt[k]) / float(kv[k])))
for (impl, what, n), kv in sorted(best.items()):
    if what == 'sample':
        print('%-22s cache %.3f s, re-run %.3f s: %.1fx faster with the cache' % (
            'sample T=%d batch 64' % n, float(kv['cache_s']), float(kv['rerun_s']),
            float(kv['rerun_s']) / float(kv['cache_s'])))
PYEOF
