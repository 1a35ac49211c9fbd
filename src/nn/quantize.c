/* The vector quantizer (conventions: nn/nn.h; the maths in its comment there). */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/internal.h"
#include "ops/ops.h"

lt_nn_vq_opts lt_nn_vq_opts_default(void) { return (lt_nn_vq_opts){0, 0.25f, 0.99f, 1e-5f, 0.0f, 0, 0}; }

/* rows of t (R, D) over max(their l2 norm, 1e-12), recorded */
static lt_tensor *lti_l2_rows(lt_graph *g, lt_tensor *t) {
    lt_tensor *n = lt_sqrt(g, lt_sum(g, lt_mul(g, t, t), 1, 1)); /* (R, 1) */
    return lt_div(g, t, lt_clamp(g, n, 1e-12f, 3.4e38f));
}

/* The codebook as the search sees it: no gradient with ema, normalized with cosine. */
static lt_tensor *lti_vq_table(lt_graph *g, const lt_nn_vq *m) {
    lt_tensor *t = m->o.ema ? lt_stop_gradient(g, m->embedding) : m->embedding;
    return m->o.cosine ? lti_l2_rows(g, t) : t;
}

lt_status lt_nn_vq_declare(lt_nn_vq *m, const lt_nn *nn, const char *prefix, int64_t K, int64_t D,
                           const lt_nn_vq_opts *o) {
    lt_status st;
    if ((st = lti_nn_check("VectorQuantizer", prefix, "codes", K, 2)) ||
        (st = lti_nn_check("VectorQuantizer", prefix, "code_dim", D, 1)))
        return st;
    *m = (lt_nn_vq){.K = K, .D = D, .o = o ? *o : lt_nn_vq_opts_default()};
    if (!(m->o.beta >= 0) || !(m->o.decay > 0 && m->o.decay < 1) || !(m->o.eps > 0) || !(m->o.restart_threshold >= 0))
        return lt_fail(LT_ERR_ARG, "nn VectorQuantizer '%s': beta %g must be >= 0, decay %g in (0,1), eps %g > 0, "
                       "restart threshold %g >= 0", prefix ? prefix : "", (double)m->o.beta, (double)m->o.decay,
                       (double)m->o.eps, (double)m->o.restart_threshold);
    const int64_t kd[2] = {K, D};
    lt_params *cb = m->o.ema ? nn->buffers : nn->params;
    if (!(m->embedding = lti_nn_add(cb, prefix, "embedding.weight", 2, kd))) return LT_ERR_ARG;
    if (m->o.ema && (!(m->cluster_size = lti_nn_add(nn->buffers, prefix, "cluster_size", 1, &K)) ||
                     !(m->embed_avg = lti_nn_add(nn->buffers, prefix, "embed_avg", 2, kd)) ||
                     !(m->ema_steps = lti_nn_add(nn->buffers, prefix, "ema_steps", 0, NULL))))
        return LT_ERR_ARG;
    if (m->o.restart_threshold > 0 && !(m->usage = lti_nn_add(nn->buffers, prefix, "usage", 1, &K)))
        return LT_ERR_ARG;
    if (m->o.kmeans && !(m->initialized = lti_nn_add(nn->buffers, prefix, "initialized", 0, NULL)))
        return LT_ERR_ARG;
    return LT_OK;
}

/* A fresh EMA: the accumulators at zero, no steps (debiasing then ignores the initial codes). */
static void lti_vq_sync_ema(lt_nn_vq *m) {
    if (!m->o.ema) return;
    lti_nn_fill(m->embed_avg, 0.0f);
    lti_nn_fill(m->cluster_size, 0.0f);
    lti_nn_fill(m->ema_steps, 0.0f);
}

void lt_nn_vq_reset(lt_nn_vq *m, lt_rng *rng) {
    if (m->o.ema) lt_rng_fill_normal(rng, m->embedding->data, m->K * m->D, 0.0f, 1.0f);
    else lti_nn_uniform(rng, m->embedding, 1.0f / (float)m->K);
    lti_vq_sync_ema(m);
    lti_nn_fill(m->usage, m->o.restart_threshold); /* every code starts alive */
    lti_nn_fill(m->initialized, 0.0f);
    m->rng = lt_rng_fork(rng, 0x5651ull);
}

/* The batch's count n_k (cnt, K) and, with ema, sum s_k (sum, K·D) of the encodings x (M, D)
 * assigned to each code by idx (M), as doubles (sums over processes add them up). */
static void lti_vq_batch_stats(const lt_nn_vq *m, const float *x, const int64_t *idx, int64_t M, double *cnt,
                               double *sum) {
    const int64_t K = m->K, D = m->D;
    memset(cnt, 0, sizeof(double) * (size_t)K);
    if (sum) memset(sum, 0, sizeof(double) * (size_t)(K * D));
    for (int64_t i = 0; i < M; i++) {
        cnt[idx[i]] += 1;
        if (sum)
            for (int64_t j = 0; j < D; j++) sum[idx[i] * D + j] += x[i * D + j];
    }
}

/* An EMA step from the whole batch's counts and sums (nn.h). */
static void lti_vq_ema_apply(lt_nn_vq *m, const double *cnt, const double *sum) {
    const int64_t K = m->K, D = m->D;
    const double d = m->o.decay, w = 1.0 - d;
    float *cs = m->cluster_size->data, *ea = m->embed_avg->data, *e = m->embedding->data;
    for (int64_t k = 0; k < K; k++) cs[k] = (float)(d * cs[k] + w * cnt[k]);
    for (int64_t i = 0; i < K * D; i++) ea[i] = (float)(d * ea[i] + w * sum[i]);
    const double t = (double)(m->ema_steps->data[0] += 1.0f), debias = 1.0 - pow(d, t);
    double n = 0;
    for (int64_t k = 0; k < K; k++) n += cs[k] / debias;
    for (int64_t k = 0; k < K; k++) {
        const double c = ((double)cs[k] / debias + m->o.eps) / (n + (double)K * m->o.eps) * n;
        for (int64_t j = 0; j < D; j++) e[k * D + j] = (float)(ea[k * D + j] / debias / c);
    }
}

void lt_nn_vq_ema_update(lt_nn_vq *m, const float *x, const int64_t *idx, int64_t M) {
    double *cnt = lt_malloc(sizeof(double) * (size_t)(m->K * (m->D + 1)));
    if (!cnt) return; /* a missed EMA step; forward reports its own allocation failure */
    lti_vq_batch_stats(m, x, idx, M, cnt, cnt + m->K);
    lti_vq_ema_apply(m, cnt, cnt + m->K);
    lt_free(cnt);
}

/* The restart (nn.h) from the whole batch's counts cnt (K). This process holds the encodings
 * [off, off + M) of the batch's Mg; a dead code draws a batch index from r (the same draw on
 * every process), and the process holding that encoding supplies it: the others add zeros
 * (g's group sum; g NULL or without a group: this process holds the whole batch). */
static int64_t lti_vq_restart_counts(lt_graph *g, lt_nn_vq *m, lt_rng *r, const float *x, int64_t M, int64_t off,
                                     int64_t Mg, const double *cnt) {
    if (!m->usage || Mg < 1) return 0;
    const int64_t K = m->K, D = m->D;
    const float d = m->o.decay, thr = m->o.restart_threshold;
    float *u = m->usage->data;
    int64_t nd = 0;
    for (int64_t k = 0; k < K; k++) {
        u[k] = (float)((double)d * u[k] + (1.0 - d) * cnt[k]);
        nd += u[k] < thr;
    }
    if (nd == 0) return 0;
    float *v = lt_calloc((size_t)(nd * D), sizeof(float)); /* (nd, D) the dead codes' new vectors */
    int64_t *dead = lt_malloc(sizeof(int64_t) * (size_t)nd);
    if (!v || !dead) {
        lt_free(v);
        lt_free(dead);
        if (g) lti_graph_fail(g, LT_ERR_NOMEM, "nn VectorQuantizer: restarting %lld codes", (long long)nd);
        return 0;
    }
    for (int64_t k = 0, i = 0; k < K; k++) {
        if (u[k] >= thr) continue;
        const int64_t j = (int64_t)lt_rng_below(r, (uint64_t)Mg) - off;
        if (j >= 0 && j < M) memcpy(v + i * D, x + j * D, sizeof(float) * (size_t)D);
        dead[i++] = k;
    }
    if (g && lt_graph_sum_f32(g, v, nd * D)) nd = 0;
    for (int64_t i = 0; i < nd; i++) {
        const int64_t k = dead[i];
        const float *src = v + i * D;
        memcpy(m->embedding->data + k * D, src, sizeof(float) * (size_t)D);
        if (m->o.ema) { /* debiased: count 1, sum the encoding */
            const float b = 1.0f - powf(d, m->ema_steps->data[0]);
            for (int64_t j = 0; j < D; j++) m->embed_avg->data[k * D + j] = b * src[j];
            m->cluster_size->data[k] = b;
        }
        u[k] = thr;
    }
    lt_free(v);
    lt_free(dead);
    return nd;
}

int64_t lt_nn_vq_restart(lt_nn_vq *m, lt_rng *r, const float *x, const int64_t *idx, int64_t M) {
    if (!m->usage || M < 1) return 0;
    double *cnt = lt_malloc(sizeof(double) * (size_t)m->K);
    if (!cnt) return 0;
    lti_vq_batch_stats(m, x, idx, M, cnt, NULL);
    const int64_t n = lti_vq_restart_counts(NULL, m, r, x, M, 0, M, cnt);
    lt_free(cnt);
    return n;
}

static double lti_sqdist(const float *a, const float *b, int64_t D) {
    double s = 0;
    for (int64_t j = 0; j < D; j++) {
        const double t = (double)a[j] - b[j];
        s += t * t;
    }
    return s;
}

/* k-means++ seeding (Arthur & Vassilvitskii 2007: each next centre drawn with probability
 * ∝ its squared distance to the nearest centre so far), then Lloyd iterations. */
void lt_nn_vq_kmeans(lt_nn_vq *m, lt_rng *r, const float *x, int64_t M, int iters) {
    const int64_t K = m->K, D = m->D;
    float *c = m->embedding->data;
    int64_t *a = lt_malloc(sizeof(int64_t) * (size_t)M);
    double *sum = lt_malloc(sizeof(double) * (size_t)(K * D + K)), *near = lt_malloc(sizeof(double) * (size_t)M);
    if (a && sum && near && M > 0) {
        memcpy(c, x + (int64_t)lt_rng_below(r, (uint64_t)M) * D, sizeof(float) * (size_t)D);
        for (int64_t i = 0; i < M; i++) near[i] = lti_sqdist(x + i * D, c, D);
        for (int64_t k = 1; k < K; k++) {
            double tot = 0;
            for (int64_t i = 0; i < M; i++) tot += near[i];
            int64_t pick = (int64_t)lt_rng_below(r, (uint64_t)M); /* all encodings coincide: any */
            if (tot > 0) {
                double u = (double)lt_rng_uniform(r) * tot;
                for (pick = 0; pick < M - 1 && (u -= near[pick]) > 0; pick++) {}
            }
            memcpy(c + k * D, x + pick * D, sizeof(float) * (size_t)D);
            for (int64_t i = 0; i < M; i++) {
                const double dd = lti_sqdist(x + i * D, c + k * D, D);
                if (dd < near[i]) near[i] = dd;
            }
        }
        double *cnt = sum + K * D;
        for (int it = 0; it < iters; it++) {
            for (int64_t i = 0; i < M; i++) { /* assign */
                double best = HUGE_VAL;
                for (int64_t k = 0; k < K; k++) {
                    const double dd = lti_sqdist(x + i * D, c + k * D, D);
                    if (dd < best) { best = dd; a[i] = k; }
                }
            }
            memset(sum, 0, sizeof(double) * (size_t)(K * D + K));
            for (int64_t i = 0; i < M; i++) {
                cnt[a[i]] += 1;
                for (int64_t j = 0; j < D; j++) sum[a[i] * D + j] += x[i * D + j];
            }
            for (int64_t k = 0; k < K; k++)
                if (cnt[k] > 0)
                    for (int64_t j = 0; j < D; j++) c[k * D + j] = (float)(sum[k * D + j] / cnt[k]);
        }
    }
    lt_free(a);
    lt_free(sum);
    lt_free(near);
    lti_vq_sync_ema(m);
}

/* (N,D,H,W) -> (N·H·W, D) and back. */
static lt_tensor *lti_vq_rows(lt_graph *g, lt_tensor *z) {
    lt_tensor *t = lt_permute(g, z, (const int[]){0, 2, 3, 1});
    return t ? lt_reshape(g, t, 2, (int64_t[]){-1, z->shape[1]}) : NULL;
}
static lt_tensor *lti_vq_grid(lt_graph *g, lt_tensor *rows, int64_t N, int64_t H, int64_t W) {
    lt_tensor *t = lt_reshape(g, rows, 4, (int64_t[]){N, H, W, rows ? rows->shape[1] : 0});
    return lt_permute(g, t, (const int[]){0, 3, 1, 2});
}

static lt_tensor *lti_sqdiff_mean(lt_graph *g, lt_tensor *a, lt_tensor *b) {
    return lt_mean(g, lt_pow(g, lt_sub(g, a, b), 2.0f), LT_AXIS_ALL, 0);
}

lt_status lt_nn_vq_forward(lt_graph *g, lt_nn_vq *m, lt_tensor *z_e, lt_nn_vq_out *out) {
    memset(out, 0, sizeof *out);
    if (g->status) return g->status;
    if (!z_e || z_e->ndim != 4 || z_e->shape[1] != m->D) {
        char s[64];
        return lt_fail(LT_ERR_SHAPE, "nn VectorQuantizer: want z_e (N,%lld,H,W), got %s", (long long)m->D,
                       z_e ? lt_shape_str(z_e, s, 64) : "none");
    }
    const int64_t N = z_e->shape[0], H = z_e->shape[2], W = z_e->shape[3], M = N * H * W;
    lt_rng *r = g->rng ? g->rng : &m->rng;
    lt_tensor *x = lti_vq_rows(g, z_e); /* (M, D) */
    if (x && m->o.cosine) x = lti_l2_rows(g, x);
    if (!x) return lt_graph_status(g);
    int64_t off = 0, Mg = M; /* this process's encodings are [off, off + M) of the batch's Mg */
    if (g->training && g->group) {
        const lt_rng_part *p = g->part;
        if (!p || p->n != N || p->total < N)
            return lti_graph_fail(g, LT_ERR_ARG, "nn VectorQuantizer: data-parallel training needs this process's "
                                  "rows of the batch (lt_graph.part), one per example of z_e's %lld", (long long)N);
        off = p->lo * H * W;
        Mg = p->total * H * W;
    }
    if (g->training && m->initialized && m->initialized->data[0] == 0.0f) {
        float *xg = x->data; /* (Mg, D) the whole batch's encodings: gathered by sums with zeros elsewhere */
        const int64_t D = m->D;
        if (Mg != M && (xg = lt_graph_alloc(g, sizeof(float) * (size_t)(Mg * D)))) {
            memset(xg, 0, sizeof(float) * (size_t)(Mg * D));
            memcpy(xg + off * D, x->data, sizeof(float) * (size_t)(M * D));
            lt_graph_sum_f32(g, xg, Mg * D);
        }
        if (!xg || g->status) return lt_graph_status(g);
        lt_nn_vq_kmeans(m, r, xg, Mg, 10);
        m->initialized->data[0] = 1.0f;
    }
    lt_tensor *table = lti_vq_table(g, m);                /* (K, D) */
    lt_tensor *idx = table ? lt_argmin_dist(g, x, table) : NULL; /* (M) */
    lt_tensor *e = lt_embedding(g, table, idx);           /* (M, D) */
    out->codebook = lti_sqdiff_mean(g, e, lt_stop_gradient(g, x));
    out->commitment = lti_sqdiff_mean(g, x, lt_stop_gradient(g, e));
    lt_tensor *bc = lt_mul_scalar(g, out->commitment, m->o.beta);
    out->loss = m->o.ema ? bc : lt_add(g, out->codebook, bc);
    out->z_q = lti_vq_grid(g, lt_straight_through(g, e, x), N, H, W);
    out->codes = idx ? lt_graph_wrap_i64(g, idx->idata, 3, (int64_t[]){N, H, W}) : NULL;
    lt_status st = lt_graph_status(g);
    if (st) return st;
    if (g->training && (m->o.ema || m->usage)) {
        /* after e was read: the updates move the codebook for the next step, from the whole
         * batch's counts and sums (summed over the group) */
        const int64_t K = m->K, D = m->D, ns = K + (m->o.ema ? K * D : 0);
        double *cnt = lt_graph_alloc(g, sizeof(double) * (size_t)ns); /* (K) counts, then (K, D) sums */
        if (!cnt) return lt_graph_status(g);
        lti_vq_batch_stats(m, x->data, idx->idata, M, cnt, m->o.ema ? cnt + K : NULL);
        if ((st = lt_graph_sum_f64(g, cnt, ns))) return st;
        if (m->o.ema) lti_vq_ema_apply(m, cnt, cnt + K);
        out->restarted = lti_vq_restart_counts(g, m, r, x->data, M, off, Mg, cnt);
        if ((st = lt_graph_status(g))) return st;
    }
    return LT_OK;
}

int lt_nn_vq_batch_coupled(const lt_nn_vq *m) { return m->o.ema || m->usage || m->o.kmeans; }

lt_tensor *lt_nn_vq_lookup(lt_graph *g, const lt_nn_vq *m, const lt_tensor *codes) {
    if (!codes || g->status) return NULL;
    if (codes->ndim != 3 || codes->dtype != LT_I64) {
        char s[64];
        lt_fail(LT_ERR_SHAPE, "nn VectorQuantizer: want int64 codes (N,H,W), got %s", lt_shape_str(codes, s, 64));
        g->status = LT_ERR_SHAPE;
        return NULL;
    }
    lt_tensor *t = lti_vq_table(g, m);
    lt_tensor *e = lt_embedding(g, t ? lt_stop_gradient(g, t) : NULL, codes); /* (N,H,W,D) */
    return e ? lt_permute(g, e, (const int[]){0, 3, 1, 2}) : NULL;
}
