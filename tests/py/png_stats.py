"""Prints "WIDTH HEIGHT DISTINCT_COLOURS NON_WHITE_FRACTION" of an 8-bit PNG
(grey, RGB or RGBA, not interlaced), decoded with zlib and struct only (png_read.py).

usage: png_stats.py FILE.png"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png_read import read_png  # noqa: E402

w, h, rows, bpp = read_png(sys.argv[1])
colours, non_white = set(), 0
for line in rows:
    for x in range(0, w * bpp, bpp):
        px = line[x:x + min(bpp, 3)]
        colours.add(px)
        non_white += px != b"\xff" * len(px)
print(w, h, len(colours), f"{non_white / (w * h):.4f}")
