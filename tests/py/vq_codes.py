"""Checks `latent encode` output with Google's protobuf runtime and `latent decode` against
`latent reconstruct`.

usage: vq_codes.py PB_DIR codes CODES.tfrecord N H W K
         every record parses as a tf.Example with exactly 'codes' (H*W int64 in 0..K-1),
         'codes/height' H, 'codes/width' W and 'label'; N records
       vq_codes.py PB_DIR same RECON.png DECODED.png N
         the N decoded tiles (8 a row) equal the reconstructions (odd tiles of 16 a row)
Exits 1 with a message on the first mismatch."""
import os
import struct
import sys

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png_read import read_png  # noqa: E402


def records(path):
    raw, off, out = open(path, "rb").read(), 0, []
    while off < len(raw):
        (n,) = struct.unpack_from("<Q", raw, off)
        out.append(raw[off + 12:off + 12 + n])
        off += 16 + n
    return out


def png(path):
    _, _, rows, bpp = read_png(path)
    return rows, bpp


def tile(img, k, cols, th, tw):
    rows, bpp = img
    oy, ox = 1 + (k // cols) * (th + 1), 1 + (k % cols) * (tw + 1)
    return [rows[oy + y][ox * bpp:(ox + tw) * bpp] for y in range(th)]


if sys.argv[2] == "codes":
    import example_pb2 as pb
    path, n, h, w, k = sys.argv[3], *map(int, sys.argv[4:8])
    recs = records(path)
    if len(recs) != n:
        sys.exit(f"{path}: {len(recs)} records, expected {n}")
    for i, r in enumerate(recs):
        ex = pb.Example.FromString(r)
        f = ex.features.feature
        if sorted(f.keys()) != ["codes", "codes/height", "codes/width", "label"]:
            sys.exit(f"record {i}: features {sorted(f.keys())}")
        codes = list(f["codes"].int64_list.value)
        if list(f["codes/height"].int64_list.value) != [h] or list(f["codes/width"].int64_list.value) != [w]:
            sys.exit(f"record {i}: grid {f['codes/height']} x {f['codes/width']}, expected {h} x {w}")
        if len(codes) != h * w or not all(0 <= c < k for c in codes):
            sys.exit(f"record {i}: {len(codes)} codes, range {min(codes)}..{max(codes)}, expected {h * w} in 0..{k - 1}")
        if len(f["label"].int64_list.value) != 1:
            sys.exit(f"record {i}: label {f['label']}")
    print(f"{n} records parse with Google's runtime")
else:
    rec, dec, n = png(sys.argv[3]), png(sys.argv[4]), int(sys.argv[5])
    th = (len(dec[0]) - 1) // ((n + 7) // 8) - 1
    tw = th  # square images
    for j in range(n):
        if tile(dec, j, 8, th, tw) != tile(rec, 2 * j + 1, 16, th, tw):
            sys.exit(f"decoded image {j} differs from reconstruction {j}")
    print(f"{n} decoded images equal the reconstructions")
