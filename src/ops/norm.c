/* Normalization (group norm, layer norm, batch norm) and dropout.
 *
 * Group norm and layer norm share one kernel. The input is read as R groups of
 * M contiguous values, each normalized to mean 0, variance 1 (biased, + eps),
 * then scaled and shifted per channel. The channel of element j of group r is
 *     (r mod G)·cpg + j / S
 * group norm of x (N,C,S...): R = N·G, cpg = C/G, S = spatial size;
 * layer norm of x (...,C):   R = rows, G = 1, cpg = C, S = 1.
 * Node: iarg G, cpg, S; farg eps; saved mean and rstd (R each); in x, gamma, beta. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/rng.h"
#include "ops/internal.h"

typedef struct {
    int64_t R, M, G, cpg, S;
} lti_norm_geom;

#define LTI_INLINE static inline __attribute__((always_inline))

/* The row kernels take S apart from q: called with a literal 1 for layer norm, j / S folds
 * away and the loops vectorize (a division per element took most of layer norm's time). */

/* row r: mean and rstd into st[r], st[R + r]; y = x̂·gamma + beta */
LTI_INLINE void lti_norm_row(const lti_norm_geom *q, int64_t S, int64_t r, const float *x, float *y, const float *ga,
                             const float *be, float eps, float *st) {
    const float *xr = x + r * q->M;
    float *yr = y + r * q->M;
    int64_t c0 = (r % q->G) * q->cpg;
    double s = 0, ss = 0;
    #pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < q->M; j++) s += xr[j];
    double mean = s / (double)q->M;
    #pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < q->M; j++) ss += (xr[j] - mean) * (xr[j] - mean);
    float rstd = (float)(1.0 / sqrt(ss / (double)q->M + eps)), m = (float)mean;
    st[r] = m;
    st[q->R + r] = rstd;
    for (int64_t j = 0; j < q->M; j++) {
        int64_t c = c0 + j / S;
        yr[j] = (xr[j] - m) * rstd * (ga ? ga[c] : 1.0f) + (be ? be[c] : 0.0f);
    }
}

/* row r: dx += rstd·(d̂ - mean(d̂) - x̂·mean(d̂·x̂)) with d̂ = dy·gamma */
LTI_INLINE void lti_norm_row_dx(const lti_norm_geom *q, int64_t S, int64_t r, const float *x, const float *dy,
                                const float *ga, const float *st, float *dx) {
    const float *xr = x + r * q->M, *dyr = dy + r * q->M;
    int64_t c0 = (r % q->G) * q->cpg;
    float m = st[r], rs = st[q->R + r];
    double a = 0, b = 0;
    #pragma omp simd reduction(+ : a, b)
    for (int64_t j = 0; j < q->M; j++) {
        float d = dyr[j] * (ga ? ga[c0 + j / S] : 1.0f);
        a += d;
        b += d * (xr[j] - m) * rs;
    }
    float fa = (float)(a / (double)q->M), fb = (float)(b / (double)q->M);
    for (int64_t j = 0; j < q->M; j++) {
        float d = dyr[j] * (ga ? ga[c0 + j / S] : 1.0f), xh = (xr[j] - m) * rs;
        dx[r * q->M + j] += rs * (d - fa - xh * fb);
    }
}

/* row r's share of dgamma (Σ dy·x̂) and dbeta (Σ dy), into per-thread sums pg, pb (C) */
LTI_INLINE void lti_norm_row_affine(const lti_norm_geom *q, int64_t S, int64_t r, const float *x, const float *dy,
                                    const float *st, float *pg, float *pb) {
    const float *xr = x + r * q->M, *dyr = dy + r * q->M;
    int64_t c0 = (r % q->G) * q->cpg;
    float m = st[r], rs = st[q->R + r];
    for (int64_t j = 0; j < q->M; j++) {
        int64_t c = c0 + j / S;
        pg[c] += dyr[j] * (xr[j] - m) * rs;
        pb[c] += dyr[j];
    }
}

static lt_tensor *lti_norm(lt_graph *g, int op, lt_tensor *x, lti_norm_geom q, lt_tensor *gamma, lt_tensor *beta,
                           float eps) {
    lt_tensor *y = lti_like(g, x);
    float *stats = lt_graph_alloc(g, sizeof(float) * (size_t)(2 * q.R)); /* mean (R), rstd (R) */
    if (!y || !stats) return NULL;
    const float *ga = gamma ? gamma->data : NULL, *be = beta ? beta->data : NULL;
    #pragma omp parallel for schedule(static) if (q.R * q.M > 65536)
    for (int64_t r = 0; r < q.R; r++) {
        if (q.S == 1) lti_norm_row(&q, 1, r, x->data, y->data, ga, be, eps, stats);
        else lti_norm_row(&q, q.S, r, x->data, y->data, ga, be, eps, stats);
    }
    lti_node *n = lti_graph_record(g, op, y, 3, (lt_tensor *[]){x, gamma, beta});
    if (n) {
        n->iarg[0] = q.G; n->iarg[1] = q.cpg; n->iarg[2] = q.S;
        n->farg[0] = eps;
        n->saved = stats;
    }
    return y;
}

static void lti_norm_backward(lt_graph *g, lti_node *n) {
    lt_tensor *x = n->in[0], *gamma = n->in[1], *beta = n->in[2];
    lti_norm_geom q = {0, n->iarg[1] * n->iarg[2], n->iarg[0], n->iarg[1], n->iarg[2]};
    q.R = lt_numel(x) / q.M;
    const float *dy = n->out->grad, *st = n->saved, *ga = gamma ? gamma->data : NULL;
    int par = q.R * q.M > 65536;
    if (x->requires_grad) {
        float *dx = lti_grad(g, x);
        if (!dx) return;
        #pragma omp parallel for schedule(static) if (par)
        for (int64_t r = 0; r < q.R; r++) {
            if (q.S == 1) lti_norm_row_dx(&q, 1, r, x->data, dy, ga, st, dx);
            else lti_norm_row_dx(&q, q.S, r, x->data, dy, ga, st, dx);
        }
    }
    float *dg = gamma && gamma->requires_grad ? lti_grad(g, gamma) : NULL;
    float *db = beta && beta->requires_grad ? lti_grad(g, beta) : NULL;
    if (g->status || (!dg && !db)) return;
    /* per-thread sums over contiguous row ranges, added in thread order: deterministic for a
     * given thread count */
    int64_t C = q.G * q.cpg, nt = par ? omp_get_max_threads() : 1;
    float *part = lt_graph_alloc(g, sizeof(float) * (size_t)(2 * C * nt));
    if (!part) return;
    memset(part, 0, sizeof(float) * (size_t)(2 * C * nt));
    #pragma omp parallel if (par)
    {
        float *pg = part + 2 * C * omp_get_thread_num(), *pb = pg + C;
        #pragma omp for schedule(static)
        for (int64_t r = 0; r < q.R; r++) {
            if (q.S == 1) lti_norm_row_affine(&q, 1, r, x->data, dy, st, pg, pb);
            else lti_norm_row_affine(&q, q.S, r, x->data, dy, st, pg, pb);
        }
    }
    for (int64_t t = 0; t < nt; t++)
        for (int64_t c = 0; c < C; c++) {
            if (dg) dg[c] += part[2 * C * t + c];
            if (db) db[c] += part[2 * C * t + C + c];
        }
}

/* gamma and beta, when given, must be float32 (C) */
static int lti_norm_check_affine(lt_graph *g, const char *op, const lt_tensor *p, int64_t C) {
    if (!p) return 1;
    if (!lti_check_f32(g, op, p)) return 0;
    if (p->ndim != 1 || p->shape[0] != C) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "%s: gamma/beta must be (%lld), got %s", op, (long long)C,
                       lt_shape_str(p, s, 64));
        return 0;
    }
    return 1;
}

lt_tensor *lt_group_norm(lt_graph *g, lt_tensor *x, int groups, lt_tensor *gamma, lt_tensor *beta, float eps) {
    if (!lti_check_f32(g, "group_norm", x)) return NULL;
    char s[64];
    if (x->ndim < 2 || groups < 1 || x->shape[1] % groups) {
        lti_graph_fail(g, LT_ERR_SHAPE, "group_norm: want x (N,C,...) with C divisible by %d groups, got %s", groups,
                       lt_shape_str(x, s, 64));
        return NULL;
    }
    int64_t C = x->shape[1];
    if (!lti_norm_check_affine(g, "group_norm", gamma, C) || !lti_norm_check_affine(g, "group_norm", beta, C))
        return NULL;
    lti_norm_geom q = {x->shape[0] * groups, 0, groups, C / groups, 1};
    for (int d = 2; d < x->ndim; d++) q.S *= x->shape[d];
    q.M = q.cpg * q.S;
    return lti_norm(g, LT_OP_GROUP_NORM, x, q, gamma, beta, eps);
}

lt_tensor *lt_layer_norm(lt_graph *g, lt_tensor *x, lt_tensor *gamma, lt_tensor *beta, float eps) {
    if (!lti_check_f32(g, "layer_norm", x)) return NULL;
    if (x->ndim < 1 || x->shape[x->ndim - 1] < 1) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "layer_norm: want x (...,C) with C >= 1, got %s", lt_shape_str(x, s, 64));
        return NULL;
    }
    int64_t C = x->shape[x->ndim - 1];
    if (!lti_norm_check_affine(g, "layer_norm", gamma, C) || !lti_norm_check_affine(g, "layer_norm", beta, C))
        return NULL;
    lti_norm_geom q = {lt_numel(x) / C, C, 1, C, 1};
    return lti_norm(g, LT_OP_LAYER_NORM, x, q, gamma, beta, eps);
}

void lti_group_norm_backward(lt_graph *g, lti_node *n) { lti_norm_backward(g, n); }
void lti_layer_norm_backward(lt_graph *g, lti_node *n) { lti_norm_backward(g, n); }

/* ---- dropout ---- saved: the mask, 0 or 1/(1-p) per element */

lt_tensor *lt_dropout(lt_graph *g, lt_tensor *x, float p) {
    if (!lti_check_f32(g, "dropout", x)) return NULL;
    if (!(p >= 0.0f && p < 1.0f)) {
        lti_graph_fail(g, LT_ERR_ARG, "dropout: probability %g must be in [0, 1)", (double)p);
        return NULL;
    }
    if (!g->training) return x;
    if (!g->rng) {
        lti_graph_fail(g, LT_ERR_ARG, "dropout: the graph is in training mode but has no rng (set g->rng)");
        return NULL;
    }
    int64_t m = lt_numel(x);
    lt_tensor *y = lti_like(g, x);
    float *mask = lt_graph_alloc(g, sizeof(float) * (size_t)(m ? m : 1));
    if (!y || !mask) return NULL;
    const int64_t rows = x->ndim > 0 ? x->shape[0] : 1; /* per-example masks under a data-parallel part */
    lt_rng_fill_rows(g->rng, g->part, LT_RNG_UNIFORM, mask, rows, rows > 0 ? m / rows : 0, 0.0f, 1.0f);
    const float scale = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < m; i++) {
        mask[i] = mask[i] >= p ? scale : 0.0f;
        y->data[i] = x->data[i] * mask[i];
    }
    lti_node *n = lti_graph_record(g, LT_OP_DROPOUT, y, 1, &x);
    if (n) n->saved = mask;
    return y;
}

void lti_dropout_backward(lt_graph *g, lti_node *n) {
    lt_tensor *x = n->in[0];
    if (!x->requires_grad) return;
    float *dx = lti_grad(g, x);
    if (!dx) return;
    const float *mask = n->saved, *dy = n->out->grad;
    int64_t m = lt_numel(x);
    for (int64_t i = 0; i < m; i++) dx[i] += dy[i] * mask[i];
}

/* ---- batch norm ---- x (N,C,S...) is N·C planes of S values; channel c's statistics run
 * over its N planes (M = N·S values). y = (x − mean_c)·rstd_c·gamma_c + beta_c.
 * Node: iarg batch (1: batch statistics, 0: given ones), C, S; farg eps;
 * saved mean and rstd (C each); in x, gamma, beta. */

/* Per-channel Σ over the N planes of f(j) for the values of channel c. */
#define LTI_BN_SUM(acc, expr)                                                  \
    for (int64_t n_ = 0; n_ < N; n_++) {                                       \
        const int64_t o_ = (n_ * C + c) * S;                                   \
        for (int64_t s_ = 0; s_ < S; s_++) { const int64_t i = o_ + s_; acc += (expr); } \
    }

lt_tensor *lt_batch_norm(lt_graph *g, lt_tensor *x, const lt_tensor *mean, const lt_tensor *var, lt_tensor *gamma,
                         lt_tensor *beta, float eps, float *stats) {
    if (!lti_check_f32(g, "batch_norm", x)) return NULL;
    char s[64];
    if (x->ndim < 2) {
        lti_graph_fail(g, LT_ERR_SHAPE, "batch_norm: want x (N,C,...), got %s", lt_shape_str(x, s, 64));
        return NULL;
    }
    const int batch = !mean && !var;
    int64_t N = x->shape[0], C = x->shape[1], S = 1;
    for (int d = 2; d < x->ndim; d++) S *= x->shape[d];
    const int64_t M = N * S;
    if (!lti_norm_check_affine(g, "batch_norm", gamma, C) || !lti_norm_check_affine(g, "batch_norm", beta, C))
        return NULL;
    if (!batch && (!mean || !var || !lti_norm_check_affine(g, "batch_norm", mean, C) ||
                   !lti_norm_check_affine(g, "batch_norm", var, C))) {
        if (!g->status) lti_graph_fail(g, LT_ERR_ARG, "batch_norm: give both running mean and var, or neither");
        return NULL;
    }
    if (batch && M < 2) {
        lti_graph_fail(g, LT_ERR_SHAPE, "batch_norm: training needs more than 1 value per channel, got x %s",
                       lt_shape_str(x, s, 64));
        return NULL;
    }
    lt_tensor *y = lti_like(g, x);
    float *st = lt_graph_alloc(g, sizeof(float) * (size_t)(2 * C + 1)); /* mean (C), rstd (C) */
    if (!y || !st) return NULL;
    const float *ga = gamma ? gamma->data : NULL, *be = beta ? beta->data : NULL;
    #pragma omp parallel for schedule(static) if (M * C > 65536)
    for (int64_t c = 0; c < C; c++) {
        double mu, v;
        if (batch) {
            double sum = 0, ss = 0;
            LTI_BN_SUM(sum, x->data[i]);
            mu = sum / (double)M;
            LTI_BN_SUM(ss, (x->data[i] - mu) * (x->data[i] - mu));
            v = ss / (double)M;
            if (stats) {
                stats[c] = (float)mu;
                stats[C + c] = (float)(ss / (double)(M - 1));
            }
        } else {
            mu = mean->data[c];
            v = var->data[c];
        }
        float rstd = (float)(1.0 / sqrt(v + eps)), m = (float)mu;
        st[c] = m;
        st[C + c] = rstd;
        const float a = rstd * (ga ? ga[c] : 1.0f), b = (be ? be[c] : 0.0f) - m * a; /* y = a·x + b */
        for (int64_t n = 0; n < N; n++) {
            const float *xp = x->data + (n * C + c) * S;
            float *yp = y->data + (n * C + c) * S;
            for (int64_t j = 0; j < S; j++) yp[j] = xp[j] * a + b;
        }
    }
    lti_node *nd = lti_graph_record(g, LT_OP_BATCH_NORM, y, 3, (lt_tensor *[]){x, gamma, beta});
    if (nd) {
        nd->iarg[0] = batch; nd->iarg[1] = C; nd->iarg[2] = S;
        nd->farg[0] = eps;
        nd->saved = st;
    }
    return y;
}

void lti_batch_norm_backward(lt_graph *g, lti_node *nd) {
    lt_tensor *x = nd->in[0], *gamma = nd->in[1], *beta = nd->in[2];
    const int batch = (int)nd->iarg[0];
    const int64_t N = x->shape[0], C = nd->iarg[1], S = nd->iarg[2], M = N * S;
    const float *dy = nd->out->grad, *mean = nd->saved, *rstd = mean + C, *ga = gamma ? gamma->data : NULL;
    float *dx = x->requires_grad ? lti_grad(g, x) : NULL;
    float *dg = gamma && gamma->requires_grad ? lti_grad(g, gamma) : NULL;
    float *db = beta && beta->requires_grad ? lti_grad(g, beta) : NULL;
    if (g->status) return;
    #pragma omp parallel for schedule(static) if (M * C > 65536)
    for (int64_t c = 0; c < C; c++) {
        const double m = mean[c], r = rstd[c], gc = ga ? ga[c] : 1.0;
        double sdy = 0, sdyx = 0; /* Σ dy, Σ dy·x̂ */
        LTI_BN_SUM(sdy, dy[i]);
        LTI_BN_SUM(sdyx, dy[i] * (x->data[i] - m) * r);
        if (dg) dg[c] += (float)sdyx;
        if (db) db[c] += (float)sdy;
        if (!dx) continue;
        /* batch statistics: dx = gamma·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)); given ones: gamma·rstd·dy */
        const double a = batch ? sdy / (double)M : 0, b = batch ? sdyx / (double)M : 0;
        for (int64_t n = 0; n < N; n++) {
            const int64_t o = (n * C + c) * S;
            for (int64_t j = 0; j < S; j++)
                dx[o + j] += (float)(gc * r * (dy[o + j] - a - (x->data[o + j] - m) * r * b));
        }
    }
}
#undef LTI_BN_SUM
