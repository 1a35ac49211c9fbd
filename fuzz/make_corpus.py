#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ (small files).
Independent encoders: protobuf wire format and CRC32C by hand, zlib/gzip from Python."""
import gzip, json, os, shutil, struct, zlib

HERE = os.path.dirname(os.path.abspath(__file__))

import sys
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'py'))
from wire import masked, varint, ld  # noqa: E402

def feature(kind, vals, packed=True):
    if kind == 'b':
        return ld(1, b''.join(ld(1, s) for s in vals))
    if kind == 'f':
        if packed:
            return ld(2, ld(1, b''.join(struct.pack('<f', x) for x in vals)))
        return ld(2, b''.join(varint(1 << 3 | 5) + struct.pack('<f', x) for x in vals))
    if packed:
        return ld(3, ld(1, b''.join(varint(x) for x in vals)))
    return ld(3, b''.join(varint(1 << 3) + varint(x) for x in vals))

def features(d, packed=True):
    return b''.join(ld(1, ld(1, k.encode()) + ld(2, feature(*v, packed=packed))) for k, v in d.items())

def example(d, packed=True):
    return ld(1, features(d, packed))

def seqex(ctx, lists):
    fl = b''.join(ld(1, ld(1, k.encode()) + ld(2, b''.join(ld(1, feature(*f)) for f in steps)))
                  for k, steps in lists.items())
    return ld(1, features(ctx)) + ld(2, fl)

def frame(records):
    out = b''
    for data in records:
        head = struct.pack('<Q', len(data))
        out += head + struct.pack('<I', masked(head)) + data + struct.pack('<I', masked(data))
    return out

def reset(name):
    d = os.path.join(HERE, 'corpus', name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d

def write(d, name, data):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

ex1 = example({'age': ('f', [35.0]), 'word': ('b', [b'Hello', b'TensorFlow']), 'user_id': ('i', [7, -3])})
ex2 = example({'pixels': ('i', [0, 255, 51]), 'color': ('b', [b'red', b''])}, packed=False)
ex3 = example({'a': ('f', [1.5, -2.0]), 'a2': ('i', [2 ** 63 - 1])})
sq1 = seqex({'len': ('i', [3])}, {'tokens': [('b', [b'x']), ('b', [b'y', b'z']), ('b', [])],
                                 'frames': [('f', [0.5, 1.0]), ('f', [2.0])]})

d = reset('example')
for i, data in enumerate([ex1, ex2, ex3, sq1, b'', ld(1, b''), ex1 + ex2]):
    write(d, 'seed%d' % i, data)

d = reset('tfrecord')  # byte 0: compression (0 none, 1 zlib, 2 gzip, 3 auto) | 4: no CRC | skip<<3
plain = frame([ex1, ex2, sq1])
write(d, 'none', bytes([0]) + plain)
write(d, 'auto', bytes([3]) + plain)
write(d, 'zlib', bytes([1]) + zlib.compress(plain))
write(d, 'gzip', bytes([2]) + gzip.compress(plain, mtime=0))
write(d, 'empty_record', bytes([0]) + frame([b'']))
bad = bytearray(plain)
bad[20] ^= 1
write(d, 'corrupt_skip', bytes([1 << 3]) + bytes(bad))
write(d, 'truncated', bytes([0]) + plain[:-3])

d = reset('feature_spec')
write(d, 'vocab.txt', b'red\nblue\nHello\n')
src = os.path.join(HERE, '..', 'tests', 'data', 'features', 'spec.json')
write(d, 'full', open(src, 'rb').read().replace(b'dept_vocab.txt', b'vocab.txt').replace(b'"dtype": "int64"', b'"dtype": "string"'))
small = [
    {"columns": [{"type": "numeric_column", "key": "age", "shape": [2], "default_value": [1, 2]}]},
    {"columns": [{"type": "bucketized_column", "boundaries": [0, 10],
                  "source_column": {"type": "numeric_column", "key": "a", "default_value": 0}}]},
    {"columns": [{"type": "indicator_column", "categorical_column": {"type": "crossed_column",
                  "keys": ["word", "user_id", "a"], "hash_bucket_size": 10, "hash_key": "0x1"}}]},
    {"columns": [{"type": "embedding_column", "dimension": 3, "combiner": "sqrtn", "categorical_column":
                  {"type": "weighted_categorical_column", "weight_feature_key": "a", "categorical_column":
                   {"type": "categorical_column_with_vocabulary_file", "key": "word",
                    "vocabulary_file": "vocab.txt", "num_oov_buckets": 2}}}]},
    {"columns": [{"type": "shared_embedding_columns", "dimension": 2, "categorical_columns": [
                  {"type": "categorical_column_with_identity", "key": "user_id", "num_buckets": 8, "default_value": 1},
                  {"type": "categorical_column_with_hash_bucket", "key": "color", "hash_bucket_size": 8}]}]},
    {"columns": [{"type": "indicator_column", "categorical_column": {"type": "categorical_column_with_vocabulary_list",
                  "key": "user_id", "vocabulary_list": [7, -3], "default_value": 0}}]},
]
for i, s in enumerate(small):
    write(d, 'small%d' % i, json.dumps(s).encode())
print('corpora written under', os.path.join(HERE, 'corpus'))
