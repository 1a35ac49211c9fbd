#!/bin/bash
# Data-parallel training on this machine: MADE 784-500-784 on binarized MNIST (batch 100,
# Adam, first LIMIT training examples, one epoch), 1 rank x 2 threads against 2 ranks x 1
# thread (mpirun on loopback), in alternating rounds, best of ROUNDS; steps/s from the
# training throughput in metrics.jsonl (validation excluded). For the 2-rank runs also rank
# 0's time in the gradient all-reduce per step (waiting for the slower rank included) against
# its payload. Then bench_allreduce: the all-reduce alone, 4 KiB .. 64 MiB.
# The load average is printed: other processes on a 2-core machine distort every figure.
#   bench/run_mpi.sh [BUILD_DIR] [DATA_DIR] [ROUNDS] [LIMIT]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
DATA=${2:-$ROOT/../shared/data/binarized-mnist}
ROUNDS=${3:-3}
LIMIT=${4:-5000}
[ -f "$DATA/train-images-idx3-ubyte.gz" ] || { echo "no binarized MNIST in $DATA"; exit 1; }
command -v mpirun > /dev/null || { echo "mpirun absent (scripts/deps.sh installs openmpi-bin)"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_plm_rsh_agent=
# Cross-memory attach (the default single copy) measured 36.8 ms for MADE's 3.1 MB gradient here,
# copy-in/copy-out 0.42 ms (a container that restricts process_vm_readv): override with SINGLE_COPY=cma.
export OMPI_MCA_btl_vader_single_copy_mechanism=${SINGLE_COPY:-none}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
args=(--model made --hidden 500 --data "$DATA" --limit "$LIMIT" --batch 100 --epochs 1 --samples 0 --quiet --json)
echo "MADE 784-500-784, batch 100, $LIMIT examples; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
best1=0 best2=0 ar=""
for r in $(seq "$ROUNDS"); do
    rm -rf "$T/a" "$T/b"
    e1=$("$BUILD/latent" train "${args[@]}" --threads 2 --out "$T/a" | sed 's/.*"examples_per_s": \([0-9.]*\).*/\1/')
    line=$(mpirun --oversubscribe -np 2 "$BUILD/latent" train "${args[@]}" --threads 1 --out "$T/b")
    e2=$(echo "$line" | sed 's/.*"examples_per_s": \([0-9.]*\).*/\1/')
    a=$(echo "$line" | sed 's/.*"allreduce_s": \([0-9.]*\).*/\1/')
    bytes=$(echo "$line" | sed 's/.*"allreduce_bytes_per_step": \([0-9]*\).*/\1/')
    echo "round $r: 1 rank x 2 threads $(awk -v e="$e1" 'BEGIN{printf "%.2f", e/100}') steps/s;" \
         "2 ranks x 1 thread $(awk -v e="$e2" 'BEGIN{printf "%.2f", e/100}') steps/s," \
         "all-reduce $(awk -v a="$a" -v n="$LIMIT" 'BEGIN{printf "%.2f", a/(n/100)*1e3}') ms/step for $bytes bytes"
    best1=$(awk -v a="$best1" -v b="$e1" 'BEGIN{print (b > a ? b : a)}')
    if awk -v a="$best2" -v b="$e2" 'BEGIN{exit !(b > a)}'; then best2=$e2; ar=$a; fi
done
awk -v a="$best1" -v b="$best2" -v r="$ar" -v n="$LIMIT" -v by="$bytes" 'BEGIN{
    s = r / (n / 100);
    printf "best: 1x2 %.2f steps/s, 2x1 %.2f steps/s (ratio 2x1/1x2 %.2f); all-reduce %.2f ms/step = %.0f%% of a 2x1 step, %.2f GB/s of payload\n",
           a / 100, b / 100, b / a, s * 1e3, 100 * s * b / 100, by / s * 1e-9 }'
echo "load average after runs: $(cut -d' ' -f1-3 /proc/loadavg)"
mpirun --oversubscribe -np 2 "$BUILD/bench_allreduce"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
