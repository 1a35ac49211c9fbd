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

#include "common.h"
#include "data/dataset.h"

typedef struct { const char *label, *name, *cfg; int steps; } bench_model;
static const bench_model models[] = {
    {"made", "made", "{\"dim\": 784, \"hidden\": 500}", 20},
    {"made2", "made", "{\"dim\": 784, \"hidden\": [500, 500], \"masks\": 32}", 20},
    {"fvsbn", "fvsbn", "{\"dim\": 784}", 20},
    {"nade", "nade", "{\"dim\": 784, \"hidden\": 500}", 5},
    {"vae", "vae", "{\"dim\": 784, \"hidden\": [500, 500], \"latent\": 50}", 20},
};

typedef struct {
    ltb_step s;        /* its batch.x is x */
    const lt_dataset *ds;
    float *x;          /* (B, D) */
    int64_t *perm;     /* (N) */
    int64_t step, pos;
    double loss_sum;
    lt_rng rng;
} models_ctx;

/* the next batch of the shuffled training split, on_step, then the step */
static int models_step(void *ud, int round) {
    models_ctx *c = ud;
    const int64_t B = c->s.batch.n, N = c->ds->split[LT_SPLIT_TRAIN].n;
    if (c->pos + B > N) { lt_rng_permutation(&c->rng, c->perm, N); c->pos = 0; }
    lt_dataset_batch(c->ds, LT_SPLIT_TRAIN, c->perm + c->pos, B, LT_BINARIZE_NONE, 0, 0, c->x, NULL);
    c->pos += B;
    if (c->s.m->vt->on_step) c->s.m->vt->on_step(c->s.m, c->step);
    c->step++;
    if (ltb_model_step(&c->s, round)) return 1;
    c->loss_sum += c->s.loss;
    return 0;
}

static int run(const bench_model *bm, const lt_dataset *ds, int rounds, int steps) {
    const int64_t B = 100, D = ds->dim, N = ds->split[LT_SPLIT_TRAIN].n;
    const lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAM, 1e-3f);
    models_ctx c = {.ds = ds};
    ltb_step_open(&c.s, "bench_models", bm->name, json_loads(bm->cfg, 0, NULL), &oc);
    c.x = malloc(sizeof(float) * B * D);
    c.perm = malloc(sizeof(int64_t) * N);
    c.s.batch = (lt_batch){c.x, NULL, B, D, NULL};
    lt_rng_seed(&c.rng, 1);
    lt_rng_permutation(&c.rng, c.perm, N);
    const double best = ltb_best_rate("bench_models", rounds, steps, 0, (double)B, models_step, &c, NULL);
    printf("latent %-6s %8.0f examples/s (best of %d rounds of %d steps, batch %lld, %d threads), mean loss %.1f, peak RSS %.1f MB\n",
           bm->label, best, rounds, steps, (long long)B, lt_threads_get(), c.loss_sum / c.step, ltb_peak_rss_mb());
    char keys[64];
    snprintf(keys, sizeof keys, "model=%s", bm->label);
    ltb_bench_line(keys, best);
    free(c.x);
    free(c.perm);
    ltb_step_close(&c.s);
    return 0;
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "all";
    const char *dir = argc > 2 ? argv[2] : NULL;
    int rounds = ltb_arg(argc, argv, 3, 3), steps = ltb_arg(argc, argv, 4, 0);
    const char *src = getenv("LT_SOURCE_DIR");
    char buf[1024];
    if (!dir) {
        snprintf(buf, sizeof buf, "%s/../shared/data/binarized-mnist", src ? src : ".");
        dir = buf;
    }
    ltb_threads(2);
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
