"""TFRecord / tf.Example interop between latent and Google's protobuf runtime.

usage: tfrecord_interop.py PB_DIR WORK STEP
  PB_DIR  where protoc wrote example_pb2.py
  STEP    write  - Google's runtime writes framed files (none/gzip/zlib, packed and
                   unpacked values, SequenceExamples) plus the same messages as JSON lines
          check-cat  - latent's `cat --json` / text output parses back to equal messages
          check-c    - files latent wrote (encode, convert) parse with Google's runtime
                       and equal the messages they came from
Framing uses python3-crc32c; exits 1 with a message on the first mismatch.
"""
import gzip
import json
import os
import random
import struct
import sys
import zlib

import crc32c
from google.protobuf import json_format, text_format

sys.path.insert(0, sys.argv[1])
import example_pb2 as pb  # noqa: E402

WORK, STEP = sys.argv[2], sys.argv[3]


def masked(data):
    c = crc32c.crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data):
    n = struct.pack("<Q", len(data))
    return n + struct.pack("<I", masked(n)) + data + struct.pack("<I", masked(data))


def unframe(raw, name):
    out, off = [], 0
    while off < len(raw):
        (n,) = struct.unpack_from("<Q", raw, off)
        (hc,) = struct.unpack_from("<I", raw, off + 8)
        if hc != masked(raw[off:off + 8]):
            sys.exit(f"{name}: length CRC mismatch at offset {off}")
        data = raw[off + 12:off + 12 + n]
        (dc,) = struct.unpack_from("<I", raw, off + 12 + n)
        if dc != masked(data):
            sys.exit(f"{name}: data CRC mismatch at offset {off}")
        out.append(data)
        off += 16 + n
    return out


def compress(blob, kind):
    if kind == "gzip":
        return gzip.compress(blob)
    if kind == "zlib":
        return zlib.compress(blob)
    return blob


def decompress(raw):
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if len(raw) >= 2 and raw[0] & 0x0F == 8 and ((raw[0] << 8) | raw[1]) % 31 == 0:
        try:
            return zlib.decompress(raw)
        except zlib.error:
            return raw
    return raw


def rand_feature(r, f):
    kind = r.randrange(3)
    n = r.choice([0, 1, 2, 5, 40])
    if kind == 0:
        f.bytes_list.value.extend(bytes(r.randrange(256) for _ in range(r.choice([0, 1, 7, 300]))) for _ in range(n))
    elif kind == 1:
        special = [0.0, -0.0, 1e-45, 3.4028235e38, float("inf"), float("-inf"), 1e8, 0.1]
        f.float_list.value.extend(r.choice(special) if r.random() < 0.3 else r.uniform(-1e6, 1e6) for _ in range(n))
    else:
        special = [0, -1, 2**63 - 1, -(2**63), 127, 128, 300]
        f.int64_list.value.extend(r.choice(special) if r.random() < 0.3 else r.randrange(-(2**40), 2**40) for _ in range(n))


def examples(seed, count):
    r = random.Random(seed)
    out = []
    for i in range(count):
        ex = pb.Example()
        for k in range(r.randrange(0, 12)):
            key = r.choice(["a", "label", "image/raw", "w", "é-utf8", "k%d" % k, "x y"])
            rand_feature(r, ex.features.feature[key])
        out.append(ex)
    return out


def seq_examples(seed, count):
    r = random.Random(seed)
    out = []
    for i in range(count):
        s = pb.SequenceExample()
        for k in range(r.randrange(0, 4)):
            rand_feature(r, s.context.feature["c%d" % k])
        for k in range(r.randrange(0, 4)):
            fl = s.feature_lists.feature_list["l%d" % k]
            for t in range(r.randrange(0, 5)):
                rand_feature(r, fl.feature.add())
        out.append(s)
    return out


def unpacked_bytes(ex):
    """The same message serialized by Google's runtime with unpacked repeated values."""
    u = pb.ExampleUnpacked()
    u.ParseFromString(ex.SerializeToString())  # same field numbers; packed input is accepted
    return u.SerializeToString()


EX = examples(1, 60)
SEQ = seq_examples(2, 30)


def write():
    for kind, ext in (("none", "tfrecord"), ("gzip", "gz"), ("zlib", "zz")):
        blob = b"".join(frame(e.SerializeToString()) for e in EX)
        open(os.path.join(WORK, "py." + ext), "wb").write(compress(blob, kind))
    blob = b"".join(frame(unpacked_bytes(e)) for e in EX)
    assert blob != b"".join(frame(e.SerializeToString()) for e in EX)
    open(os.path.join(WORK, "py_unpacked.tfrecord"), "wb").write(blob)
    blob = b"".join(frame(s.SerializeToString()) for s in SEQ)
    open(os.path.join(WORK, "py_seq.gz"), "wb").write(gzip.compress(blob))
    with open(os.path.join(WORK, "ex.jsonl"), "w") as f:
        for e in EX:
            f.write(json.dumps(json_format.MessageToDict(e)) + "\n")
    with open(os.path.join(WORK, "seq.jsonl"), "w") as f:
        for s in SEQ:
            f.write(json.dumps(json_format.MessageToDict(s)) + "\n")


def check_lines(name, want, cls):
    lines = [l for l in open(os.path.join(WORK, name)) if l.strip()]
    if len(lines) != len(want):
        sys.exit(f"{name}: {len(lines)} records, expected {len(want)}")
    for i, (line, w) in enumerate(zip(lines, want)):
        got = json_format.Parse(line, cls())
        if got != w:
            sys.exit(f"{name} record {i}: latent printed\n{line}\nexpected\n{text_format.MessageToString(w)}")


def check_cat():
    for ext in ("tfrecord", "gz", "zz", "unpacked"):
        check_lines("cat_%s.jsonl" % ext, EX, pb.Example)
    check_lines("cat_seq.jsonl", SEQ, pb.SequenceExample)
    # text format: the records, split at latent's "# FILE record N" comment lines
    chunks, cur = [], None
    for line in open(os.path.join(WORK, "cat_text.txt")):
        if line.startswith("# "):
            cur = []
            chunks.append(cur)
        else:
            cur.append(line)
    if len(chunks) != len(EX):
        sys.exit(f"text: {len(chunks)} records, expected {len(EX)}")
    for i, (c, w) in enumerate(zip(chunks, EX)):
        got = text_format.Parse("".join(c), pb.Example())
        if got != w:
            sys.exit(f"text record {i} differs:\n{''.join(c)}")


def check_c():
    for ext in ("tfrecord", "gz", "zz"):
        name = os.path.join(WORK, "c." + ext)
        raw = open(name, "rb").read()
        if ext == "gz" and raw[:2] != b"\x1f\x8b":
            sys.exit(f"{name}: not gzip")
        recs = unframe(decompress(raw), name)
        got = [pb.Example.FromString(b) for b in recs]
        if got != EX:
            sys.exit(f"{name}: messages differ from the source")
        if ext == "tfrecord":  # canonical bytes: exactly what Google's runtime writes
            for i, (b, e) in enumerate(zip(recs, EX)):
                if len(b) != e.ByteSize():
                    sys.exit(f"{name} record {i}: {len(b)} bytes, protobuf's size is {e.ByteSize()}")
    recs = unframe(decompress(open(os.path.join(WORK, "c_seq.gz"), "rb").read()), "c_seq.gz")
    if [pb.SequenceExample.FromString(b) for b in recs] != SEQ:
        sys.exit("c_seq.gz: SequenceExamples differ from the source")
    # convert: the tiny IDX set written by the shell script
    d = os.path.join(WORK, "idx")
    for split, n in (("train", 5), ("valid", 3), ("test", 4)):
        recs = []
        for k in range(2):
            name = os.path.join(WORK, "conv-%s-%05d-of-00002" % (split, k))
            recs += unframe(decompress(open(name, "rb").read()), name)
        imgs = gzip.decompress(open(os.path.join(d, split + "-images-idx3-ubyte.gz"), "rb").read())[16:]
        labels = gzip.decompress(open(os.path.join(d, split + "-labels-idx1-ubyte.gz"), "rb").read())[8:]
        if len(recs) != n:
            sys.exit(f"convert {split}: {len(recs)} records, expected {n}")
        for i, b in enumerate(recs):
            e = pb.Example.FromString(b)
            f = e.features.feature
            ok = (f["image/raw"].bytes_list.value == [imgs[6 * i:6 * i + 6]] and f["image/height"].int64_list.value == [2]
                  and f["image/width"].int64_list.value == [3] and f["label"].int64_list.value == [labels[i]])
            if not ok:
                sys.exit(f"convert {split} record {i}: {e}")


def write_idx():
    d = os.path.join(WORK, "idx")
    os.makedirs(d, exist_ok=True)
    for split, n in (("train", 5), ("valid", 3), ("test", 4)):
        img = struct.pack(">IIII", 0x803, n, 2, 3) + bytes((7 * i + 1) % 256 for i in range(6 * n))
        lab = struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n))
        open(os.path.join(d, split + "-images-idx3-ubyte.gz"), "wb").write(gzip.compress(img))
        open(os.path.join(d, split + "-labels-idx1-ubyte.gz"), "wb").write(gzip.compress(lab))


{"write": lambda: (write(), write_idx()), "check-cat": check_cat, "check-c": check_c}[STEP]()
print(f"tfrecord_interop {STEP}: ok")
