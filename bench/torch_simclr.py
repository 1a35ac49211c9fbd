"""PyTorch peer of bench_simclr: the same SimCLR step. Encoder: the CIFAR-stem ResNet of
BasicBlocks of src/nn/resnet.c (3x3 stem conv, width 32, 3 stages of 2 blocks, BatchNorm,
stride 2 between stages, global average pool); head Linear(d, d), ReLU, Linear(d, 128);
NT-Xent (tau 0.5) written as SimCLR implementations write it (normalize, similarity matrix,
diagonal masked, cross-entropy against the other view); Adam 1e-3; fixed uniform views.
Best of `rounds` rounds of `steps` steps.

Usage: python3 torch_simclr.py [batch 256] [rounds 2] [steps 3] [threads 2] [channels 1] [side 28]
LT_PROFILE=1: also torch.autograd.profiler's per-op table of the last round's steps (the
profiler's own overhead is inside that round's rate)."""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_common import bench_line, best_rate, int_args, peak_rss_mb, setup


class BasicBlock(nn.Module):
    def __init__(s, cin, cout, stride):
        super().__init__()
        s.conv1, s.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        s.conv2, s.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        s.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                        if stride != 1 or cin != cout else None)

    def forward(s, x):
        h = s.bn2(s.conv2(F.relu(s.bn1(s.conv1(x)))))
        return F.relu(h + (s.downsample(x) if s.downsample is not None else x))


class SimCLR(nn.Module):
    def __init__(s, cin=1, width=32, stages=3, blocks=2, proj=128):
        super().__init__()
        s.conv1, s.bn1 = nn.Conv2d(cin, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width)
        layers, c = [], width
        for i in range(stages):
            for b in range(blocks):
                layers.append(BasicBlock(c, width << i, 2 if i > 0 and b == 0 else 1))
                c = width << i
        s.layers = nn.Sequential(*layers)
        s.projector = nn.Sequential(nn.Linear(c, c), nn.ReLU(), nn.Linear(c, proj))

    def forward(s, x, tau=0.5):
        h = s.layers(F.relu(s.bn1(s.conv1(x)))).mean(dim=(2, 3))
        z = F.normalize(s.projector(h), dim=1)
        n2 = z.shape[0]
        sim = (z @ z.t() / tau).masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))
        return F.cross_entropy(sim, (torch.arange(n2) + n2 // 2) % n2)


def main():
    B, rounds, steps, threads, C, S = int_args([256, 2, 3, 2, 1, 28])
    setup(threads)
    m = SimCLR(C)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    x = torch.rand(2 * B, C, S, S)
    loss = [None]

    def step():
        opt.zero_grad()
        loss[0] = m(x)
        loss[0].backward()
        opt.step()
    profile = int(os.environ.get('LT_PROFILE', '0') or 0) > 0
    prof = torch.autograd.profiler.profile() if profile else None
    best, _ = best_rate(step, rounds, steps, B, around=lambda r: prof if r == rounds - 1 else None)
    if profile:
        print('pytorch per-op profile of %d steps (self CPU = wall time of the op on its thread):' % steps)
        print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=25))
    print('pytorch simclr %dx%dx%d batch %3d: %7.1f examples/s (best of %d rounds of %d steps, %d threads), last loss '
          '%.3f, peak RSS %.1f MB' % (S, S, C, B, best, rounds, steps, threads, loss[0].item(), peak_rss_mb()))
    bench_line('model=simclr batch=%d' % B, best, threads)


if __name__ == '__main__':
    main()
