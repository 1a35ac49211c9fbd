"""PyTorch peer of bench_gpt: the same transformer prior and timing.
The network of models/gpt.c as tests/test_gpt_torch.sh loads it strict: token embedding (K + 1
with the start token), learned position embedding, 4 nn.TransformerEncoderLayer(128, 4, 512,
dropout 0, GELU(tanh), batch_first, norm_first) under the causal mask, final LayerNorm, Linear
to K = 512 logits without bias; input [start, c_0 .. c_{T-2}], loss = summed cross-entropy per
grid averaged over the batch; random code grids, AdamW (3e-4, weight decay 0.01).
Usage: python3 torch_gpt.py [batch 64] [rounds 3] [steps 10] [threads 2] [side 7]
Prints a line for people and one "BENCH impl=pytorch ..." line."""
import torch, torch.nn as nn, torch.nn.functional as F
from torch_common import bench_line, best_rate, int_args, peak_rss_mb, setup

K, C, H, L = 512, 128, 4, 4


def gelu_tanh(x):
    return F.gelu(x, approximate='tanh')


class GPT(nn.Module):
    def __init__(s, T):
        super().__init__()
        s.T = T
        s.tok_emb, s.pos_emb = nn.Embedding(K + 1, C), nn.Embedding(T, C)
        s.blocks = nn.ModuleList([nn.TransformerEncoderLayer(C, H, 4 * C, 0.0, gelu_tanh, batch_first=True,
                                                             norm_first=True) for _ in range(L)])
        s.ln_f, s.head = nn.LayerNorm(C), nn.Linear(C, K, bias=False)
        s.register_buffer('mask', torch.triu(torch.full((T, T), float('-inf')), diagonal=1))
        s.register_buffer('pos', torch.arange(T))

    def forward(s, codes):
        start = torch.full((codes.shape[0], 1), K, dtype=torch.long)
        x = s.tok_emb(torch.cat([start, codes[:, :-1]], 1)) + s.pos_emb(s.pos)
        for b in s.blocks: x = b(x, src_mask=s.mask)
        return s.head(s.ln_f(x))


def main():
    B, rounds, steps, threads, side = int_args([64, 3, 10, 2, 7])
    setup(threads)
    T = side * side
    m = GPT(T)
    opt = torch.optim.AdamW(m.parameters(), lr=3e-4, weight_decay=0.01)
    codes = torch.randint(K, (B, T))
    loss = [0.0]

    def step():
        l = F.cross_entropy(m(codes).reshape(-1, K), codes.reshape(-1), reduction='sum') / B
        opt.zero_grad(); l.backward(); opt.step()
        loss[0] = l.item()
    best, _ = best_rate(step, rounds, steps, B)
    print('pytorch gpt batch %3d T %3d: %7.1f grids/s (%.1f ms/step, best of %d rounds of %d steps, %d threads), '
          'last loss %.3f, peak RSS %.1f MB' % (B, T, best, 1e3 * B / best, rounds, steps, torch.get_num_threads(),
                                                 loss[0], peak_rss_mb()))
    bench_line('model=gpt batch=%d T=%d' % (B, T), best)


if __name__ == '__main__':
    main()
