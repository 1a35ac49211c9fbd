#!/bin/bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz/ and runs each
# for FUZZ_SECONDS (default 60) from the seed corpus in fuzz/corpus/<target>/.
# New inputs go to build-fuzz/corpus/<target>/ (the repository's seeds stay as
# they are); a crash leaves build-fuzz/crashes/<target>-crash-* and fails the run.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]   (from the repository root; `make fuzz`)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-${FUZZ_SECONDS:-60}}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tfrecord example feature_spec)
out=build-fuzz
mkdir -p "$out/obj" "$out/crashes"
command -v clang >/dev/null || { echo "fuzz: clang is required (scripts/deps.sh all installs it)"; exit 1; }

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
defs="-Isrc -D_GNU_SOURCE"
libs="-lz -ljansson -lfarmhash -lm"
if [ -e /usr/include/isa-l/igzip_lib.h ] && ls /usr/lib/*/libisal.so >/dev/null 2>&1; then
  defs="$defs -DLT_HAVE_ISAL=1"; libs="$libs -lisal"
fi
# The data layer and the parts of core it uses: nothing above core is linked.
srcs="src/core/alloc.c src/core/status.c src/core/params.c src/core/rng.c src/core/tensor.c
      src/data/crc32c.c src/data/tfrecord.c src/data/tfrecord_set.c src/data/example.c src/data/example_build.c
      src/data/example_spec.c src/data/features.c src/data/features_spec.c"
objs=()
for s in $srcs; do
  o="$out/obj/$(basename "${s%.c}").o"
  clang -std=c11 $san -fsanitize=fuzzer-no-link $defs -Wall -Wno-unknown-pragmas -c "$s" -o "$o"
  objs+=("$o")
done
clang++ $san -fsanitize=fuzzer-no-link $defs -c src/data/farmhash_shim.cc -o "$out/obj/farmhash_shim.o"
objs+=("$out/obj/farmhash_shim.o")

status=0
for t in "${targets[@]}"; do
  clang -std=c11 $san -fsanitize=fuzzer $defs -Wall "fuzz/fuzz_$t.c" "${objs[@]}" $libs -lstdc++ -o "$out/fuzz_$t"
  mkdir -p "$out/corpus/$t"
  dict=(); [ -e "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  echo "== fuzz_$t: ${secs}s"
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
       nice -n 10 "$out/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
       -artifact_prefix="$out/crashes/$t-" -print_final_stats=1 "${dict[@]}" "$out/corpus/$t" "fuzz/corpus/$t" \
       2> "$out/fuzz_$t.log"; then
    echo "fuzz_$t FAILED: see $out/fuzz_$t.log and $out/crashes/"
    tail -40 "$out/fuzz_$t.log"
    status=1
  else
    grep -E "^stat::number_of_executed_units|^Done" "$out/fuzz_$t.log" | tr '\n' ' '; echo
  fi
done
exit $status
