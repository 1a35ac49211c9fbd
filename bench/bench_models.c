/* Training throughput of the autoregressive models on binarized MNIST, the way
 * `latent train` runs them: batch 100 of shuffled training images converted from
 * bytes per batch, on_step, loss, backward, Adam (lr 1e-3), graph reset.
 * Timing: rounds of `steps` steps; the figure is the best round (a busy shared
 * machine slows some rounds; the best one is closest to the code's own speed).
 * Peak RSS is the process's ru_maxrss: run one model per process to read it.
 * Output: human-readable lines, then one "BENCH key=value ..." line per model.
 * Usage: bench_models [MODEL|all] [DATA_DIR] [rounds] [steps]   (threads: LATENT_THREADS, default 2)
 *   MODEL: made (784-500-784), made2 (784-500-500-784, 32 masks), fvsbn, nade (500 hidden) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "autograd/backward.h"
#include "core/threads.h"
#include "data/dataset.h"
#include "models/model.h"
#include "optim/optim.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct { const char *label, *name, *cfg; int steps; } bench_model;
static const bench_model models[] = {
    {"made", "made", "{\"dim\": 784, \"hidden\": 500}", 20},
    {"made2", "made", "{\"dim\": 784, \"hidden\": [500, 500], \"masks\": 32}", 20},
    {"fvsbn", "fvsbn", "{\"dim\": 784}", 20},
    {"nade", "nade", "{\"dim\": 784, \"hidden\": 500}", 5},
    {"vae", "vae", "{\"dim\": 784, \"hidden\": [500, 500], \"latent\": 50}", 20},
};

static int run(const bench_model *bm, const lt_dataset *ds, int rounds, int steps) {
    json_t *cfg = json_loads(bm->cfg, 0, NULL);
    lt_model *m;
    if (lt_model_create(bm->name, cfg, &m)) {
        fprintf(stderr, "bench_models: %s\n", lt_error_message());
        return 1;
    }
    json_decref(cfg);
    lt_optim opt;
    lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAM, 1e-3f);
    lt_graph g;
    if (lt_optim_init(&opt, &oc, &m->params) || lt_graph_init(&g, 0)) {
        fprintf(stderr, "bench_models: %s\n", lt_error_message());
        return 1;
    }
    const int64_t B = 100, D = ds->dim, N = ds->split[LT_SPLIT_TRAIN].n;
    float *x = malloc(sizeof(float) * B * D);
    int64_t *perm = malloc(sizeof(int64_t) * N);
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    lt_rng_permutation(&rng, perm, N);
    int64_t step = 0, pos = 0;
    double best = 0, loss_sum = 0;
    for (int r = -1; r < rounds; r++) { /* round -1 warms up caches, arena and optimizer state */
        double t0 = now();
        for (int s = 0; s < steps; s++, step++) {
            if (pos + B > N) { lt_rng_permutation(&rng, perm, N); pos = 0; }
            lt_dataset_batch(ds, LT_SPLIT_TRAIN, perm + pos, B, LT_BINARIZE_NONE, 0, 0, x, NULL);
            pos += B;
            if (m->vt->on_step) m->vt->on_step(m, step);
            lt_tensor *loss;
            lt_params_zero_grad(&m->params);
            if (m->vt->loss(m, &g, &(lt_batch){x, NULL, B, D, NULL}, &loss) || lt_backward(&g, loss)) {
                fprintf(stderr, "bench_models: %s\n", lt_error_message());
                return 1;
            }
            loss_sum += loss->data[0];
            lt_optim_step(&opt, &m->params, 1e-3f);
            lt_graph_reset(&g);
        }
        double rate = steps * B / (now() - t0);
        if (r >= 0 && rate > best) best = rate;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("latent %-6s %8.0f examples/s (best of %d rounds of %d steps, batch %lld, %d threads), mean loss %.1f, peak RSS %.1f MB\n",
           bm->label, best, rounds, steps, (long long)B, lt_threads_get(), loss_sum / step, ru.ru_maxrss / 1024.0);
    printf("BENCH impl=latent model=%s ex_per_s=%.1f peak_rss_mb=%.1f threads=%d\n", bm->label, best,
           ru.ru_maxrss / 1024.0, lt_threads_get());
    free(x);
    free(perm);
    lt_graph_free(&g);
    lt_optim_free(&opt);
    lt_model_destroy(m);
    return 0;
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "all";
    const char *dir = argc > 2 ? argv[2] : NULL;
    int rounds = argc > 3 ? atoi(argv[3]) : 3, steps = argc > 4 ? atoi(argv[4]) : 0;
    const char *src = getenv("LT_SOURCE_DIR");
    char buf[1024];
    if (!dir) {
        snprintf(buf, sizeof buf, "%s/../shared/data/binarized-mnist", src ? src : ".");
        dir = buf;
    }
    lt_threads_set(getenv("LATENT_THREADS") ? 0 : 2);
    lt_dataset ds;
    if (lt_dataset_open(dir, 0, &ds)) {
        printf("bench_models: skipped, no binarized MNIST (%s); usage: bench_models [MODEL|all] [DATA_DIR]\n",
               lt_error_message());
        return 0;
    }
    int rc = 0, found = 0;
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        if (strcmp(which, "all") && strcmp(which, models[i].label)) continue;
        found = 1;
        rc |= run(&models[i], &ds, rounds, steps > 0 ? steps : models[i].steps);
    }
    lt_dataset_free(&ds);
    if (!found) {
        fprintf(stderr, "bench_models: unknown model '%s' (made, made2, fvsbn, nade, vae, all)\n", which);
        return 2;
    }
    return rc;
}
