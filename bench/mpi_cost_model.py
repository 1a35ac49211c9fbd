"""Paper cost model of data-parallel training for docs/distributed.md: per step, each rank's
compute (6 FLOP per parameter per example: forward 2, backward 4, dense MLPs) at a measured
per-node FLOP rate, against a ring all-reduce of the fp32 gradient,
    T_ar = 2 (N-1)/N * 4P / BW + 2 (N-1) * alpha,
with no overlap (the trainer reduces after the backward sweep). Prints Markdown tables.
usage: python3 bench/mpi_cost_model.py [GFLOPS_PER_NODE]"""
import sys

F = float(sys.argv[1]) * 1e9 if len(sys.argv) > 1 else 87e9
models = [  # name, parameters (fp32), FLOP per parameter per example
    ("MADE 784-500-784", 785_296, 6),
    ("NADE-500", 785_284, 6),
    ("FVSBN", 615_440, 6),
    ("VAE 784-500-500-50", 1_361_884, 6),
    ("GSVAE 512,256 (20x10)", 1_169_880, 6),
]
nets = [("InfiniBand EDR 100 Gb/s", 12.0e9, 2e-6), ("10 GbE", 1.15e9, 25e-6)]
print(f"per-node rate {F / 1e9:.0f} GFLOP/s\n")
for net, bw, alpha in nets:
    for regime, per_rank in (("per-rank batch 100 (global 100 N)", lambda n: 100),
                             ("global batch 4096 (per-rank 4096/N)", lambda n: 4096 / n)):
        print(f"**{net}, {regime}**\n")
        print("| model | N | compute ms | all-reduce ms | efficiency | speed-up over 1 node |")
        print("|---|---|---|---|---|---|")
        for name, p, fpp in models:
            for n in (8, 64, 512):
                b = per_rank(n)
                tc = fpp * p * b / F
                tar = 2 * (n - 1) / n * 4 * p / bw + 2 * (n - 1) * alpha
                e = tc / (tc + tar)
                print(f"| {name} | {n} | {tc * 1e3:.2f} | {tar * 1e3:.2f} | {e:.0%} | {n * e:.0f} |")
        print()
