"""Writes a tiny labeled IDX data set for CLI tests: two noisy classes of HxH
binary images (top half on / left half on, 10% of pixels flipped).

usage: write_idx.py DIR N_TRAIN N_VALID N_TEST H"""
import gzip
import os
import random
import struct
import sys

d, sizes, h = sys.argv[1], [int(x) for x in sys.argv[2:5]], int(sys.argv[5])
os.makedirs(d, exist_ok=True)
rnd = random.Random(1)
for stem, n in zip(("train", "valid", "test"), sizes):
    imgs, ys = bytearray(), bytearray()
    for i in range(n):
        y = i % 2
        for r in range(h):
            for c in range(h):
                on = (r < h // 2) if y == 0 else (c < h // 2)
                imgs.append(int(on != (rnd.random() < 0.1)))
        ys.append(y)
    with gzip.open(f"{d}/{stem}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, h, h) + bytes(imgs))
    with gzip.open(f"{d}/{stem}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(ys))
