#!/bin/bash
# TFRecord / tf.Example interop with Google's protobuf runtime (python3-protobuf,
# protobuf-compiler, python3-crc32c): files Google writes read back field for field
# through `latent tfrecord cat`, and files latent writes parse with Google's runtime.
set -euo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
need="tfrecord interop needs protobuf-compiler, python3-protobuf and python3-crc32c (apt-get install them)"
command -v protoc > /dev/null || lt_skip "$need"
lt_python_or_skip "$need" google.protobuf crc32c # Debian's python3-protobuf
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SRC=$LT_SOURCE_DIR/tests/py
protoc --python_out="$T" -I"$SRC" "$SRC/example.proto"
run() { $PY "$SRC/tfrecord_interop.py" "$T" "$T" "$@"; }

run write
# Google -> latent
for ext in tfrecord gz zz; do "$LATENT" tfrecord cat --json "$T/py.$ext" > "$T/cat_$ext.jsonl"; done
"$LATENT" tfrecord cat --json "$T/py_unpacked.tfrecord" > "$T/cat_unpacked.jsonl"
"$LATENT" tfrecord cat --json --sequence "$T/py_seq.gz" > "$T/cat_seq.jsonl"
"$LATENT" tfrecord cat "$T/py.gz" > "$T/cat_text.txt"
run check-cat
# latent -> Google
"$LATENT" tfrecord encode "$T/ex.jsonl" "$T/c.tfrecord"
"$LATENT" tfrecord encode "$T/ex.jsonl" "$T/c.gz" --compression gzip
"$LATENT" tfrecord encode "$T/ex.jsonl" "$T/c.zz" --compression zlib
"$LATENT" tfrecord encode --sequence "$T/seq.jsonl" "$T/c_seq.gz" --compression gzip
"$LATENT" tfrecord convert --from "$T/idx" --to "$T/conv" --shards 2 --compression zlib 2> /dev/null
run check-c
# verify and bad input
"$LATENT" tfrecord verify "$T/conv-train@2" > /dev/null
set +e
"$LATENT" tfrecord cat "$T/missing" 2> /dev/null; rc=$?
[ $rc -eq 2 ] || { echo "cat of a missing file: exit $rc, expected 2"; exit 1; }
head -c 100 "$T/c.tfrecord" > "$T/cut.tfrecord"
"$LATENT" tfrecord verify "$T/cut.tfrecord" > "$T/v.txt"; rc=$?
[ $rc -eq 1 ] && grep -q "truncated" "$T/v.txt" || { echo "verify of a cut file: exit $rc"; cat "$T/v.txt"; exit 1; }
echo "tfrecord interop: ok"
