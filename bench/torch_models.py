"""PyTorch peer of bench_models: the same models and training step (batch 100 of
shuffled binarized-MNIST training images converted from uint8 per batch, Adam lr 1e-3),
timed the same way (best of `rounds` rounds of `steps` steps), peak RSS from ru_maxrss.
Models as in ../shared/peers/torch_ref.py: MADE 784-500-784 (one mask), MADE
784-500-500-784 cycling 32 masks, FVSBN (masked linear), NADE 500 as the
per-dimension loop (NADELoop), VAE 784-500-500-50 (softplus, as latent's vae).
Usage: python3 torch_models.py MODEL DATA_DIR [rounds] [steps] [threads]
Prints one "BENCH impl=pytorch ..." line."""
import gzip, os, struct, sys
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from torch_common import bench_line, best_rate, int_args, peak_rss_mb, setup


def idx(path):
    with gzip.open(path) as f:
        b = f.read()
    n, h, w = struct.unpack('>III', b[4:16])
    return torch.from_numpy(np.frombuffer(b, np.uint8, offset=16).reshape(n, h * w).copy())


class MaskedLinear(nn.Linear):
    def __init__(s, i, o):
        super().__init__(i, o); s.register_buffer('mask', torch.ones(o, i))
    def forward(s, x): return F.linear(x, s.mask * s.weight, s.bias)


class MADE(nn.Module):
    def __init__(s, D=784, H=(500,), K=1, seed=0):
        super().__init__()
        sizes = [D, *H, D]
        s.layers = nn.ModuleList(MaskedLinear(a, b) for a, b in zip(sizes, sizes[1:]))
        g = np.random.RandomState(seed)
        s.masks = []
        for _ in range(K):
            m = [np.arange(1, D + 1)]
            for h in H: m.append(g.randint(m[-1].min(), D, size=h))
            ms = [(m[l + 1][:, None] >= m[l][None, :]) for l in range(len(H))]
            ms.append(m[0][:, None] > m[-1][None, :])
            s.masks.append([torch.from_numpy(M.astype(np.float32)) for M in ms])
        s.set_mask(0)
    def set_mask(s, k):
        for L, M in zip(s.layers, s.masks[k % len(s.masks)]): L.mask.copy_(M)
    def nll(s, x):
        h = x
        for L in s.layers[:-1]: h = F.relu(L(h))
        return F.binary_cross_entropy_with_logits(s.layers[-1](h), x, reduction='none').sum(1)


class FVSBN(nn.Module):
    def __init__(s, D=784):
        super().__init__()
        s.lin = MaskedLinear(D, D); s.lin.mask.copy_(torch.tril(torch.ones(D, D), -1))
    def nll(s, x): return F.binary_cross_entropy_with_logits(s.lin(x), x, reduction='none').sum(1)


class NADELoop(nn.Module):
    def __init__(s, D=784, H=500):
        super().__init__()
        s.W = nn.Parameter(torch.randn(H, D) * 0.01); s.c = nn.Parameter(torch.zeros(H))
        s.V = nn.Parameter(torch.randn(D, H) * 0.01); s.b = nn.Parameter(torch.zeros(D))
    def nll(s, x):
        B, D = x.shape
        a = s.c.expand(B, -1); logits = []
        for d in range(D):
            h = torch.sigmoid(a)
            logits.append(h @ s.V[d] + s.b[d])
            a = a + x[:, d:d + 1] * s.W[:, d]
        return F.binary_cross_entropy_with_logits(torch.stack(logits, 1), x, reduction='none').sum(1)


class VAE(nn.Module):
    """latent's vae: 784-500-500-(2x50) encoder, 50-500-500-784 decoder, softplus, one
    reparameterized sample, Bernoulli likelihood, analytic KL to N(0, I)."""
    def __init__(s, D=784, H=500, Z=50):
        super().__init__()
        s.enc = nn.Sequential(nn.Linear(D, H), nn.Softplus(), nn.Linear(H, H), nn.Softplus(), nn.Linear(H, 2 * Z))
        s.dec = nn.Sequential(nn.Linear(Z, H), nn.Softplus(), nn.Linear(H, H), nn.Softplus(), nn.Linear(H, D))
    def nll(s, x):
        mu, lv = s.enc(x).chunk(2, 1)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        rec = F.binary_cross_entropy_with_logits(s.dec(z), x, reduction='none').sum(1)
        return rec + 0.5 * (mu * mu + lv.exp() - 1 - lv).sum(1)


MODELS = {'made': (lambda: MADE(), 20), 'made2': (lambda: MADE(H=(500, 500), K=32), 20),
          'fvsbn': (lambda: FVSBN(), 20), 'nade': (lambda: NADELoop(), 2), 'vae': (lambda: VAE(), 20)}


def main():
    name, data = sys.argv[1], sys.argv[2]
    rounds, steps, threads = int_args([3, 0, 2], 3)
    setup(threads)
    make, default_steps = MODELS[name]
    steps = steps if steps > 0 else default_steps
    tr = idx(os.path.join(data, 'train-images-idx3-ubyte.gz'))  # kept as bytes, like latent
    m = make()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    B, N = 100, len(tr)
    st = dict(perm=torch.randperm(N), pos=0, step=0, tot=0.0)

    def step():  # the next batch of the shuffled training images, then the step
        if st['pos'] + B > N: st['perm'], st['pos'] = torch.randperm(N), 0
        x = tr[st['perm'][st['pos']:st['pos'] + B]].float(); st['pos'] += B
        if isinstance(m, MADE): m.set_mask(st['step'])
        loss = m.nll(x).mean()
        opt.zero_grad(); loss.backward(); opt.step()
        st['tot'] += loss.item(); st['step'] += 1
    best, _ = best_rate(step, rounds, steps, B)
    print('pytorch %-6s %8.0f examples/s (best of %d rounds of %d steps, batch %d, %d threads), mean loss %.1f, peak RSS %.1f MB'
          % (name, best, rounds, steps, B, threads, st['tot'] / st['step'], peak_rss_mb()))
    bench_line('model=%s' % name, best, threads)


if __name__ == '__main__':
    main()
