"""Writes a tiny image folder (DIR/train/<class>/NNNN.png, DIR/test/<class>/...) of grey HxH
PNGs: two noisy classes (top half on / left half on), as write_idx.py's, 0/255 pixels.

usage: write_folder.py DIR N_TRAIN N_TEST H"""
import os
import random
import struct
import sys
import zlib


def png(path, h, pix):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    raw = b"".join(b"\0" + bytes(pix[r * h:(r + 1) * h]) for r in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", h, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


d, sizes, h = sys.argv[1], [int(x) for x in sys.argv[2:4]], int(sys.argv[4])
rnd = random.Random(1)
for split, n in zip(("train", "test"), sizes):
    for i in range(n):
        y = i % 2
        os.makedirs(f"{d}/{split}/c{y}", exist_ok=True)
        pix = [255 * int(((r < h // 2) if y == 0 else (c < h // 2)) != (rnd.random() < 0.1)) for r in range(h) for c in range(h)]
        png(f"{d}/{split}/c{y}/{i:04d}.png", h, pix)
