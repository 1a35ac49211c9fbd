#include "autograd/gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "autograd/backward.h"
#include "core/alloc.h"

static double lti_weighted_sum(const lt_tensor *y, const float *r) {
    double s = 0;
    int64_t n = lt_numel(y);
    for (int64_t i = 0; i < n; i++) s += (double)r[i] * y->data[i];
    return s;
}

lt_status lt_gradcheck(lt_gc_build build, const void *arg, int nin, lt_tensor *const *in,
                       const lt_gc_opts *opts, lt_rng *rng, lt_gc_result *res) {
    lt_gc_opts o = opts ? *opts : (lt_gc_opts){5e-3, 2e-3, 2e-2};
    memset(res, 0, sizeof *res);
    lt_graph g;
    lt_status st = lt_graph_init(&g, 0);
    if (st) return st;
    float *r = NULL;
    float **ana = lt_calloc(nin, sizeof(float *));
    if (!ana) { st = lt_fail(LT_ERR_NOMEM, "gradcheck: out of memory"); goto done; }
    for (int i = 0; i < nin; i++)
        if (in[i]->requires_grad && in[i]->dtype == LT_F32) memset(in[i]->grad, 0, sizeof(float) * lt_numel(in[i]));

    lt_tensor *y = build(&g, in, arg);
    if (!y || g.status) { st = g.status ? g.status : LT_ERR_INTERNAL; goto done; }
    int64_t ny = lt_numel(y);
    r = lt_malloc(sizeof(float) * (ny ? ny : 1));
    if (!r) { st = lt_fail(LT_ERR_NOMEM, "gradcheck: out of memory"); goto done; }
    lt_rng_fill_uniform(rng, r, ny, -1.0f, 1.0f);
    if ((st = lt_backward_from(&g, y, r))) goto done;
    for (int i = 0; i < nin; i++) {
        if (!in[i]->requires_grad || in[i]->dtype != LT_F32) continue;
        int64_t n = lt_numel(in[i]);
        ana[i] = lt_malloc(sizeof(float) * (n ? n : 1));
        if (!ana[i]) { st = lt_fail(LT_ERR_NOMEM, "gradcheck: out of memory"); goto done; }
        memcpy(ana[i], in[i]->grad, sizeof(float) * n);
    }

    lt_graph_set_grad(&g, 0);
    for (int i = 0; i < nin; i++) {
        if (!ana[i]) continue;
        int64_t n = lt_numel(in[i]);
        for (int64_t j = 0; j < n; j++) {
            float x0 = in[i]->data[j];
            float xp = (float)(x0 + o.eps), xm = (float)(x0 - o.eps);
            lt_graph_reset(&g);
            in[i]->data[j] = xp;
            lt_tensor *yp = build(&g, in, arg);
            double fp = yp ? lti_weighted_sum(yp, r) : NAN;
            lt_graph_reset(&g);
            in[i]->data[j] = xm;
            lt_tensor *ym = build(&g, in, arg);
            double fm = ym ? lti_weighted_sum(ym, r) : NAN;
            in[i]->data[j] = x0;
            if (g.status) { st = g.status; goto done; }
            double num = (fp - fm) / ((double)xp - (double)xm), a = ana[i][j];
            double err = fabs(num - a), scale = fmax(fabs(num), fabs(a));
            double rel = scale > 0 ? err / scale : 0;
            res->n_checked++;
            if (err > res->max_abs_err) res->max_abs_err = err;
            if (err > o.atol && rel > res->max_rel_err) res->max_rel_err = rel;
            if (err > o.atol + o.rtol * scale) {
                if (!res->n_failed)
                    snprintf(res->worst, sizeof res->worst, "input %d element %lld: analytic %.6g numeric %.6g", i,
                             (long long)j, a, num);
                res->n_failed++;
            }
        }
    }
done:
    if (ana) for (int i = 0; i < nin; i++) lt_free(ana[i]);
    lt_free(ana);
    lt_free(r);
    lt_graph_free(&g);
    return st;
}

lt_tensor *lt_gc_pool_f32(lt_gc_pool *p, lt_rng *rng, int ndim, const int64_t *shape, float lo, float hi, float away) {
    if (p->n == 8) return NULL;
    lt_tensor t = lt_tensor_wrap(NULL, ndim, shape);
    int64_t n = lt_numel(&t);
    t.data = lt_malloc(sizeof(float) * (n ? n : 1));
    t.grad = lt_calloc(n ? n : 1, sizeof(float));
    if (!t.data || !t.grad) { lt_free(t.data); lt_free(t.grad); return NULL; }
    lt_rng_fill_uniform(rng, t.data, n, lo, hi);
    if (away > 0)
        for (int64_t i = 0; i < n; i++)
            if (fabsf(t.data[i]) < away) t.data[i] = t.data[i] < 0 ? t.data[i] - away : t.data[i] + away;
    t.requires_grad = 1;
    p->t[p->n] = t;
    return &p->t[p->n++];
}

lt_tensor *lt_gc_pool_i64(lt_gc_pool *p, lt_rng *rng, int ndim, const int64_t *shape, int64_t hi) {
    if (p->n == 8) return NULL;
    lt_tensor t = lt_tensor_wrap_i64(NULL, ndim, shape);
    int64_t n = lt_numel(&t);
    t.idata = lt_malloc(sizeof(int64_t) * (n ? n : 1));
    if (!t.idata) return NULL;
    for (int64_t i = 0; i < n; i++) t.idata[i] = (int64_t)lt_rng_below(rng, (uint64_t)hi);
    p->t[p->n] = t;
    return &p->t[p->n++];
}

void lt_gc_pool_free(lt_gc_pool *p) {
    for (int i = 0; i < p->n; i++) {
        lt_free(p->t[i].data);
        lt_free(p->t[i].grad);
    }
    p->n = 0;
}
