#!/usr/bin/env bash
# Installs the Debian packages latent needs (build, tests, peers, default data).
# Usage: scripts/deps.sh [build|test|all]   — idempotent; does nothing when all are present.
set -euo pipefail
BUILD="cmake make gcc g++ pkg-config libopenblas-dev libopenblas-openmp-dev zlib1g-dev libisal-dev libjansson-dev libstb-dev libfarmhash-dev libcmocka-dev libjpeg62-turbo-dev libpng-dev libopenmpi-dev openmpi-bin"
DATA="dataset-fashion-mnist"
PEERS="python3 python3-numpy python3-torch python3-protobuf protobuf-compiler python3-crc32c python3-pil"
BROWSER="chromium" # tests/test_report.sh opens the HTML report headless
BUILD="$BUILD liblbfgs-dev nettle-dev" # linear probe (L-BFGS), SHA-256 of encoder checkpoints (docs/metrics.md)
BUILD="$BUILD dpkg-dev" # dpkg-shlibdeps: the .deb's Depends (cpack -G DEB: make deb, tests/test_deb.sh)
EXTRA="clang libclang-rt-14-dev"
case "${1:-build}" in
  build) want="$BUILD $DATA" ;;
  test)  want="$BUILD $DATA $PEERS $BROWSER" ;;
  all)   want="$BUILD $DATA $PEERS $BROWSER $EXTRA" ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "latent needs these Debian packages: run  sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || true
apt-get install -y -qq --no-install-recommends $missing >&2
