#!/usr/bin/env bash
# make run: trains a MADE (784-500-784, one mask) on dynamically binarized
# Fashion-MNIST for about two minutes on two cores, evaluates it on the test
# split, draws a sample grid and says where everything is.
# Usage: scripts/run.sh LATENT DATA_DIR   (env: RUN=dir, EPOCHS=n, THREADS=n)
set -euo pipefail
LATENT=${1:?usage: scripts/run.sh path/to/latent DATA_DIR}
DATA=${2:?usage: scripts/run.sh path/to/latent DATA_DIR}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-20}   # ~5 s per epoch of 50,000 images at 2 threads on a quiet machine: ~2 minutes
RUN=${RUN:-runs/made-fashion-$(date +%Y%m%d-%H%M%S)}

if [ ! -d "$DATA" ]; then
    echo "run.sh: no data at $DATA (Debian package dataset-fashion-mnist; scripts/deps.sh installs it)" >&2
    exit 2
fi
mkdir -p "$(dirname "$RUN")"
start=$(date +%s)
echo "== training MADE 784-500-784 on binarized Fashion-MNIST ($DATA), $EPOCHS epochs, $THREADS threads" >&2
"$LATENT" train --model made --hidden 500 --data "$DATA" --binarize dynamic \
    --epochs "$EPOCHS" --batch 100 --optimizer adam --lr 1e-3 --patience 3 --seed 1 \
    --threads "$THREADS" --out "$RUN"
trained=$(date +%s)

echo "== evaluating on the test split" >&2
"$LATENT" eval "$RUN" --split test --threads "$THREADS" --json >"$RUN/eval-test.json.tmp"
mv "$RUN/eval-test.json.tmp" "$RUN/eval-test.json"
"$LATENT" eval "$RUN" --split test --threads "$THREADS"

echo "== sampling" >&2
"$LATENT" sample "$RUN" -n 64 --seed 1 --threads "$THREADS" -o "$RUN/samples.png"
end=$(date +%s)

last_grid=$(ls "$RUN"/samples/epoch-*.png 2>/dev/null | tail -n 1 || true)
cat <<EOF

Done in $((end - start)) s (training $((trained - start)) s).
  run directory    $RUN
  config           $RUN/config.json
  metrics          $RUN/metrics.jsonl   (one JSON line per epoch)
  checkpoints      $RUN/checkpoints/best.safetensors, $RUN/checkpoints/last.safetensors
  test evaluation  $RUN/eval-test.json: $(cat "$RUN/eval-test.json")
  sample grid      $RUN/samples.png  (per-epoch grids: $RUN/samples/${last_grid:+, latest $last_grid})
Continue training:  $LATENT train --resume $RUN --epochs $((EPOCHS + 10))
EOF
