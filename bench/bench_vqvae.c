/* Training speed of the VQ-VAE in the CIFAR-10 setting of issue 12 (Sonnet's example:
 * 32×32×3, hidden 128, 2 residual blocks of 32, K 512, D 64, downsample 4, EMA codebook,
 * β 0.25), the way `latent train` runs a step: loss, backward, Adam (3e-4), graph reset.
 * Inputs: fixed uniform [0,1) pixels (seeded), so no data set is needed; the speed of a
 * step does not depend on the values. Best of `rounds` rounds of `steps` steps.
 * Usage: bench_vqvae [batch 32] [rounds 3] [steps 10]   (threads: LATENT_THREADS)
 * Output: a human line and "BENCH impl=latent model=vqvae batch=B ex_per_s=... peak_rss_mb=...". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "autograd/backward.h"
#include "core/threads.h"
#include "models/model.h"
#include "optim/optim.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    const int64_t B = argc > 1 ? atoi(argv[1]) : 32;
    const int rounds = argc > 2 ? atoi(argv[2]) : 3, steps = argc > 3 ? atoi(argv[3]) : 10;
    lt_threads_set(0);
    json_t *cfg = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:s}", "height", 32, "width", 32, "channels", 3,
                            "hidden", 128, "res_hidden", 32, "codes", 512, "code_dim", 64, "downsample", 4,
                            "codebook", "ema");
    lt_model *m;
    lt_optim opt;
    lt_graph g;
    lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAM, 3e-4f);
    if (lt_model_create("vqvae", cfg, &m) || lt_optim_init(&opt, &oc, &m->params) || lt_graph_init(&g, 0)) {
        fprintf(stderr, "bench_vqvae: %s\n", lt_error_message());
        return 1;
    }
    json_decref(cfg);
    const int64_t D = m->dim;
    float *x = malloc(sizeof(float) * (size_t)(B * D)); /* (B, 3·32·32) */
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    lt_rng_fill_uniform(&rng, x, B * D, 0.0f, 1.0f);
    g.rng = &rng;
    double best = 0, loss = 0;
    for (int r = -1; r < rounds; r++) { /* round -1 warms up the arena and Adam's state */
        const double t0 = now();
        for (int s = 0; s < steps; s++) {
            lt_tensor *l;
            lt_params_zero_grad(&m->params);
            if (m->vt->loss(m, &g, &(lt_batch){x, NULL, B, D, NULL}, &l) || lt_backward(&g, l)) {
                fprintf(stderr, "bench_vqvae: %s\n", lt_error_message());
                return 1;
            }
            loss = l->data[0];
            lt_optim_step(&opt, &m->params, 3e-4f);
            lt_graph_reset(&g);
        }
        const double rate = (double)(steps * B) / (now() - t0);
        if (r >= 0 && rate > best) best = rate;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("latent  vqvae batch %3lld: %7.1f examples/s (best of %d rounds of %d steps, %d threads), last loss %.3f, "
           "peak RSS %.1f MB\n", (long long)B, best, rounds, steps, lt_threads_get(), loss, ru.ru_maxrss / 1024.0);
    printf("BENCH impl=latent model=vqvae batch=%lld ex_per_s=%.1f peak_rss_mb=%.1f threads=%d\n", (long long)B, best,
           ru.ru_maxrss / 1024.0, lt_threads_get());
    free(x);
    lt_graph_free(&g);
    lt_optim_free(&opt);
    lt_model_destroy(m);
    return 0;
}
