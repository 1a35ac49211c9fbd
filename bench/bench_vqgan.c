/* Training speed of VQGAN (issue 15's goal: one generator + discriminator step >= 1.5x
 * PyTorch's): 32×32×3, hidden 64, 1 ResnetBlock per level, mid attention, K 512, D 64,
 * downsample 4, PatchGAN of 64 with 2 stride-2 layers, hinge loss, the adaptive weight
 * computed every step (disc_start 0). A step is what `latent train` runs: both phases
 * through train/phases.h (zero, phase loss, backward, the group's Adam (0.5, 0.9) step,
 * graph reset). Inputs: fixed uniform [-1,1) pixels (seeded). Best of `rounds` rounds.
 * Usage: bench_vqgan [batch 32] [rounds 3] [steps 5]   (threads: LATENT_THREADS)
 * Output: a human line and "BENCH impl=latent model=vqgan batch=B ex_per_s=... peak_rss_mb=...". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "autograd/backward.h"
#include "core/threads.h"
#include "models/model.h"
#include "train/phases.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    const int64_t B = argc > 1 ? atoi(argv[1]) : 32;
    const int rounds = argc > 2 ? atoi(argv[2]) : 3, steps = argc > 3 ? atoi(argv[3]) : 5;
    lt_threads_set(0);
    json_t *cfg = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "height", 32, "width", 32, "channels", 3,
                            "hidden", 64, "res_blocks", 1, "codes", 512, "code_dim", 64, "downsample", 4, "disc_start", 0);
    json_t *run = json_pack("{s:s, s:f}", "optimizer", "adam", "lr", 2e-4);
    lt_model *m;
    lt_train_plan plan;
    lt_graph g;
    if (lt_model_create("vqgan", cfg, &m) || lt_train_plan_init(&plan, m, run, 1000) || lt_graph_init(&g, 0)) {
        fprintf(stderr, "bench_vqgan: %s\n", lt_error_message());
        return 1;
    }
    json_decref(cfg);
    json_decref(run);
    const int64_t D = m->dim;
    float *x = malloc(sizeof(float) * (size_t)(B * D)); /* (B, 3·32·32) */
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    lt_rng_fill_uniform(&rng, x, B * D, -1.0f, 1.0f);
    g.rng = &rng;
    double best = 0, loss[2] = {0, 0};
    int64_t step = 0;
    for (int r = -1; r < rounds; r++) { /* round -1 warms up the arena and Adam's state */
        const double t0 = now();
        for (int s = 0; s < steps; s++, step++) {
            m->vt->on_step(m, step);
            g.training = 1;
            for (int ph = 0; ph < plan.n_phases; ph++) {
                lt_tensor *l;
                double gn;
                lt_params_zero_grad(&m->params);
                if (lt_train_phase_loss(&plan, m, &g, &(lt_batch){x, NULL, B, D, NULL}, ph, &l) || !l || lt_backward(&g, l)) {
                    fprintf(stderr, "bench_vqgan: %s\n", lt_error_message());
                    return 1;
                }
                loss[ph] = l->data[0];
                lt_train_phase_update(&plan, ph, step, 0, 0, &gn);
                lt_graph_reset(&g);
            }
            g.training = 0;
        }
        const double rate = (double)(steps * B) / (now() - t0);
        if (r >= 0 && rate > best) best = rate;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("latent  vqgan batch %3lld: %7.1f examples/s (best of %d rounds of %d G+D steps, %d threads), last losses "
           "G %.3f D %.3f, peak RSS %.1f MB\n", (long long)B, best, rounds, steps, lt_threads_get(), loss[0], loss[1],
           ru.ru_maxrss / 1024.0);
    printf("BENCH impl=latent model=vqgan batch=%lld ex_per_s=%.1f peak_rss_mb=%.1f threads=%d\n", (long long)B, best,
           ru.ru_maxrss / 1024.0, lt_threads_get());
    free(x);
    lt_graph_free(&g);
    lt_train_plan_free(&plan);
    lt_model_destroy(m);
    return 0;
}
