#!/usr/bin/env bash
# Data-parallel training under mpirun on loopback (docs/distributed.md):
#  - 2 ranks x 1 thread train what 1 rank does on the same global batch (MADE, VAE, GSVAE with
#    the score-ma and score-nn baselines, MAE with GroupNorm, VQ-VAE with the EMA codebook,
#    restart and k-means; 50
#    steps, MAE 2 SGD steps of one 200-example batch; parameters and buffers from the
#    checkpoints within 1e-5 relative);
#  - each training example is consumed exactly once per epoch across the ranks (counted), and
#    each rank holds in memory only the examples it consumes (re-read per epoch; IDX data, a
#    TFRecord set with and without index files, an image folder);
#  - the gradient all-reduce in small buckets started during the backward sweep equals one
#    all-reduce after it, bit for bit, and its buckets do start during the sweep, for the whole
#    block (MADE) and for a step phase's slice of it (vqgan's generator);
#  - vqvae's validation metrics, each rank adding its share and the sums reduced, equal one
#    process's;
#  - SIGINT to one rank stops both at the same step with `last` saved; resuming under mpirun
#    continues exactly (bit-identical to the uninterrupted run), and resuming the 2-rank run
#    with 1 rank continues it (within 1e-5);
#  - a model whose loss needs the whole batch in one process (SimCLR's NT-Xent, BatchNorm) is
#    refused on 2 ranks (exit 2, one line), as is a model that sums batch statistics over the
#    ranks when a last batch would leave a rank without examples;
#  - a batch the ranks do not divide is one clear error (exit 2), and a failure on one rank
#    ends the job with that rank's reason printed once, not a hang.
# Skips when mpirun is absent or latent was built without MPI. Open MPI's leaks are not
# ours: ASan's leak check is off for the MPI runs (ASAN_OPTIONS=detect_leaks=0).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
command -v mpirun > /dev/null 2>&1 || lt_skip "mpirun absent (scripts/deps.sh installs openmpi-bin)"
LATENT=${LATENT:-build/latent}
"$LATENT" --version | grep -q "^MPI: no" && lt_skip "latent was built without MPI"
lt_python_or_skip "python3 absent" gzip
lt_tool ckpt_diff
lt_tmpdir mpi

# As root, on loopback only, without ssh or network probing; one thread per rank.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_plm_rsh_agent=
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0"
export OMP_NUM_THREADS=1
mpi() { # mpi N ARGS...: latent under mpirun with N ranks (at most 5 minutes: a hang guard; a loaded machine needs minutes)
    local n=$1
    shift
    timeout 300 mpirun --oversubscribe -np "$n" -x OMP_NUM_THREADS -x ASAN_OPTIONS \
        ${LT_TRACE_EXAMPLES:+-x LT_TRACE_EXAMPLES} "$LATENT" "$@"
}
"$PY" "$(dirname "${BASH_SOURCE[0]}")/py/write_idx.py" "$T/data" 200 60 20 8
common=(--data "$T/data" --batch 20 --epochs 5 --threads 1 --quiet --samples 0)

# ---- 2 ranks = 1 rank after 50 steps (200 examples / 20 = 10 steps per epoch) ----
# MADE's 2-rank run is 40 epochs with every checkpoint kept: the reference of the interrupt
# test below too (one mpirun less); its epoch 5 is step 50.
small=(--model made --hidden 64 --data "$T/data" --batch 20 --threads 1 --quiet --samples 0)
LT_TRACE_EXAMPLES="$T/made-trace" mpi 2 train "${small[@]}" --epochs 40 --keep all --out "$T/ref" \
    || bad "uninterrupted 2-rank MADE run"
"$LATENT" train "${small[@]}" --epochs 5 --out "$T/made-1" || bad "made: 1-rank run"
"$LATENT" train --model vae --hidden 32 --latent 4 "${common[@]}" --out "$T/vae-1" || bad "vae: 1-rank run"
mpi 2 train --model vae --hidden 32 --latent 4 "${common[@]}" --out "$T/vae-2" || bad "vae: 2-rank run"
# GSVAE's score estimators: the moving-average baseline follows the whole batch (summed over the ranks)
for e in score-ma score-nn; do
    "$LATENT" train --model gsvae --estimator $e --hidden 32 --latent 4 "${common[@]}" --out "$T/$e-1" || bad "$e: 1-rank run"
    mpi 2 train --model gsvae --estimator $e --hidden 32 --latent 4 "${common[@]}" --out "$T/$e-2" || bad "$e: 2-rank run"
done
# MAE with GroupNorm: a masked mean of per-example terms, masks drawn per example index.
# Two SGD steps of the whole 200-example batch (100 per rank), not 50 Adam steps: Adam's first
# steps move each weight by about ±lr whatever its gradient's size, so a weight whose gradient
# is rounding noise (this MAE has some) takes a full step either way, and from there 1 and 2
# ranks part by up to 7e-2 within 10 steps for some seeds (seed 4, also before the fused
# GroupNorm), while their losses agree to 5 digits. That is Adam's reading of noise, not the
# data-parallel sum, which is what this checks (1 step: 1e-7 .. 3e-6 over seeds 1-8).
mae=(--model mae --enc-norm group --enc-width 8 --enc-stages 2 --enc-blocks 1 --patch 2 --data "$T/data" --batch 200
    --epochs 2 --optimizer sgd --lr 0.1 --keep all --threads 1 --quiet --samples 0)
"$LATENT" train "${mae[@]}" --out "$T/mae-1" && mpi 2 train "${mae[@]}" --out "$T/mae-2" || bad "mae runs"
for name in made vae score-ma score-nn mae; do
    two="$T/$name-2/checkpoints/last.safetensors" lines="$T/$name-2/metrics.jsonl" n=5
    [ "$name" = made ] && two="$T/ref/checkpoints/epoch-005.safetensors" lines="$T/ref/metrics.jsonl" n=40
    first="$T/$name-1/checkpoints/epoch-001.safetensors"
    [ "$name" = mae ] && first="$T/mae-1/checkpoints/epoch-001.safetensors" n=2
    d=$("$TOOL" "$T/$name-1/checkpoints/last.safetensors" "$two")
    rel=$(echo "$d" | awk '{print $2}')
    tol=1e-5
    awk -v r="$rel" -v t="$tol" 'BEGIN{exit !(r + 0 <= t + 0)}' && ok "$name: 2 ranks = 1 rank after $([ "$name" = mae ] && echo 2 || echo 50) steps ($d, <= $tol)" \
        || bad "$name: 2 ranks differ from 1 rank by more than $tol: $d"
    # the comparison can fail: training moved the parameters far more than that
    moved=$("$TOOL" "$first" "$T/$name-1/checkpoints/last.safetensors" | awk '{print $2}')
    awk -v r="$moved" 'BEGIN{exit !(r + 0 > 1e-3)}' && ok "$name: training moved the parameters ($moved)" \
        || bad "$name: parameters barely moved ($moved)"
    [ "$(grep -c . "$lines")" = "$n" ] && ok "$name: rank 0 wrote $n epochs of metrics" || bad "$name: $lines"
done

# ---- the all-reduce in buckets started during the backward sweep = one all-reduce after it ----
# With 2 ranks each element is the same sum of two floats either way: bit for bit. The tiny
# buckets (1 KiB: dozens for this MADE, a parameter spanning several) must start during the sweep.
mpi 2 train "${small[@]}" --epochs 5 --bucket-mb 0 --out "$T/single" || bad "2-rank MADE, one all-reduce"
mpi 2 train "${small[@]}" --epochs 5 --bucket-mb 0.001 --json --out "$T/bkt" > "$T/bkt.json" || bad "2-rank MADE, buckets"
for run in single bkt; do
    "$TOOL" --exact "$T/ref/checkpoints/epoch-005.safetensors" "$T/$run/checkpoints/last.safetensors" > /dev/null \
        && ok "made, 2 ranks, --bucket-mb $([ $run = bkt ] && echo 0.001 || echo 0) = the default 25 MB, bit for bit" \
        || bad "made $run: $("$TOOL" "$T/ref/checkpoints/epoch-005.safetensors" "$T/$run/checkpoints/last.safetensors")"
done
nb=$(sed -n 's/.*"allreduce_buckets": \([0-9]*\).*/\1/p' "$T/bkt.json" | tail -1)
early=$(sed -n 's/.*"allreduce_buckets_early": \([0-9]*\).*/\1/p' "$T/bkt.json" | tail -1)
[ "${nb:-0}" -ge 3 ] && [ "${early:-0}" -ge 10 ] \
    && ok "made, 1 KiB buckets: $nb buckets, $early started during the sweep in the last epoch's 10 steps" \
    || bad "buckets: '$nb' buckets, '$early' started early"

# ---- a step phase's group (vqgan's generator, a slice of the block): the same bucketed path ----
# Until --disc-start the discriminator sits out: the generator phase's slice is reduced in 1 KiB
# buckets during its sweep, bit for bit what one all-reduce of the slice after it gives.
vg=(--model vqgan --hidden 8 --norm-groups 4 --codes 16 --code-dim 4 --no-attn --disc-hidden 8 --disc-start 20
    --data "$T/data" --batch 20 --threads 1 --quiet --samples 0 --epochs 2)
"$LATENT" train "${vg[@]}" --out "$T/vg-1" && mpi 2 train "${vg[@]}" --bucket-mb 0 --out "$T/vg-s" \
    && mpi 2 train "${vg[@]}" --bucket-mb 0.001 --json --out "$T/vg-b" > "$T/vg-b.json" || bad "vqgan runs"
nb=$(sed -n 's/.*"allreduce_buckets": \([0-9]*\).*/\1/p' "$T/vg-b.json" | tail -1)
early=$(sed -n 's/.*"allreduce_buckets_early": \([0-9]*\).*/\1/p' "$T/vg-b.json" | tail -1)
"$TOOL" --exact "$T/vg-s/checkpoints/last.safetensors" "$T/vg-b/checkpoints/last.safetensors" > /dev/null \
    && [ "${early:-0}" -ge 10 ] \
    && ok "vqgan generator phase (a slice), 2 ranks: the block in $nb buckets of 1 KiB ($early started during the sweep) = one all-reduce, bit for bit" \
    || bad "vqgan slice buckets ($nb, $early early): $("$TOOL" "$T/vg-s/checkpoints/last.safetensors" "$T/vg-b/checkpoints/last.safetensors")"
# and 2 ranks = 1 rank after 10 steps (the codes' argmin turns float-order differences into
# larger ones as training goes on: 1.6e-4 after 50 steps, measured)
d=$("$TOOL" "$T/vg-1/checkpoints/epoch-001.safetensors" "$T/vg-s/checkpoints/epoch-001.safetensors")
awk -v r="$(echo "$d" | awk '{print $2}')" 'BEGIN{exit !(r + 0 <= 1e-5)}' \
    && ok "vqgan before its discriminator: 2 ranks = 1 rank after 10 steps ($d)" || bad "vqgan 2 ranks vs 1: $d"

# ---- vqvae: validation metrics on each rank's share, the accumulators summed = 1 rank ----
vq=(--model vqvae --data "$T/data" --batch 20 --epochs 1 --threads 1 --quiet --json --samples 0 --downsample 2
    --res-blocks 1 --res-hidden 4 --codes 16 --code-dim 4 --codebook plain)
"$LATENT" train "${vq[@]}" --hidden 8 --out "$T/vq-1" > "$T/vq-1.json" && mpi 2 train "${vq[@]}" --hidden 8 --out "$T/vq-2" > "$T/vq-2.json" \
    || bad "vqvae runs"
v1=$(grep -o '"valid_[a-z_]*": [-0-9.e+]*' "$T/vq-1.json" | grep -v "valid_nll\|valid_stderr\|valid_bits\|valid_neg" | tr '\n' ' ')
v2=$(grep -o '"valid_[a-z_]*": [-0-9.e+]*' "$T/vq-2.json" | grep -v "valid_nll\|valid_stderr\|valid_bits\|valid_neg" | tr '\n' ' ')
cmp=$(paste <(echo "$v1" | tr ' ' '\n' | paste - -) <(echo "$v2" | tr ' ' '\n' | paste - -) | awk '
    NF == 4 { n++; a = $2 + 0; b = $4 + 0; d = a - b; if (d < 0) d = -d; s = (a < 0 ? -a : a) + 1e-6;
              if ($1 != $3 || d / s > 1e-4) { bad = 1; print "differ: " $0 } }
    END { if (n < 8) print "only " n " metrics"; else if (!bad) print "ok " n }')
[ "${cmp%% *}" = ok ] && ok "vqvae: 2 ranks' reduced validation metrics = 1 rank's (${cmp#ok } metrics, 1e-4): $v2" \
    || bad "vqvae metrics: $cmp; 1 rank: $v1; 2 ranks: $v2"

# ---- vqvae, EMA codebook + dead-code restart + k-means init: 2 ranks = 1 rank after 50 steps ----
# The batch statistics (EMA counts and sums, usage) are summed over the ranks, a restart draws
# an encoding of the whole batch, k-means runs on the gathered encodings: parameters AND the
# codebook buffers (embedding, cluster_size, embed_avg, usage, ...) compared.
ema=(--model vqvae --data "$T/data" --batch 20 --epochs 5 --threads 1 --quiet --samples 0 --downsample 2 --hidden 8
     --res-blocks 1 --res-hidden 4 --codes 16 --code-dim 4 --codebook ema --restart-threshold 5 --codebook-init kmeans)
"$LATENT" train "${ema[@]}" --out "$T/ema-1" && mpi 2 train "${ema[@]}" --out "$T/ema-2" || bad "vqvae ema runs"
d=$("$TOOL" "$T/ema-1/checkpoints/last.safetensors" "$T/ema-2/checkpoints/last.safetensors")
moved=$("$TOOL" "$T/ema-1/checkpoints/epoch-001.safetensors" "$T/ema-1/checkpoints/last.safetensors" | awk '{print $2}')
awk -v r="$(echo "$d" | awk '{print $2}')" -v m="$moved" 'BEGIN{exit !(r + 0 <= 1e-5 && m + 0 > 1e-3)}' \
    && echo "$d" | grep -q "[1-9][0-9]* buffers" \
    && ok "vqvae ema+restart+kmeans: 2 ranks = 1 rank after 50 steps ($d; training moved them $moved)" \
    || bad "vqvae ema: 2 ranks differ from 1 rank: $d (moved $moved)"

# ---- 4 ranks, a last batch of one example (3 ranks without any): still the 1-rank result ----
"$PY" "$(dirname "${BASH_SOURCE[0]}")/py/write_idx.py" "$T/odd" 41 20 10 8
odd=(--model vae --hidden 16 --latent 3 --data "$T/odd" --batch 20 --epochs 3 --threads 1 --quiet --samples 0)
"$LATENT" train "${odd[@]}" --out "$T/odd-1" && mpi 4 train "${odd[@]}" --out "$T/odd-4" || bad "4-rank odd run"
d=$("$TOOL" "$T/odd-1/checkpoints/last.safetensors" "$T/odd-4/checkpoints/last.safetensors")
awk -v r="$(echo "$d" | awk '{print $2}')" 'BEGIN{exit !(r + 0 <= 1e-5)}' \
    && ok "vae, 4 ranks, batches 20+20+1: = 1 rank ($d)" || bad "vae 4 ranks with a 1-example batch: $d"

# a model that sums batch statistics over the ranks needs examples on every rank in every step:
# the last batch of one example on 2 ranks is refused up front (exit 2), not a hang
err=$(mpi 2 train "${ema[@]}" --data "$T/odd" --out "$T/odd-ema" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && [ "$(echo "$err" | grep -c "the last batch of an epoch has 1 of the 41")" = 1 ] && [ ! -e "$T/odd-ema" ] \
    && echo "$err" | grep -qi "exit code: *2" \
    && ok "vqvae ema on 2 ranks with a 1-example last batch: one error line, exit 2" \
    || bad "vqvae ema, 1-example last batch (rc $rc): $err"

# models whose loss needs the whole batch in one process: refused on 2 ranks, exit 2, one line
for m in "simclr:NT-Xent takes its negatives from the whole batch" "mae --enc-norm batch:the encoder's BatchNorm" \
    "vqgan --disc-start 5:the PatchGAN discriminator (from step 5"; do
    err=$(mpi 2 train --model ${m%%:*} "${common[@]}" --out "$T/whole" 2>&1)
    rc=$? name=${m%%:*}
    [ "$rc" -ne 0 ] && [ "$(echo "$err" | grep -c "^latent: rank 0 of 2: --model ${name%% *} on 2 ranks: ${m#*:}")" = 1 ] \
        && [ ! -e "$T/whole" ] && echo "$err" | grep -qi "exit code: *2" \
        && ok "--model ${m%%:*} on 2 ranks refused: $(echo "$err" | grep -o "ranks: .\{60\}")..." \
        || bad "--model ${m%%:*} on 2 ranks (rc $rc): $err"
done

# ---- sharding: every example exactly once per epoch, split between the two ranks ----
tr0="$T/made-trace.0" tr1="$T/made-trace.1"
if [ -s "$tr0" ] && [ -s "$tr1" ]; then
    dup=$(cat "$tr0" "$tr1" | sort | uniq -d | wc -l)
    per=$(cat "$tr0" "$tr1" | awk '{n[$1]++; if ($2 < 0 || $2 >= 200) bad=1} END{for (e in n) if (n[e] != 200) bad=1; print length(n), bad+0}')
    both=$(sort -u -k1,1 "$tr0" | wc -l)/$(sort -u -k1,1 "$tr1" | wc -l)
    [ "$dup" = 0 ] && [ "$per" = "40 0" ] && [ "$both" = "40/40" ] \
        && ok "sharding: 40 epochs x 200 examples, each once per epoch, both ranks every epoch" \
        || bad "sharding: duplicates $dup, epochs/bad '$per', epochs per rank $both"
else
    bad "sharding: no trace files from the ranks"
fi
# each rank holds in memory only the examples it consumes: rank 0 reports 100 of 200 per epoch
held=$(sed -n 's/.*"train_examples_held": \([0-9]*\).*/\1/p' "$T/ref/metrics.jsonl" | sort -u | tr '\n' ' ')
[ "$held" = "100 " ] && ok "sharding: rank 0 held 100 of the 200 training examples in every epoch" \
    || bad "examples held per epoch: '$held'"

# the same from a TFRecord set (2 shards, one with FILE.index: read by seeking to the kept
# records, one without: one pass that parses only them): held 100 of 200, each example once
# per epoch, and the 2-rank result = the 1-rank IDX run (the records hold the same bytes)
mkdir -p "$T/tf" && "$LATENT" tfrecord convert --from "$T/data" --to "$T/tf/d" --shards 2 > /dev/null 2>&1 \
    && "$LATENT" tfrecord index "$T/tf/d-train-00000-of-00002" > /dev/null || bad "tfrecord convert"
echo '{"columns": [{"type": "numeric_column", "key": "image/raw", "shape": [8, 8], "decode_raw": "uint8"}]}' > "$T/tf/spec.json"
LT_TRACE_EXAMPLES="$T/tf-trace" mpi 2 train "${small[@]}" --epochs 5 --data "tfrecord:$T/tf/d" --features "$T/tf/spec.json" \
    --out "$T/tf-2" || bad "2-rank MADE on a TFRecord set"
held=$(sed -n 's/.*"train_examples_held": \([0-9]*\).*/\1/p' "$T/tf-2/metrics.jsonl" | sort -u | tr '\n' ' ')
dup=$(cat "$T/tf-trace.0" "$T/tf-trace.1" | sort | uniq -d | wc -l)
per=$(cat "$T/tf-trace.0" "$T/tf-trace.1" | awk '{n[$1]++} END{for (e in n) if (n[e] != 200) bad=1; print length(n), bad+0}')
d=$("$TOOL" "$T/made-1/checkpoints/last.safetensors" "$T/tf-2/checkpoints/last.safetensors")
[ "$held" = "100 " ] && [ "$dup" = 0 ] && [ "$per" = "5 0" ] && awk -v r="$(echo "$d" | awk '{print $2}')" 'BEGIN{exit !(r + 0 <= 1e-5)}' \
    && ok "sharding, TFRecord set: rank 0 held 100 of 200 per epoch, each example once per epoch; = 1 rank on IDX ($d)" \
    || bad "TFRecord share: held '$held', duplicates $dup, epochs/bad '$per', vs 1 rank: $d"
# and from an image folder (PNG files, the last tenth of each class carved out as validation:
# 180 training images): each rank decodes only its share's files again every epoch
"$PY" "$(dirname "${BASH_SOURCE[0]}")/py/write_folder.py" "$T/fold" 200 20 8
"$LATENT" train "${small[@]}" --epochs 3 --data "$T/fold" --out "$T/fold-1" \
    && LT_TRACE_EXAMPLES="$T/fold-trace" mpi 2 train "${small[@]}" --epochs 3 --data "$T/fold" --out "$T/fold-2" \
    || bad "MADE on an image folder"
held=$(sed -n 's/.*"train_examples_held": \([0-9]*\).*/\1/p' "$T/fold-2/metrics.jsonl" | sort -u | tr '\n' ' ')
dup=$(cat "$T/fold-trace.0" "$T/fold-trace.1" | sort | uniq -d | wc -l)
per=$(cat "$T/fold-trace.0" "$T/fold-trace.1" | awk '{n[$1]++} END{for (e in n) if (n[e] != 180) bad=1; print length(n), bad+0}')
d=$("$TOOL" "$T/fold-1/checkpoints/last.safetensors" "$T/fold-2/checkpoints/last.safetensors")
[ "$held" = "90 " ] && [ "$dup" = 0 ] && [ "$per" = "3 0" ] && awk -v r="$(echo "$d" | awk '{print $2}')" 'BEGIN{exit !(r + 0 <= 1e-5)}' \
    && ok "sharding, image folder: rank 0 held 90 of 180 per epoch, each example once per epoch; = 1 rank ($d)" \
    || bad "image folder share: held '$held', duplicates $dup, epochs/bad '$per', vs 1 rank: $d"

# ---- a batch the ranks do not divide: one clear error, exit 2, nothing written ----
err=$(mpi 3 train --model made --hidden 16 "${common[@]}" --out "$T/bad" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && [ "$(echo "$err" | grep -c "not divisible by the 3 ranks")" = 1 ] && [ ! -e "$T/bad" ] \
    && echo "$err" | grep -qi "exit code: *2" \
    && ok "batch 20 on 3 ranks: one error line, exit 2, no run directory" \
    || bad "batch 20 on 3 ranks (rc $rc): $err"

# ---- a failure on one rank: its rank and reason once, the job ends ----
mkdir -p "$T/fail-trace.1" # rank 1 cannot open its trace file; rank 0 can
t0=$(date +%s)
err=$(LT_TRACE_EXAMPLES="$T/fail-trace" mpi 2 train --model made --hidden 16 "${common[@]}" --out "$T/fail" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$(echo "$err" | grep -c "latent: rank 1 of 2: LT_TRACE_EXAMPLES")" = 1 ] \
    && ok "a failing rank ends the job in $(($(date +%s) - t0)) s with its reason printed once (rc $rc)" \
    || bad "failing rank (rc $rc): $err"

# ---- interrupt one rank, resume under mpirun exactly; resume with 1 rank ----
# The interrupted run is set for 1000 epochs (no race with its end) and resumed to 40.
mpi 2 train "${small[@]}" --epochs 1000 --out "$T/int" > "$T/int.log" 2>&1 &
launcher=$!
# An epoch of this small run takes milliseconds on a quiet machine, so the ranks' pids are
# found first, and once the first epoch is written rank 0 is stopped (SIGSTOP) before rank 1
# gets SIGINT: rank 1 then waits for rank 0 in the step's all-reduce, and both agree to stop
# a step or two later, long before epoch 40 (without the pause, 27 epochs ran past the poll).
rank0="" rank1=""
for _ in $(seq 1200); do
    for p in $(pgrep -f "latent train.*$T/int"); do
        r=$(tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
        [ "$r" = 0 ] && rank0=$p
        [ "$r" = 1 ] && rank1=$p
    done
    [ -n "$rank0" ] && [ -n "$rank1" ] && break
    sleep 0.01
done
for _ in $(seq 3000); do # until the second epoch is under way
    [ "$(grep -c . "$T/int/metrics.jsonl" 2> /dev/null)" -ge 1 ] 2> /dev/null && break
    sleep 0.01
done
[ -n "$rank0" ] && kill -STOP "$rank0"
[ -n "$rank1" ] && kill -INT "$rank1"
sleep 0.2
[ -n "$rank0" ] && kill -CONT "$rank0"
wait "$launcher"
rc=$?
epochs=$(grep -c . "$T/int/metrics.jsonl")
[ -n "$rank1" ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ -s "$T/int/checkpoints/last.safetensors" ] \
    && [ "$epochs" -lt 40 ] && [ "$(grep -c "interrupted" "$T/int.log")" = 1 ] \
    && ok "SIGINT to rank 1 (pid $rank1) stopped both ranks after $epochs epochs, last saved: $(grep -o "interrupted[^;]*" "$T/int.log")" \
    || { bad "interrupt (rank 1 pid '$rank1', rc $rc, $epochs epochs)"; cat "$T/int.log"; }
cp -a "$T/int" "$T/int1"
# --threads 1 again: the thread count is not part of the run, and it changes float sums
mpi 2 train --resume "$T/int" --epochs 40 --threads 1 --quiet || bad "2-rank resume"
"$TOOL" --exact "$T/ref/checkpoints/last.safetensors" "$T/int/checkpoints/last.safetensors" > /dev/null \
    && ok "interrupted + resumed under mpirun = uninterrupted, bit for bit" \
    || bad "2-rank resume differs: $("$TOOL" "$T/ref/checkpoints/last.safetensors" "$T/int/checkpoints/last.safetensors")"
"$LATENT" train --resume "$T/int1" --epochs 40 --threads 1 --quiet || bad "1-rank resume of a 2-rank run"
d=$("$TOOL" "$T/ref/checkpoints/last.safetensors" "$T/int1/checkpoints/last.safetensors")
awk -v r="$(echo "$d" | awk '{print $2}')" 'BEGIN{exit !(r + 0 <= 1e-5)}' && [ "$(grep -c . "$T/int1/metrics.jsonl")" = 40 ] \
    && ok "2-rank run resumed with 1 rank continues to the 2-rank result ($d)" || bad "1-rank resume: $d"

lt_finish test_mpi
