#!/bin/bash
# Data-parallel training on this machine, on binarized MNIST (one epoch of the first LIMIT
# training examples; steps/s from the training throughput in metrics.jsonl, validation
# excluded), per model in alternating rounds, best of ROUNDS:
#   1x2     1 rank x 2 threads
#   2x1     2 ranks x 1 thread (mpirun on loopback), one all-reduce of the gradient block
#           after the backward sweep (--bucket-mb 0)
#   2x1 bkt 2 ranks x 1 thread, the block all-reduced in buckets of BUCKET_MB started during
#           the sweep (--bucket-mb BUCKET_MB; the default is 25)
# For the 2-rank runs also rank 0's exposed time in the all-reduce per step (waiting for the
# slower rank included; for buckets: the time inside MPI calls during and after the sweep)
# against the payload. Models: MADE 784-500-784 (batch 100), MADE 784-8000-784 (batch 100;
# 50 MB of gradient), the VQ-VAE (Sonnet's architecture: hidden 128, 2 residual blocks, 512
# codes of 64; batch 32, 28x28x1 here, plain codebook), the same VQ-VAE with the EMA codebook,
# dead-code restart and k-means init (vqvae-ema: its batch statistics summed over the ranks
# every step, one more all-reduce of K + K*D doubles), and the VQGAN's generator phase (vqgan:
# a slice of the block, bucketed the same way; --disc-start beyond the run). Then
# bench_allreduce: the all-reduce alone, 4 KiB .. 64 MiB.
# The load average is printed: other processes on a 2-core machine distort every figure.
#   bench/run_mpi.sh [BUILD_DIR] [DATA_DIR] [ROUNDS] [LIMIT] [MODELS: made,made8000,vqvae,vqvae-ema,vqgan]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
DATA=${2:-$ROOT/../shared/data/binarized-mnist}
ROUNDS=${3:-3}
LIMIT=${4:-3000}
MODELS=${5:-made,made8000,vqvae,vqvae-ema,vqgan}
BUCKET_MB=${BUCKET_MB:-4}
[ -f "$DATA/train-images-idx3-ubyte.gz" ] || { echo "no binarized MNIST in $DATA"; exit 1; }
command -v mpirun > /dev/null || { echo "mpirun absent (scripts/deps.sh installs openmpi-bin)"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_plm_rsh_agent=
# Cross-memory attach (the default single copy) measured 36.8 ms for MADE's 3.1 MB gradient here,
# copy-in/copy-out 0.42 ms (a container that restricts process_vm_readv): override with SINGLE_COPY=cma.
export OMPI_MCA_btl_vader_single_copy_mechanism=${SINGLE_COPY:-none}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
field() { echo "$1" | sed -n "s/.*\"$2\": \([0-9.]*\).*/\1/p"; }

# bench NAME BATCH LIMIT ARGS...: the three configurations, alternating, best of ROUNDS each
bench() {
    local name=$1 batch=$2 limit=$3
    shift 3
    local args=(--data "$DATA" --limit "$limit" --batch "$batch" --epochs 1 --samples 0 --quiet --json "$@")
    local steps=$(((limit + batch - 1) / batch))
    echo "== $name, batch $batch, $limit examples ($steps steps); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    local b1=0 b2=0 b3=0 a2="" a3="" bytes="" nb="" early=""
    for r in $(seq "$ROUNDS"); do
        rm -rf "$T/a" "$T/b" "$T/c"
        local l1 l2 l3
        l1=$("$BUILD/latent" train "${args[@]}" --threads 2 --out "$T/a")
        l2=$(mpirun --oversubscribe -np 2 "$BUILD/latent" train "${args[@]}" --threads 1 --bucket-mb 0 --out "$T/b")
        l3=$(mpirun --oversubscribe -np 2 "$BUILD/latent" train "${args[@]}" --threads 1 --bucket-mb "$BUCKET_MB" --out "$T/c")
        local e1 e2 e3 r2 r3
        e1=$(field "$l1" examples_per_s) e2=$(field "$l2" examples_per_s) e3=$(field "$l3" examples_per_s)
        r2=$(field "$l2" allreduce_s) r3=$(field "$l3" allreduce_s)
        bytes=$(field "$l2" allreduce_bytes_per_step) nb=$(field "$l3" allreduce_buckets)
        early=$(field "$l3" allreduce_buckets_early)
        awk -v b="$batch" -v s="$steps" -v e1="$e1" -v e2="$e2" -v e3="$e3" -v r2="$r2" -v r3="$r3" -v r="$r" 'BEGIN{
            printf "round %d: 1x2 %.2f steps/s; 2x1 %.2f steps/s (all-reduce %.2f ms/step); 2x1 bkt %.2f steps/s (%.2f ms/step)\n",
                   r, e1 / b, e2 / b, r2 / s * 1e3, e3 / b, r3 / s * 1e3 }'
        awk -v a="$b1" -v b="$e1" 'BEGIN{exit !(b > a)}' && b1=$e1
        if awk -v a="$b2" -v b="$e2" 'BEGIN{exit !(b > a)}'; then b2=$e2 a2=$r2; fi
        if awk -v a="$b3" -v b="$e3" 'BEGIN{exit !(b > a)}'; then b3=$e3 a3=$r3; fi
    done
    awk -v b="$batch" -v s="$steps" -v b1="$b1" -v b2="$b2" -v b3="$b3" -v a2="$a2" -v a3="$a3" -v by="$bytes" \
        -v nb="$nb" -v early="$early" -v mb="$BUCKET_MB" -v name="$name" 'BEGIN{
        printf "best %s: 1x2 %.2f steps/s | 2x1 %.2f steps/s, all-reduce %.2f ms/step (%.2f GB/s of %d B) | ", name, b1 / b, b2 / b, a2 / s * 1e3, by / (a2 / s) * 1e-9, by
        printf "2x1 %d buckets of >= %g MB (%d of %d started during the sweep) %.2f steps/s, %.2f ms/step exposed | ", nb, mb, early / s, nb, b3 / b, a3 / s * 1e3
        printf "ratios: 2x1/1x2 %.2f, bucketed/single %.2f\n", b2 / b1, b3 / b2 }'
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

case ",$MODELS," in *,made,*) bench "MADE 784-500-784" 100 "$LIMIT" --model made --hidden 500 ;; esac
case ",$MODELS," in *,made8000,*) bench "MADE 784-8000-784" 100 $((LIMIT / 3)) --model made --hidden 8000 ;; esac
case ",$MODELS," in *,vqvae,*) bench "VQ-VAE" 32 $((LIMIT / 10)) --model vqvae --codebook plain ;; esac
case ",$MODELS," in *,vqvae-ema,*) bench "VQ-VAE, EMA codebook + restart + k-means" 32 $((LIMIT / 10)) --model vqvae \
    --codebook ema --restart-threshold 1 --codebook-init kmeans ;; esac
case ",$MODELS," in *,vqgan,*) bench "VQGAN generator phase" 32 $((LIMIT / 30)) --model vqgan --disc-start 1000000 ;; esac
mpirun --oversubscribe -np 2 "$BUILD/bench_allreduce"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
