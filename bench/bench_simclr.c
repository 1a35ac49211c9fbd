/* Training speed of SimCLR (issue 14's goal: >= 1.5x PyTorch's step on the same encoder and
 * batch): the small ResNet encoder (width 32, 3 stages of 2 BasicBlocks, BatchNorm), the
 * projection head d→d→128, NT-Xent (tau 0.5) over the 2B rows of B examples' two views, the
 * way `latent train` runs a step: loss in training mode, backward, Adam (1e-3), graph reset.
 * Inputs: fixed uniform [0,1) views (seeded): the augmentation is not timed, on either side.
 * Best of `rounds` rounds of `steps` steps.
 * Usage: bench_simclr [batch 256] [rounds 2] [steps 3] [channels 1] [side 28]   (threads: LATENT_THREADS)
 * LT_PROFILE=1: also a per-op table of the timed steps (bench/prof.h).
 * Output: a human line and "BENCH impl=latent model=simclr batch=B ex_per_s=... peak_rss_mb=...". */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

int main(int argc, char **argv) {
    const int64_t B = ltb_arg(argc, argv, 1, 256);
    const int rounds = ltb_arg(argc, argv, 2, 2), steps = ltb_arg(argc, argv, 3, 3);
    const int C = ltb_arg(argc, argv, 4, 1), S = ltb_arg(argc, argv, 5, 28);
    ltb_threads(0);
    json_t *cfg = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "height", S, "width", S, "channels", C, "enc_width",
                            32, "enc_stages", 3, "enc_blocks", 2, "proj_dim", 128);
    lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAM, 1e-3f);
    ltb_step c;
    ltb_step_open(&c, "bench_simclr", "simclr", cfg, &oc);
    const int64_t D = c.m->dim;
    float *x = malloc(sizeof(float) * (size_t)(2 * B * D)); /* (2B, C·S·S): view v of example i at row v·B + i */
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    lt_rng_fill_uniform(&rng, x, 2 * B * D, 0.0f, 1.0f);
    c.g.rng = &rng;
    ltb_prof prof;
    ltb_prof_init(&prof, &c.g);
    c.batch = (lt_batch){x, NULL, 2 * B, D, NULL};
    c.training = 1;
    c.prof = &prof;
    const double best = ltb_best_rate("bench_simclr", rounds, steps, 0, (double)B, ltb_model_step, &c, NULL);
    printf("latent  simclr %dx%dx%d batch %3lld: %7.1f examples/s (best of %d rounds of %d steps, %d threads), last loss "
           "%.3f, peak RSS %.1f MB\n", S, S, C, (long long)B, best, rounds, steps, lt_threads_get(), c.loss,
           ltb_peak_rss_mb());
    char keys[64];
    snprintf(keys, sizeof keys, "model=simclr batch=%lld", (long long)B);
    ltb_bench_line(keys, best);
    ltb_prof_print(&prof, "latent");
    free(x);
    ltb_step_close(&c);
    return 0;
}
