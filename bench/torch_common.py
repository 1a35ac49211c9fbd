"""The scaffolding the PyTorch peers share (bench/torch_*.py): positional integer arguments
with defaults, threads and seed, the best-of-rounds timing of a training step, peak RSS and
the "BENCH impl=pytorch" line the run_*.sh scripts read. The C side is bench/common.h."""
import resource
import sys
import time

import torch


def int_args(defaults, first=1):
    """sys.argv[first:] as ints, missing ones (or empty strings) from defaults"""
    a = sys.argv[first:first + len(defaults)]
    return [int(v) if v else d for v, d in zip(a + [None] * len(defaults), defaults)]


def setup(threads, seed=0):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)


def best_rate(step, rounds, steps, units, warm=0, around=None):
    """A warm-up round of `warm` calls (0: steps), then `rounds` rounds of `steps` calls of
    step(); the best round's rate (units per second, `units` a step) and the least CPU seconds
    per step of a round. around(r), when given, returns a context manager (or None) held
    around round r's steps, its exit outside the timing."""
    best, best_cpu = 0.0, 1e30
    for r in range(-1, rounds):
        n = warm if r < 0 and warm else steps
        ctx = around(r) if around else None
        if ctx: ctx.__enter__()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            step()
        rate, cpu = n * units / (time.perf_counter() - t0), (time.process_time() - c0) / n
        if ctx: ctx.__exit__(None, None, None)
        if r >= 0: best, best_cpu = max(best, rate), min(best_cpu, cpu)
    return best, best_cpu


def peak_rss_mb():
    """the process's peak resident set (ru_maxrss), MB: one configuration per process"""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_line(keys, ex_per_s, threads=None):
    """'BENCH impl=pytorch KEYS ex_per_s=.. peak_rss_mb=.. [threads=..] torch=VERSION'"""
    print('BENCH impl=pytorch %s ex_per_s=%.1f peak_rss_mb=%.1f%s torch=%s'
          % (keys, ex_per_s, peak_rss_mb(), '' if threads is None else ' threads=%d' % threads, torch.__version__))
