#!/usr/bin/env bash
# NADE against PyTorch on the same weights and batch: the training loss (mean NLL),
# per-example log-likelihoods and every parameter gradient of latent's hand-written
# NADE backward vs autograd through the per-dimension loop (as in torch_ref.py's
# NADELoop), unconditional and class-conditional (a_0 = c + U[:, y]).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
lt_python_or_skip "python3-torch absent" torch
lt_tool nade_tool
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT

for C in 0 3; do
  D=400 H=60 B=24
  "$PY" - "$dir" $D $H $C $B write <<'PY'
import sys, torch
d, D, H, C, B = sys.argv[1], *map(int, sys.argv[2:6])
torch.manual_seed(11 + C)
p = [torch.randn(D, H) * 0.3, torch.randn(H) * 0.3, torch.randn(D, H) * 0.3, torch.randn(D) * 0.3]
if C: p.append(torch.randn(H, C) * 0.3)
x = (torch.rand(B, D) < 0.2).float()
y = torch.randint(0, max(C, 1), (B,)).float()
open(f"{d}/in.bin", "wb").write(b"".join(t.numpy().tobytes() for t in p + [x, y]))
torch.save((p, x, y), f"{d}/in.pt")
PY
  "$TOOL" "$dir" $D $H $C $B
  "$PY" - "$dir" $D $H $C $B <<'PY'
import sys, numpy as np, torch
import torch.nn.functional as F
d, D, H, C, B = sys.argv[1], *map(int, sys.argv[2:6])
p, x, y = torch.load(f"{d}/in.pt")
p = [t.double().requires_grad_() for t in p]
W, c, V, b = p[:4]           # latent's W is (D,H): torch's NADE weight is W.T
a = c.expand(B, -1)
if C: a = a + p[4][:, y.long()].T
logits = []
for k in range(D):
    h = torch.sigmoid(a)
    logits.append(h @ V[k] + b[k])
    a = a + x[:, k:k + 1].double() * W[k]
nll = F.binary_cross_entropy_with_logits(torch.stack(logits, 1), x.double(), reduction='none').sum(1)
loss = nll.mean(); loss.backward()
out = np.fromfile(f"{d}/out.bin", np.float32)
lv, lp, rest = out[0], out[1:1 + B], out[1 + B:]
bad = 0
def close(name, got, ref, rtol=2e-4, atol=2e-5):
    global bad
    err = np.abs(got - ref) - (atol + rtol * np.abs(ref))
    if (err > 0).any():
        i = int(np.argmax(err)); bad += 1
        print(f"C={C} {name}: element {i} latent {got.flat[i]:.6g} torch {ref.flat[i]:.6g}")
close("loss", np.array([lv]), np.array([loss.item()]))
close("log p", lp, -nll.detach().numpy())
off = 0
for name, t in zip("W c V b U".split(), p):
    n = t.numel(); close("d" + name, rest[off:off + n], t.grad.numpy().ravel()); off += n
print(f"C={C}: loss latent {lv:.5f} torch {loss.item():.5f}; {'FAIL' if bad else 'ok'}")
sys.exit(1 if bad else 0)
PY
done
