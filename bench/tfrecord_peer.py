"""Python peer for bench_tfrecord: python3-protobuf (Google's C++-backed runtime in
Debian) parsing the same TFRecord file into the same dense batches.

usage: tfrecord_peer.py PB_DIR FILE [passes]
Framing is split first (CRCs not checked: this measures protobuf parsing plus the
batching a Python pipeline does); prints one JSON line with bytes/s and records/s.
"""
import json
import struct
import sys
import time

import numpy as np

sys.path.insert(0, sys.argv[1])
import example_pb2 as pb  # noqa: E402
from google.protobuf.internal import api_implementation  # noqa: E402

path, passes = sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3
raw = open(path, "rb").read()
recs, off = [], 0
while off < len(raw):
    (n,) = struct.unpack_from("<Q", raw, off)
    recs.append(raw[off + 12:off + 12 + n])
    off += 16 + n

best_parse = best_batch = 1e30
for _ in range(passes):
    t0 = time.perf_counter()
    for r in recs:
        pb.Example.FromString(r)
    best_parse = min(best_parse, time.perf_counter() - t0)
    t0 = time.perf_counter()
    x = np.empty((100, 784), np.float32)
    k = 0
    for r in recs:  # parse + pull the image and label into a dense float batch of 100
        f = pb.Example.FromString(r).features.feature
        x[k] = np.frombuffer(f["image/raw"].bytes_list.value[0], np.uint8) * (1.0 / 255.0)
        lab = f["label"].int64_list.value[0] if "label" in f else -1
        k = 0 if k == 99 else k + 1
    best_batch = min(best_batch, time.perf_counter() - t0)
print(json.dumps({"impl": api_implementation.Type(), "records": len(recs), "bytes": len(raw),
                  "parse_gbs": len(raw) / best_parse / 1e9, "parse_records_per_s": len(recs) / best_parse,
                  "batch_gbs": len(raw) / best_batch / 1e9, "batch_records_per_s": len(recs) / best_batch}))
