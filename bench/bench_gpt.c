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
    const int64_t B = argc > 1 ? atoi(argv[1]) : 64, S = argc > 4 ? atoi(argv[4]) : 7, T = S * S, K = 512;
    const int rounds = argc > 2 ? atoi(argv[2]) : 3, steps = argc > 3 ? atoi(argv[3]) : 10;
    lt_threads_set(0);
    json_t *cfg = json_pack("{s:I, s:I, s:I, s:I, s:i, s:i, s:i}", "vocab", (json_int_t)K, "height", (json_int_t)S,
                            "width", (json_int_t)S, "dim", (json_int_t)T, "layers", 4, "heads", 4, "d_model", 128);
    lt_model *m;
    lt_optim opt;
    lt_graph g;
    lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAMW, 3e-4f);
    oc.weight_decay = 0.01f;
    if (lt_model_create("gpt", cfg, &m) || lt_optim_init(&opt, &oc, &m->params) || lt_graph_init(&g, 0)) {
        fprintf(stderr, "bench_gpt: %s\n", lt_error_message());
        return 1;
    }
    json_decref(cfg);
    int64_t *codes = malloc(sizeof(int64_t) * (size_t)(B * T)); /* (B, T) */
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    for (int64_t i = 0; i < B * T; i++) codes[i] = (int64_t)lt_rng_below(&rng, (uint64_t)K);
    g.rng = &rng;
    ltb_prof prof;
    ltb_prof_init(&prof, &g);
    double best = 0, loss = 0;
    for (int r = -1; r < rounds; r++) { /* round -1 warms up the arena and the optimizer's state */
        const double t0 = now();
        for (int s = 0; s < steps; s++) {
            lt_tensor *l;
            lt_params_zero_grad(&m->params);
            if (r >= 0) ltb_prof_step(&prof);
            if (m->vt->loss(m, &g, &(lt_batch){NULL, NULL, B, T, codes}, &l) || lt_backward(&g, l)) {
                fprintf(stderr, "bench_gpt: %s\n", lt_error_message());
                return 1;
            }
            loss = l->data[0];
            lt_optim_step(&opt, &m->params, 3e-4f);
            lt_graph_reset(&g);
            if (r >= 0) ltb_prof_mark(&prof, LTB_PROF_OPT);
        }
        const double rate = (double)(steps * B) / (now() - t0);
        if (r >= 0 && rate > best) best = rate;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("latent  gpt batch %3lld T %3lld: %7.1f grids/s (%.1f ms/step, best of %d rounds of %d steps, %d threads), "
           "last loss %.3f, peak RSS %.1f MB\n", (long long)B, (long long)T, best, 1e3 * (double)B / best, rounds, steps,
           lt_threads_get(), loss, ru.ru_maxrss / 1024.0);
    printf("BENCH impl=latent model=gpt batch=%lld T=%lld ex_per_s=%.1f peak_rss_mb=%.1f threads=%d\n", (long long)B,
           (long long)T, best, ru.ru_maxrss / 1024.0, lt_threads_get());
    ltb_prof_print(&prof, "latent");
    free(codes);
    lt_graph_free(&g);
    lt_optim_free(&opt);
    lt_model_destroy(m);
    return 0;
}
