/* Normalization (layer norm, group norm, batch norm, their fused activations) and dropout.
 *
 * Layer norm normalizes rows of C contiguous values (the row kernels below).
 * Group norm and batch norm work on planes: x (N,C,S...) is N·C planes of S contiguous
 * values. A group norm statistic runs over the cpg = C/G consecutive planes of one example's
 * group, a batch norm statistic over channel c's N planes (stride C·S). Both then write,
 * plane by plane, y = act((x − mean)·a + b) with a = rstd·gamma_c, b = beta_c; act is none,
 * relu (batch_norm_relu, whose optional residual adds inside the relu) or silu
 * (group_norm_silu, taming-transformers' norm-then-swish). The backward recomputes silu's
 * input from x: the normalized tensor is never stored. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/rng.h"
#include "ops/fastmath.h"
#include "ops/internal.h"
#include "ops/vec.h"

#define LTI_INLINE static inline __attribute__((always_inline))

/* ---- layer norm ---- rows of C values; node: farg eps; saved mean and rstd (R each);
 * in x, gamma, beta */

/* row r: mean and rstd into st[r], st[R + r]; y = x̂·gamma + beta */
static void lti_ln_row(int64_t R, int64_t C, int64_t r, const float *x, float *y, const float *ga, const float *be,
                       float eps, float *st) {
    const float *xr = x + r * C;
    float *yr = y + r * C;
    double s = 0, ss = 0;
    #pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < C; j++) s += xr[j];
    double mean = s / (double)C;
    #pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < C; j++) ss += (xr[j] - mean) * (xr[j] - mean);
    float rstd = (float)(1.0 / sqrt(ss / (double)C + eps)), m = (float)mean;
    st[r] = m;
    st[R + r] = rstd;
    for (int64_t j = 0; j < C; j++) yr[j] = (xr[j] - m) * rstd * (ga ? ga[j] : 1.0f) + (be ? be[j] : 0.0f);
}

/* row r: dx += rstd·(d̂ - mean(d̂) - x̂·mean(d̂·x̂)) with d̂ = dy·gamma */
static void lti_ln_row_dx(int64_t R, int64_t C, int64_t r, const float *x, const float *dy, const float *ga,
                          const float *st, float *dx) {
    const float *xr = x + r * C, *dyr = dy + r * C;
    float m = st[r], rs = st[R + r];
    double a = 0, b = 0;
    #pragma omp simd reduction(+ : a, b)
    for (int64_t j = 0; j < C; j++) {
        float d = dyr[j] * (ga ? ga[j] : 1.0f);
        a += d;
        b += d * (xr[j] - m) * rs;
    }
    float fa = (float)(a / (double)C), fb = (float)(b / (double)C);
    for (int64_t j = 0; j < C; j++) {
        float d = dyr[j] * (ga ? ga[j] : 1.0f), xh = (xr[j] - m) * rs;
        dx[r * C + j] += rs * (d - fa - xh * fb);
    }
}

/* row r's share of dgamma (Σ dy·x̂) and dbeta (Σ dy), into per-thread sums pg, pb (C) */
static void lti_ln_row_affine(int64_t R, int64_t C, int64_t r, const float *x, const float *dy, const float *st,
                              float *pg, float *pb) {
    const float *xr = x + r * C, *dyr = dy + r * C;
    float m = st[r], rs = st[R + r];
    for (int64_t j = 0; j < C; j++) {
        pg[j] += dyr[j] * (xr[j] - m) * rs;
        pb[j] += dyr[j];
    }
}

void lti_layer_norm_backward(lt_graph *g, lti_node *n) {
    lt_tensor *x = n->in[0], *gamma = n->in[1], *beta = n->in[2];
    const int64_t C = x->shape[x->ndim - 1], R = lt_numel(x) / C;
    const float *dy = n->out->grad, *st = n->saved, *ga = gamma ? gamma->data : NULL;
    int par = R * C > 65536;
    if (x->requires_grad) {
        float *dx = lti_grad(g, x);
        if (!dx) return;
        #pragma omp parallel for schedule(static) if (par)
        for (int64_t r = 0; r < R; r++) lti_ln_row_dx(R, C, r, x->data, dy, ga, st, dx);
    }
    float *dg = gamma && gamma->requires_grad ? lti_grad(g, gamma) : NULL;
    float *db = beta && beta->requires_grad ? lti_grad(g, beta) : NULL;
    if (g->status || (!dg && !db)) return;
    /* per-thread sums over contiguous row ranges, added in thread order: deterministic for a
     * given thread count */
    int64_t nt = par ? omp_get_max_threads() : 1;
    float *part = lt_graph_alloc(g, sizeof(float) * (size_t)(2 * C * nt));
    if (!part) return;
    memset(part, 0, sizeof(float) * (size_t)(2 * C * nt));
    #pragma omp parallel if (par)
    {
        float *pg = part + 2 * C * omp_get_thread_num(), *pb = pg + C;
        #pragma omp for schedule(static)
        for (int64_t r = 0; r < R; r++) lti_ln_row_affine(R, C, r, x->data, dy, st, pg, pb);
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
    const int64_t R = lt_numel(x) / C;
    lt_tensor *y = lti_like(g, x);
    float *st = lt_graph_alloc(g, sizeof(float) * (size_t)(2 * R)); /* mean (R), rstd (R) */
    if (!y || !st) return NULL;
    const float *ga = gamma ? gamma->data : NULL, *be = beta ? beta->data : NULL;
    #pragma omp parallel for schedule(static) if (R * C > 65536)
    for (int64_t r = 0; r < R; r++) lti_ln_row(R, C, r, x->data, y->data, ga, be, eps, st);
    lti_node *n = lti_graph_record(g, LT_OP_LAYER_NORM, y, 3, (lt_tensor *[]){x, gamma, beta});
    if (n) {
        n->farg[0] = eps;
        n->saved = st;
    }
    return y;
}

/* ---- plane kernels (group norm, batch norm) ----
 * Each plane is summed in 16 float lanes (vectorized), the planes in double in order, and
 * the variance combines each plane's sum of squares about its own mean (Chan et al.), so
 * the statistics take one pass over memory and depend on the shapes alone, never on threads. */

/* the 16 lanes of a block's accumulators a (LTI_VPB vectors), in lane order, in double */
static float lti_bn_hsum(const lti_vt *a) {
    double s = 0;
    for (int h = 0; h < LTI_VPB; h++)
        for (int k = 0; k < LTI_VW; k++) s += a[h][k];
    return (float)s;
}

enum { LTI_ACT_NONE, LTI_ACT_RELU, LTI_ACT_SILU };

/* one plane's map: z = (x − m)·a + b, y = act(z [+ res]) */
typedef struct {
    float m, a, b;
} lti_plane;

/* (these loops vectorize by lti_sigmoidf's compare-selects under -fno-trapping-math) */
/* y[k] = silu(y[k]) over n values */
LTI_INLINE void lti_silu_inplace(float *y, int64_t n) {
    for (int64_t k = 0; k < n; k++) y[k] = y[k] * lti_sigmoidf(y[k]);
}

/* d[k] = dy[k]·silu'(z), z = (x[k] − m)·a + b, over n values; silu' = s + z·s(1 − s) */
LTI_INLINE void lti_silu_dact(const float *dy, const float *x, float m, float a, float b,
                                                    int64_t n, float *d) {
    for (int64_t k = 0; k < n; k++) {
        const float z = (x[k] - m) * a + b, s = lti_sigmoidf(z);
        d[k] = dy[k] * s * (1.0f + z * (1.0f - s));
    }
}

/* values per chunk of the backward's dy' buffer (a multiple of 16, on the stack) */
#define LTI_BN_CHUNK 256

/* plane p (S): its sum, and its sum of squares about its own (float) mean */
static void lti_bn_plane(const float *p, int64_t S, double *sum, double *sq) {
    lti_vt a[LTI_VPB] = {0};
    int64_t j = 0;
    for (; j + 16 <= S; j += 16)
        for (int h = 0; h < LTI_VPB; h++) a[h] += LTI_VLD(p + j + h * LTI_VW);
    float t = 0;
    for (; j < S; j++) t += p[j];
    *sum = (double)lti_bn_hsum(a) + t;
    const float mp = (float)(*sum / (double)S);
    lti_vt b[LTI_VPB] = {0};
    for (j = 0; j + 16 <= S; j += 16)
        for (int h = 0; h < LTI_VPB; h++) {
            const lti_vt d = LTI_VLD(p + j + h * LTI_VW) - mp;
            b[h] += d * d;
        }
    t = 0;
    for (; j < S; j++) t += (p[j] - mp) * (p[j] - mp);
    *sq = (double)lti_bn_hsum(b) + t;
}

/* mean and biased variance over np planes of S values, plane k at x + k·stride */
static void lti_bn_stats(const float *x, int64_t np, int64_t stride, int64_t S, double *mean, double *var) {
    double mu = 0, m2 = 0, cnt = 0;
    for (int64_t k = 0; k < np; k++) {
        double sp, sq;
        lti_bn_plane(x + k * stride, S, &sp, &sq);
        const double d = sp / (double)S - mu, tot = cnt + (double)S;
        mu += d * (double)S / tot;
        m2 += sq + d * d * cnt * (double)S / tot;
        cnt = tot;
    }
    *mean = mu;
    *var = m2 / cnt;
}

/* y = act((x − m)·a + b [+ r]) over one plane */
LTI_INLINE void lti_bn_out(const float *x, const float *r, float *y, int64_t S, const lti_plane *f, int act) {
    const float m = f->m, a = f->a, b = f->b;
    int64_t j = 0;
    for (; j + LTI_VW <= S; j += LTI_VW) {
        lti_vt v = (LTI_VLD(x + j) - m) * a + b;
        if (r) v += LTI_VLD(r + j);
        if (act == LTI_ACT_RELU) v = LTI_VWHERE(v > 0, v);
        LTI_VST(y + j, v);
    }
    for (; j < S; j++) {
        float v = (x[j] - m) * a + b + (r ? r[j] : 0.0f);
        y[j] = act == LTI_ACT_RELU ? (v > 0 ? v : 0.0f) : v;
    }
    if (act == LTI_ACT_SILU) lti_silu_inplace(y, S); /* the plane is still in cache */
}

/* dy' = dy·act'(z) for n values: dy itself without an activation, else into buf (n); relu
 * masks by y > 0, silu recomputes z from x */
LTI_INLINE const float *lti_bn_dact(const float *dy, const float *y, const float *x, const lti_plane *f, int act,
                                    int64_t n, float *buf) {
    if (act == LTI_ACT_NONE) return dy;
    if (act == LTI_ACT_SILU) lti_silu_dact(dy, x, f->m, f->a, f->b, n, buf);
    else
        for (int64_t k = 0; k < n; k++) buf[k] = y[k] > 0 ? dy[k] : 0.0f;
    return buf;
}

/* one plane's Σ dy', Σ dy'·(x − m) (dy' = dy·act'); dr (+)= dy' (set: "=") */
LTI_INLINE void lti_bn_plane_grad(const float *dy, const float *y, const float *x, const lti_plane *f, int64_t S,
                                  int act, float *dr, int set, double *sdy, double *sdyx) {
    const float m = f->m;
    lti_vt a[LTI_VPB] = {0}, b[LTI_VPB] = {0};
    float ta = 0, tb = 0, buf[LTI_BN_CHUNK];
    for (int64_t j0 = 0; j0 < S; j0 += LTI_BN_CHUNK) {
        const int64_t n = S - j0 < LTI_BN_CHUNK ? S - j0 : LTI_BN_CHUNK;
        const float *d = lti_bn_dact(dy + j0, y + j0, x + j0, f, act, n, buf), *xc = x + j0;
        float *rc = dr ? dr + j0 : NULL;
        int64_t j = 0;
        for (; j + 16 <= n; j += 16)
            for (int h = 0; h < LTI_VPB; h++) {
                const int64_t i = j + h * LTI_VW;
                const lti_vt v = LTI_VLD(d + i);
                a[h] += v;
                b[h] += v * (LTI_VLD(xc + i) - m);
                if (rc) LTI_VST(rc + i, set ? v : LTI_VLD(rc + i) + v);
            }
        for (; j < n; j++) { /* the last chunk's tail */
            ta += d[j];
            tb += d[j] * (xc[j] - m);
            if (rc) rc[j] = set ? d[j] : rc[j] + d[j];
        }
    }
    *sdy += (double)lti_bn_hsum(a) + ta;
    *sdyx += (double)lti_bn_hsum(b) + tb;
}

/* dx (+)= p·dy' + q·(x − m) + c over one plane (set: "=") */
LTI_INLINE void lti_bn_plane_dx(const float *dy, const float *y, const float *x, const lti_plane *f, int64_t S,
                                int act, float p, float q, float c, float *dx, int set) {
    const float m = f->m;
    float buf[LTI_BN_CHUNK];
    for (int64_t j0 = 0; j0 < S; j0 += LTI_BN_CHUNK) {
        const int64_t n = S - j0 < LTI_BN_CHUNK ? S - j0 : LTI_BN_CHUNK;
        const float *d = lti_bn_dact(dy + j0, y + j0, x + j0, f, act, n, buf), *xc = x + j0;
        float *o = dx + j0;
        int64_t j = 0;
        for (; j + LTI_VW <= n; j += LTI_VW) {
            const lti_vt v = p * LTI_VLD(d + j) + q * (LTI_VLD(xc + j) - m) + c;
            LTI_VST(o + j, set ? v : LTI_VLD(o + j) + v);
        }
        for (; j < n; j++) {
            const float v = p * d[j] + q * (xc[j] - m) + c;
            o[j] = set ? v : o[j] + v;
        }
    }
}

/* ---- group norm ---- row r = (n, group) of x (N,C,S...) holds planes n·C + r%G·cpg .. +cpg.
 * Node: iarg G, act; farg eps; saved mean and rstd (N·G each); in x, gamma, beta. */

static lt_tensor *lti_gn(lt_graph *g, int op, const char *name, lt_tensor *x, int groups, lt_tensor *gamma,
                         lt_tensor *beta, float eps) {
    if (!lti_check_f32(g, name, x)) return NULL;
    char s[64];
    if (x->ndim < 2 || groups < 1 || x->shape[1] % groups) {
        lti_graph_fail(g, LT_ERR_SHAPE, "%s: want x (N,C,...) with C divisible by %d groups, got %s", name, groups,
                       lt_shape_str(x, s, 64));
        return NULL;
    }
    const int64_t N = x->shape[0], C = x->shape[1], G = groups, cpg = C / G, R = N * G;
    int64_t S = 1;
    for (int d = 2; d < x->ndim; d++) S *= x->shape[d];
    if (!lti_norm_check_affine(g, name, gamma, C) || !lti_norm_check_affine(g, name, beta, C)) return NULL;
    const int act = op == LT_OP_GROUP_NORM_SILU ? LTI_ACT_SILU : LTI_ACT_NONE;
    lt_tensor *y = lti_like(g, x);
    float *st = lt_graph_alloc(g, sizeof(float) * (size_t)(2 * R + 1)); /* mean (R), rstd (R) */
    if (!y || !st) return NULL;
    const float *ga = gamma ? gamma->data : NULL, *be = beta ? beta->data : NULL;
    #pragma omp parallel for schedule(static) if (R * cpg * S > 65536)
    for (int64_t r = 0; r < R; r++) {
        const int64_t c0 = (r % G) * cpg, o = (r / G * C + c0) * S;
        double mu, v;
        lti_bn_stats(x->data + o, cpg, S, S, &mu, &v);
        const float rstd = (float)(1.0 / sqrt(v + eps));
        st[r] = (float)mu;
        st[R + r] = rstd;
        for (int64_t k = 0; k < cpg; k++) {
            const lti_plane f = {(float)mu, rstd * (ga ? ga[c0 + k] : 1.0f), be ? be[c0 + k] : 0.0f};
            if (act == LTI_ACT_SILU) lti_bn_out(x->data + o + k * S, NULL, y->data + o + k * S, S, &f, LTI_ACT_SILU);
            else lti_bn_out(x->data + o + k * S, NULL, y->data + o + k * S, S, &f, LTI_ACT_NONE);
        }
    }
    lti_node *n = lti_graph_record(g, op, y, 3, (lt_tensor *[]){x, gamma, beta});
    if (n) {
        n->iarg[0] = G; n->iarg[1] = act;
        n->farg[0] = eps;
        n->saved = st;
    }
    return y;
}

lt_tensor *lt_group_norm(lt_graph *g, lt_tensor *x, int groups, lt_tensor *gamma, lt_tensor *beta, float eps) {
    return lti_gn(g, LT_OP_GROUP_NORM, "group_norm", x, groups, gamma, beta, eps);
}

lt_tensor *lt_group_norm_silu(lt_graph *g, lt_tensor *x, int groups, lt_tensor *gamma, lt_tensor *beta, float eps) {
    return lti_gn(g, LT_OP_GROUP_NORM_SILU, "group_norm_silu", x, groups, gamma, beta, eps);
}

/* row r: dx = rstd·(d̂ − mean(d̂) − x̂·mean(d̂·x̂)), d̂ = dy'·gamma; each plane's Σ dy' and
 * Σ dy'·x̂ into sb, sg (for dbeta, dgamma) */
LTI_INLINE void lti_gn_row_backward(const float *x, const float *y, const float *dy, const float *ga,
                                    const float *be, float m, float rs, int64_t cpg, int64_t S, int act, float *dx,
                                    int set, float *sb, float *sg) {
    double A = 0, B = 0; /* Σ d̂, Σ d̂·x̂ */
    for (int64_t k = 0; k < cpg; k++) {
        const float gk = ga ? ga[k] : 1.0f;
        const lti_plane f = {m, rs * gk, be ? be[k] : 0.0f};
        double sdy = 0, sdyx = 0;
        lti_bn_plane_grad(dy + k * S, y + k * S, x + k * S, &f, S, act, NULL, 0, &sdy, &sdyx);
        sb[k] = (float)sdy;
        sg[k] = (float)(sdyx * rs);
        A += gk * sdy;
        B += gk * sdyx * rs;
    }
    if (!dx) return;
    const double M = (double)(cpg * S);
    const float fa = (float)(A / M), fb = (float)(B / M);
    for (int64_t k = 0; k < cpg; k++) {
        const float gk = ga ? ga[k] : 1.0f;
        const lti_plane f = {m, rs * gk, be ? be[k] : 0.0f};
        lti_bn_plane_dx(dy + k * S, y + k * S, x + k * S, &f, S, act, rs * gk, -rs * rs * fb, -rs * fa, dx + k * S,
                        set);
    }
}

void lti_group_norm_backward(lt_graph *g, lti_node *n) {
    lt_tensor *x = n->in[0], *gamma = n->in[1], *beta = n->in[2];
    const int64_t N = x->shape[0], C = x->shape[1], G = n->iarg[0], cpg = C / G, R = N * G, S = lt_numel(x) / (N * C);
    const int act = (int)n->iarg[1];
    const float *dy = n->out->grad, *y = n->out->data, *st = n->saved;
    const float *ga = gamma ? gamma->data : NULL, *be = beta ? beta->data : NULL;
    int set = 0;
    float *dx = x->requires_grad ? lti_grad_out(g, x, &set) : NULL;
    float *dg = gamma && gamma->requires_grad ? lti_grad(g, gamma) : NULL;
    float *db = beta && beta->requires_grad ? lti_grad(g, beta) : NULL;
    float *part = lt_graph_alloc(g, sizeof(float) * (size_t)(2 * N * C)); /* per (n, c): Σ dy', Σ dy'·x̂ */
    if (g->status || !part) return;
    #pragma omp parallel for schedule(static) if (R * cpg * S > 65536)
    for (int64_t r = 0; r < R; r++) {
        const int64_t c0 = (r % G) * cpg, o = (r / G * C + c0) * S, pc = r / G * C + c0;
        const float *gk = ga ? ga + c0 : NULL, *bk = be ? be + c0 : NULL;
        if (act == LTI_ACT_SILU)
            lti_gn_row_backward(x->data + o, y + o, dy + o, gk, bk, st[r], st[R + r], cpg, S, LTI_ACT_SILU,
                                dx ? dx + o : NULL, set, part + pc, part + N * C + pc);
        else
            lti_gn_row_backward(x->data + o, y + o, dy + o, gk, bk, st[r], st[R + r], cpg, S, LTI_ACT_NONE,
                                dx ? dx + o : NULL, set, part + pc, part + N * C + pc);
    }
    for (int64_t c = 0; c < C; c++) { /* over the batch in order: deterministic */
        double sb = 0, sg = 0;
        for (int64_t i = 0; i < N; i++) {
            sb += part[i * C + c];
            sg += part[N * C + i * C + c];
        }
        if (db) db[c] += (float)sb;
        if (dg) dg[c] += (float)sg;
    }
}

void lti_group_norm_silu_backward(lt_graph *g, lti_node *n) { lti_group_norm_backward(g, n); }

/* ---- batch norm ---- channel c's statistics run over its N planes (M = N·S values).
 * y = (x − mean_c)·rstd_c·gamma_c + beta_c; the fused batch_norm_relu: y = relu(that + res),
 * res (x's shape) optional.
 * Node: iarg batch (1: batch statistics, 0: given ones), C, S, relu; farg eps;
 * saved mean and rstd (C each); in x, gamma, beta [, res]. */

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
            lti_bn_stats(x->data + c * S, N, C * S, S, &mu, &v);
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
        const lti_plane f = {m, rstd * (ga ? ga[c] : 1.0f), be ? be[c] : 0.0f};
        for (int64_t n = 0; n < N; n++) {
            const int64_t o = (n * C + c) * S;
            const float *xp = x->data + o, *rp = rd ? rd + o : NULL;
            float *yp = y->data + o;
            if (!relu) lti_bn_out(xp, NULL, yp, S, &f, LTI_ACT_NONE);
            else if (rp) lti_bn_out(xp, rp, yp, S, &f, LTI_ACT_RELU);
            else lti_bn_out(xp, NULL, yp, S, &f, LTI_ACT_RELU);
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
        const float r = rstd[c];
        const lti_plane f = {mean[c], r, 0.0f}; /* (a, b unused: relu masks by y) */
        double sdy = 0, sdyx = 0; /* Σ dy', Σ dy'·(x − mean), dy' = dy masked by the relu */
        for (int64_t n = 0; n < N; n++) {
            const int64_t o = (n * C + c) * S;
            if (relu)
                lti_bn_plane_grad(dy + o, y + o, x->data + o, &f, S, LTI_ACT_RELU, dr ? dr + o : NULL, fr, &sdy, &sdyx);
            else lti_bn_plane_grad(dy + o, y + o, x->data + o, &f, S, LTI_ACT_NONE, NULL, 0, &sdy, &sdyx);
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
            if (relu) lti_bn_plane_dx(dy + o, y + o, x->data + o, &f, S, LTI_ACT_RELU, gr, -gr * fb, -gr * fa, dx + o, fx);
            else lti_bn_plane_dx(dy + o, y + o, x->data + o, &f, S, LTI_ACT_NONE, gr, -gr * fb, -gr * fa, dx + o, fx);
        }
    }
}

void lti_batch_norm_relu_backward(lt_graph *g, lti_node *nd) { lti_batch_norm_backward(g, nd); }
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

