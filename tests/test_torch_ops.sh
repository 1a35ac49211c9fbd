#!/usr/bin/env bash
# conv2d, conv_transpose2d (stride 2 and, with 3 channels and batches of 9, stride 1 k3 / to 3
# channels; 20 channels stride 1 k3, the Winograd kernel), group_norm, layer_norm, causal_softmax, attention, gelu, linear_add, nt_xent,
# batch_norm (batch statistics; planes of 15 and of 36 values), the fused batch_norm_relu
# (relu(bn(x) + res)) and the fused group_norm_silu (silu(gn(x)), planes of 30) against PyTorch on
# the same inputs and weights: outputs and the gradients of Σ r·y for every input.
# Shapes and hyper-parameters are written here and, independently, in tests/tools/ops_tool.c.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
lt_python_or_skip "python3-torch absent" torch
lt_tool ops_tool
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT

"$PY" - "$dir" <<'PY'
import sys, torch
import torch.nn.functional as F
torch.manual_seed(5)
d = sys.argv[1]
def attention(x, H, causal):
    B, T, C3 = x.shape
    C = C3 // 3
    q, k, v = (t.reshape(B, T, H, C // H).transpose(1, 2) for t in x.split(C, -1))
    s = q @ k.transpose(-2, -1) / (C // H) ** 0.5
    if causal:
        s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
    return (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
cases = {
    "conv2d": ([(2, 3, 9, 8), (4, 3, 3, 2), (4,)], lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1)),
    "conv_transpose2d": ([(2, 4, 5, 4), (4, 3, 4, 4), (3,)],
                         lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1)),
    "group_norm": ([(2, 6, 5, 4), (6,), (6,)], lambda x, g, b: F.group_norm(x, 3, g, b, eps=1e-5)),
    "layer_norm": ([(3, 4, 7), (7,), (7,)], lambda x, g, b: F.layer_norm(x, (7,), g, b, eps=1e-5)),
    "causal_softmax": ([(2, 5, 5)], lambda s: s.masked_fill(
        torch.ones(5, 5, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)),
    # attention(qkv, heads, causal) as torch users write it: split, view(B,T,H,Dh), softmax(q·kᵀ/√Dh + mask)·v
    "attention_causal": ([(2, 7, 36)], lambda x: attention(x, 3, True)),
    "attention_full": ([(3, 5, 24)], lambda x: attention(x, 2, False)),
    "attention_long": ([(1, 70, 24)], lambda x: attention(x, 4, True)),
    "gelu": ([(8, 100)], lambda x: F.gelu(6 * x, approximate="tanh")),
    "conv2d_k3": ([(9, 3, 7, 9), (17, 3, 3, 3), (17,)], lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1)),
    "conv_transpose2d_c3": ([(9, 33, 5, 4), (33, 3, 4, 4), (3,)],
                            lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1)),
    "linear_add": ([(9, 7), (5, 7), (5,), (9, 5)], lambda x, w, b, r: r + F.linear(x, w, b)),
    # NT-Xent as SimCLR implementations write it: normalize, similarities / tau, the diagonal
    # masked out, cross-entropy against the other view, per row
    "nt_xent": ([(10, 6)], lambda z: F.cross_entropy(
        (F.normalize(z, dim=1) @ F.normalize(z, dim=1).T / 0.5).masked_fill(torch.eye(10, dtype=torch.bool), float("-inf")),
        (torch.arange(10) + 5) % 10, reduction="none")),
    "conv2d_wino": ([(5, 20, 7, 7), (18, 20, 3, 3), (18,)], lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1)),
    "batch_norm": ([(6, 4, 5, 3), (4,), (4,)], lambda x, g, b: F.batch_norm(x, None, None, g, b, True, 0.1, 1e-5)),
    # the fused op as the ResNet block writes it unfused
    "batch_norm_relu": ([(4, 5, 3, 3), (5,), (5,), (4, 5, 3, 3)],
                        lambda x, g, b, r: F.relu(F.batch_norm(x, None, None, g, b, True, 0.1, 1e-5) + r)),
    "group_norm_silu": ([(3, 8, 6, 5), (8,), (8,)], lambda x, g, b: F.silu(F.group_norm(x, 4, g, b, eps=1e-6))),
    "batch_norm_wide": ([(3, 4, 6, 6), (4,), (4,)], lambda x, g, b: F.batch_norm(x, None, None, g, b, True, 0.1, 1e-5)),
}
for name, (shapes, fn) in cases.items():
    ins = [torch.empty(s).uniform_(-1, 1).requires_grad_() for s in shapes]
    y = fn(*ins)
    r = torch.empty(y.shape).uniform_(-1, 1)
    open(f"{d}/{name}.in", "wb").write(b"".join(t.detach().numpy().tobytes() for t in ins + [r]))
    (y * r).sum().backward()
    torch.save([y.detach()] + [t.grad for t in ins], f"{d}/{name}.ref")
PY

"$TOOL" "$dir"

"$PY" - "$dir" <<'PY'
import sys, torch
d = sys.argv[1]
bad = 0
for name in ["conv2d", "conv_transpose2d", "group_norm", "layer_norm", "causal_softmax", "attention_causal",
             "attention_full", "attention_long", "gelu", "conv2d_k3", "conv_transpose2d_c3", "linear_add", "nt_xent",
             "conv2d_wino", "batch_norm", "batch_norm_relu", "group_norm_silu", "batch_norm_wide"]:
    ref = torch.load(f"{d}/{name}.ref")
    got = torch.frombuffer(bytearray(open(f"{d}/{name}.out", "rb").read()), dtype=torch.float32)
    want = torch.cat([t.reshape(-1) for t in ref])
    assert got.numel() == want.numel(), (name, got.numel(), want.numel())
    at = 0
    for i, t in enumerate(ref):
        g = got[at:at + t.numel()].reshape(t.shape)
        at += t.numel()
        err = (g - t).abs().max().item()
        what = "output" if i == 0 else f"grad of input {i - 1}"
        ok = err <= 1e-4 * (1 + t.abs().max().item())
        print(f"{name:17s} {what:16s} max abs diff {err:.2e} {'ok' if ok else 'FAIL'}")
        bad += not ok
sys.exit(1 if bad else 0)
PY
