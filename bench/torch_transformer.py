"""PyTorch peer of bench_transformer: the same GPT-style model and timing.
4 pre-LN layers (LN -> qkv Linear -> causal attention -> out proj -> residual; LN -> Linear 4C
-> GELU(tanh) -> Linear C -> residual), 4 heads, width 128, token + learned position
embedding, final LN, Linear to 512 logits, cross-entropy against the next token; random
token sequences, batch 64, Adam lr 3e-4. Attention is written the way PyTorch 1.13 users
write it (minGPT): qkv split, view(B,T,H,Dh), q·kᵀ/√Dh, causal mask, softmax, ·v.
Usage: python3 torch_transformer.py train|attn T [rounds] [steps|reps] [threads]
Prints a line for people and one "BENCH impl=pytorch ..." line."""
import math, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
from torch_common import best_rate, int_args, peak_rss_mb, setup

LAYERS, HEADS, WIDTH, VOCAB, BATCH = 4, 4, 128, 512, 64


def attention(qkv, H, mask):
    B, T, C3 = qkv.shape
    C = C3 // 3
    q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in qkv.split(C, 2))
    s = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // H))
    s = s.masked_fill(mask[:T, :T], float('-inf'))
    return (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)


class Block(nn.Module):
    def __init__(s, C):
        super().__init__()
        s.ln1, s.qkv, s.proj = nn.LayerNorm(C), nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.ln2, s.fc1, s.fc2 = nn.LayerNorm(C), nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(s, h, mask):
        h = h + s.proj(attention(s.qkv(s.ln1(h)), HEADS, mask))
        return h + s.fc2(F.gelu(s.fc1(s.ln2(h)), approximate='tanh'))


class GPT(nn.Module):
    def __init__(s, T, C=WIDTH):
        super().__init__()
        s.tok, s.pos = nn.Embedding(VOCAB, C), nn.Parameter(torch.zeros(T, C))
        s.blocks = nn.ModuleList(Block(C) for _ in range(LAYERS))
        s.ln_f, s.head = nn.LayerNorm(C), nn.Linear(C, VOCAB)
        s.register_buffer('mask', torch.ones(T, T, dtype=torch.bool).triu(1))

    def forward(s, x):
        h = s.tok(x) + s.pos[:x.shape[1]]
        for b in s.blocks: h = b(h, s.mask)
        return s.head(s.ln_f(h))


def train(T, rounds, steps):
    m = GPT(T)
    opt = torch.optim.Adam(m.parameters(), lr=3e-4)
    loss = [0.0]

    def step():
        seq = torch.randint(VOCAB, (BATCH, T + 1))
        x, y = seq[:, :T], seq[:, 1:]
        l = F.cross_entropy(m(x).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad(); l.backward(); opt.step()
        loss[0] = l.item()
    best, best_cpu = best_rate(step, rounds, steps, BATCH * T)
    rss = peak_rss_mb()
    print('pytorch train T=%-3d %9.0f tokens/s (%.1f ms/step, best of %d rounds of %d steps, batch %d, %d threads), '
          'last loss %.3f, peak RSS %.1f MB, CPU %.2f s/step' % (T, best, 1e3 * BATCH * T / best, rounds, steps, BATCH,
                                                                   torch.get_num_threads(), loss[0], rss, best_cpu))
    print('BENCH impl=pytorch what=train T=%d tok_per_s=%.1f peak_rss_mb=%.1f cpu_s=%.3f torch=%s'
          % (T, best, rss, best_cpu, torch.__version__))


def attn(T, rounds, reps):
    qkv = torch.randn(BATCH, T, 3 * WIDTH)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)
    best = [1e30, 1e30]
    for r in range(-1, rounds):
        for bwd in (0, 1):
            t0 = time.perf_counter()
            for _ in range(reps):
                x = qkv.detach().requires_grad_(bool(bwd))
                if bwd:
                    y = attention(x, HEADS, mask)
                    y.backward(qkv[..., :WIDTH])
                else:
                    with torch.no_grad(): attention(x, HEADS, mask)
            ms = 1e3 * (time.perf_counter() - t0) / reps
            if r >= 0: best[bwd] = min(best[bwd], ms)
    print('pytorch attention T=%-3d qkv (%d,%d,%d) %d heads causal: fwd %.3f ms, fwd+bwd %.3f ms (best of %d rounds of %d)'
          % (T, BATCH, T, 3 * WIDTH, HEADS, best[0], best[1], rounds, reps))
    print('BENCH impl=pytorch what=attn T=%d fwd_ms=%.4f fwdbwd_ms=%.4f' % (T, best[0], best[1]))


def main():
    mode, T = sys.argv[1], int(sys.argv[2])
    rounds, n, threads = int_args([3, 0, 2], 3)
    setup(threads)
    if mode == 'train': train(T, rounds, n if n > 0 else (8 if T <= 64 else 2))
    elif mode == 'attn': attn(T, rounds, n if n > 0 else (40 if T <= 64 else 10))
    else: sys.exit('torch_transformer.py: unknown mode %r (train, attn)' % mode)


if __name__ == '__main__':
    main()
