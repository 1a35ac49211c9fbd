/* Forward values of the shape, conv, norm, attention and special ops against
 * direct definitions (naive loops), plus their argument errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "ops/ops.h"

static lt_graph G;
static lt_rng R;

static int setup(void **state) {
    (void)state;
    lt_rng_seed(&R, 42);
    return lt_graph_init(&G, 0) ? -1 : 0;
}
static int teardown(void **state) {
    (void)state;
    lt_graph_free(&G);
    return 0;
}

static lt_tensor *rnd(int ndim, const int64_t *shape) {
    lt_tensor *t = lt_graph_new(&G, LT_F32, ndim, shape);
    assert_non_null(t);
    lt_rng_fill_uniform(&R, t->data, lt_numel(t), -1.0f, 1.0f);
    return t;
}

static double dot(const lt_tensor *a, const lt_tensor *b) {
    double s = 0;
    for (int64_t i = 0; i < lt_numel(a); i++) s += (double)a->data[i] * b->data[i];
    return s;
}

/* ---- conv2d / conv_transpose2d ---- */

typedef struct { int64_t N, C, H, W, O, KH, KW; int stride, pad; } conv_cfg;
static const conv_cfg CONVS[] = {
    {2, 3, 7, 6, 4, 3, 2, 2, 1}, {1, 1, 5, 5, 1, 3, 3, 1, 0}, {3, 4, 9, 8, 5, 4, 4, 2, 1},
    {2, 2, 6, 7, 3, 1, 3, 1, 1}, {1, 3, 8, 8, 2, 5, 5, 3, 2},
};

static void conv2d_matches_direct_convolution(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof CONVS / sizeof CONVS[0]; c++) {
        conv_cfg q = CONVS[c];
        lt_graph_reset(&G);
        lt_tensor *x = rnd(4, (int64_t[]){q.N, q.C, q.H, q.W}), *w = rnd(4, (int64_t[]){q.O, q.C, q.KH, q.KW});
        lt_tensor *b = rnd(1, &q.O);
        lt_tensor *y = lt_conv2d(&G, x, w, b, q.stride, q.pad);
        assert_non_null(y);
        int64_t Ho = (q.H + 2 * q.pad - q.KH) / q.stride + 1, Wo = (q.W + 2 * q.pad - q.KW) / q.stride + 1;
        assert_int_equal(y->shape[2], Ho);
        assert_int_equal(y->shape[3], Wo);
        double maxerr = 0;
        for (int64_t n = 0; n < q.N; n++)
            for (int64_t o = 0; o < q.O; o++)
                for (int64_t oy = 0; oy < Ho; oy++)
                    for (int64_t ox = 0; ox < Wo; ox++) {
                        double s = b->data[o];
                        for (int64_t ci = 0; ci < q.C; ci++)
                            for (int64_t ky = 0; ky < q.KH; ky++)
                                for (int64_t kx = 0; kx < q.KW; kx++) {
                                    int64_t iy = oy * q.stride - q.pad + ky, ix = ox * q.stride - q.pad + kx;
                                    if (iy < 0 || iy >= q.H || ix < 0 || ix >= q.W) continue;
                                    s += (double)x->data[((n * q.C + ci) * q.H + iy) * q.W + ix] *
                                         w->data[((o * q.C + ci) * q.KH + ky) * q.KW + kx];
                                }
                        double e = fabs(s - y->data[((n * q.O + o) * Ho + oy) * Wo + ox]);
                        if (e > maxerr) maxerr = e;
                    }
        assert_true(maxerr < 1e-4);
    }
}

static void conv_transpose2d_matches_scatter_definition_and_is_the_adjoint(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof CONVS / sizeof CONVS[0]; c++) {
        conv_cfg q = CONVS[c]; /* here x has O channels at conv2d's output size, w is (O, C, KH, KW) */
        lt_graph_reset(&G);
        int64_t Hi = (q.H + 2 * q.pad - q.KH) / q.stride + 1, Wi = (q.W + 2 * q.pad - q.KW) / q.stride + 1;
        lt_tensor *x = rnd(4, (int64_t[]){q.N, q.O, Hi, Wi}), *w = rnd(4, (int64_t[]){q.O, q.C, q.KH, q.KW});
        lt_tensor *b = rnd(1, &q.C);
        lt_tensor *y = lt_conv_transpose2d(&G, x, w, b, q.stride, q.pad);
        assert_non_null(y);
        int64_t Ho = (Hi - 1) * q.stride - 2 * q.pad + q.KH, Wo = (Wi - 1) * q.stride - 2 * q.pad + q.KW;
        assert_int_equal(y->shape[1], q.C);
        assert_int_equal(y->shape[2], Ho);
        assert_int_equal(y->shape[3], Wo);
        /* scatter form: each input pixel adds w[ci] · x into a KH×KW window of the output */
        double *ref = lt_calloc((size_t)(q.N * q.C * Ho * Wo), sizeof(double));
        assert_non_null(ref);
        for (int64_t n = 0; n < q.N; n++)
            for (int64_t co = 0; co < q.C; co++)
                for (int64_t i = 0; i < Ho * Wo; i++) ref[(n * q.C + co) * Ho * Wo + i] = b->data[co];
        for (int64_t n = 0; n < q.N; n++)
            for (int64_t ci = 0; ci < q.O; ci++)
                for (int64_t iy = 0; iy < Hi; iy++)
                    for (int64_t ix = 0; ix < Wi; ix++)
                        for (int64_t co = 0; co < q.C; co++)
                            for (int64_t ky = 0; ky < q.KH; ky++)
                                for (int64_t kx = 0; kx < q.KW; kx++) {
                                    int64_t oy = iy * q.stride - q.pad + ky, ox = ix * q.stride - q.pad + kx;
                                    if (oy < 0 || oy >= Ho || ox < 0 || ox >= Wo) continue;
                                    ref[((n * q.C + co) * Ho + oy) * Wo + ox] +=
                                        (double)x->data[((n * q.O + ci) * Hi + iy) * Wi + ix] *
                                        w->data[((ci * q.C + co) * q.KH + ky) * q.KW + kx];
                                }
        double maxerr = 0;
        for (int64_t i = 0; i < lt_numel(y); i++) maxerr = fmax(maxerr, fabs(ref[i] - y->data[i]));
        lt_free(ref);
        assert_true(maxerr < 1e-4);
        /* adjoint: <conv(u), x> = <u, convT(x)> for the same w, without bias; u at convT's output size */
        lt_tensor *u = rnd(4, (int64_t[]){q.N, q.C, Ho, Wo});
        lt_tensor *cu = lt_conv2d(&G, u, w, NULL, q.stride, q.pad), *tx = lt_conv_transpose2d(&G, x, w, NULL, q.stride, q.pad);
        assert_non_null(cu);
        assert_non_null(tx);
        assert_true(lt_tensor_same_shape(cu, x));
        double l = dot(cu, x), r = dot(u, tx);
        assert_true(fabs(l - r) <= 1e-4 * (1 + fabs(l)));
    }
}

static void conv_shape_errors(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_tensor *x = rnd(4, (int64_t[]){1, 3, 5, 5}), *w = rnd(4, (int64_t[]){2, 4, 3, 3});
    assert_null(lt_conv2d(&G, x, w, NULL, 1, 0));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    assert_non_null(strstr(lt_error_message(), "(1,3,5,5)"));
    lt_graph_reset(&G);
    x = rnd(4, (int64_t[]){1, 3, 5, 5});
    w = rnd(4, (int64_t[]){2, 3, 3, 3});
    assert_null(lt_conv2d(&G, x, w, NULL, 0, 0));
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
    lt_graph_reset(&G);
}

static void upsample_and_avg_pool_values(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_tensor *x = rnd(4, (int64_t[]){2, 3, 5, 4});
    lt_tensor *u = lt_upsample_nearest(&G, x, 3);
    assert_non_null(u);
    assert_int_equal(u->shape[2], 15);
    assert_int_equal(u->shape[3], 12);
    for (int64_t p = 0; p < 6; p++)
        for (int64_t y = 0; y < 15; y++)
            for (int64_t xx = 0; xx < 12; xx++)
                assert_true(u->data[(p * 15 + y) * 12 + xx] == x->data[(p * 5 + y / 3) * 4 + xx / 3]);
    lt_tensor *a = lt_avg_pool2d(&G, x, 2, 1);
    assert_non_null(a);
    assert_int_equal(a->shape[2], 4);
    assert_int_equal(a->shape[3], 3);
    for (int64_t p = 0; p < 6; p++)
        for (int64_t y = 0; y < 4; y++)
            for (int64_t xx = 0; xx < 3; xx++) {
                const float *b = x->data + (p * 5 + y) * 4 + xx;
                assert_float_equal(a->data[(p * 4 + y) * 3 + xx], (b[0] + b[1] + b[4] + b[5]) / 4, 1e-6);
            }
    /* pooling an upsampled image by the same factor gives it back */
    lt_tensor *back = lt_avg_pool2d(&G, u, 3, 3);
    assert_non_null(back);
    for (int64_t i = 0; i < lt_numel(x); i++) assert_float_equal(back->data[i], x->data[i], 1e-6);
}

/* ---- norms ---- */

static void group_and_layer_norm_standardize(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_tensor *x = rnd(4, (int64_t[]){3, 6, 4, 5});
    for (int64_t i = 0; i < lt_numel(x); i++) x->data[i] = 3.0f + 5.0f * x->data[i];
    lt_tensor *y = lt_group_norm(&G, x, 3, NULL, NULL, 1e-5f);
    assert_non_null(y);
    for (int64_t grp = 0; grp < 9; grp++) { /* N·G groups of 2·20 contiguous values */
        double s = 0, ss = 0;
        for (int64_t j = 0; j < 40; j++) s += y->data[grp * 40 + j];
        for (int64_t j = 0; j < 40; j++) ss += pow(y->data[grp * 40 + j] - s / 40, 2);
        assert_true(fabs(s / 40) < 1e-5);
        assert_true(fabs(ss / 40 - 1) < 1e-3);
    }
    lt_tensor *ga = rnd(1, (int64_t[]){6}), *be = rnd(1, (int64_t[]){6});
    lt_tensor *ya = lt_group_norm(&G, x, 3, ga, be, 1e-5f);
    assert_non_null(ya);
    for (int64_t i = 0; i < lt_numel(x); i++) {
        int64_t c = i / 20 % 6;
        assert_float_equal(ya->data[i], y->data[i] * ga->data[c] + be->data[c], 1e-5);
    }
    lt_tensor *z = rnd(3, (int64_t[]){2, 5, 9});
    lt_tensor *l = lt_layer_norm(&G, z, NULL, NULL, 1e-5f);
    assert_non_null(l);
    for (int64_t r = 0; r < 10; r++) {
        double s = 0, ss = 0;
        for (int64_t j = 0; j < 9; j++) s += l->data[r * 9 + j];
        for (int64_t j = 0; j < 9; j++) ss += pow(l->data[r * 9 + j] - s / 9, 2);
        assert_true(fabs(s / 9) < 1e-5);
        assert_true(fabs(ss / 9 - 1) < 1e-3);
    }
    assert_null(lt_group_norm(&G, x, 4, NULL, NULL, 1e-5f)); /* 6 channels, 4 groups */
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    lt_graph_reset(&G);
}

static void dropout_modes(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_tensor *x = rnd(2, (int64_t[]){100, 100});
    x->requires_grad = 1;
    G.training = 0;
    assert_ptr_equal(lt_dropout(&G, x, 0.5f), x); /* evaluation: identity, nothing recorded */
    assert_int_equal(G.n_nodes, 0);
    G.training = 1;
    assert_null(lt_dropout(&G, x, 0.5f)); /* training without an rng */
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
    lt_graph_reset(&G);
    x = rnd(2, (int64_t[]){100, 100});
    lt_rng r1, r2;
    lt_rng_seed(&r1, 9);
    r2 = r1;
    G.rng = &r1;
    lt_tensor *y = lt_dropout(&G, x, 0.25f);
    G.rng = &r2;
    lt_tensor *y2 = lt_dropout(&G, x, 0.25f);
    assert_non_null(y);
    assert_non_null(y2);
    int64_t kept = 0;
    for (int64_t i = 0; i < 10000; i++) {
        assert_true(y->data[i] == y2->data[i]); /* same stream, same mask */
        if (y->data[i] != 0.0f) {
            kept++;
            assert_float_equal(y->data[i], x->data[i] / 0.75f, 1e-6);
        }
    }
    assert_true(kept > 7300 && kept < 7700); /* 7500 ± 4.6σ */
    G.training = 0;
    G.rng = NULL;
    lt_graph_reset(&G);
}

/* ---- attention ---- */

static void causal_softmax_masks_and_normalizes(void **state) {
    (void)state;
    lt_graph_reset(&G);
    const int64_t T = 6;
    lt_tensor *s = rnd(3, (int64_t[]){3, T, T});
    for (int64_t i = 0; i < lt_numel(s); i++) s->data[i] *= 4;
    lt_tensor *y = lt_causal_softmax(&G, s);
    assert_non_null(y);
    for (int64_t b = 0; b < 3; b++)
        for (int64_t i = 0; i < T; i++) {
            const float *row = y->data + (b * T + i) * T, *sr = s->data + (b * T + i) * T;
            double sum = 0, z = 0;
            for (int64_t j = 0; j <= i; j++) z += exp(sr[j]);
            for (int64_t j = 0; j < T; j++) {
                sum += row[j];
                if (j > i) assert_true(row[j] == 0.0f);
                else assert_float_equal(row[j], exp(sr[j]) / z, 1e-6);
            }
            assert_float_equal(sum, 1.0, 1e-5);
        }
}

/* ---- special ---- */

static void argmin_dist_matches_brute_force(void **state) {
    (void)state;
    lt_graph_reset(&G);
    const int64_t N = 200, K = 37, D = 11;
    lt_tensor *x = rnd(2, (int64_t[]){N, D}), *c = rnd(2, (int64_t[]){K, D});
    lt_tensor *idx = lt_argmin_dist(&G, x, c);
    assert_non_null(idx);
    assert_int_equal(idx->dtype, LT_I64);
    assert_int_equal(G.n_nodes, 0);
    for (int64_t n = 0; n < N; n++) {
        double best = INFINITY, chosen = 0;
        for (int64_t k = 0; k < K; k++) {
            double d = 0;
            for (int64_t j = 0; j < D; j++) d += pow((double)x->data[n * D + j] - c->data[k * D + j], 2);
            if (d < best) best = d;
            if (k == idx->idata[n]) chosen = d;
        }
        assert_true(chosen - best < 1e-5); /* equal up to float rounding of near-ties */
    }
    /* points that are codebook entries find themselves */
    lt_tensor *same = lt_argmin_dist(&G, c, c);
    for (int64_t k = 0; k < K; k++) assert_int_equal(same->idata[k], k);
}

static void stop_gradient_and_straight_through(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_tensor *a = rnd(2, (int64_t[]){3, 4}), *b = rnd(2, (int64_t[]){3, 4});
    a->requires_grad = b->requires_grad = 1;
    lt_tensor *sa = lt_stop_gradient(&G, a);
    assert_non_null(sa);
    assert_false(sa->requires_grad);
    assert_ptr_equal(sa->data, a->data);
    lt_tensor *st = lt_straight_through(&G, a, b);
    assert_non_null(st);
    for (int i = 0; i < 12; i++) assert_true(st->data[i] == a->data[i]);
    assert_int_equal(lt_backward(&G, lt_sum(&G, lt_mul_scalar(&G, st, 2.0f), LT_AXIS_ALL, 0)), LT_OK);
    assert_null(a->grad); /* a gets nothing, b gets the output gradient unchanged */
    assert_non_null(b->grad);
    for (int i = 0; i < 12; i++) assert_float_equal(b->grad[i], 2.0f, 0);
}

/* ---- shape ---- */

static void reshape_is_a_view(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_tensor *a = rnd(3, (int64_t[]){2, 3, 4});
    lt_tensor *r = lt_reshape(&G, a, 2, (int64_t[]){-1, 6});
    assert_non_null(r);
    assert_ptr_equal(r->data, a->data);
    assert_int_equal(r->shape[0], 4);
    assert_int_equal(r->shape[1], 6);
    assert_null(lt_reshape(&G, a, 2, (int64_t[]){5, -1}));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    lt_graph_reset(&G);
}

static void permute_slice_concat_values(void **state) {
    (void)state;
    lt_graph_reset(&G);
    const int64_t A = 2, B = 3, C = 4, D = 5;
    lt_tensor *x = rnd(4, (int64_t[]){A, B, C, D});
    lt_tensor *p = lt_permute(&G, x, (int[]){3, 1, 0, 2}); /* (D,B,A,C) */
    assert_non_null(p);
    assert_int_equal(p->shape[0], D);
    assert_int_equal(p->shape[3], C);
    for (int64_t a = 0; a < A; a++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t d = 0; d < D; d++)
                    assert_true(p->data[((d * B + b) * A + a) * C + c] == x->data[((a * B + b) * C + c) * D + d]);
    lt_tensor *t = lt_transpose(&G, x, 1, -1); /* (A,D,C,B) */
    assert_non_null(t);
    for (int64_t a = 0; a < A; a++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t d = 0; d < D; d++)
                    assert_true(t->data[((a * D + d) * C + c) * B + b] == x->data[((a * B + b) * C + c) * D + d]);
    lt_tensor *s = lt_slice(&G, x, 2, 1, 2); /* (A,B,2,D) */
    assert_non_null(s);
    for (int64_t a = 0; a < A; a++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t c = 0; c < 2; c++)
                for (int64_t d = 0; d < D; d++)
                    assert_true(s->data[((a * B + b) * 2 + c) * D + d] == x->data[((a * B + b) * C + c + 1) * D + d]);
    /* concat of the three slices along axis 2 gives x back */
    lt_tensor *parts[3] = {lt_slice(&G, x, 2, 0, 1), s, lt_slice(&G, x, 2, 3, 1)};
    lt_tensor *cat = lt_concat(&G, 3, parts, 2);
    assert_non_null(cat);
    assert_true(lt_tensor_same_shape(cat, x));
    assert_memory_equal(cat->data, x->data, sizeof(float) * (size_t)lt_numel(x));
    assert_null(lt_slice(&G, x, 2, 3, 2));
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
    lt_graph_reset(&G);
}

static void embedding_values_and_range(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_tensor *table = rnd(2, (int64_t[]){10, 3});
    int64_t id[6] = {3, 0, 9, 3, 7, 1};
    lt_tensor *idx = lt_graph_wrap_i64(&G, id, 2, (int64_t[]){2, 3});
    lt_tensor *e = lt_embedding(&G, table, idx);
    assert_non_null(e);
    assert_int_equal(e->ndim, 3);
    assert_int_equal(e->shape[2], 3);
    for (int i = 0; i < 6; i++) assert_memory_equal(e->data + 3 * i, table->data + 3 * id[i], 3 * sizeof(float));
    id[4] = 10;
    assert_null(lt_embedding(&G, table, idx));
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "index 10 at position 4"));
    lt_graph_reset(&G);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv2d_matches_direct_convolution),
        cmocka_unit_test(conv_transpose2d_matches_scatter_definition_and_is_the_adjoint),
        cmocka_unit_test(conv_shape_errors),
        cmocka_unit_test(upsample_and_avg_pool_values),
        cmocka_unit_test(group_and_layer_norm_standardize),
        cmocka_unit_test(dropout_modes),
        cmocka_unit_test(causal_softmax_masks_and_normalizes),
        cmocka_unit_test(argmin_dist_matches_brute_force),
        cmocka_unit_test(stop_gradient_and_straight_through),
        cmocka_unit_test(reshape_is_a_view),
        cmocka_unit_test(permute_slice_concat_values),
        cmocka_unit_test(embedding_values_and_range),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
