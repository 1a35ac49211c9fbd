/* The scaffolding the benchmarks share (the C files in bench/): clocks, positional arguments with
 * defaults, the thread count, the fatal-error exit, peak RSS, a model's training step as
 * `latent train` runs it, the best-of-rounds loop of the training-step benchmarks and their
 * "BENCH impl=latent" line. Header only, like prof.h (the per-op timer, included here):
 * CMakeLists.txt builds each C file in bench/ alone into its executable; static inline, so a bench
 * takes what it uses. */
#ifndef LT_BENCH_COMMON_H
#define LT_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "autograd/backward.h"
#include "core/status.h"
#include "core/threads.h"
#include "models/model.h"
#include "optim/optim.h"
#include "prof.h"

/* wall seconds */
static inline double ltb_now(void) { return ltb_clock(CLOCK_MONOTONIC); }

/* CPU seconds of all the process's threads: on a loaded machine wall time measures the
 * scheduler as much as the code; CPU time includes OpenMP's spin-waiting, though. */
static inline double ltb_cpu_now(void) { return ltb_clock(CLOCK_PROCESS_CPUTIME_ID); }

/* the process's peak resident set (ru_maxrss), MB: run one configuration per process */
static inline double ltb_peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* argv[i] as an int, or def when there are not that many arguments */
static inline int ltb_arg(int argc, char **argv, int i, int def) { return argc > i ? atoi(argv[i]) : def; }

/* The thread count: LATENT_THREADS when set (lt_threads_set(0) reads it), else def
 * (0: all cores). */
static inline void ltb_threads(int def) { lt_threads_set(getenv("LATENT_THREADS") ? 0 : def); }

/* "bench: what: <the library's last error>" on stderr, exit 1 */
static inline void ltb_die(const char *bench, const char *what) {
    if (what) fprintf(stderr, "%s: %s: %s\n", bench, what, lt_error_message());
    else fprintf(stderr, "%s: %s\n", bench, lt_error_message());
    exit(1);
}

/* One training step of a model, the way `latent train` runs it: zero the gradients, the
 * model's loss on batch (in training mode when training), backward, the optimizer's step at
 * lr, graph reset. With prof (prof.h; NULL: none) the steps of rounds >= 0 are timed per op.
 * ltb_model_step is a step callback for ltb_best_rate with a ltb_step as ud. */
typedef struct ltb_step {
    lt_model *m;   /* the rest owned here too: ltb_step_close */
    lt_optim opt;
    lt_graph g;
    lt_batch batch; /* the caller's */
    float lr;
    int training;
    ltb_prof *prof;
    double loss; /* the last step's */
} ltb_step;

/* Creates model `name` from cfg (released here), its optimizer oc (lr: oc's) and a graph;
 * the bench dies on failure. The batch, training and prof are the caller's to set. */
static inline void ltb_step_open(ltb_step *c, const char *bench, const char *name, json_t *cfg,
                                 const lt_optim_config *oc) {
    *c = (ltb_step){.lr = oc->lr};
    if (lt_model_create(name, cfg, &c->m) || lt_optim_init(&c->opt, oc, &c->m->params) || lt_graph_init(&c->g, 0))
        ltb_die(bench, NULL);
    json_decref(cfg);
}

static inline void ltb_step_close(ltb_step *c) {
    lt_graph_free(&c->g);
    lt_optim_free(&c->opt);
    lt_model_destroy(c->m);
}

static inline int ltb_model_step(void *ud, int round) {
    ltb_step *c = ud;
    lt_tensor *l;
    const int timed = c->prof && round >= 0;
    lt_params_zero_grad(&c->m->params);
    if (timed) ltb_prof_step(c->prof);
    if (c->training) c->g.training = 1;
    if (c->m->vt->loss(c->m, &c->g, &c->batch, &l) || lt_backward(&c->g, l)) return 1;
    if (c->training) c->g.training = 0;
    c->loss = l->data[0];
    lt_optim_step(&c->opt, &c->m->params, c->lr);
    lt_graph_reset(&c->g);
    if (timed) ltb_prof_mark(c->prof, LTB_PROF_OPT);
    return 0;
}

/* The training-step benchmarks' timing: a warm-up round of `warm` calls (0: steps; the
 * arena, the optimizer's state), then `rounds` rounds of `steps` calls of step(ud, round);
 * the best round's rate, units per second for `units` per step (the machine is shared: the
 * best round is the closest to the code's own speed). step returns nonzero on failure: the
 * bench dies with the library's message. With cpu != NULL also the least CPU seconds per
 * step of a round. */
static inline double ltb_best_rate(const char *bench, int rounds, int steps, int warm, double units,
                                   int (*step)(void *ud, int round), void *ud, double *cpu) {
    double best = 0;
    if (cpu) *cpu = 1e30;
    for (int r = -1; r < rounds; r++) { /* round -1 warms up */
        const int n = r < 0 && warm > 0 ? warm : steps;
        const double t0 = ltb_now(), c0 = ltb_cpu_now();
        for (int s = 0; s < n; s++)
            if (step(ud, r)) ltb_die(bench, NULL);
        const double rate = (double)n * units / (ltb_now() - t0), c = (ltb_cpu_now() - c0) / n;
        if (r >= 0 && rate > best) best = rate;
        if (r >= 0 && cpu && c < *cpu) *cpu = c;
    }
    return best;
}

/* "BENCH impl=latent KEYS ex_per_s=... peak_rss_mb=... threads=...", the line the run_*.sh
 * scripts read */
static inline void ltb_bench_line(const char *keys, double ex_per_s) {
    printf("BENCH impl=latent %s ex_per_s=%.1f peak_rss_mb=%.1f threads=%d\n", keys, ex_per_s, ltb_peak_rss_mb(),
           lt_threads_get());
}

#endif
