"""An 8-bit PNG (grey, RGB or RGBA, not interlaced) decoded with zlib and struct only, for
the tests that read latent's grids without PIL: read_png(path) -> (w, h, rows, bpp), rows
the h unfiltered scanlines as bytes of w*bpp. Exits with a message on anything else."""
import struct
import sys
import zlib


def read_png(path):
    b = open(path, "rb").read()
    if b[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    off, idat = 8, b""
    while off < len(b):
        (n,) = struct.unpack_from(">I", b, off)
        kind, body = b[off + 4:off + 8], b[off + 8:off + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        off += 12 + n
    if depth != 8 or interlace or ctype not in (0, 2, 6):
        sys.exit(f"{path}: unsupported PNG: depth {depth} colour type {ctype} interlace {interlace}")
    bpp = {0: 1, 2: 3, 6: 4}[ctype]
    raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            c = prev[i - bpp] if i >= bpp else 0
            up = prev[i]
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + up) & 255
            elif f == 3:
                line[i] = (line[i] + (a + up) // 2) & 255
            elif f == 4:
                p = a + up - c
                pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp
