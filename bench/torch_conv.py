"""PyTorch peer of bench_conv: the same conv2d / conv_transpose2d layers (with bias), batch 64,
forward (no_grad) and forward+backward (grads of input, weight and bias), best of `rounds`, ms;
and the same VQ-VAE-shaped encoder-decoder training step (forward, backward, Adam).
torch's defaults: oneDNN (mkldnn) for conv2d, im2col + BLAS for conv_transpose2d.
OPENBLAS_NUM_THREADS defaults to 1 (Debian's OpenBLAS is the pthread build; its own pool
ignores set_num_threads and two of its spinning threads fight torch's OpenMP pool on 2 cores,
see ../shared/peers/torch_conv_ref.py).
Usage: python3 torch_conv.py layers|vqgan|CASE [rounds] [threads]   (vqgan: bench_vqgan's conv layers, batch 16)
       python3 torch_conv.py net28|net32 [rounds] [threads] [steps]
Prints "BENCH impl=pytorch ..." lines (keys as bench_conv's)."""
import os, sys, time

MODE = sys.argv[1] if len(sys.argv) > 1 else 'layers'
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
THREADS = int(sys.argv[3]) if len(sys.argv) > 3 else 2
os.environ.setdefault('OMP_NUM_THREADS', str(THREADS))
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
import torch, torch.nn as nn, torch.nn.functional as F
from torch_common import best_rate, peak_rss_mb

# (name, transposed, input (C,H,W), weight shape, stride, padding): bench_conv's CASES, same order
LAYERS = [
    ('conv1-32_28', False, (1, 28, 28), (32, 1, 4, 4), 2, 1),
    ('conv3-32_32', False, (3, 32, 32), (32, 3, 4, 4), 2, 1),
    ('conv32-64_14', False, (32, 14, 14), (64, 32, 4, 4), 2, 1),
    ('conv64-64_7k3', False, (64, 7, 7), (64, 64, 3, 3), 1, 1),
    ('conv128-128_8k3', False, (128, 8, 8), (128, 128, 3, 3), 1, 1),
    ('convT64-32_7', True, (64, 7, 7), (64, 32, 4, 4), 2, 1),
    ('convT32-1_14', True, (32, 14, 14), (32, 1, 4, 4), 2, 1),
    ('convT32-3_16', True, (32, 16, 16), (32, 3, 4, 4), 2, 1),
]
# bench_conv's "vqgan" group (batch 16)
VQGAN = [
    ('vq64_32k3', False, (64, 32, 32), (64, 64, 3, 3), 1, 1),
    ('vq128-64_32k3', False, (128, 32, 32), (64, 128, 3, 3), 1, 1),
    ('vq128_32k3', False, (128, 32, 32), (128, 128, 3, 3), 1, 1),
    ('vq128_16k3', False, (128, 16, 16), (128, 128, 3, 3), 1, 1),
    ('vq128_8k3', False, (128, 8, 8), (128, 128, 3, 3), 1, 1),
    ('vq64_32k3s2', False, (64, 32, 32), (64, 64, 3, 3), 2, 1),
    ('vq128_16k3s2', False, (128, 16, 16), (128, 128, 3, 3), 2, 1),
    ('vq64-3_32k3', False, (64, 32, 32), (3, 64, 3, 3), 1, 1),
    ('vq128-64_32k1', False, (128, 32, 32), (64, 128, 1, 1), 1, 0),
    ('d64-128_16k4s2', False, (64, 16, 16), (128, 64, 4, 4), 2, 1),
    ('d128-256_8k4', False, (128, 8, 8), (256, 128, 4, 4), 1, 1),
    ('d256-1_7k4', False, (256, 7, 7), (1, 256, 4, 4), 1, 1),
]
B = 64


def best_ms(fn, reps):
    fn(); fn()
    best = 1e30
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t0)
    return 1e3 * best


def layers(cases, B):
    for name, tr, xs, ws, st, pd in cases:
        x, w = torch.randn(B, *xs, requires_grad=True), torch.randn(*ws, requires_grad=True)
        b = torch.randn(ws[1] if tr else ws[0], requires_grad=True)
        conv = (lambda: F.conv_transpose2d(x, w, b, st, pd)) if tr else (lambda: F.conv2d(x, w, b, st, pd))
        gy = torch.randn_like(conv())

        def fwd():
            with torch.no_grad(): conv()

        def fwdbwd():
            x.grad = w.grad = b.grad = None
            conv().backward(gy)
        f, fb = best_ms(fwd, ROUNDS), best_ms(fwdbwd, ROUNDS)
        print(f'BENCH impl=pytorch case={name} fwd_ms={f:.3f} fb_ms={fb:.3f}', flush=True)


class Res(nn.Module):  # ReLU, 3x3 conv, ReLU, 1x1 conv, add
    def __init__(s, C=128):
        super().__init__(); s.c1, s.c2 = nn.Conv2d(C, C, 3, padding=1), nn.Conv2d(C, C, 1)
    def forward(s, x): return x + s.c2(F.relu(s.c1(F.relu(x))))


def net(C):  # bench_conv's network: same layers, same order
    return nn.Sequential(nn.Conv2d(C, 64, 4, 2, 1), nn.ReLU(), nn.Conv2d(64, 128, 4, 2, 1), Res(), Res(), nn.ReLU(),
                         nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(64, C, 4, 2, 1))


def network(C, S, steps):
    torch.manual_seed(0)
    m = net(C)
    opt = torch.optim.Adam(m.parameters(), lr=2e-4)
    x = torch.rand(B, C, S, S)

    loss = [0.0]

    def step():
        l = F.mse_loss(m(x), x)
        opt.zero_grad(); l.backward(); opt.step()
        loss[0] = l.item()
    rate, _ = best_rate(step, ROUNDS, steps, B, warm=3)
    print(f'BENCH impl=pytorch case=net{S} ex_per_s={rate:.1f} peak_rss_mb={peak_rss_mb():.1f} loss={loss[0]:.5f}',
          flush=True)


torch.set_num_threads(THREADS)
if MODE == 'layers':
    layers(LAYERS, B)
elif MODE == 'vqgan':
    layers(VQGAN, 16)
elif MODE in [c[0] for c in LAYERS + VQGAN]:
    layers([c for c in LAYERS + VQGAN if c[0] == MODE], 16 if MODE in [c[0] for c in VQGAN] else B)
elif MODE in ('net28', 'net32'):
    network(1 if MODE == 'net28' else 3, 28 if MODE == 'net28' else 32, int(sys.argv[4]) if len(sys.argv) > 4 else 10)
else:
    sys.exit(__doc__)
