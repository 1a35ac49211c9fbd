#!/usr/bin/env bash
# safetensors interop with PyTorch, both ways, using only json + struct + torch.frombuffer
# on the python side: C writes -> python checks; python writes -> C checks.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
lt_python_or_skip "python3-torch absent" torch
lt_tool st_tool
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT

"$TOOL" write "$dir/c.safetensors"
"$PY" - "$dir/c.safetensors" <<'PY'
import json, struct, sys, torch
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert n % 8 == 0, n
header = json.loads(raw[8:8 + n])
data = bytearray(raw[8 + n:])
assert header.pop("__metadata__") == {"model": "mlp", "step": "7"}
dtypes = {"F32": torch.float32, "I64": torch.int64, "U8": torch.uint8}
def load(name):
    h = header[name]
    b, e = h["data_offsets"]
    return torch.frombuffer(data[b:e], dtype=dtypes[h["dtype"]]).reshape(h["shape"]) if e > b else None
assert sorted(header) == ["idx", "u", "w"], header
w = load("w")
assert w.shape == (3, 4) and torch.equal(w, (torch.arange(12, dtype=torch.float32) * 0.25 - 1.0).reshape(3, 4)), w
assert load("idx").tolist() == [-7, 0, 1, 1 << 40, 123456789]
assert load("u").tolist() == [0, 1, 127, 128, 254, 255]
print("python: C checkpoint matches")
PY

"$PY" - "$dir/py.safetensors" "$(dirname "${BASH_SOURCE[0]}")/py" <<'PY'
import sys, torch
sys.path.insert(0, sys.argv[2])
from safetensors_io import save
save(sys.argv[1], {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1.0,
                   "b": torch.tensor([-3, 0, 1 << 40, 9], dtype=torch.int64),
                   "c": torch.tensor([1, 2, 255], dtype=torch.uint8)}, {"author": "torch"})
PY
"$TOOL" check "$dir/py.safetensors"
echo "ok: safetensors interop with PyTorch both ways"
