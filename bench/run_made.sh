#!/bin/bash
# MADE's training speed before and after the staircase products (ops/staircase.c): the
# same `latent train` command (784-8000-784 and 784-8000-8000-784, direct connections,
# Adagrad 0.01, batch 100, the first LIMIT training images, one epoch) run by two builds,
# alternating which goes first each round; the figure per side is its best round (other
# jobs on a shared machine slow some rounds). The load average is printed beside every
# run. Then the multiply-adds the staircases skip (bench_made_flops, the new build).
#   bench/run_made.sh OLD_BUILD NEW_BUILD [DATA_DIR] [rounds 3] [threads 2] [limit 1000]
# e.g. OLD_BUILD = a Release build of main, NEW_BUILD = build (this branch).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OLD=${1:?OLD_BUILD (a build directory with latent)}
NEW=${2:?NEW_BUILD}
DATA=${3:-$ROOT/../shared/data/binarized-mnist}
ROUNDS=${4:-3}
THREADS=${5:-2}
LIMIT=${6:-1000}
[ -f "$DATA/train-images-idx3-ubyte.gz" ] || { echo "no binarized MNIST in $DATA"; exit 2; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "data: $DATA; threads $THREADS; first $LIMIT training images; $ROUNDS rounds; $(nproc) cores"
# one run: prints its examples/s (training only, from the epoch's JSON line)
one() {
    rm -rf "$T/run"
    "$1/latent" train --model made --hidden "$2" --direct --optimizer adagrad --lr 0.01 --data "$DATA" \
        --limit "$LIMIT" --epochs 1 --samples 0 --threads "$THREADS" --seed 1 --json --quiet --out "$T/run" |
        sed -n 's/.*"examples_per_s": \([0-9.]*\).*/\1/p'
}
for H in 8000 8000,8000; do
    best_old=0 best_new=0
    for r in $(seq 1 "$ROUNDS"); do
        order="old new"
        [ $((r % 2)) -eq 0 ] && order="new old"
        for side in $order; do
            dir=$OLD
            [ "$side" = new ] && dir=$NEW
            load=$(cut -d' ' -f1 /proc/loadavg)
            v=$(one "$dir" "$H")
            echo "784-${H/,/-}-784 round $r $side: $v examples/s (load $load)"
            if [ "$side" = old ]; then best_old=$(echo "$v $best_old" | awk '{print ($1 > $2) ? $1 : $2}')
            else best_new=$(echo "$v $best_new" | awk '{print ($1 > $2) ? $1 : $2}'); fi
        done
    done
    echo "BENCH model=784-${H/,/-}-784 threads=$THREADS old_ex_per_s=$best_old new_ex_per_s=$best_new" \
         "speedup=$(echo "$best_new $best_old" | awk '{printf "%.2f", $1 / $2}')"
    "$NEW/bench_made_flops" "{\"dim\": 784, \"hidden\": [$H], \"direct\": true}" | sed "s/^BENCH /BENCH model=784-${H/,/-}-784 /"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
