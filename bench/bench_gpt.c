/* Training speed of the transformer prior (`--model gpt`, models/gpt.c) the way `latent
 * train` runs a step: loss, backward, AdamW (3e-4, weight decay 0.01), graph reset. The
 * network of issue 13's Fashion-MNIST target: 7×7 = 49 codes, K 512, 4 pre-LN layers, 4
 * heads, width 128, no dropout; a start token, learned positions, head without bias.
 * Inputs: fixed uniform random code grids (seeded); the speed does not depend on them.
 * Best of `rounds` rounds of `steps` steps after a warm-up round.
 * Usage: bench_gpt [batch 64] [rounds 3] [steps 10] [side 7]   (threads: LATENT_THREADS)
 * LT_PROFILE=1: also a per-op table of the timed steps (bench/prof.h).
 * Output: a human line and "BENCH impl=latent model=gpt batch=B T=.. ex_per_s=... peak_rss_mb=...". */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

int main(int argc, char **argv) {
    const int64_t B = ltb_arg(argc, argv, 1, 64), S = ltb_arg(argc, argv, 4, 7), T = S * S, K = 512;
    const int rounds = ltb_arg(argc, argv, 2, 3), steps = ltb_arg(argc, argv, 3, 10);
    ltb_threads(0);
    json_t *cfg = json_pack("{s:I, s:I, s:I, s:I, s:i, s:i, s:i}", "vocab", (json_int_t)K, "height", (json_int_t)S,
                            "width", (json_int_t)S, "dim", (json_int_t)T, "layers", 4, "heads", 4, "d_model", 128);
    lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAMW, 3e-4f);
    oc.weight_decay = 0.01f;
    ltb_step c;
    ltb_step_open(&c, "bench_gpt", "gpt", cfg, &oc);
    int64_t *codes = malloc(sizeof(int64_t) * (size_t)(B * T)); /* (B, T) */
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    for (int64_t i = 0; i < B * T; i++) codes[i] = (int64_t)lt_rng_below(&rng, (uint64_t)K);
    c.g.rng = &rng;
    ltb_prof prof;
    ltb_prof_init(&prof, &c.g);
    c.batch = (lt_batch){NULL, NULL, B, T, codes};
    c.prof = &prof;
    const double best = ltb_best_rate("bench_gpt", rounds, steps, 0, (double)B, ltb_model_step, &c, NULL);
    printf("latent  gpt batch %3lld T %3lld: %7.1f grids/s (%.1f ms/step, best of %d rounds of %d steps, %d threads), "
           "last loss %.3f, peak RSS %.1f MB\n", (long long)B, (long long)T, best, 1e3 * (double)B / best, rounds, steps,
           lt_threads_get(), c.loss, ltb_peak_rss_mb());
    char keys[64];
    snprintf(keys, sizeof keys, "model=gpt batch=%lld T=%lld", (long long)B, (long long)T);
    ltb_bench_line(keys, best);
    ltb_prof_print(&prof, "latent");
    free(codes);
    ltb_step_close(&c);
    return 0;
}
