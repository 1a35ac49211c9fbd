/* The linear probe: standardization, multinomial logistic regression by L-BFGS (liblbfgs,
 * double-precision parameters), the penalty chosen on validation. See metrics.h.
 * The features stay float: logits and the gradient's X^T·R are sgemm products, the
 * softmax, the loss and the penalty are in double. */
#include <cblas.h>
#include <lbfgs.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "metrics/metrics.h"

void lt_standardize_fit(const float *x, int64_t n, int64_t d, double *mean, double *sd) {
    for (int64_t j = 0; j < d; j++) mean[j] = sd[j] = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) mean[j] += x[i * d + j];
    for (int64_t j = 0; j < d; j++) mean[j] /= n > 0 ? (double)n : 1;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) {
            const double t = x[i * d + j] - mean[j];
            sd[j] += t * t;
        }
    for (int64_t j = 0; j < d; j++) {
        sd[j] = n > 0 ? sqrt(sd[j] / (double)n) : 0;
        if (!(sd[j] > 1e-12)) sd[j] = 1; /* a constant column stays 0 after centring */
    }
}

void lt_standardize_apply(float *x, int64_t n, int64_t d, const double *mean, const double *sd) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) x[i * d + j] = (float)((x[i * d + j] - mean[j]) / sd[j]);
}

typedef struct lti_lr {
    const float *x;    /* (n, d) */
    const int64_t *y;  /* (n) */
    int64_t n, d, k;
    double l2;
    float *wf;         /* (d, k) the weights as floats for sgemm */
    float *z;          /* (n, k) logits, then the residual (softmax - onehot) / n */
    float *gf;         /* (d, k) X^T · residual */
    double tol;
    int64_t iters, evals; /* counted by the callbacks: lbfgs() returns neither */
} lti_lr;

/* Logits of rows x (n, d) into z (n, k): x·W + b, W and b from w ((d+1), k) via wf. */
static void lti_logits(const float *x, int64_t n, int64_t d, int64_t k, const double *w, float *wf, float *z) {
    for (int64_t i = 0; i < d * k; i++) wf[i] = (float)w[i];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k, (int)d, 1.0f, x, (int)d, wf, (int)k, 0.0f,
                z, (int)k);
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < k; c++) z[i * k + c] += (float)w[d * k + c];
}

static lbfgsfloatval_t lti_lr_eval(void *ud, const lbfgsfloatval_t *w, lbfgsfloatval_t *g, const int nw,
                                   const lbfgsfloatval_t step) {
    (void)nw;
    (void)step;
    lti_lr *p = ud;
    const int64_t n = p->n, d = p->d, k = p->k;
    p->evals++;
    lti_logits(p->x, n, d, k, w, p->wf, p->z);
    double loss = 0;
    for (int64_t c = 0; c < k; c++) g[d * k + c] = 0;
    for (int64_t i = 0; i < n; i++) { /* row i: softmax in double, residual (p - onehot) / n */
        float *zi = p->z + i * k;
        double mx = zi[0], s = 0;
        for (int64_t c = 1; c < k; c++) mx = zi[c] > mx ? zi[c] : mx;
        for (int64_t c = 0; c < k; c++) s += exp(zi[c] - mx);
        const double lse = mx + log(s);
        loss += lse - zi[p->y[i]];
        for (int64_t c = 0; c < k; c++) {
            const double r = (exp(zi[c] - lse) - (c == p->y[i])) / (double)n;
            zi[c] = (float)r;
            g[d * k + c] += r;
        }
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)k, (int)n, 1.0f, p->x, (int)d, p->z, (int)k, 0.0f,
                p->gf, (int)k);
    double pen = 0;
    for (int64_t i = 0; i < d * k; i++) {
        g[i] = (double)p->gf[i] + p->l2 * w[i];
        pen += w[i] * w[i];
    }
    return loss / (double)n + 0.5 * p->l2 * pen;
}

static int lti_lr_progress(void *ud, const lbfgsfloatval_t *x, const lbfgsfloatval_t *g, const lbfgsfloatval_t fx,
                           const lbfgsfloatval_t xnorm, const lbfgsfloatval_t gnorm, const lbfgsfloatval_t step, int n,
                           int k, int ls) {
    (void)x, (void)g, (void)fx, (void)xnorm, (void)gnorm, (void)step, (void)n, (void)ls;
    ((lti_lr *)ud)->iters = k;
    return 0;
}

static lt_status lti_check_labels(const int64_t *y, int64_t n, int64_t k, const char *what) {
    for (int64_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= k)
            return lt_fail(LT_ERR_ARG, "%s: label %lld of example %lld, expected 0..%lld", what, (long long)y[i],
                           (long long)i, (long long)k - 1);
    return LT_OK;
}

lt_status lt_logreg_fit(const float *x, const int64_t *y, int64_t n, int64_t d, int64_t k, const lt_logreg_opts *o,
                        double *w, lt_logreg_info *info) {
    if (n < 1 || d < 1 || k < 1 || (d + 1) * k > INT32_MAX)
        return lt_fail(LT_ERR_ARG, "logistic regression: %lld examples of %lld features, %lld classes", (long long)n,
                       (long long)d, (long long)k);
    lt_status st = lti_check_labels(y, n, k, "logistic regression");
    if (st) return st;
    lti_lr p = {x, y, n, d, k, o->l2, NULL, NULL, NULL, o->tol > 0 ? o->tol : 1e-5, 0, 0};
    p.wf = lt_malloc(sizeof(float) * (size_t)(d * k));
    p.gf = lt_malloc(sizeof(float) * (size_t)(d * k));
    p.z = lt_malloc(sizeof(float) * (size_t)(n * k));
    double *g = lt_malloc(sizeof(double) * (size_t)((d + 1) * k));
    if (!p.wf || !p.gf || !p.z || !g) {
        st = lt_fail(LT_ERR_NOMEM, "logistic regression buffers (%lld x %lld)", (long long)n, (long long)k);
        goto done;
    }
    lbfgs_parameter_t par;
    lbfgs_parameter_init(&par);
    par.max_iterations = (int)(o->max_iter > 0 ? o->max_iter : 1000);
    par.epsilon = p.tol;
    par.past = 0; /* stop on the gradient test only, not on a small decrease */
    lbfgsfloatval_t fx = 0;
    memset(info, 0, sizeof *info);
    const int rc = lbfgs((int)((d + 1) * k), w, &fx, lti_lr_eval, lti_lr_progress, &p, &par);
    /* the final objective and gradient, recomputed at the returned point */
    fx = lti_lr_eval(&p, w, g, (int)((d + 1) * k), 0);
    double gn = 0, wn = 0;
    for (int64_t i = 0; i < (d + 1) * k; i++) gn += g[i] * g[i], wn += w[i] * w[i];
    gn = sqrt(gn);
    info->loss = fx;
    info->grad_norm = gn;
    info->lbfgs_status = rc;
    const double scale = wn > 1 ? sqrt(wn) : 1;
    /* At float precision the line search can end with a rounding error before the gradient
     * test passes: accept that as convergence when the gradient is within 100x the tolerance. */
    info->converged = rc == LBFGS_SUCCESS || rc == LBFGS_ALREADY_MINIMIZED ||
                      (rc != LBFGSERR_MAXIMUMITERATION && gn <= 100 * p.tol * scale);
    info->iterations = p.iters;
    info->evaluations = p.evals;
    if (!isfinite(fx)) st = lt_fail(LT_ERR_NUMERIC, "logistic regression: the loss is not finite (%g)", fx);
done:
    lt_free(p.wf);
    lt_free(p.gf);
    lt_free(p.z);
    lt_free(g);
    return st;
}

lt_status lt_logreg_accuracy(const float *x, const int64_t *y, int64_t n, int64_t d, int64_t k, const double *w,
                             double *acc) {
    *acc = 0;
    if (n < 1) return LT_OK;
    const int64_t B = 4096; /* rows per block: the logits of a block only */
    float *wf = lt_malloc(sizeof(float) * (size_t)(d * k));
    float *z = lt_malloc(sizeof(float) * (size_t)(B * k));
    if (!wf || !z) {
        lt_free(wf);
        lt_free(z);
        return lt_fail(LT_ERR_NOMEM, "accuracy buffers");
    }
    int64_t right = 0;
    for (int64_t i0 = 0; i0 < n; i0 += B) {
        const int64_t m = n - i0 < B ? n - i0 : B;
        lti_logits(x + i0 * d, m, d, k, w, wf, z);
        for (int64_t i = 0; i < m; i++) {
            int64_t best = 0;
            for (int64_t c = 1; c < k; c++)
                if (z[i * k + c] > z[i * k + best]) best = c;
            right += best == y[i0 + i];
        }
    }
    lt_free(wf);
    lt_free(z);
    *acc = (double)right / (double)n;
    return LT_OK;
}

/* A standardized copy of s's rows (lt_malloc'ed) into *out. */
static lt_status lti_std_copy(const lt_labelled *s, int64_t d, const double *mean, const double *sd, float **out) {
    *out = lt_malloc(sizeof(float) * (size_t)(s->n * d > 0 ? s->n * d : 1));
    if (!*out) return lt_fail(LT_ERR_NOMEM, "a standardized copy of %lld x %lld features", (long long)s->n, (long long)d);
    memcpy(*out, s->x, sizeof(float) * (size_t)(s->n * d));
    lt_standardize_apply(*out, s->n, d, mean, sd);
    return LT_OK;
}

lt_status lt_linear_probe(const lt_labelled *train, const lt_labelled *valid, const lt_labelled *test, int64_t d,
                          int64_t k, const double *l2_grid, int n_grid, const lt_logreg_opts *o,
                          lt_linear_probe_result *out) {
    static const double def[] = {1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
    if (n_grid <= 0) l2_grid = def, n_grid = (int)(sizeof def / sizeof def[0]);
    if (train->n < 1 || valid->n < 1 || test->n < 1)
        return lt_fail(LT_ERR_ARG, "linear probe: %lld train, %lld validation, %lld test examples (each needs >= 1)",
                       (long long)train->n, (long long)valid->n, (long long)test->n);
    lt_status st;
    if ((st = lti_check_labels(valid->y, valid->n, k, "linear probe, validation")) ||
        (st = lti_check_labels(test->y, test->n, k, "linear probe, test")))
        return st;
    memset(out, 0, sizeof *out);
    double *mean = lt_malloc(sizeof(double) * (size_t)d), *sd = lt_malloc(sizeof(double) * (size_t)d);
    const size_t nw = (size_t)((d + 1) * k);
    double *w = lt_calloc(nw, sizeof(double)), *best = lt_malloc(sizeof(double) * nw);
    float *xtr = NULL, *xva = NULL, *xte = NULL;
    if (!mean || !sd || !w || !best) {
        st = lt_fail(LT_ERR_NOMEM, "linear probe buffers (%lld features)", (long long)d);
        goto done;
    }
    lt_standardize_fit(train->x, train->n, d, mean, sd);
    if ((st = lti_std_copy(train, d, mean, sd, &xtr)) || (st = lti_std_copy(valid, d, mean, sd, &xva)) ||
        (st = lti_std_copy(test, d, mean, sd, &xte)))
        goto done;
    out->valid_acc = -1;
    out->all_converged = 1;
    double sorted[64];
    const int ng = n_grid < 64 ? n_grid : 64;
    memcpy(sorted, l2_grid, sizeof(double) * (size_t)ng);
    for (int i = 1; i < ng; i++) /* largest first: each fit warm-starts the next, less smooth one */
        for (int j = i; j > 0 && sorted[j] > sorted[j - 1]; j--) {
            const double t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    for (int i = 0; i < ng; i++) {
        lt_logreg_opts oi = *o;
        oi.l2 = sorted[i];
        lt_logreg_info info;
        double va;
        if ((st = lt_logreg_fit(xtr, train->y, train->n, d, k, &oi, w, &info)) ||
            (st = lt_logreg_accuracy(xva, valid->y, valid->n, d, k, w, &va)))
            goto done;
        out->fits++;
        out->all_converged &= info.converged;
        if (va > out->valid_acc) {
            out->valid_acc = va;
            out->l2 = sorted[i];
            out->info = info;
            memcpy(best, w, sizeof(double) * nw);
        }
    }
    if (!(st = lt_logreg_accuracy(xte, test->y, test->n, d, k, best, &out->test_acc)))
        st = lt_logreg_accuracy(xtr, train->y, train->n, d, k, best, &out->train_acc);
done:
    lt_free(mean);
    lt_free(sd);
    lt_free(w);
    lt_free(best);
    lt_free(xtr);
    lt_free(xva);
    lt_free(xte);
    return st;
}
