/* Forward values of the binary, unary, reduction and loss ops against
 * hand-computed numbers and naive double-precision references; the large
 * cases also take the blocked and multi-threaded paths and check their
 * gradients against naive reductions. Gradient checks alone would not catch
 * a forward that is consistently wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "ops/fastmath.h"
#include "ops/ops.h"

#include "graph_fixture.h"

/* A graph tensor with the given values (requires_grad as asked). */
static lt_tensor *mk(int nd, const int64_t *shape, const float *v, int grad) {
    lt_tensor *t = lt_graph_new(&G, LT_F32, nd, shape);
    assert_non_null(t);
    if (v) memcpy(t->data, v, sizeof(float) * lt_numel(t));
    t->requires_grad = grad;
    return t;
}

static lt_tensor *mk_rand(lt_rng *r, int nd, const int64_t *shape, float lo, float hi, int grad) {
    lt_tensor *t = mk(nd, shape, NULL, grad);
    lt_rng_fill_uniform(r, t->data, lt_numel(t), lo, hi);
    return t;
}

static void assert_shape(const lt_tensor *t, int nd, const int64_t *shape) {
    assert_non_null(t);
    assert_int_equal(t->ndim, nd);
    for (int d = 0; d < nd; d++) assert_int_equal(t->shape[d], shape[d]);
}

static void assert_close(double got, double want, double tol) {
    if (!(fabs(got - want) <= tol * (1.0 + fabs(want)))) {
        fprintf(stderr, "got %.9g want %.9g\n", got, want);
        fail();
    }
}

/* ---- binary ---- */

static void broadcast_values(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_tensor *col = mk(2, (int64_t[]){2, 1}, (float[]){1, 2}, 0);
    lt_tensor *row = mk(1, (int64_t[]){3}, (float[]){10, 20, 30}, 0);
    lt_tensor *s = lt_add(&G, col, row);
    assert_shape(s, 2, (int64_t[]){2, 3});
    const float want_add[6] = {11, 21, 31, 12, 22, 32};
    for (int i = 0; i < 6; i++) assert_close(s->data[i], want_add[i], 0);
    lt_tensor *d = lt_sub(&G, col, row);
    const float want_sub[6] = {-9, -19, -29, -8, -18, -28};
    for (int i = 0; i < 6; i++) assert_close(d->data[i], want_sub[i], 0);
    lt_tensor *q = lt_div(&G, row, col);
    const float want_div[6] = {10, 20, 30, 5, 10, 15};
    for (int i = 0; i < 6; i++) assert_close(q->data[i], want_div[i], 1e-7);
    lt_tensor *sc = lt_mul(&G, lt_graph_scalar(&G, 3.0f), row);
    assert_shape(sc, 1, (int64_t[]){3});
    assert_close(sc->data[2], 90, 0);
    /* (3,1,5) * (4,5) against explicit indexing */
    lt_rng r;
    lt_rng_seed(&r, 1);
    lt_tensor *a = mk_rand(&r, 3, (int64_t[]){3, 1, 5}, -1, 1, 0), *b = mk_rand(&r, 2, (int64_t[]){4, 5}, -1, 1, 0);
    lt_tensor *m = lt_mul(&G, a, b);
    assert_shape(m, 3, (int64_t[]){3, 4, 5});
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 5; k++) assert_close(m->data[(i * 4 + j) * 5 + k], a->data[i * 5 + k] * b->data[j * 5 + k], 0);
    /* shapes that do not broadcast fail with a shape error naming both */
    lt_tensor *bad = lt_add(&G, mk(1, (int64_t[]){4}, NULL, 0), row);
    assert_null(bad);
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    assert_non_null(strstr(lt_error_message(), "(4) and (3)"));
    assert_null(lt_mul(&G, row, row)); /* sticky: later ops return NULL */
    lt_graph_reset(&G);
    assert_null(lt_add(&G, NULL, row = mk(1, (int64_t[]){3}, NULL, 0)));
    assert_int_equal(lt_graph_status(&G), LT_OK);
}

/* Large shapes take the blocked, threaded and strided paths: forward and both
 * gradients against naive loops, for every op. */
static void broadcast_large_matches_naive(void **state) {
    (void)state;
    struct { int na; int64_t sa[3]; int nb; int64_t sb[3]; } cs[] = {
        {2, {300, 257}, 1, {257}},          /* row broadcast, threaded */
        {1, {40001}, 0, {0}},               /* flat with a 0-dim scalar, ragged last block */
        {3, {2, 200, 100}, 2, {200, 1}},    /* column broadcast */
        {2, {250, 131}, 2, {250, 131}},     /* equal shapes, threaded */
        {3, {7, 1, 300}, 2, {50, 1}},       /* both sides broadcast */
    };
    lt_rng r;
    lt_rng_seed(&r, 2);
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++)
        for (lt_op op = LT_OP_ADD; op <= LT_OP_DIV; op++) {
            lt_graph_reset(&G);
            lt_tensor *a = mk_rand(&r, cs[c].na, cs[c].sa, 0.5f, 1.5f, 1), *b = mk_rand(&r, cs[c].nb, cs[c].sb, 0.5f, 1.5f, 1);
            lt_tensor *y = op == LT_OP_ADD ? lt_add(&G, a, b) : op == LT_OP_SUB ? lt_sub(&G, a, b)
                         : op == LT_OP_MUL ? lt_mul(&G, a, b) : lt_div(&G, a, b);
            assert_non_null(y);
            int64_t n = lt_numel(y), na = lt_numel(a), nb = lt_numel(b);
            float *seed = lt_graph_alloc(&G, sizeof(float) * n);
            lt_rng_fill_uniform(&r, seed, n, -1, 1);
            assert_int_equal(lt_backward_from(&G, y, seed), LT_OK);
            double *ga = lt_calloc(na, sizeof(double)), *gb = lt_calloc(nb, sizeof(double));
            /* naive: walk y's index, map to a and b by right-aligned broadcasting */
            int nd = y->ndim;
            for (int64_t i = 0; i < n; i++) {
                int64_t rem = i, ia = 0, ib = 0, sta = 1, stb = 1;
                for (int d = nd - 1; d >= 0; d--) {
                    int64_t idx = rem % y->shape[d];
                    rem /= y->shape[d];
                    int da = d - (nd - a->ndim), db = d - (nd - b->ndim);
                    if (da >= 0) { ia += (a->shape[da] == 1 ? 0 : idx) * sta; sta *= a->shape[da]; }
                    if (db >= 0) { ib += (b->shape[db] == 1 ? 0 : idx) * stb; stb *= b->shape[db]; }
                }
                double x = a->data[ia], z = b->data[ib], want, dx, dz;
                switch (op) {
                case LT_OP_ADD: want = x + z; dx = 1; dz = 1; break;
                case LT_OP_SUB: want = x - z; dx = 1; dz = -1; break;
                case LT_OP_MUL: want = x * z; dx = z; dz = x; break;
                default: want = x / z; dx = 1 / z; dz = -x / (z * z); break;
                }
                assert_close(y->data[i], want, 1e-6);
                ga[ia] += seed[i] * dx;
                gb[ib] += seed[i] * dz;
            }
            for (int64_t i = 0; i < na; i++) assert_close(a->grad[i], ga[i], 1e-4);
            for (int64_t i = 0; i < nb; i++) assert_close(b->grad[i], gb[i], 1e-4);
            lt_free(ga);
            lt_free(gb);
        }
}

/* ---- unary ---- */

static void unary_values(void **state) {
    (void)state;
    lt_graph_reset(&G);
    const float xs[7] = {-3.0f, -1.0f, -0.25f, 0.0f, 0.5f, 2.0f, 10.0f};
    lt_tensor *x = mk(1, (int64_t[]){7}, xs, 0);
    lt_tensor *sig = lt_sigmoid(&G, x), *sp = lt_softplus(&G, x), *ge = lt_gelu(&G, x), *th = lt_tanh(&G, x);
    lt_tensor *re = lt_relu(&G, x), *lr = lt_leaky_relu(&G, x, 0.2f), *cl = lt_clamp(&G, x, -1.5f, 1.0f);
    lt_tensor *ab = lt_abs(&G, x), *ex = lt_exp(&G, x), *as = lt_add_scalar(&G, x, 2), *ms = lt_mul_scalar(&G, x, -3);
    lt_tensor *ng = lt_neg(&G, x), *p3 = lt_pow(&G, x, 3);
    for (int i = 0; i < 7; i++) {
        double v = xs[i];
        assert_close(sig->data[i], 1 / (1 + exp(-v)), 1e-6);
        assert_close(sp->data[i], log1p(exp(v)), 1e-6);
        assert_close(ge->data[i], 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))), 1e-6);
        assert_close(th->data[i], tanh(v), 1e-6);
        assert_close(re->data[i], v > 0 ? v : 0, 0);
        assert_close(lr->data[i], v > 0 ? v : 0.2 * v, 1e-7);
        assert_close(cl->data[i], v < -1.5 ? -1.5 : v > 1 ? 1 : v, 0);
        assert_close(ab->data[i], fabs(v), 0);
        assert_close(ex->data[i], exp(v), 2e-7);
        assert_close(as->data[i], v + 2, 1e-7);
        assert_close(ms->data[i], -3 * v, 1e-7);
        assert_close(ng->data[i], -v, 0);
        assert_close(p3->data[i], v * v * v, 1e-6);
    }
    assert_close(ge->data[4], 0.3457140028, 1e-6); /* PyTorch gelu(0.5, approximate='tanh') */
    const float ps[4] = {0.01f, 0.5f, 2.0f, 100.0f};
    lt_tensor *p = mk(1, (int64_t[]){4}, ps, 0);
    lt_tensor *lg = lt_log(&G, p), *l1 = lt_log1p(&G, p), *sq = lt_sqrt(&G, p), *pf = lt_pow(&G, p, -0.5f);
    for (int i = 0; i < 4; i++) {
        assert_close(lg->data[i], log(ps[i]), 1e-6);
        assert_close(l1->data[i], log1p(ps[i]), 1e-6);
        assert_close(sq->data[i], sqrt(ps[i]), 1e-6);
        assert_close(pf->data[i], 1 / sqrt(ps[i]), 1e-6);
    }
    /* extremes: no NaN, no overflow where the true value is finite */
    const float big[5] = {-200.0f, -90.0f, 89.0f, 200.0f, NAN};
    lt_tensor *bx = mk(1, (int64_t[]){5}, big, 0);
    lt_tensor *bs = lt_sigmoid(&G, bx), *bp = lt_softplus(&G, bx), *be = lt_exp(&G, bx);
    assert_close(bs->data[0], 0, 0);
    assert_close(bs->data[3], 1, 0);
    assert_close(bp->data[0], 0, 1e-30);
    assert_close(bp->data[3], 200, 1e-7);
    assert_close(be->data[0], 0, 1e-30);
    assert_true(isinf(be->data[2]) && isinf(be->data[3]));
    assert_true(isnan(be->data[4]) && isnan(bs->data[4]) && isnan(bp->data[4]));
    assert_null(lt_clamp(&G, x, 1.0f, -1.0f));
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
}

/* The vectorizable exp and log1p against libm over their working ranges. */
static void fastmath_accuracy(void **state) {
    (void)state;
    double worst_exp = 0, worst_log1p = 0;
    for (int i = 0; i <= 200000; i++) {
        float x = -87.0f + 175.5f * (float)i / 200000.0f;
        double e = exp((double)x), rel = fabs(lti_expf(x) - e) / e;
        if (rel > worst_exp) worst_exp = rel;
        float u = -0.999f + 1000.0f * powf((float)i / 200000.0f, 4.0f);
        double l = log1p((double)u), err = fabs(lti_log1pf(u) - l) / fmax(fabs(l), 1e-30);
        if (err > worst_log1p) worst_log1p = err;
    }
    assert_true(worst_exp < 4e-7);   /* about 3 ulp */
    assert_true(worst_log1p < 4e-7);
    assert_close(lti_log1pf(1e-10f), 1e-10, 1e-6); /* small arguments keep their relative accuracy */
    assert_true(isinf(lti_log1pf(-1.0f)) && lti_log1pf(-1.0f) < 0);
    assert_true(isnan(lti_log1pf(-2.0f)));
}

/* ---- reductions ---- */

static void sum_mean_axes_keepdim(void **state) {
    (void)state;
    lt_graph_reset(&G);
    float v[24];
    for (int i = 0; i < 24; i++) v[i] = (float)i; /* (2,3,4): v[i,j,k] = 12i + 4j + k */
    lt_tensor *a = mk(3, (int64_t[]){2, 3, 4}, v, 0);
    lt_tensor *s1 = lt_sum(&G, a, 1, 0);
    assert_shape(s1, 2, (int64_t[]){2, 4});
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++) assert_close(s1->data[i * 4 + k], 36 * i + 12 + 3 * k, 0);
    lt_tensor *s1k = lt_sum(&G, a, -2, 1);
    assert_shape(s1k, 3, (int64_t[]){2, 1, 4});
    assert_close(s1k->data[7], 36 + 12 + 9, 0);
    lt_tensor *m0 = lt_mean(&G, a, 0, 1);
    assert_shape(m0, 3, (int64_t[]){1, 3, 4});
    for (int j = 0; j < 12; j++) assert_close(m0->data[j], j + 6, 1e-7);
    lt_tensor *m2 = lt_mean(&G, a, -1, 0);
    assert_shape(m2, 2, (int64_t[]){2, 3});
    for (int j = 0; j < 6; j++) assert_close(m2->data[j], 4 * j + 1.5, 1e-7);
    lt_tensor *all = lt_sum(&G, a, LT_AXIS_ALL, 0);
    assert_int_equal(all->ndim, 0);
    assert_close(all->data[0], 276, 0);
    lt_tensor *allk = lt_mean(&G, a, LT_AXIS_ALL, 1);
    assert_shape(allk, 3, (int64_t[]){1, 1, 1});
    assert_close(allk->data[0], 11.5, 1e-7);
    lt_tensor *mx = lt_max(&G, a, 1, 0);
    assert_shape(mx, 2, (int64_t[]){2, 4});
    assert_close(mx->data[5], 12 + 8 + 1, 0);
    assert_null(lt_sum(&G, a, 3, 0));
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "axis 3"));
}

static void max_grad_goes_to_first_tie(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_tensor *a = mk(2, (int64_t[]){2, 4}, (float[]){3, 5, 5, 1, -2, -1, -7, -1}, 1);
    a->grad = lt_graph_alloc(&G, sizeof(float) * 8);
    memset(a->grad, 0, sizeof(float) * 8);
    lt_tensor *m = lt_max(&G, a, -1, 0);
    assert_close(m->data[0], 5, 0);
    assert_close(m->data[1], -1, 0);
    assert_int_equal(lt_backward_from(&G, m, NULL), LT_OK);
    const float want[8] = {0, 1, 0, 0, 0, 1, 0, 0};
    for (int i = 0; i < 8; i++) assert_close(a->grad[i], want[i], 0);
}

static void softmax_and_logsumexp(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_rng r;
    lt_rng_seed(&r, 3);
    lt_tensor *a = mk_rand(&r, 3, (int64_t[]){3, 5, 7}, -5, 5, 0);
    for (int axis = -3; axis < 3; axis++) {
        lt_tensor *s = lt_softmax(&G, a, axis), *ls = lt_log_softmax(&G, a, axis);
        lt_tensor *tot = lt_sum(&G, s, axis, 0);
        for (int64_t i = 0; i < lt_numel(tot); i++) assert_close(tot->data[i], 1, 1e-6);
        for (int64_t i = 0; i < lt_numel(s); i++) {
            assert_true(s->data[i] > 0);
            assert_close(ls->data[i], log(s->data[i]), 1e-5);
        }
    }
    /* softmax of (1,2,3) along the row */
    lt_tensor *t = mk(2, (int64_t[]){1, 3}, (float[]){1, 2, 3}, 0);
    lt_tensor *st = lt_softmax(&G, t, 1);
    double z = exp(1) + exp(2) + exp(3);
    for (int i = 0; i < 3; i++) assert_close(st->data[i], exp(i + 1) / z, 1e-6);
    /* stable for huge magnitudes */
    lt_tensor *h = mk(2, (int64_t[]){2, 3}, (float[]){1000, 1000, 999, -1000, -1000, -1001}, 0);
    lt_tensor *lse = lt_logsumexp(&G, h, 1, 1);
    assert_shape(lse, 2, (int64_t[]){2, 1});
    double tail = log(2 + exp(-1));
    assert_close(lse->data[0], 1000 + tail, 1e-7);
    assert_close(lse->data[1], -1000 + tail, 1e-7);
    lt_tensor *sh = lt_softmax(&G, h, -1);
    assert_close(sh->data[0], 1 / (2 + exp(-1)), 1e-6);
    assert_close(sh->data[5], exp(-1) / (2 + exp(-1)), 1e-6);
    lt_tensor *l0 = lt_logsumexp(&G, h, 0, 0);
    assert_close(l0->data[0], 1000, 1e-7);
    lt_tensor *la = lt_logsumexp(&G, h, LT_AXIS_ALL, 0);
    assert_int_equal(la->ndim, 0);
    assert_close(la->data[0], 1000 + tail, 1e-7);
}

/* ---- losses ---- */

static void bce_matches_naive_formula(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_rng r;
    lt_rng_seed(&r, 4);
    int64_t N = 37, D = 29;
    lt_tensor *x = mk_rand(&r, 2, (int64_t[]){N, D}, -8, 8, 0), *t = mk_rand(&r, 2, (int64_t[]){N, D}, 0, 1, 0);
    for (int64_t i = 0; i < N * D; i += 3) t->data[i] = t->data[i] < 0.5f ? 0.0f : 1.0f;
    lt_tensor *y = lt_bce_with_logits(&G, x, t);
    assert_shape(y, 1, &N);
    for (int64_t i = 0; i < N; i++) {
        double s = 0;
        for (int64_t j = 0; j < D; j++) {
            double p = 1 / (1 + exp(-(double)x->data[i * D + j])), tv = t->data[i * D + j];
            s -= tv * log(p) + (1 - tv) * log(1 - p);
        }
        assert_close(y->data[i], s, 2e-6);
    }
    /* far from the boundary the naive formula overflows; the op does not */
    lt_tensor *xe = mk(2, (int64_t[]){2, 2}, (float[]){100, -100, 100, -100}, 0);
    lt_tensor *te = mk(2, (int64_t[]){2, 2}, (float[]){0, 1, 1, 0}, 0);
    lt_tensor *ye = lt_bce_with_logits(&G, xe, te);
    assert_close(ye->data[0], 200, 1e-7);
    assert_close(ye->data[1], 0, 1e-30);
    assert_null(lt_bce_with_logits(&G, x, mk(2, (int64_t[]){N, D + 1}, NULL, 0)));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
}

/* The big BCE takes the threaded path; its gradient is sigmoid(x) - t per element. */
static void bce_large_gradient(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_rng r;
    lt_rng_seed(&r, 5);
    int64_t N = 100, D = 784;
    lt_tensor *x = mk_rand(&r, 2, (int64_t[]){N, D}, -6, 6, 1), *t = mk_rand(&r, 2, (int64_t[]){N, D}, 0, 1, 0);
    lt_tensor *y = lt_bce_with_logits(&G, x, t);
    float seed[100];
    lt_rng_fill_uniform(&r, seed, N, -1, 1);
    assert_int_equal(lt_backward_from(&G, y, seed), LT_OK);
    for (int64_t i = 0; i < N * D; i++)
        assert_close(x->grad[i], seed[i / D] * (1 / (1 + exp(-(double)x->data[i])) - t->data[i]), 1e-6);
}

static void cross_entropy_values_and_labels(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_tensor *x = mk(2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 1000, 0, -1000}, 0);
    int64_t lab[2] = {2, 1};
    lt_tensor *l = lt_graph_wrap_i64(&G, lab, 1, (int64_t[]){2});
    lt_tensor *y = lt_cross_entropy(&G, x, l);
    assert_shape(y, 1, (int64_t[]){2});
    assert_close(y->data[0], log(exp(1) + exp(2) + exp(3)) - 3, 1e-6);
    assert_close(y->data[1], 1000, 1e-6);
    int64_t bad[2] = {0, 3};
    lt_tensor *lb = lt_graph_wrap_i64(&G, bad, 1, (int64_t[]){2});
    assert_null(lt_cross_entropy(&G, x, lb));
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "label 3 at row 1"));
}

static void kl_values(void **state) {
    (void)state;
    lt_graph_reset(&G);
    lt_tensor *mu = mk(2, (int64_t[]){2, 2}, (float[]){1, 0, 0, -2}, 0);
    lt_tensor *lv = mk(2, (int64_t[]){2, 2}, (float[]){0, (float)log(2.0), 0, -1}, 0);
    lt_tensor *k = lt_kl_std_normal(&G, mu, lv);
    assert_shape(k, 1, (int64_t[]){2});
    assert_close(k->data[0], 0.5 * (1 + (2 - 1 - log(2.0))), 1e-6);
    assert_close(k->data[1], 0.5 * (4 + exp(-1) - 1 + 1), 1e-6);
    /* against the standard normal, the general KL equals the special one */
    lt_tensor *z = mk(2, (int64_t[]){2, 2}, (float[]){0, 0, 0, 0}, 0);
    lt_tensor *kn = lt_kl_normal(&G, mu, lv, z, z);
    for (int i = 0; i < 2; i++) assert_close(kn->data[i], k->data[i], 1e-6);
    /* 1-D closed form: log(s2/s1) + (s1² + (m1-m2)²)/(2 s2²) - 1/2 */
    lt_tensor *m1 = mk(2, (int64_t[]){1, 1}, (float[]){0.3f}, 0), *m2 = mk(2, (int64_t[]){1, 1}, (float[]){-0.4f}, 0);
    double s1 = 0.7, s2 = 1.9;
    lt_tensor *l1 = mk(2, (int64_t[]){1, 1}, (float[]){(float)log(s1 * s1)}, 0);
    lt_tensor *l2 = mk(2, (int64_t[]){1, 1}, (float[]){(float)log(s2 * s2)}, 0);
    lt_tensor *k1 = lt_kl_normal(&G, m1, l1, m2, l2);
    assert_close(k1->data[0], log(s2 / s1) + (s1 * s1 + 0.7 * 0.7) / (2 * s2 * s2) - 0.5, 1e-6);
    lt_tensor *self = lt_kl_normal(&G, mu, lv, mu, lv);
    assert_close(self->data[0], 0, 1e-7);
    assert_null(lt_kl_std_normal(&G, mu, m1));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
}

/* ---- staircase ---- */

/* lt_staircase_linear against lt_masked_linear with the same mask written out densely:
 * output and every gradient, for several blocks (700 rows), permuted rows and columns,
 * sorted lengths (MADE's case) and unsorted ones (still exact, only slower), columns in
 * order (a raster ordering's inputs). lt_staircase_linear_packed (blocks packed once) must
 * give the staircase's output, weight and bias gradients to the bit (dx adds the threads'
 * partial sums in whatever order they finish: within the tolerance only, as the staircase's). */
static void staircase_matches_masked_linear(void **state) {
    (void)state;
    enum { N = 64, O = 700, I = 300 }; /* N·(about O·I/2) > LTI_STAIR_PAR_MACS: the blocks run in parallel */
    static int64_t rows[O], cols[I], len[O];
    static float mask[O * I], seed[N * O], y_ref[N * O], g_ref[N * I + O * I + O], xv[N * I], wv[O * I], bv[O];
    static float y_st[N * O], g_st[N * I + O * I + O]; /* the staircase's, for the packed pass */
    lt_rng r;
    lt_rng_seed(&r, 5);
    for (int sorted = 0; sorted < 3; sorted++) { /* 2: sorted, columns in order (the copy path) */
        lt_rng_permutation(&r, rows, O);
        lt_rng_permutation(&r, cols, I);
        for (int64_t j = 0; j < I && sorted == 2; j++) cols[j] = j;
        for (int64_t i = 0; i < O; i++) len[i] = sorted ? i * (I + 1) / O : (int64_t)lt_rng_below(&r, I + 1);
        len[O / 2] = 0; /* a row that sees nothing */
        if (sorted) len[O / 2] = len[O / 2 - 1] = 0;
        for (int64_t i = 0; i < O; i++)
            for (int64_t j = 0; j < I; j++) mask[rows[i] * I + cols[j]] = j < len[i] ? 1.0f : 0.0f;
        lt_staircase s = {O, I, rows, cols, len};
        lt_rng_fill_uniform(&r, seed, N * O, -1, 1);
        lt_rng_fill_uniform(&r, xv, N * I, -1, 1);
        lt_rng_fill_uniform(&r, wv, O * I, -1, 1);
        lt_rng_fill_uniform(&r, bv, O, -1, 1);
        lt_tensor mt = lt_tensor_wrap(mask, 2, (int64_t[]){O, I});
        for (int pass = 0; pass < 3; pass++) { /* 0: dense reference, 1: staircase, 2: packed staircase */
            lt_graph_reset(&G);
            lt_tensor *x = mk(2, (int64_t[]){N, I}, xv, 1), *w = mk(2, (int64_t[]){O, I}, wv, 1);
            lt_tensor *b = mk(1, (int64_t[]){O}, bv, 1);
            lt_staircase_pack *pk = NULL;
            if (pass == 2) assert_int_equal(lt_staircase_pack_new(w, &s, &pk), LT_OK);
            lt_tensor *y = pass == 2 ? lt_staircase_linear_packed(&G, x, w, pk, b)
                         : pass      ? lt_staircase_linear(&G, x, w, &s, b)
                                     : lt_masked_linear(&G, x, w, &mt, b);
            assert_non_null(y);
            assert_int_equal(lt_backward_from(&G, y, seed), LT_OK);
            lt_staircase_pack_free(pk); /* its blocks served the backward too */
            const float *got[3] = {x->grad, w->grad, b->grad};
            int64_t n[3] = {N * I, O * I, O}, off = 0;
            for (int k = 0; k < 3; k++, off += n[k - 1])
                for (int64_t i = 0; i < n[k]; i++) {
                    if (pass) assert_close(got[k][i], g_ref[off + i], 1e-5);
                    else g_ref[off + i] = got[k][i];
                    if (pass == 1) g_st[off + i] = got[k][i];
                    if (pass == 2 && k > 0) assert_true(got[k][i] == g_st[off + i]); /* dx: summed over threads */
                }
            for (int64_t i = 0; i < N * O; i++) {
                if (pass) assert_close(y->data[i], y_ref[i], 1e-5);
                else y_ref[i] = y->data[i];
                if (pass == 1) y_st[i] = y->data[i];
                if (pass == 2) assert_true(y->data[i] == y_st[i]);
            }
        }
    }
    /* not a permutation: a clear error, no output */
    lt_graph_reset(&G);
    lt_tensor *x = mk_rand(&r, 2, (int64_t[]){2, 3}, -1, 1, 0), *w = mk_rand(&r, 2, (int64_t[]){2, 3}, -1, 1, 0);
    int64_t rr[2] = {0, 0}, cc[3] = {2, 1, 0}, ll[2] = {1, 2};
    lt_staircase bad = {2, 3, rr, cc, ll};
    assert_null(lt_staircase_linear(&G, x, w, &bad, NULL));
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
    lt_staircase_pack *pk;
    assert_int_equal(lt_staircase_pack_new(w, &bad, &pk), LT_ERR_ARG); /* the same check when packing */
    assert_null(pk);
    /* a pack used with another weight tensor: refused */
    rr[1] = 1;
    assert_int_equal(lt_staircase_pack_new(w, &bad, &pk), LT_OK);
    lt_graph_reset(&G);
    lt_tensor *w2 = mk_rand(&r, 2, (int64_t[]){2, 3}, -1, 1, 0);
    x = mk_rand(&r, 2, (int64_t[]){2, 3}, -1, 1, 0);
    assert_null(lt_staircase_linear_packed(&G, x, w2, pk, NULL));
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
    lt_staircase_pack_free(pk);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(broadcast_values),
        cmocka_unit_test(broadcast_large_matches_naive),
        cmocka_unit_test(unary_values),
        cmocka_unit_test(fastmath_accuracy),
        cmocka_unit_test(sum_mean_axes_keepdim),
        cmocka_unit_test(max_grad_goes_to_first_tie),
        cmocka_unit_test(softmax_and_logsumexp),
        cmocka_unit_test(bce_matches_naive_formula),
        cmocka_unit_test(bce_large_gradient),
        cmocka_unit_test(cross_entropy_values_and_labels),
        cmocka_unit_test(kl_values),
        cmocka_unit_test(staircase_matches_masked_linear),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
