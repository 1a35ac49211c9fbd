#!/usr/bin/env bash
# The gpt prior against an equivalent PyTorch module on the same weights. Two tiny priors
# are trained for an epoch on toy code grids (tests/tools/codes_tool.c): an unconditional
# one with its own head and dropout, and a class-conditional one with tied weights. Their
# last checkpoints, "param." prefixes dropped, load with load_state_dict(strict=True) into
# a torch module built from stock parts (nn.Embedding, nn.TransformerEncoderLayer with
# norm_first and tanh-GELU under the causal mask, nn.LayerNorm, nn.Linear, or the code rows
# of the token embedding when tied); the logits of tests/tools/gpt_tool.c (full forward and
# KV-cache path) must agree with torch's in eval mode within 1e-4.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
lt_python_or_skip "python3-torch absent" torch
lt_tool gpt_tool
CODES="$LT_BUILD_DIR/codes_tool"
LATENT=${LATENT:-$LT_BUILD_DIR/latent}
lt_tmpdir gpt_torch

"$CODES" toy "$T/toy" 64 2 3 12
"$CODES" toy "$T/toyc" 64 2 3 12 labels
"$LATENT" train --model gpt --data "tfrecord:$T/toy" --out "$T/a" --epochs 1 --batch 16 --layers 2 --heads 2 \
    --width 16 --dropout 0.1 --lr 0.01 --quiet
"$LATENT" train --model gpt --data "tfrecord:$T/toyc" --out "$T/b" --epochs 1 --batch 16 --layers 2 --heads 4 \
    --width 16 --tie --conditional --lr 0.01 --quiet
"$TOOL" "$T/a" "$T/a.safetensors"
"$TOOL" "$T/b" "$T/b.safetensors"

"$PY" - "$T" "$(dirname "${BASH_SOURCE[0]}")/py" <<'PY'
import json, sys, torch
import torch.nn as nn
import torch.nn.functional as F
d = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from safetensors_io import load

def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")

class GPT(nn.Module):
    def __init__(s, K, S, T, C, H, L, tie, p):
        super().__init__()
        s.K, s.T, s.tie = K, T, tie
        s.tok_emb, s.pos_emb = nn.Embedding(K + S, C), nn.Embedding(T, C)
        s.drop = nn.Dropout(p)
        s.blocks = nn.ModuleList([nn.TransformerEncoderLayer(C, H, 4 * C, p, gelu_tanh, batch_first=True,
                                                             norm_first=True) for _ in range(L)])
        s.ln_f = nn.LayerNorm(C)
        if not tie:
            s.head = nn.Linear(C, K, bias=False)
    def forward(s, codes, labels):
        start = s.K + labels
        inp = torch.cat([start[:, None], codes[:, :-1]], 1)
        x = s.drop(s.tok_emb(inp) + s.pos_emb(torch.arange(s.T)))
        mask = torch.triu(torch.full((s.T, s.T), float("-inf")), diagonal=1)
        for b in s.blocks:
            x = b(x, src_mask=mask)
        x = s.ln_f(x)
        return F.linear(x, s.tok_emb.weight[:s.K]) if s.tie else s.head(x)

fails = 0
for run in ("a", "b"):
    cfg = json.load(open(f"{d}/{run}/config.json"))["model_config"]
    sd = {k.split(".", 1)[1]: v for k, v in load(f"{d}/{run}/checkpoints/last.safetensors").items()
          if k.startswith("param.")}
    K, T, S = cfg["vocab"], cfg["dim"], max(1, cfg.get("n_classes", 0))
    m = GPT(K, S, T, cfg["d_model"], cfg["heads"], cfg["layers"], cfg.get("tie", False), cfg.get("dropout", 0.0))
    m.load_state_dict(sd, strict=True)
    m.eval()
    out = load(f"{d}/{run}.safetensors")
    with torch.no_grad():
        ref = m(out["codes"], out["labels"])
    for key in ("logits", "cached"):
        diff = (ref - out[key]).abs().max().item()
        ok = diff < 1e-4
        fails += not ok
        print(f"{'ok ' if ok else 'BAD'} gpt run {run} ({'tied, conditional' if run == 'b' else 'head, dropout'}) "
              f"{key} vs torch: max |diff| {diff:.2e}")
sys.exit(1 if fails else 0)
PY
