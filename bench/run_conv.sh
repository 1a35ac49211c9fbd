#!/bin/bash
# Convolution speed and memory, latent vs PyTorch 1.13 (python3-torch: oneDNN for conv2d,
# im2col + OpenBLAS for conv_transpose2d), 2 threads, batch 64, side by side in one run:
#  1. per layer (issue 11's list), forward and forward+backward (grads of input, weight
#     and bias): bench_conv vs torch_conv.py layers, ratio = PyTorch ms / latent ms;
#  2. whole-network training steps (forward, backward, Adam) of a VQ-VAE-shaped conv
#     encoder-decoder on 28x28x1 and 32x32x3: bench_convnet vs torch_conv.py net28/net32,
#     ratio of examples/s and of peak RSS (one process per network and side).
# The two sides run alternately for ROUNDS rounds and each figure is the best over the
# rounds (the machine is shared: `uptime` is printed before and after).
# Goals (issue 11): every layer >= 1.0x; networks >= 1.5x examples/s; RSS <= 0.5x.
#   bench/run_conv.sh [BUILD_DIR] [ROUNDS] [THREADS]
#   LOAD=1 bench/run_conv.sh ...   the same with a busy loop pinned to core 1 throughout
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
ROUNDS=${2:-3}
THREADS=${3:-2}
PY=/usr/bin/python3
$PY -c 'import torch' 2> /dev/null || { echo "python3-torch missing (scripts/deps.sh test)"; exit 1; }
for b in bench_conv bench_convnet; do
    [ -x "$BUILD/$b" ] || { echo "$BUILD/$b missing: build first (cmake --build build)"; exit 1; }
done
T=$(mktemp -d)
BUSY=
cleanup() { [ -n "$BUSY" ] && kill "$BUSY" 2> /dev/null; rm -rf "$T"; }
trap cleanup EXIT
if [ "${LOAD:-0}" = 1 ]; then
    taskset -c 1 sh -c 'while :; do :; done' &
    BUSY=$!
    echo "busy loop pinned to core 1 (pid $BUSY)"
fi
export LATENT_THREADS=$THREADS
echo "before: $(uptime)"
for r in $(seq "$ROUNDS"); do
    "$BUILD/bench_conv" 30 | grep '^BENCH' >> "$T/out.txt"
    $PY "$ROOT/bench/torch_conv.py" layers 30 "$THREADS" >> "$T/out.txt"
    for n in 28 32; do
        "$BUILD/bench_convnet" $n 3 5 | grep '^BENCH' >> "$T/out.txt"
        $PY "$ROOT/bench/torch_conv.py" net$n 3 "$THREADS" 5 >> "$T/out.txt"
    done
    echo "round $r done: $(uptime)"
done
echo "after: $(uptime)"
$PY - "$T/out.txt" "$ROUNDS" "$THREADS" <<'PYEOF'
import sys
best = {}
for line in open(sys.argv[1]):
    kv = dict(t.split('=', 1) for t in line.split()[1:])
    key = (kv['impl'], kv['case'])
    b = best.setdefault(key, {})
    for k, v in kv.items():
        if k in ('fwd_ms', 'fb_ms', 'peak_rss_mb'):
            b[k] = min(b.get(k, 1e30), float(v))
        elif k == 'ex_per_s':
            b[k] = max(b.get(k, 0.0), float(v))
print(f'\nbest of {sys.argv[2]} rounds, {sys.argv[3]} threads, batch 64; ratio = PyTorch ms / latent ms (> 1: latent faster)')
print(f'{"layer":16s} {"latent fwd":>10s} {"torch fwd":>10s} {"ratio":>6s} | {"latent f+b":>10s} {"torch f+b":>10s} {"ratio":>6s}')
worst = 1e9
for (impl, case), b in best.items():
    if impl != 'latent' or 'fwd_ms' not in b: continue
    t = best[('pytorch', case)]
    rf, rb = t['fwd_ms'] / b['fwd_ms'], t['fb_ms'] / b['fb_ms']
    worst = min(worst, rf, rb)
    print(f'{case:16s} {b["fwd_ms"]:8.3f}ms {t["fwd_ms"]:8.3f}ms {rf:5.2f}x | {b["fb_ms"]:8.3f}ms {t["fb_ms"]:8.3f}ms {rb:5.2f}x')
print(f'worst layer ratio {worst:.2f}x   goal >= 1.0x: {"met" if worst >= 1 else "NOT met"}')
for case in ('net28', 'net32'):
    if ('latent', case) not in best: continue
    l, t = best[('latent', case)], best[('pytorch', case)]
    rx, rm = l['ex_per_s'] / t['ex_per_s'], l['peak_rss_mb'] / t['peak_rss_mb']
    print(f'{case}: latent {l["ex_per_s"]:.1f} ex/s, PyTorch {t["ex_per_s"]:.1f} ex/s: {rx:.2f}x (goal >= 1.5x: '
          f'{"met" if rx >= 1.5 else "NOT met"}); peak RSS latent {l["peak_rss_mb"]:.0f} MB, PyTorch '
          f'{t["peak_rss_mb"]:.0f} MB: {rm:.2f} (goal <= 0.5: {"met" if rm <= 0.5 else "NOT met"})')
PYEOF
