/* Training speed of the VQ-VAE in the CIFAR-10 setting of issue 12 (Sonnet's example:
 * 32×32×3, hidden 128, 2 residual blocks of 32, K 512, D 64, downsample 4, EMA codebook,
 * β 0.25), the way `latent train` runs a step: loss, backward, Adam (3e-4), graph reset.
 * Inputs: fixed uniform [0,1) pixels (seeded), so no data set is needed; the speed of a
 * step does not depend on the values. Best of `rounds` rounds of `steps` steps.
 * Usage: bench_vqvae [batch 32] [rounds 3] [steps 10]   (threads: LATENT_THREADS)
 * Output: a human line and "BENCH impl=latent model=vqvae batch=B ex_per_s=... peak_rss_mb=...". */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

int main(int argc, char **argv) {
    const int64_t B = ltb_arg(argc, argv, 1, 32);
    const int rounds = ltb_arg(argc, argv, 2, 3), steps = ltb_arg(argc, argv, 3, 10);
    ltb_threads(0);
    json_t *cfg = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:s}", "height", 32, "width", 32, "channels", 3,
                            "hidden", 128, "res_hidden", 32, "codes", 512, "code_dim", 64, "downsample", 4,
                            "codebook", "ema");
    lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAM, 3e-4f);
    ltb_step c;
    ltb_step_open(&c, "bench_vqvae", "vqvae", cfg, &oc);
    const int64_t D = c.m->dim;
    float *x = malloc(sizeof(float) * (size_t)(B * D)); /* (B, 3·32·32) */
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    lt_rng_fill_uniform(&rng, x, B * D, 0.0f, 1.0f);
    c.g.rng = &rng;
    c.batch = (lt_batch){x, NULL, B, D, NULL};
    const double best = ltb_best_rate("bench_vqvae", rounds, steps, 0, (double)B, ltb_model_step, &c, NULL);
    printf("latent  vqvae batch %3lld: %7.1f examples/s (best of %d rounds of %d steps, %d threads), last loss %.3f, "
           "peak RSS %.1f MB\n", (long long)B, best, rounds, steps, lt_threads_get(), c.loss, ltb_peak_rss_mb());
    char keys[64];
    snprintf(keys, sizeof keys, "model=vqvae batch=%lld", (long long)B);
    ltb_bench_line(keys, best);
    free(x);
    ltb_step_close(&c);
    return 0;
}
