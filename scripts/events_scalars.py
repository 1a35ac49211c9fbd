#!/usr/bin/env python3
"""Prints a run's TensorBoard scalars, read from its event files with the standard library.

usage: events_scalars.py RUN TAG [TAG...] [--step N]

One line per (step, tag): "step tag value". With --step N only that step. A run resumed
several times has several event files; later files win for a step logged twice. The
records are TFRecord frames (length, masked CRC, data, masked CRC; the CRCs are not
checked here) of tensorflow.Event protos, decoded by hand: Event.step (field 2, varint),
Event.summary (5) -> Summary.value (1) -> Value.tag (1, string), Value.simple_value (2,
float). Example: the training nMSE averaged over steps 9,901-10,000 (--log-every 100):
    scripts/events_scalars.py runs/cifar-sonnet train/nmse --step 10000
"""
import glob
import os
import struct
import sys


def varint(b, i):
    v, s = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, i


def fields(b):
    """(field number, wire type, value) of a protobuf message; values of wire type 2 as bytes."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        f, t = key >> 3, key & 7
        if t == 0:
            v, i = varint(b, i)
        elif t == 1:
            v, i = b[i:i + 8], i + 8
        elif t == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif t == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {t} at byte {i}")
        yield f, t, v


def records(path):
    b = open(path, "rb").read()
    off = 0
    while off + 12 <= len(b):
        (n,) = struct.unpack_from("<Q", b, off)
        if off + 16 + n > len(b):  # a run killed mid-write: the records before it stand
            print(f"{path}: record at offset {off} truncated ({n} bytes announced); the rest skipped", file=sys.stderr)
            return
        yield b[off + 12:off + 12 + n]
        off += 16 + n


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    run, rest, want_step = argv[1], argv[2:], None
    if "--step" in rest:
        k = rest.index("--step")
        want_step = int(rest[k + 1])
        rest = rest[:k] + rest[k + 2:]
    tags = set(rest)
    files = sorted(glob.glob(os.path.join(run, "events.out.tfevents.*")), key=lambda p: int(os.path.basename(p).split(".")[3]))
    if not files:
        sys.exit(f"{run}: no events.out.tfevents.* files")
    out = {}
    for path in files:
        for rec in records(path):
            step, vals = 0, []
            for f, t, v in fields(rec):
                if f == 2 and t == 0:
                    step = v
                elif f == 5 and t == 2:
                    for sf, st, sv in fields(v):
                        if sf == 1 and st == 2:
                            tag, val = None, None
                            for vf, vt, vv in fields(sv):
                                if vf == 1 and vt == 2:
                                    tag = vv.decode()
                                elif vf == 2 and vt == 5:
                                    val = struct.unpack("<f", vv)[0]
                            if tag in tags and val is not None:
                                vals.append((tag, val))
            for tag, val in vals:
                if want_step is None or step == want_step:
                    out[(step, tag)] = val
    for (step, tag), val in sorted(out.items()):
        print(f"{step} {tag} {val:.6g}")
    return 0 if out else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
