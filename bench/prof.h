/* Optional per-op timer for the training-step benchmarks (bench_simclr, bench_gpt): set
 * LT_PROFILE=1 and the bench prints, per op, the time its forward and its backward took per
 * step, summed over the timed steps. A forward is the time from the previous recorded node
 * (or the step's start) to its own record (graph.h on_record); a backward the time between
 * two calls of on_backward. Two clocks: wall, and CPU of all threads (spinning included),
 * which a loaded machine distorts less. The optimizer and the graph reset are rows of their
 * own. Header-only (static inline): each bench is one file. */
#ifndef LT_BENCH_PROF_H
#define LT_BENCH_PROF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autograd/backward.h"
#include "ops/op.h"

enum { LTB_PROF_OPT = LT_OP_COUNT, LTB_PROF_OTHER, LTB_PROF_ROWS };

typedef struct {
    int on, steps;
    lt_graph *g;
    double wall0, cpu0;                         /* the last stamp */
    double wall[LTB_PROF_ROWS][2], cpu[LTB_PROF_ROWS][2]; /* [row][0 fwd, 1 bwd] */
    int64_t count[LTB_PROF_ROWS];
} ltb_prof;

static inline double ltb_clock(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* the time since the last stamp goes to row (direction dir); the stamp moves to now */
static inline void ltb_prof_charge(ltb_prof *p, int row, int dir) {
    const double w = ltb_clock(CLOCK_MONOTONIC), c = ltb_clock(CLOCK_PROCESS_CPUTIME_ID);
    p->wall[row][dir] += w - p->wall0;
    p->cpu[row][dir] += c - p->cpu0;
    p->wall0 = w;
    p->cpu0 = c;
}

static inline void ltb_prof_on_record(void *ud, int64_t node) {
    ltb_prof *p = ud;
    const int op = p->g->nodes[node].op;
    ltb_prof_charge(p, op, 0);
    p->count[op]++;
}

static inline void ltb_prof_on_backward(void *ud, int64_t node) {
    ltb_prof *p = ud;
    if (node >= p->g->n_nodes) ltb_prof_charge(p, LTB_PROF_OTHER, 0); /* the forward's tail: loss, etc. */
    else ltb_prof_charge(p, p->g->nodes[node].op, 1);
}

/* LT_PROFILE unset or 0: off, and the hooks stay NULL */
static inline void ltb_prof_init(ltb_prof *p, lt_graph *g) {
    memset(p, 0, sizeof *p);
    const char *e = getenv("LT_PROFILE");
    p->on = e && atoi(e) > 0;
    p->g = g;
}

/* start timing a step (call before the forward): the hooks go in */
static inline void ltb_prof_step(ltb_prof *p) {
    if (!p->on) return;
    p->g->on_record = ltb_prof_on_record;
    p->g->on_record_ud = p;
    p->g->on_backward = ltb_prof_on_backward;
    p->g->on_backward_ud = p;
    p->wall0 = ltb_clock(CLOCK_MONOTONIC);
    p->cpu0 = ltb_clock(CLOCK_PROCESS_CPUTIME_ID);
    p->steps++;
}

/* after the backward: the time since the last node's backward goes to row (the optimizer) */
static inline void ltb_prof_mark(ltb_prof *p, int row) {
    if (p->on) ltb_prof_charge(p, row, 1);
}

static inline void ltb_prof_print(const ltb_prof *p, const char *impl) {
    if (!p->on || !p->steps) return;
    double tw = 0, tc = 0, rows[LTB_PROF_ROWS];
    int order[LTB_PROF_ROWS], n = 0;
    for (int r = 0; r < LTB_PROF_ROWS; r++) {
        rows[r] = p->cpu[r][0] + p->cpu[r][1];
        tw += p->wall[r][0] + p->wall[r][1];
        tc += rows[r];
        if (rows[r] > 0) order[n++] = r;
    }
    for (int i = 1; i < n; i++) /* by CPU time, most first */
        for (int j = i; j > 0 && rows[order[j]] > rows[order[j - 1]]; j--) {
            const int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
        }
    const double s = 1e3 / p->steps;
    printf("%s per-op profile, ms per step over %d steps (wall; cpu of all threads):\n", impl, p->steps);
    printf("  %-20s %6s %9s %9s %9s %9s %9s %6s\n", "op", "n/step", "fwd wall", "bwd wall", "fwd cpu", "bwd cpu",
           "cpu", "%cpu");
    for (int i = 0; i < n; i++) {
        const int r = order[i];
        const char *name = r == LTB_PROF_OPT ? "(optimizer+reset)" : r == LTB_PROF_OTHER ? "(fwd tail)" : lt_op_name(r);
        printf("  %-20s %6.1f %9.2f %9.2f %9.2f %9.2f %9.2f %5.1f%%\n", name, (double)p->count[r] / p->steps,
               p->wall[r][0] * s, p->wall[r][1] * s, p->cpu[r][0] * s, p->cpu[r][1] * s, rows[r] * s,
               100 * rows[r] / tc);
    }
    printf("  %-20s %6s %19.2f %29.2f\n", "total", "", tw * s, tc * s);
}

#endif
