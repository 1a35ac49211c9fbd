"""safetensors read and write for the torch interop tests with json + struct +
torch.frombuffer only (no safetensors package): the format is a u64 little-endian
header length, the JSON header, then the raw little-endian tensor bytes."""
import json
import struct

import torch

DTYPES = {"F32": torch.float32, "I64": torch.int64, "U8": torch.uint8}
NAMES = {v: k for k, v in DTYPES.items()}


def save(path, tensors, meta=None):
    """tensors: {name: torch tensor}; meta: {str: str} or None."""
    header, blobs, off = ({"__metadata__": meta} if meta else {}), [], 0
    for k, t in tensors.items():
        b = t.contiguous().numpy().tobytes()
        header[k] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load(path):
    """{name: tensor} (copies), metadata dropped."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = bytearray(raw[8 + n:])
    out = {}
    for k, h in header.items():
        b, e = h["data_offsets"]
        dt = DTYPES[h["dtype"]]
        out[k] = torch.frombuffer(data[b:e], dtype=dt).reshape(h["shape"]).clone() if e > b \
            else torch.empty(h["shape"], dtype=dt)
    return out
