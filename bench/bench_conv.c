/* Convolution throughput: conv2d and conv_transpose2d forward + backward on the
 * shapes of a small VQ-VAE for 28×28 images (batch 64), in GFLOP/s of the
 * matrix products (2·N·O·C·KH·KW·Ho·Wo per pass; backward counts two passes).
 * Each figure is the best of several rounds (the machine is shared); with one
 * thread (LATENT_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1) the process CPU
 * time ("cpu") is the steadiest figure on a busy machine.
 * Output: human-readable lines, then one "BENCH key=value ..." line per case.
 * Usage: bench_conv [rounds] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "autograd/backward.h"
#include "core/rng.h"
#include "ops/ops.h"

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

typedef struct {
    const char *what;
    int transpose;
    int64_t x[4], w[4];
    int stride, pad;
} conv_case;

static const conv_case CASES[] = {
    {"enc 1->32 k4 s2 (28->14)", 0, {64, 1, 28, 28}, {32, 1, 4, 4}, 2, 1},
    {"enc 32->64 k4 s2 (14->7)", 0, {64, 32, 14, 14}, {64, 32, 4, 4}, 2, 1},
    {"res 64->64 k3 s1 (7x7)", 0, {64, 64, 7, 7}, {64, 64, 3, 3}, 1, 1},
    {"decT 64->32 k4 s2 (7->14)", 1, {64, 64, 7, 7}, {64, 32, 4, 4}, 2, 1},
    {"decT 32->1 k4 s2 (14->28)", 1, {64, 32, 14, 14}, {32, 1, 4, 4}, 2, 1},
};

static void fill(lt_tensor *t, lt_rng *r) {
    t->data = malloc(sizeof(float) * (size_t)lt_numel(t));
    t->grad = calloc((size_t)lt_numel(t), sizeof(float));
    if (!t->data || !t->grad) exit(1);
    lt_rng_fill_uniform(r, t->data, lt_numel(t), -1, 1);
    t->requires_grad = 1;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    lt_graph g;
    if (lt_graph_init(&g, 0)) return 1;
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        const conv_case *k = &CASES[c];
        lt_tensor x = lt_tensor_wrap(NULL, 4, k->x), w = lt_tensor_wrap(NULL, 4, k->w);
        fill(&x, &rng);
        fill(&w, &rng);
        double best_f = 1e30, best_b = 1e30, cpu_f = 1e30, cpu_b = 1e30, flops = 0;
        for (int r = 0; r < rounds; r++) {
            lt_graph_reset(&g);
            double c0 = cpu(), t0 = now();
            lt_tensor *y = k->transpose ? lt_conv_transpose2d(&g, &x, &w, NULL, k->stride, k->pad)
                                        : lt_conv2d(&g, &x, &w, NULL, k->stride, k->pad);
            double c1 = cpu(), t1 = now();
            if (!y || lt_backward_from(&g, y, NULL)) {
                fprintf(stderr, "bench_conv: %s\n", lt_error_message());
                return 1;
            }
            double c2 = cpu(), t2 = now();
            const lt_tensor *small = k->transpose ? &x : y; /* the side with Ho×Wo kernel positions */
            flops = 2.0 * (double)k->x[0] * (double)(k->w[0] * k->w[1] * k->w[2] * k->w[3]) *
                    (double)(small->shape[2] * small->shape[3]);
            if (t1 - t0 < best_f) best_f = t1 - t0;
            if (t2 - t1 < best_b) best_b = t2 - t1;
            if (c1 - c0 < cpu_f) cpu_f = c1 - c0;
            if (c2 - c1 < cpu_b) cpu_b = c2 - c1;
        }
        printf("%-28s forward %7.2f ms (%5.1f GFLOP/s, cpu %7.2f ms)  backward %7.2f ms (%5.1f GFLOP/s, cpu %7.2f ms)\n",
               k->what, best_f * 1e3, flops / best_f * 1e-9, cpu_f * 1e3, best_b * 1e3, 2 * flops / best_b * 1e-9,
               cpu_b * 1e3);
        printf("BENCH case=conv%zu fwd_ms=%.3f bwd_ms=%.3f fwd_cpu_ms=%.3f bwd_cpu_ms=%.3f fwd_gflops=%.2f "
               "bwd_gflops=%.2f\n", c, best_f * 1e3, best_b * 1e3, cpu_f * 1e3, cpu_b * 1e3, flops / best_f * 1e-9,
               2 * flops / best_b * 1e-9);
        free(x.data); free(x.grad); free(w.data); free(w.grad);
    }
    lt_graph_free(&g);
    return 0;
}
