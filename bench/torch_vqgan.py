"""PyTorch peer of bench_vqgan: the same VQGAN as latent's --model vqgan, taming-transformers'
modules (GroupNorm(32, eps 1e-6) + SiLU ResnetBlocks, mid AttnBlock, 3x3 stride-2 convs down
(symmetric padding 1, as latent), nearest x2 + 3x3 conv up), 32x32x3, hidden 64, ch_mult
(1,2,2), 1 block per level, K 512 plain codebook, D 64, beta 0.25 on the commitment term;
NLayerDiscriminator(ndf 64, n_layers 2) with BatchNorm; hinge loss; taming's adaptive weight
from torch.autograd.grad at decoder.conv_out (disc_weight 0.8, every step); Adam(2e-4,
betas (0.5, 0.9)) for each network. A step: generator update, then discriminator update on
the same batch and the detached reconstruction. Fixed uniform [-1,1) inputs.

Usage: python3 torch_vqgan.py [batch 32] [rounds 3] [steps 5] [threads 2]"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_common import bench_line, best_rate, int_args, peak_rss_mb, setup


def norm(c): return nn.GroupNorm(32, c, eps=1e-6)


class ResnetBlock(nn.Module):
    def __init__(s, cin, cout):
        super().__init__()
        s.norm1, s.conv1 = norm(cin), nn.Conv2d(cin, cout, 3, 1, 1)
        s.norm2, s.conv2 = norm(cout), nn.Conv2d(cout, cout, 3, 1, 1)
        s.nin_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(s, x):
        h = s.conv1(F.silu(s.norm1(x)))
        h = s.conv2(F.silu(s.norm2(h)))
        return (s.nin_shortcut(x) if s.nin_shortcut is not None else x) + h


class AttnBlock(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.norm = norm(c)
        s.q, s.k, s.v, s.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(s, x):
        h = s.norm(x)
        q, k, v = s.q(h), s.k(h), s.v(h)
        b, c, hh, ww = q.shape
        q = q.reshape(b, c, hh * ww).permute(0, 2, 1)
        w = torch.softmax(torch.bmm(q, k.reshape(b, c, hh * ww)) * c ** -0.5, dim=2)
        h = torch.bmm(v.reshape(b, c, hh * ww), w.permute(0, 2, 1)).reshape(b, c, hh, ww)
        return x + s.proj_out(h)


class Up(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(s, x): return s.conv(F.interpolate(x, scale_factor=2.0, mode='nearest'))


def mid(c): return [ResnetBlock(c, c), AttnBlock(c), ResnetBlock(c, c)]


class VQGAN(nn.Module):
    def __init__(s, C=3, ch=64, mult=(1, 2, 2), R=1, K=512, D=64):
        super().__init__()
        enc, cin = [nn.Conv2d(C, ch, 3, 1, 1)], ch
        for i, m in enumerate(mult):
            for _ in range(R):
                enc.append(ResnetBlock(cin, ch * m))
                cin = ch * m
            if i + 1 < len(mult): enc.append(nn.Conv2d(cin, cin, 3, 2, 1))
        enc += mid(cin) + [norm(cin), nn.SiLU(), nn.Conv2d(cin, D, 3, 1, 1), nn.Conv2d(D, D, 1)]
        s.encoder = nn.Sequential(*enc)
        s.embedding = nn.Embedding(K, D)
        s.embedding.weight.data.uniform_(-1 / K, 1 / K)
        dec = [nn.Conv2d(D, D, 1), nn.Conv2d(D, cin, 3, 1, 1)] + mid(cin)
        for i in reversed(range(len(mult))):
            for _ in range(R + 1):
                dec.append(ResnetBlock(cin, ch * mult[i]))
                cin = ch * mult[i]
            if i > 0: dec.append(Up(cin))
        dec += [norm(cin), nn.SiLU()]
        s.decoder = nn.Sequential(*dec)
        s.conv_out = nn.Conv2d(cin, C, 3, 1, 1)

    def forward(s, x):
        z = s.encoder(x)
        f = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        e = s.embedding.weight
        idx = ((f ** 2).sum(1, keepdim=True) - 2 * f @ e.t() + (e ** 2).sum(1)).argmin(1)
        q = e[idx].reshape(z.shape[0], z.shape[2], z.shape[3], -1).permute(0, 3, 1, 2)
        qloss = ((q - z.detach()) ** 2).mean() + 0.25 * ((q.detach() - z) ** 2).mean()
        zq = z + (q - z).detach()
        return s.conv_out(s.decoder(zq)), qloss


def disc(C=3, ndf=64, n_layers=2):
    seq, mult = [nn.Conv2d(C, ndf, 4, 2, 1), nn.LeakyReLU(0.2)], 1
    for n in range(1, n_layers + 1):
        prev, mult = mult, min(2 ** n, 8)
        seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2 if n < n_layers else 1, 1, bias=False), nn.BatchNorm2d(ndf * mult),
                nn.LeakyReLU(0.2)]
    return nn.Sequential(*seq, nn.Conv2d(ndf * mult, 1, 4, 1, 1))


def main():
    B, rounds, steps, threads = int_args([32, 3, 5, 2])
    setup(threads)
    g, d = VQGAN(), disc()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.9))
    x = torch.rand(B, 3, 32, 32) * 2 - 1
    last = g.conv_out.weight
    losses = [None, None]

    def step():
        xrec, qloss = g(x)
        nll = (x - xrec).abs().mean()
        gl = -d(xrec).mean()
        gn = torch.autograd.grad(nll, last, retain_graph=True)[0].norm()
        gg = torch.autograd.grad(gl, last, retain_graph=True)[0].norm()
        lam = torch.clamp(gn / (gg + 1e-4), 0, 1e4).detach() * 0.8
        loss = nll + lam * gl + qloss
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        dl = 0.5 * (F.relu(1 - d(x)).mean() + F.relu(1 + d(xrec.detach())).mean())
        opt_d.zero_grad()
        dl.backward()
        opt_d.step()
        losses[:] = loss, dl
    best, _ = best_rate(step, rounds, steps, B)
    print('pytorch vqgan batch %3d: %7.1f examples/s (best of %d rounds of %d G+D steps, %d threads), last losses '
          'G %.3f D %.3f, peak RSS %.1f MB' % (B, best, rounds, steps, threads, losses[0].item(), losses[1].item(),
                                              peak_rss_mb()))
    bench_line('model=vqgan batch=%d' % B, best, threads)


if __name__ == '__main__':
    main()
