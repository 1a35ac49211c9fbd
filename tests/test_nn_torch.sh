#!/usr/bin/env bash
# nn modules against stock PyTorch modules on the same weights. tests/tools/nn_tool.c builds
# the small ResNet encoder (torchvision's module names; BatchNorm on 28×28×1, GroupNorm on
# 32×32×3; its pooled output and every stage's tap compared), a conv net (Conv2d, BatchNorm2d, the VQ-VAE residual block, taming's ResnetBlock with
# GroupNorm and SiLU and its AttnBlock, down/up-sampling, ConvTranspose2d) and a transformer (Embedding, two
# pre-LN TransformerEncoderLayers, causal and not, LayerNorm, an MLP) and saves its initial
# weights as a latent checkpoint. Here the checkpoint, "param."/"buffer." prefixes dropped,
# loads with load_state_dict(strict=True) into the torch networks; both sides run the same
# input in training mode, then in eval mode, and must agree within 1e-4 (relative to the
# tensor's scale) on the output, the gradients of Σ r·y for the input and every parameter,
# and BatchNorm's running statistics after the training step. Python reads safetensors
# with json + struct + torch.frombuffer only (tests/py/safetensors_io.py).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
lt_python_or_skip "python3-torch absent" torch
lt_tool nn_tool
lt_tmpdir nn_torch

"$PY" - "$T" "$(dirname "${BASH_SOURCE[0]}")/py" <<'PY'
import sys, torch
sys.path.insert(0, sys.argv[2])
from safetensors_io import save
torch.manual_seed(3)
d = sys.argv[1]
save(f"{d}/conv_in.safetensors", {"x": torch.empty(4, 3, 12, 12).uniform_(-1, 1),
                                  "r": torch.empty(4, 3, 12, 12).uniform_(-1, 1)})
save(f"{d}/resnet_grey_in.safetensors", {"x": torch.empty(4, 1, 28, 28).uniform_(0, 1),
                                         "r": torch.empty(4, 32).uniform_(-1, 1)})
save(f"{d}/resnet_colour_in.safetensors", {"x": torch.empty(4, 3, 32, 32).uniform_(0, 1),
                                           "r": torch.empty(4, 16).uniform_(-1, 1)})
save(f"{d}/tf_in.safetensors", {"x": torch.empty(2, 7, 16).uniform_(-1, 1), "r": torch.empty(2, 7, 5).uniform_(-1, 1),
                                "idx": torch.randint(0, 11, (2, 7))})
PY

"$TOOL" "$T"

"$PY" - "$T" "$(dirname "${BASH_SOURCE[0]}")/py" <<'PY'
import sys, torch
import torch.nn as nn
import torch.nn.functional as F
sys.path.insert(0, sys.argv[2])
from safetensors_io import load
d = sys.argv[1]

def state_dict(path):
    """A latent checkpoint as a torch state_dict: "param."/"buffer." prefixes dropped."""
    sd = {}
    for k, t in load(path).items():
        kind, name = k.split(".", 1)
        assert kind in ("param", "buffer"), k
        sd[name] = t
    return sd

class ResBlock(nn.Module):  # VQ-VAE: x + conv2(relu(conv1(relu(x))))
    def __init__(s, c, h):
        super().__init__()
        s.conv1, s.conv2 = nn.Conv2d(c, h, 3, padding=1), nn.Conv2d(h, c, 1)
    def forward(s, x):
        return x + s.conv2(F.relu(s.conv1(F.relu(x))))

class ResnetBlock(nn.Module):  # taming-transformers, GroupNorm(groups) eps 1e-6, dropout 0
    def __init__(s, cin, cout, groups):
        super().__init__()
        s.norm1, s.conv1 = nn.GroupNorm(groups, cin, eps=1e-6), nn.Conv2d(cin, cout, 3, padding=1)
        s.norm2, s.conv2 = nn.GroupNorm(groups, cout, eps=1e-6), nn.Conv2d(cout, cout, 3, padding=1)
        s.nin_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None
    def forward(s, x):
        h = s.conv1(F.silu(s.norm1(x)))
        h = s.conv2(F.silu(s.norm2(h)))
        return (s.nin_shortcut(x) if s.nin_shortcut is not None else x) + h

class AttnBlock(nn.Module):  # taming-transformers, single head over the H·W positions
    def __init__(s, c, groups):
        super().__init__()
        s.norm = nn.GroupNorm(groups, c, eps=1e-6)
        s.q, s.k, s.v, s.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))
    def forward(s, x):
        h = s.norm(x)
        q, k, v = s.q(h), s.k(h), s.v(h)
        b, c, hh, ww = q.shape
        q = q.reshape(b, c, hh * ww).permute(0, 2, 1)
        w = torch.bmm(q, k.reshape(b, c, hh * ww)) * (int(c) ** (-0.5))
        w = F.softmax(w, dim=2).permute(0, 2, 1)
        h = torch.bmm(v.reshape(b, c, hh * ww), w).reshape(b, c, hh, ww)
        return x + s.proj_out(h)

class Down(nn.Module):
    def __init__(s, cin, cout, k):
        super().__init__()
        s.conv = nn.Conv2d(cin, cout, k, stride=2, padding=(k - 1) // 2)
    def forward(s, x):
        return s.conv(x)

class Up(nn.Module):
    def __init__(s, cin, cout):
        super().__init__()
        s.conv = nn.Conv2d(cin, cout, 3, padding=1)
    def forward(s, x):
        return s.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))

class ConvNet(nn.Module):
    def __init__(s):
        super().__init__()
        s.conv_in, s.bn = nn.Conv2d(3, 16, 4, 2, 1), nn.BatchNorm2d(16)
        s.blocks = nn.ModuleList([ResBlock(16, 8), ResnetBlock(16, 24, 4)])
        s.attn = AttnBlock(24, 4)
        s.down, s.norm, s.up = Down(24, 24, 3), nn.GroupNorm(4, 24), Up(24, 16)
        s.deconv = nn.ConvTranspose2d(16, 3, 4, 2, 1)
    def forward(s, x):
        h = F.relu(s.bn(s.conv_in(x)))
        h = s.attn(s.blocks[1](s.blocks[0](h)))
        h = F.silu(s.norm(s.down(h)))
        return s.deconv(s.up(h))

class BasicBlock(nn.Module):  # torchvision's, with its names; norm: BatchNorm2d or GroupNorm(8)
    def __init__(s, cin, cout, stride, norm):
        super().__init__()
        s.conv1, s.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), norm(cout)
        s.conv2, s.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), norm(cout)
        s.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), norm(cout))
                        if stride != 1 or cin != cout else None)
    def forward(s, x):
        h = s.bn2(s.conv2(F.relu(s.bn1(s.conv1(x)))))
        return F.relu(h + (s.downsample(x) if s.downsample is not None else x))

class ResNet(nn.Module):  # the small ResNet encoder of src/nn/resnet.c; forward returns (pooled, taps)
    def __init__(s, cin, width, stages, blocks, norm):
        super().__init__()
        s.conv1, s.bn1 = nn.Conv2d(cin, width, 3, 1, 1, bias=False), norm(width)
        c = width
        for i in range(stages):
            layer = []
            for b in range(blocks):
                layer.append(BasicBlock(c, width << i, 2 if i > 0 and b == 0 else 1, norm))
                c = width << i
            setattr(s, f"layer{i + 1}", nn.Sequential(*layer))
        s.stages = stages
    def forward(s, x):
        h, taps = F.relu(s.bn1(s.conv1(x))), []
        for i in range(s.stages):
            h = getattr(s, f"layer{i + 1}")(h)
            taps.append(h)
        return h.mean(dim=(2, 3)), taps

def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")

class TfNet(nn.Module):
    def __init__(s):
        super().__init__()
        s.tok = nn.Embedding(11, 16)
        s.layers = nn.ModuleList([nn.TransformerEncoderLayer(16, 4, 64, 0.0, gelu_tanh, batch_first=True,
                                                             norm_first=True) for _ in range(2)])
        s.ln_f = nn.LayerNorm(16)
        s.head = nn.Sequential(nn.Linear(16, 32), nn.GELU(approximate="tanh"), nn.Linear(32, 5))
    def forward(s, idx, x):
        T = idx.shape[1]
        mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        h = s.layers[1](s.layers[0](s.tok(idx) + x, src_mask=mask))
        return s.head(s.ln_f(h))

fails = 0
def check(what, got, want):
    global fails
    assert got.shape == want.shape, (what, got.shape, want.shape)
    err = (got.double() - want.double()).abs().max().item()
    ok = err <= 1e-4 * (1 + want.double().abs().max().item())
    fails += not ok
    print(f"{what:48s} max abs diff {err:.2e} {'ok' if ok else 'FAIL'}")

nets = (("conv", ConvNet()), ("tf", TfNet()), ("resnet_grey", ResNet(1, 8, 3, 2, nn.BatchNorm2d)),
        ("resnet_colour", ResNet(3, 8, 2, 1, lambda c: nn.GroupNorm(8, c))))
for net, model in nets:
    model.load_state_dict(state_dict(f"{d}/{net}_init.safetensors"), strict=True)
    inp = load(f"{d}/{net}_in.safetensors")
    for mode in ("train", "eval"):
        model.train(mode == "train")
        model.zero_grad(set_to_none=True)
        x = inp["x"].clone().requires_grad_()
        y = model(inp["idx"], x) if net == "tf" else model(x)
        taps = []
        if net.startswith("resnet"):
            y, taps = y
        (y * inp["r"]).sum().backward()
        got = load(f"{d}/{net}_{mode}.safetensors")
        check(f"{net} {mode} y", got["y"], y.detach())
        for k, t in enumerate(taps):
            check(f"{net} {mode} tap {k}", got[f"tap.{k}"], t.detach())
        check(f"{net} {mode} x.grad", got["x.grad"], x.grad)
        names = [k for k, _ in model.named_parameters()]
        assert sorted(names) == sorted(k[5:] for k in got if k.startswith("grad.")), names
        for k, p in model.named_parameters():
            check(f"{net} {mode} grad {k}", got["grad." + k], p.grad)
        if mode == "train":  # running statistics (and the step count) after the training step
            after = state_dict(f"{d}/{net}_after.safetensors")
            for k, b in model.named_buffers():
                check(f"{net} after train {k}", after[k], b.to(torch.float32))
            assert sorted(k for k, _ in model.named_buffers()) == sorted(
                k for k in after if k not in dict(model.named_parameters())), "buffer names differ"
print(f"{fails} failures")
sys.exit(1 if fails else 0)
PY
echo "test_nn_torch: ok"
