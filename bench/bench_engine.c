/* Engine overhead against raw OpenBLAS, in the same process:
 *  (a) one GEMM through lt_matmul (arena output, graph reset) vs cblas_sgemm
 *      on the same shapes; target overhead <= 5%;
 *  (b) one full training step (forward, backward, Adam, graph reset) of a
 *      784-500-784 MLP with batch 100 (linear, relu, linear, BCE-with-logits,
 *      mean) vs the five raw sgemm calls of that step; target FLOP-rate ratio
 *      >= 0.70.
 * Timing: rounds alternate engine and raw blocks, and each figure is the best
 * round, so a busy machine (other processes on the 2 cores) hurts both sides
 * alike instead of whichever ran during the disturbance.
 * Output: human-readable lines, then one "BENCH key=value ..." line per result.
 * Usage: bench_engine [rounds]   (threads: LATENT_THREADS, default all cores) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "core/params.h"
#include "core/rng.h"
#include "ops/ops.h"

static void die(const char *what) { ltb_die("bench_engine", what); }

/* ---- (a) GEMM ---- */

typedef struct gemm_case { int64_t M, K, N; } gemm_case;

static void bench_gemm(gemm_case c, int rounds, lt_rng *rng) {
    float *A = malloc(sizeof(float) * c.M * c.K);  /* (M,K) */
    float *B = malloc(sizeof(float) * c.K * c.N);  /* (K,N) */
    float *C = malloc(sizeof(float) * c.M * c.N);  /* (M,N) */
    lt_rng_fill_normal(rng, A, c.M * c.K, 0, 1);
    lt_rng_fill_normal(rng, B, c.K * c.N, 0, 1);
    lt_graph g;
    if (lt_graph_init(&g, 0)) die("graph");
    lt_tensor a = lt_tensor_wrap(A, 2, (int64_t[]){c.M, c.K}), b = lt_tensor_wrap(B, 2, (int64_t[]){c.K, c.N});
    double flop = 2.0 * (double)c.M * (double)c.K * (double)c.N;
    int reps = (int)(2e9 / flop) + 1; /* about 25 ms of work per block */
    double best_raw = 1e30, best_eng = 1e30;
    for (int r = 0; r < 2 * rounds + 1; r++) { /* round 0 warms up; odd and even rounds swap the order */
        double t[3];
        for (int side = 0; side < 2; side++) {
            t[side] = ltb_now();
            if ((side + r) % 2 == 0) {
                for (int i = 0; i < reps; i++)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)c.M, (blasint)c.N, (blasint)c.K,
                                1.0f, A, (blasint)c.K, B, (blasint)c.N, 0.0f, C, (blasint)c.N);
            } else {
                for (int i = 0; i < reps; i++) {
                    if (!lt_matmul(&g, &a, &b, 0, 0)) die("matmul");
                    lt_graph_reset(&g);
                }
            }
        }
        t[2] = ltb_now();
        if (r == 0) continue;
        double first = (t[1] - t[0]) / reps, second = (t[2] - t[1]) / reps;
        double raw = r % 2 == 0 ? first : second, eng = r % 2 == 0 ? second : first;
        if (raw < best_raw) best_raw = raw;
        if (eng < best_eng) best_eng = eng;
    }
    double overhead = best_eng / best_raw - 1.0;
    printf("gemm %lldx%lldx%lld (MxKxN): raw %.3f ms (%.1f GFLOP/s), lt_matmul %.3f ms (%.1f GFLOP/s), overhead %+.2f%%\n",
           (long long)c.M, (long long)c.K, (long long)c.N, best_raw * 1e3, flop / best_raw * 1e-9, best_eng * 1e3,
           flop / best_eng * 1e-9, overhead * 100);
    printf("BENCH gemm M=%lld K=%lld N=%lld raw_ms=%.4f engine_ms=%.4f raw_gflops=%.2f engine_gflops=%.2f "
           "overhead=%.4f target_max=0.05\n", (long long)c.M, (long long)c.K, (long long)c.N, best_raw * 1e3,
           best_eng * 1e3, flop / best_raw * 1e-9, flop / best_eng * 1e-9, overhead);
    lt_graph_free(&g);
    free(A);
    free(B);
    free(C);
}

/* ---- (b) training step of a 784-500-784 MLP ---- */

enum { BATCH = 100, DIN = 784, HID = 500 };

typedef struct mlp {
    lt_params p;
    lt_tensor *w1, *b1, *w2, *b2;  /* (HID,DIN) (HID) (DIN,HID) (DIN) */
    lt_optim opt;
    lt_graph g;
} mlp;

static void mlp_init(mlp *m, lt_rng *rng) {
    lt_params_init(&m->p);
    m->w1 = lt_params_add(&m->p, "w1", 2, (int64_t[]){HID, DIN});
    m->b1 = lt_params_add(&m->p, "b1", 1, (int64_t[]){HID});
    m->w2 = lt_params_add(&m->p, "w2", 2, (int64_t[]){DIN, HID});
    m->b2 = lt_params_add(&m->p, "b2", 1, (int64_t[]){DIN});
    if (!m->b2 || lt_params_finalize(&m->p)) die("params");
    lt_rng_fill_normal(rng, m->w1->data, HID * DIN, 0, 0.03f);
    lt_rng_fill_normal(rng, m->w2->data, DIN * HID, 0, 0.03f);
    lt_optim_config cfg = lt_optim_config_default(LT_OPTIM_ADAM, 1e-3f);
    if (lt_optim_init(&m->opt, &cfg, &m->p) || lt_graph_init(&m->g, 0)) die("optimizer/graph");
}

static void mlp_free(mlp *m) {
    lt_graph_free(&m->g);
    lt_optim_free(&m->opt);
    lt_params_free(&m->p);
}

/* x (BATCH,DIN) in {0,1}: reconstructs x from x through a hidden layer. */
static float mlp_step(mlp *m, lt_tensor *x) {
    lt_graph *g = &m->g;
    lt_params_zero_grad(&m->p);
    lt_tensor *h = lt_relu(g, lt_linear(g, x, m->w1, m->b1));       /* (BATCH,HID) */
    lt_tensor *logits = lt_linear(g, h, m->w2, m->b2);              /* (BATCH,DIN) */
    lt_tensor *loss = lt_mean(g, lt_bce_with_logits(g, logits, x), LT_AXIS_ALL, 0); /* () */
    if (lt_graph_status(g) || lt_backward(g, loss)) die("step");
    float v = loss->data[0];
    lt_optim_step(&m->opt, &m->p, 1e-3f);
    lt_graph_reset(g);
    return v;
}

/* The step's five GEMMs as the linear op issues them: two forward (x·Wᵀ), and
 * backward dh = dy·W2, dW2 += dyᵀ·h, dW1 += dhᵀ·x (x needs no gradient). */
static void raw_gemms(const float *x, const float *w1, const float *w2, float *h, float *y, float *dw1, float *dw2,
                      float *dh) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BATCH, HID, DIN, 1, x, DIN, w1, DIN, 0, h, HID);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BATCH, DIN, HID, 1, h, HID, w2, HID, 0, y, DIN);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BATCH, HID, DIN, 1, y, DIN, w2, HID, 0, dh, HID);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, DIN, HID, BATCH, 1, y, DIN, h, HID, 1, dw2, HID);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, HID, DIN, BATCH, 1, dh, HID, x, DIN, 1, dw1, DIN);
}

static void bench_train_step(int rounds, lt_rng *rng) {
    mlp m;
    mlp_init(&m, rng);
    float *x = malloc(sizeof(float) * BATCH * DIN); /* (BATCH,DIN) */
    lt_rng_fill_bernoulli(rng, x, BATCH * DIN, NULL, 0.3f);
    lt_tensor xt = lt_tensor_wrap(x, 2, (int64_t[]){BATCH, DIN});
    float *h = malloc(sizeof(float) * BATCH * HID), *y = malloc(sizeof(float) * BATCH * DIN);
    float *dh = malloc(sizeof(float) * BATCH * HID);
    float *dw1 = calloc((size_t)HID * DIN, sizeof(float)), *dw2 = calloc((size_t)DIN * HID, sizeof(float));
    const double flop = 5 * 2.0 * BATCH * DIN * HID;
    const int reps = 20;
    double best_raw = 1e30, best_eng = 1e30, best_adam = 1e30;
    float first = 0, last = 0;
    for (int r = 0; r < rounds + 1; r++) {
        double t0 = ltb_now();
        for (int i = 0; i < reps; i++) raw_gemms(x, m.w1->data, m.w2->data, h, y, dw1, dw2, dh);
        double t1 = ltb_now();
        for (int i = 0; i < reps; i++) {
            last = mlp_step(&m, &xt);
            if (r == 0 && i == 0) first = last;
        }
        double t2 = ltb_now();
        for (int i = 0; i < reps; i++) lt_optim_step(&m.opt, &m.p, 0.0f); /* the Adam pass alone (lr 0) */
        double t3 = ltb_now();
        if (r == 0) continue;
        if ((t1 - t0) / reps < best_raw) best_raw = (t1 - t0) / reps;
        if ((t2 - t1) / reps < best_eng) best_eng = (t2 - t1) / reps;
        if ((t3 - t2) / reps < best_adam) best_adam = (t3 - t2) / reps;
    }
    double ratio = best_raw / best_eng;
    printf("train step 784-500-784 MLP, batch %d, Adam (%lld parameters): loss %.4f -> %.4f\n", BATCH,
           (long long)m.p.total, first, last);
    printf("  raw sgemm x5: %.3f ms = %.1f GFLOP/s; engine step: %.3f ms = %.1f GFLOP/s; ratio %.3f "
           "(Adam pass alone %.3f ms)\n", best_raw * 1e3, flop / best_raw * 1e-9, best_eng * 1e3,
           flop / best_eng * 1e-9, ratio, best_adam * 1e3);
    printf("BENCH train_step model=mlp-784-500-784 batch=%d raw_ms=%.4f engine_ms=%.4f raw_gflops=%.2f "
           "engine_gflops=%.2f ratio=%.4f adam_ms=%.4f target_min=0.70\n", BATCH, best_raw * 1e3, best_eng * 1e3,
           flop / best_raw * 1e-9, flop / best_eng * 1e-9, ratio, best_adam * 1e3);
    free(x); free(h); free(y); free(dh); free(dw1); free(dw2);
    mlp_free(&m);
}

int main(int argc, char **argv) {
    int rounds = ltb_arg(argc, argv, 1, 15);
    if (rounds < 1) rounds = 1;
    ltb_threads(0);
    printf("latent engine benchmark: OpenBLAS %s, %d threads, best of %d rounds\n", lt_blas_corename(),
           lt_threads_get(), rounds);
    lt_rng rng;
    lt_rng_seed(&rng, 42);
    gemm_case cases[] = {{100, 784, 500}, {512, 512, 512}, {100, 500, 784}};
    for (int i = 0; i < 3; i++) bench_gemm(cases[i], rounds, &rng);
    bench_train_step(rounds, &rng);
    return 0;
}
