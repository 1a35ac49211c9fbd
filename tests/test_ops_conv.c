/* conv2d and conv_transpose2d against a naive double-precision reference (output and
 * the gradients of Σ r·y for input, weight and bias) on shapes that take every path of
 * the kernels (conv_kernels.c): 1, 3 and many channels, channel counts off the 16-lane
 * blocks, batch 1 and batches over several dw chunks, odd and non-square sizes, stride
 * 1 and 2, padding 0 and 1; and the promise that results do not depend on the thread
 * count (1, 2 and 3 threads give the same bits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "core/rng.h"
#include "core/threads.h"
#include "ops/ops.h"

typedef struct {
    int transpose;
    int64_t N, Cx, Cy, H, W, KH, KW; /* x (N, Cx, H, W); y has Cy channels */
    int stride, pad, bias;
} conv_case;

static const conv_case CASES[] = {
    {0, 9, 3, 17, 7, 9, 3, 3, 1, 1, 1},   /* C 3, O 17 (a 16-lane tail), two dw chunks, k3 s1 */
    {0, 1, 20, 70, 10, 8, 4, 4, 2, 1, 1}, /* batch 1, O 70, k4 s2 */
    {0, 2, 70, 20, 6, 5, 4, 4, 2, 1, 1},  /* K = 1120: the forward GEMM's P in two blocks */
    {0, 17, 1, 32, 12, 12, 4, 4, 2, 1, 0}, /* C 1, three dw chunks */
    {0, 3, 5, 1, 6, 5, 1, 1, 1, 0, 1},    /* O 1, 1x1 */
    {0, 2, 4, 6, 9, 7, 3, 2, 2, 0, 1},    /* non-square kernel, stride 2, no padding */
    {1, 9, 33, 3, 5, 4, 4, 4, 2, 1, 1},   /* convT to 3 channels */
    {1, 2, 32, 1, 7, 7, 4, 4, 2, 1, 1},   /* convT to 1 channel */
    {1, 10, 16, 20, 4, 3, 3, 3, 1, 1, 0}, /* convT k3 s1 */
    {1, 1, 3, 5, 3, 4, 2, 3, 2, 0, 1},    /* convT batch 1, non-square kernel */
    {0, 5, 3, 8, 20, 20, 3, 3, 1, 1, 1},  /* 400 positions: dw in blocks of one image */
    {1, 5, 16, 8, 12, 12, 3, 3, 1, 1, 1}, /* convT, 144 positions: dw in blocks of 3 and 2 images */
    /* Winograd F(2x2, 3x3) (conv_winograd.c: k3 s1, >= 16 channels each side), forward and dx */
    {0, 5, 20, 18, 7, 7, 3, 3, 1, 1, 1},  /* 7x7: tiles overhang by a row and a column; O 18 */
    {0, 9, 16, 33, 8, 5, 3, 3, 1, 0, 0},  /* padding 0 (dx: padding 2), non-square, two dw chunks */
    {0, 2, 17, 16, 3, 4, 3, 3, 1, 2, 1},  /* padding 2 (dx: padding 0) */
    {0, 9, 16, 17, 24, 23, 3, 3, 1, 1, 1}, /* 144 tiles: dw in blocks of one image inside each chunk */
    {1, 3, 16, 24, 5, 6, 3, 3, 1, 1, 1},  /* convT k3 s1: its dx is conv2d's forward */
    /* the adjoint by phases (conv_phases.c, >= 16 image channels): phases without taps, stride 3 */
    {0, 2, 16, 5, 7, 6, 1, 1, 2, 0, 1},    /* 1x1 stride 2: three of dx's four phases get nothing */
    {0, 2, 17, 18, 11, 10, 4, 4, 3, 1, 1}, /* k4 stride 3 */
    {1, 2, 5, 16, 4, 3, 2, 2, 3, 0, 1},    /* convT k2 stride 3: gaps between the kernel's footprints */
    {0, 2, 4, 6, 11, 10, 4, 4, 3, 1, 1},   /* k4 stride 3, 4 channels: GEMM + col2im scatter */
};

typedef struct {
    int64_t xs[4], ws[4], ys[4], nb;
    float *x, *w, *b, *r;             /* inputs and the upstream gradient r */
    double *y, *dx, *dw, *db;         /* naive reference */
} conv_ref;

/* The naive reference: every term w·img of the sum, with conv2d's img = x, grid = y and
 * convT's img = y, grid = x; weight index [o][c][ky][kx] with o on the grid side. */
static void reference(const conv_case *k, conv_ref *f) {
    int64_t C = k->transpose ? k->Cy : k->Cx, O = k->transpose ? k->Cx : k->Cy;
    int64_t Hg = k->transpose ? k->H : f->ys[2], Wg = k->transpose ? k->W : f->ys[3];
    int64_t Hi = k->transpose ? f->ys[2] : k->H, Wi = k->transpose ? f->ys[3] : k->W;
    int64_t ny = f->ys[0] * f->ys[1] * f->ys[2] * f->ys[3];
    int64_t S = f->ys[2] * f->ys[3];
    for (int64_t i = 0; i < ny; i++) f->y[i] = k->bias ? f->b[i / S % f->ys[1]] : 0.0;
    for (int64_t i = 0; i < f->ys[1] && k->bias; i++)
        for (int64_t n = 0; n < k->N; n++)
            for (int64_t s = 0; s < S; s++) f->db[i] += f->r[(n * f->ys[1] + i) * S + s];
    for (int64_t n = 0; n < k->N; n++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t gy = 0; gy < Hg; gy++)
                    for (int64_t gx = 0; gx < Wg; gx++)
                        for (int64_t ky = 0; ky < k->KH; ky++)
                            for (int64_t kx = 0; kx < k->KW; kx++) {
                                int64_t iy = gy * k->stride - k->pad + ky, ix = gx * k->stride - k->pad + kx;
                                if (iy < 0 || iy >= Hi || ix < 0 || ix >= Wi) continue;
                                int64_t gi = ((n * O + o) * Hg + gy) * Wg + gx, ii = ((n * C + c) * Hi + iy) * Wi + ix;
                                /* w: conv2d (O, C, KH, KW), convT (C_in = O, C_out = C, KH, KW) */
                                int64_t wi = ((o * C + c) * k->KH + ky) * k->KW + kx;
                                int64_t xi = k->transpose ? gi : ii, yi = k->transpose ? ii : gi;
                                f->y[yi] += (double)f->w[wi] * f->x[xi];
                                f->dx[xi] += (double)f->w[wi] * f->r[yi];
                                f->dw[wi] += (double)f->x[xi] * f->r[yi];
                            }
}

typedef struct {
    float *y, *dx, *dw, *db;
} conv_got;

/* Runs the op with `threads` threads; returns malloc'd copies of y and the gradients. */
static conv_got run(const conv_case *k, const conv_ref *f, int threads) {
    lt_threads_set(threads);
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 0), LT_OK);
    lt_tensor x = lt_tensor_wrap(f->x, 4, f->xs), w = lt_tensor_wrap(f->w, 4, f->ws);
    lt_tensor b = lt_tensor_wrap(f->b, 1, &f->nb);
    x.requires_grad = w.requires_grad = b.requires_grad = 1;
    lt_tensor *y = k->transpose ? lt_conv_transpose2d(&g, &x, &w, k->bias ? &b : NULL, k->stride, k->pad)
                                : lt_conv2d(&g, &x, &w, k->bias ? &b : NULL, k->stride, k->pad);
    assert_non_null(y);
    for (int d = 0; d < 4; d++) assert_int_equal(y->shape[d], f->ys[d]);
    assert_int_equal(lt_backward_from(&g, y, f->r), LT_OK);
    conv_got o;
    size_t ny = (size_t)lt_numel(y), nx = (size_t)lt_numel(&x), nw = (size_t)lt_numel(&w);
    o.y = malloc(sizeof(float) * ny);
    o.dx = malloc(sizeof(float) * nx);
    o.dw = malloc(sizeof(float) * nw);
    o.db = calloc((size_t)f->nb, sizeof(float));
    assert_true(o.y && o.dx && o.dw && o.db);
    memcpy(o.y, y->data, sizeof(float) * ny);
    memcpy(o.dx, x.grad, sizeof(float) * nx);
    memcpy(o.dw, w.grad, sizeof(float) * nw);
    if (k->bias) memcpy(o.db, b.grad, sizeof(float) * (size_t)f->nb);
    lt_graph_free(&g);
    return o;
}

static void got_free(conv_got *o) { free(o->y); free(o->dx); free(o->dw); free(o->db); }

static void assert_near(size_t c, const char *what, const float *got, const double *want, int64_t n) {
    double mx = 0, err = 0;
    for (int64_t i = 0; i < n; i++) {
        mx = fmax(mx, fabs(want[i]));
        err = fmax(err, fabs(got[i] - want[i]));
    }
    if (err > 1e-5 * (1 + mx)) fail_msg("case %zu %s: max abs error %g (max |value| %g)", c, what, err, mx);
}

static void conv_matches_reference(void **state) {
    (void)state;
    lt_rng rng;
    lt_rng_seed(&rng, 11);
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        const conv_case *k = &CASES[c];
        conv_ref f = {.xs = {k->N, k->Cx, k->H, k->W}, .nb = k->Cy};
        int64_t Ho = k->transpose ? (k->H - 1) * k->stride - 2 * k->pad + k->KH
                                  : (k->H + 2 * k->pad - k->KH) / k->stride + 1;
        int64_t Wo = k->transpose ? (k->W - 1) * k->stride - 2 * k->pad + k->KW
                                  : (k->W + 2 * k->pad - k->KW) / k->stride + 1;
        int64_t ws[4] = {k->transpose ? k->Cx : k->Cy, k->transpose ? k->Cy : k->Cx, k->KH, k->KW};
        int64_t ys[4] = {k->N, k->Cy, Ho, Wo};
        memcpy(f.ws, ws, sizeof ws);
        memcpy(f.ys, ys, sizeof ys);
        int64_t nx = k->N * k->Cx * k->H * k->W, nw = ws[0] * ws[1] * ws[2] * ws[3], ny = k->N * k->Cy * Ho * Wo;
        f.x = malloc(sizeof(float) * nx); f.w = malloc(sizeof(float) * nw);
        f.b = malloc(sizeof(float) * k->Cy); f.r = malloc(sizeof(float) * ny);
        f.y = calloc(ny, sizeof(double)); f.dx = calloc(nx, sizeof(double));
        f.dw = calloc(nw, sizeof(double)); f.db = calloc(k->Cy, sizeof(double));
        assert_true(f.x && f.w && f.b && f.r && f.y && f.dx && f.dw && f.db);
        lt_rng_fill_uniform(&rng, f.x, nx, -1, 1);
        lt_rng_fill_uniform(&rng, f.w, nw, -1, 1);
        lt_rng_fill_uniform(&rng, f.b, k->Cy, -1, 1);
        lt_rng_fill_uniform(&rng, f.r, ny, -1, 1);
        reference(k, &f);
        conv_got one = run(k, &f, 1), two = run(k, &f, 2), three = run(k, &f, 3);
        assert_near(c, "y", two.y, f.y, ny);
        assert_near(c, "dx", two.dx, f.dx, nx);
        assert_near(c, "dw", two.dw, f.dw, nw);
        if (k->bias) assert_near(c, "db", two.db, f.db, k->Cy);
        /* same bits for any thread count */
        for (conv_got *o = &one; o; o = o == &one ? &three : NULL) {
            assert_memory_equal(o->y, two.y, sizeof(float) * ny);
            assert_memory_equal(o->dx, two.dx, sizeof(float) * nx);
            assert_memory_equal(o->dw, two.dw, sizeof(float) * nw);
            assert_memory_equal(o->db, two.db, sizeof(float) * k->Cy);
        }
        got_free(&one); got_free(&two); got_free(&three);
        free(f.x); free(f.w); free(f.b); free(f.r); free(f.y); free(f.dx); free(f.dw); free(f.db);
    }
    lt_threads_set(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
