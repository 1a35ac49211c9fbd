"""PyTorch peer of bench_vqvae: the same VQ-VAE (Sonnet's CIFAR example: 4x4 s2 convs
3->64->128, 3x3 conv, 2 residual blocks of 32, 1x1 to D 64, K 512 EMA codebook (decay 0.99,
debiased, Laplace 1e-5), beta 0.25, mirrored decoder with transposed convs), MSE / variance
loss, Adam 3e-4, fixed uniform inputs. Best of `rounds` rounds of `steps` steps.

Usage: python3 torch_vqvae.py [batch 32] [rounds 3] [steps 10] [threads 2]"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_common import bench_line, best_rate, int_args, peak_rss_mb, setup


class Res(nn.Module):
    def __init__(s, c, h):
        super().__init__()
        s.conv1, s.conv2 = nn.Conv2d(c, h, 3, 1, 1), nn.Conv2d(h, c, 1)

    def forward(s, x): return x + s.conv2(F.relu(s.conv1(F.relu(x))))


class VQVAE(nn.Module):
    def __init__(s, C=3, H=128, R=32, K=512, D=64):
        super().__init__()
        s.enc = nn.Sequential(nn.Conv2d(C, H // 2, 4, 2, 1), nn.ReLU(), nn.Conv2d(H // 2, H, 4, 2, 1), nn.ReLU(),
                              nn.Conv2d(H, H, 3, 1, 1), Res(H, R), Res(H, R), nn.ReLU(), nn.Conv2d(H, D, 1))
        s.dec = nn.Sequential(nn.Conv2d(D, H, 3, 1, 1), Res(H, R), Res(H, R), nn.ReLU(),
                              nn.ConvTranspose2d(H, H // 2, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(H // 2, C, 4, 2, 1))
        s.register_buffer('embedding', torch.randn(K, D))
        s.register_buffer('cluster_size', torch.zeros(K))
        s.register_buffer('embed_avg', torch.zeros(K, D))
        s.steps, s.K = 0, K

    def forward(s, x, var):
        z = s.enc(x)
        f = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        d = (s.embedding ** 2).sum(1) - 2 * f @ s.embedding.t()
        idx = d.argmin(1)
        e = s.embedding[idx]
        commit = ((f - e.detach()) ** 2).mean()
        with torch.no_grad():  # EMA, debiased as Sonnet's
            oh = F.one_hot(idx, s.K).type(f.dtype)
            s.cluster_size.mul_(0.99).add_(oh.sum(0), alpha=0.01)
            s.embed_avg.mul_(0.99).add_(oh.t() @ f, alpha=0.01)
            s.steps += 1
            b = 1 - 0.99 ** s.steps
            cs, ea = s.cluster_size / b, s.embed_avg / b
            n = cs.sum()
            c = (cs + 1e-5) / (n + s.K * 1e-5) * n
            s.embedding.copy_(ea / c[:, None])
        q = f + (e - f).detach()
        y = s.dec(q.reshape(z.shape[0], z.shape[2], z.shape[3], -1).permute(0, 3, 1, 2))
        return ((y - x) ** 2).mean() / var + 0.25 * commit


def main():
    B, rounds, steps, threads = int_args([32, 3, 10, 2])
    setup(threads)
    m = VQVAE()
    opt = torch.optim.Adam(m.parameters(), lr=3e-4)
    x = torch.rand(B, 3, 32, 32)
    var = x.var().item()
    loss = [None]

    def step():
        opt.zero_grad()
        loss[0] = m(x, var)
        loss[0].backward()
        opt.step()
    best, _ = best_rate(step, rounds, steps, B)
    print('pytorch vqvae batch %3d: %7.1f examples/s (best of %d rounds of %d steps, %d threads), last loss %.3f, '
          'peak RSS %.1f MB' % (B, best, rounds, steps, threads, loss[0].item(), peak_rss_mb()))
    bench_line('model=vqvae batch=%d' % B, best, threads)


if __name__ == '__main__':
    main()
