#!/bin/bash
# latent features apply: the examples of tests/test_features.c, written as a TFRecord
# file by an independent pure-Python protobuf + CRC32C encoder, through the CLI.
# Expected values: see the header comment of tests/test_features.c (TF's formulas by
# hand, FarmHash values from libfarmhash, crosses from TF's HashCrosser in Python).
set -euo pipefail
: "${LATENT:?}" "${LT_SOURCE_DIR:?}"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
spec="$LT_SOURCE_DIR/tests/data/features/spec.json"

python3 - "$tmp/ex.tfrecord" <<'EOF'
import os, struct, sys

sys.path.insert(0, os.environ['LT_SOURCE_DIR'] + '/tests/py')
from wire import masked, varint, ld

def feature(v):
    kind, vals = v
    if kind == 'b':
        inner = b''.join(ld(1, s.encode()) for s in vals)
        return ld(1, inner)
    if kind == 'f':
        return ld(2, ld(1, b''.join(struct.pack('<f', x) for x in vals)))
    # int64: unpacked here on purpose (the parser must accept both encodings)
    return ld(3, b''.join(varint(1 << 3 | 0) + varint(x) for x in vals))

def example(feats):
    entries = b''.join(ld(1, ld(1, k.encode()) + ld(2, feature(v))) for k, v in feats.items())
    return ld(1, entries)

rows = [
    {'age': ('f', [35]), 'pixels': ('i', [0, 255, 51, 102]), 'color': ('b', ['red', 'blue', 'red']),
     'word': ('b', ['Hello', 'TensorFlow', '2.x']), 'user_id': ('i', [7]), 'dept': ('i', [5, 2]),
     'dept_w': ('f', [0.5, 2.0]), 'slot_a': ('i', [1, 3]), 'slot_b': ('i', [4]), 'movie': ('i', [0, 2]),
     'movie_w': ('f', [1, 3]), 'zip': ('i', [7, 12])},
    {'age': ('f', [18]), 'pixels': ('f', [25.5, 0, 255, 127.5]), 'color': ('b', ['purple', 'zzz']),
     'word': ('b', ['Hello']), 'user_id': ('i', [12]), 'dept': ('i', [9, 42]), 'dept_w': ('f', [1, 1]),
     'slot_b': ('i', [0, 0]), 'movie': ('i', [3]), 'movie_w': ('f', [-1]), 'zip': ('i', [7, 7])},
    {'pixels': ('i', [255, 255, 255, 255])},
]
with open(sys.argv[1], 'wb') as f:
    for r in rows:
        data = example(r)
        head = struct.pack('<Q', len(data))
        f.write(head + struct.pack('<I', masked(head)) + data + struct.pack('<I', masked(data)))
EOF

"$LATENT" features apply --spec "$spec" "$tmp/ex.tfrecord" --json > "$tmp/out.json"
python3 - "$tmp/out.json" <<'EOF'
import json, math, sys
o = json.load(open(sys.argv[1]))
assert o['examples'] == 3 and o['width'] == 121, (o['examples'], o['width'])
names = [c['name'] for c in o['columns']]
assert names == sorted(names), names
col = {c['name']: c for c in o['columns']}
def dense(w, hot):
    v = [0.0] * w
    for i, c in hot.items():
        v[i] += c
    return v
r3 = math.sqrt(3)
want = {
    'age': [[-0.5], [-2.2], [-1]],
    'age_bucketized': [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]],
    'age_bucketized_X_color_indicator': [dense(20, {13: 2, 17: 1}), dense(20, {9: 1, 1: 1}), dense(20, {})],
    'color_indicator': [[2, 0, 1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 1, 0, 0], [0] * 8],
    'dept_weighted_by_dept_w_indicator': [[0.5, 2, 0], [0, 0, 1], [0, 0, 0]],
    'pixels': [[0, 1, 0.2, 0.4], [0.1, 0, 1, 0.5], [1, 1, 1, 1]],
    'user_id_X_word_indicator': [dense(50, {15: 1, 5: 1, 17: 1}), dense(50, {38: 1}), dense(50, {})],
    'user_id_indicator': [dense(10, {7: 1}), dense(10, {0: 1}), dense(10, {})],
    'word_indicator': [[1, 0, 2], [1, 0, 0], [0, 0, 0]],
    'zip_indicator': [dense(7, {2: 1, 3: 1}), dense(7, {2: 2}), dense(7, {})],
}
for name, rows in want.items():
    c = col[name]
    for r, w in enumerate(rows):
        got = o['rows'][r][c['offset']:c['offset'] + c['width']]
        assert len(got) == len(w) and all(abs(a - b) <= 1e-5 * (1 + abs(b)) for a, b in zip(got, w)), (name, r, got, w)
# embeddings: random tables, but empty rows are zeros and mean-pruned rows too
for name in ['movie_weighted_by_movie_w_embedding', 'user_id_embedding', 'word_embedding', 'slot_a_shared_embedding']:
    c = col[name]
    assert all(v == 0 for v in o['rows'][2][c['offset']:c['offset'] + c['width']]), name
    assert any(v != 0 for v in o['rows'][0][c['offset']:c['offset'] + c['width']]), name
c = col['movie_weighted_by_movie_w_embedding']
assert all(v == 0 for v in o['rows'][1][c['offset']:c['offset'] + c['width']])
print("json rows ok")
EOF

# text output: a header naming the column ranges, then one line per record; --limit; same seed, same rows
"$LATENT" features apply --spec "$spec" "$tmp/ex.tfrecord" --limit 2 > "$tmp/out.txt"
head -1 "$tmp/out.txt" | grep -q '^# age\[0:1\] age_bucketized\[1:5\]'
test "$(wc -l < "$tmp/out.txt")" -eq 3
test "$(sed -n 2p "$tmp/out.txt" | wc -w)" -eq 121
"$LATENT" features apply --spec "$spec" "$tmp/ex.tfrecord" --limit 2 | cmp - "$tmp/out.txt"

# errors: bad spec (exit 2, names the column and key), bad data (exit 2, names file and record)
echo '{"columns": [{"type": "embedding_column", "categorical_column": {"type": "categorical_column_with_identity", "key": "u", "num_buckets": 3}}]}' > "$tmp/bad.json"
set +e
"$LATENT" features apply --spec "$tmp/bad.json" "$tmp/ex.tfrecord" 2> "$tmp/err" >/dev/null; rc=$?
set -e
test $rc -eq 2 && grep -q "columns\[0\]: missing key 'dimension'" "$tmp/err" || { cat "$tmp/err"; echo "bad spec: rc $rc"; exit 1; }
echo '{"columns": [{"type": "indicator_column", "categorical_column": {"type": "categorical_column_with_identity", "key": "user_id", "num_buckets": 10}}]}' > "$tmp/strict.json"
set +e
"$LATENT" features apply --spec "$tmp/strict.json" "$tmp/ex.tfrecord" 2> "$tmp/err" >/dev/null; rc=$?
set -e
test $rc -eq 2 && grep -q "ex.tfrecord record 1 offset .*value 12 is outside \[0, 10)" "$tmp/err" || { cat "$tmp/err"; echo "bad data: rc $rc"; exit 1; }
set +e
"$LATENT" features apply "$tmp/ex.tfrecord" 2>/dev/null; rc=$?
set -e
test $rc -eq 2
echo "features CLI ok"
