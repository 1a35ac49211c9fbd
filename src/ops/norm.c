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
 * over its N planes (M = N·S values). y = (x − mean_c)·rstd_c·gamma_c + beta_c; the fused
 * batch_norm_relu: y = relu(that + res), res (x's shape) optional.
 * Node: iarg batch (1: batch statistics, 0: given ones), C, S, relu; farg eps;
 * saved mean and rstd (C each); in x, gamma, beta [, res].
 * Each plane is summed in 16 float lanes (vectorized), the planes in double in order, and
 * the variance combines each plane's sum of squares about its own mean (Chan et al.), so
 * the statistics take one pass over memory and depend on N, C, S alone, never on threads. */

typedef float lti_bn_v __attribute__((vector_size(64), aligned(4)));
typedef int32_t lti_bn_m __attribute__((vector_size(64), aligned(4)));

/* (macros, not functions: a vector passed by value changes the ABI in builds without AVX-512) */
#define LTI_BN_LD(p) (*(const lti_bn_v *)(p))
/* v where m (a comparison's result), else 0 */
#define LTI_BN_WHERE(m, v) ((lti_bn_v)((m) & (lti_bn_m)(v)))
static float lti_bn_hsum(const lti_bn_v *v) {
    double s = 0;
    for (int k = 0; k < 16; k++) s += (*v)[k];
    return (float)s;
}

/* plane p (S): its sum, and its sum of squares about its own (float) mean */
static void lti_bn_plane(const float *p, int64_t S, double *sum, double *sq) {
    lti_bn_v a = {0};
    int64_t j = 0;
    for (; j + 16 <= S; j += 16) a += LTI_BN_LD(p + j);
    float t = 0;
    for (; j < S; j++) t += p[j];
    *sum = (double)lti_bn_hsum(&a) + t;
    const float mp = (float)(*sum / (double)S);
    lti_bn_v b = {0};
    for (j = 0; j + 16 <= S; j += 16) {
        const lti_bn_v d = LTI_BN_LD(p + j) - mp;
        b += d * d;
    }
    t = 0;
    for (; j < S; j++) t += (p[j] - mp) * (p[j] - mp);
    *sq = (double)lti_bn_hsum(&b) + t;
}

/* mean and biased variance of channel c over its N planes */
static void lti_bn_stats(const float *x, int64_t N, int64_t C, int64_t S, int64_t c, double *mean, double *var) {
    double mu = 0, m2 = 0, cnt = 0;
    for (int64_t n = 0; n < N; n++) {
        double sp, sq;
        lti_bn_plane(x + (n * C + c) * S, S, &sp, &sq);
        const double d = sp / (double)S - mu, tot = cnt + (double)S;
        mu += d * (double)S / tot;
        m2 += sq + d * d * cnt * (double)S / tot;
        cnt = tot;
    }
    *mean = mu;
    *var = m2 / cnt;
}

/* y = a·x + b [+ r], [relu] over one plane */
static inline __attribute__((always_inline)) void lti_bn_out(const float *x, const float *r, float *y, int64_t S,
                                                              float a, float b, int relu) {
    int64_t j = 0;
    for (; j + 16 <= S; j += 16) {
        lti_bn_v v = LTI_BN_LD(x + j) * a + b;
        if (r) v += LTI_BN_LD(r + j);
        if (relu) v = LTI_BN_WHERE(v > 0, v);
        *(lti_bn_v *)(y + j) = v;
    }
    for (; j < S; j++) {
        float v = x[j] * a + b + (r ? r[j] : 0.0f);
        y[j] = relu ? (v > 0 ? v : 0.0f) : v;
    }
}

/* one plane's Σ dy', Σ dy'·(x − m) with dy' = dy masked by y > 0 under relu; dr (+)= dy'
 * (set: "=") */
static inline __attribute__((always_inline)) void lti_bn_plane_grad(const float *dy, const float *y, const float *x,
                                                                     float m, int64_t S, int relu, float *dr, int set,
                                                                     double *sdy, double *sdyx) {
    lti_bn_v a = {0}, b = {0};
    int64_t j = 0;
    for (; j + 16 <= S; j += 16) {
        lti_bn_v d = LTI_BN_LD(dy + j);
        if (relu) d = LTI_BN_WHERE(LTI_BN_LD(y + j) > 0, d);
        a += d;
        b += d * (LTI_BN_LD(x + j) - m);
        if (dr) *(lti_bn_v *)(dr + j) = set ? d : *(lti_bn_v *)(dr + j) + d;
    }
    float ta = 0, tb = 0;
    for (; j < S; j++) {
        const float d = relu && !(y[j] > 0) ? 0.0f : dy[j];
        ta += d;
        tb += d * (x[j] - m);
        if (dr) dr[j] = set ? d : dr[j] + d;
    }
    *sdy += (double)lti_bn_hsum(&a) + ta;
    *sdyx += (double)lti_bn_hsum(&b) + tb;
}

/* dx (+)= gr·(dy' − fa − (x − m)·fb) over one plane (set: "=") */
static inline __attribute__((always_inline)) void lti_bn_plane_dx(const float *dy, const float *y, const float *x,
                                                                   float m, int64_t S, int relu, float gr, float fa,
                                                                   float fb, float *dx, int set) {
    int64_t j = 0;
    for (; j + 16 <= S; j += 16) {
        lti_bn_v d = LTI_BN_LD(dy + j);
        if (relu) d = LTI_BN_WHERE(LTI_BN_LD(y + j) > 0, d);
        const lti_bn_v v = gr * (d - fa - (LTI_BN_LD(x + j) - m) * fb);
        *(lti_bn_v *)(dx + j) = set ? v : *(lti_bn_v *)(dx + j) + v;
    }
    for (; j < S; j++) {
        const float d = relu && !(y[j] > 0) ? 0.0f : dy[j];
        const float v = gr * (d - fa - (x[j] - m) * fb);
        dx[j] = set ? v : dx[j] + v;
    }
}

static lt_tensor *lti_bn(lt_graph *g, int op, const char *name, lt_tensor *x, const lt_tensor *mean,
                         const lt_tensor *var, lt_tensor *gamma, lt_tensor *beta, float eps, float *stats,
                         lt_tensor *res) {
    if (!lti_check_f32(g, name, x)) return NULL;
    char s[64], s2[64];
    if (x->ndim < 2) {
        lti_graph_fail(g, LT_ERR_SHAPE, "%s: want x (N,C,...), got %s", name, lt_shape_str(x, s, 64));
        return NULL;
    }
    const int batch = !mean && !var, relu = op == LT_OP_BATCH_NORM_RELU;
    int64_t N = x->shape[0], C = x->shape[1], S = 1;
    for (int d = 2; d < x->ndim; d++) S *= x->shape[d];
    const int64_t M = N * S;
    if (!lti_norm_check_affine(g, name, gamma, C) || !lti_norm_check_affine(g, name, beta, C)) return NULL;
    if (!batch && (!mean || !var || !lti_norm_check_affine(g, name, mean, C) ||
                   !lti_norm_check_affine(g, name, var, C))) {
        if (!g->status) lti_graph_fail(g, LT_ERR_ARG, "%s: give both running mean and var, or neither", name);
        return NULL;
    }
    if (batch && M < 2) {
        lti_graph_fail(g, LT_ERR_SHAPE, "%s: training needs more than 1 value per channel, got x %s", name,
                       lt_shape_str(x, s, 64));
        return NULL;
    }
    if (res && (!lti_check_f32(g, name, res) || lt_numel(res) != lt_numel(x) || res->ndim != x->ndim ||
                memcmp(res->shape, x->shape, sizeof(int64_t) * (size_t)x->ndim))) {
        if (!g->status)
            lti_graph_fail(g, LT_ERR_SHAPE, "%s: the residual %s must have x's shape %s", name,
                           lt_shape_str(res, s2, 64), lt_shape_str(x, s, 64));
        return NULL;
    }
    lt_tensor *y = lti_like(g, x);
    float *st = lt_graph_alloc(g, sizeof(float) * (size_t)(2 * C + 1)); /* mean (C), rstd (C) */
    if (!y || !st) return NULL;
    const float *ga = gamma ? gamma->data : NULL, *be = beta ? beta->data : NULL, *rd = res ? res->data : NULL;
    #pragma omp parallel for schedule(static) if (M * C > 65536)
    for (int64_t c = 0; c < C; c++) {
        double mu, v;
        if (batch) {
            lti_bn_stats(x->data, N, C, S, c, &mu, &v);
            if (stats) {
                stats[c] = (float)mu;
                stats[C + c] = (float)(v * (double)M / (double)(M - 1));
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
            const int64_t o = (n * C + c) * S;
            const float *xp = x->data + o, *rp = rd ? rd + o : NULL;
            float *yp = y->data + o;
            if (!relu) lti_bn_out(xp, NULL, yp, S, a, b, 0);
            else if (rp) lti_bn_out(xp, rp, yp, S, a, b, 1);
            else lti_bn_out(xp, NULL, yp, S, a, b, 1);
        }
    }
    lti_node *nd = lti_graph_record(g, op, y, res ? 4 : 3, (lt_tensor *[]){x, gamma, beta, res});
    if (nd) {
        nd->iarg[0] = batch; nd->iarg[1] = C; nd->iarg[2] = S; nd->iarg[3] = relu;
        nd->farg[0] = eps;
        nd->saved = st;
    }
    return y;
}

lt_tensor *lt_batch_norm(lt_graph *g, lt_tensor *x, const lt_tensor *mean, const lt_tensor *var, lt_tensor *gamma,
                         lt_tensor *beta, float eps, float *stats) {
    return lti_bn(g, LT_OP_BATCH_NORM, "batch_norm", x, mean, var, gamma, beta, eps, stats, NULL);
}

lt_tensor *lt_batch_norm_relu(lt_graph *g, lt_tensor *x, const lt_tensor *mean, const lt_tensor *var,
                              lt_tensor *gamma, lt_tensor *beta, float eps, float *stats, lt_tensor *res) {
    return lti_bn(g, LT_OP_BATCH_NORM_RELU, "batch_norm_relu", x, mean, var, gamma, beta, eps, stats, res);
}

void lti_batch_norm_backward(lt_graph *g, lti_node *nd) {
    lt_tensor *x = nd->in[0], *gamma = nd->in[1], *beta = nd->in[2], *res = nd->nin > 3 ? nd->in[3] : NULL;
    const int batch = (int)nd->iarg[0], relu = (int)nd->iarg[3];
    const int64_t N = x->shape[0], C = nd->iarg[1], S = nd->iarg[2], M = N * S;
    const float *dy = nd->out->grad, *y = nd->out->data, *mean = nd->saved, *rstd = mean + C;
    const float *ga = gamma ? gamma->data : NULL;
    /* dx and dr overwrite buffers nothing was added to yet (no zeroing pass); with res = x
     * both add into one zeroed buffer */
    int fx = 0, fr = 0;
    const int same = res == x;
    float *dx = !x->requires_grad ? NULL : same ? lti_grad(g, x) : lti_grad_out(g, x, &fx);
    float *dr = !res || !res->requires_grad ? NULL : same ? dx : lti_grad_out(g, res, &fr);
    float *dg = gamma && gamma->requires_grad ? lti_grad(g, gamma) : NULL;
    float *db = beta && beta->requires_grad ? lti_grad(g, beta) : NULL;
    if (g->status) return;
    #pragma omp parallel for schedule(static) if (M * C > 65536)
    for (int64_t c = 0; c < C; c++) {
        const float m = mean[c], r = rstd[c];
        double sdy = 0, sdyx = 0; /* Σ dy', Σ dy'·(x − mean), dy' = dy masked by the relu */
        for (int64_t n = 0; n < N; n++) {
            const int64_t o = (n * C + c) * S;
            if (relu) lti_bn_plane_grad(dy + o, y + o, x->data + o, m, S, 1, dr ? dr + o : NULL, fr, &sdy, &sdyx);
            else lti_bn_plane_grad(dy + o, y + o, x->data + o, m, S, 0, NULL, 0, &sdy, &sdyx);
        }
        sdyx *= r; /* Σ dy'·x̂ */
        if (dg) dg[c] += (float)sdyx;
        if (db) db[c] += (float)sdy;
        if (!dx) continue;
        /* batch statistics: dx = gamma·rstd·(dy' − mean(dy') − x̂·mean(dy'·x̂)); given ones: gamma·rstd·dy' */
        const float gr = (ga ? ga[c] : 1.0f) * r, fa = batch ? (float)(sdy / (double)M) : 0.0f;
        const float fb = batch ? (float)(sdyx / (double)M) * r : 0.0f;
        for (int64_t n = 0; n < N; n++) {
            const int64_t o = (n * C + c) * S;
            if (relu) lti_bn_plane_dx(dy + o, y + o, x->data + o, m, S, 1, gr, fa, fb, dx + o, fx);
            else lti_bn_plane_dx(dy + o, y + o, x->data + o, m, S, 0, gr, fa, fb, dx + o, fx);
        }
    }
}

void lti_batch_norm_relu_backward(lt_graph *g, lti_node *nd) { lti_batch_norm_backward(g, nd); }
#undef LTI_BN_LD
#undef LTI_BN_WHERE
