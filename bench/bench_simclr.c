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
#include <sys/resource.h>
#include <time.h>

#include "autograd/backward.h"
#include "core/threads.h"
#include "models/model.h"
#include "optim/optim.h"
#include "prof.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    const int64_t B = argc > 1 ? atoi(argv[1]) : 256;
    const int rounds = argc > 2 ? atoi(argv[2]) : 2, steps = argc > 3 ? atoi(argv[3]) : 3;
    const int C = argc > 4 ? atoi(argv[4]) : 1, S = argc > 5 ? atoi(argv[5]) : 28;
    lt_threads_set(0);
    json_t *cfg = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "height", S, "width", S, "channels", C, "enc_width",
                            32, "enc_stages", 3, "enc_blocks", 2, "proj_dim", 128);
    lt_model *m;
    lt_optim opt;
    lt_graph g;
    lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAM, 1e-3f);
    if (lt_model_create("simclr", cfg, &m) || lt_optim_init(&opt, &oc, &m->params) || lt_graph_init(&g, 0)) {
        fprintf(stderr, "bench_simclr: %s\n", lt_error_message());
        return 1;
    }
    json_decref(cfg);
    const int64_t D = m->dim;
    float *x = malloc(sizeof(float) * (size_t)(2 * B * D)); /* (2B, C·S·S): view v of example i at row v·B + i */
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    lt_rng_fill_uniform(&rng, x, 2 * B * D, 0.0f, 1.0f);
    g.rng = &rng;
    ltb_prof prof;
    ltb_prof_init(&prof, &g);
    double best = 0, loss = 0;
    for (int r = -1; r < rounds; r++) { /* round -1 warms up the arena and Adam's state */
        const double t0 = now();
        for (int s = 0; s < steps; s++) {
            lt_tensor *l;
            lt_params_zero_grad(&m->params);
            if (r >= 0) ltb_prof_step(&prof);
            g.training = 1;
            if (m->vt->loss(m, &g, &(lt_batch){x, NULL, 2 * B, D, NULL}, &l) || lt_backward(&g, l)) {
                fprintf(stderr, "bench_simclr: %s\n", lt_error_message());
                return 1;
            }
            g.training = 0;
            loss = l->data[0];
            lt_optim_step(&opt, &m->params, 1e-3f);
            lt_graph_reset(&g);
            if (r >= 0) ltb_prof_mark(&prof, LTB_PROF_OPT);
        }
        const double rate = (double)(steps * B) / (now() - t0);
        if (r >= 0 && rate > best) best = rate;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("latent  simclr %dx%dx%d batch %3lld: %7.1f examples/s (best of %d rounds of %d steps, %d threads), last loss "
           "%.3f, peak RSS %.1f MB\n", S, S, C, (long long)B, best, rounds, steps, lt_threads_get(), loss,
           ru.ru_maxrss / 1024.0);
    printf("BENCH impl=latent model=simclr batch=%lld ex_per_s=%.1f peak_rss_mb=%.1f threads=%d\n", (long long)B, best,
           ru.ru_maxrss / 1024.0, lt_threads_get());
    ltb_prof_print(&prof, "latent");
    free(x);
    lt_graph_free(&g);
    lt_optim_free(&opt);
    lt_model_destroy(m);
    return 0;
}
