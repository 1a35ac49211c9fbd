/* Attention: the causal (lower-triangular) softmax of a score matrix, multi-head
 * self-attention as one op, and its incremental (KV-cache) form for sampling. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/alloc.h"
#include "ops/fastmath.h"
#include "ops/internal.h"

/* scores (...,T,T) -> y (...,T,T): row i is the softmax of scores[i, 0..i]; y[i, j>i] = 0.
 * saved: nothing (backward reads y). */
lt_tensor *lt_causal_softmax(lt_graph *g, lt_tensor *scores) {
    if (!lti_check_f32(g, "causal_softmax", scores)) return NULL;
    int nd = scores->ndim;
    if (nd < 2 || scores->shape[nd - 1] != scores->shape[nd - 2]) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "causal_softmax: want scores (...,T,T), got %s", lt_shape_str(scores, s, 64));
        return NULL;
    }
    int64_t T = scores->shape[nd - 1], rows = T ? lt_numel(scores) / T : 0;
    lt_tensor *y = lti_like(g, scores);
    if (!y) return NULL;
    #pragma omp parallel for schedule(static) if (rows * T > 65536)
    for (int64_t r = 0; r < rows; r++) {
        int64_t i = r % T; /* row within its (T,T) matrix: columns 0..i are visible */
        const float *s = scores->data + r * T;
        float *o = y->data + r * T, mx = s[0];
        for (int64_t j = 1; j <= i; j++) mx = s[j] > mx ? s[j] : mx;
        double sum = 0;
        for (int64_t j = 0; j <= i; j++) {
            o[j] = expf(s[j] - mx);
            sum += o[j];
        }
        float inv = (float)(1.0 / sum);
        for (int64_t j = 0; j <= i; j++) o[j] *= inv;
        for (int64_t j = i + 1; j < T; j++) o[j] = 0.0f;
    }
    lti_graph_record(g, LT_OP_CAUSAL_SOFTMAX, y, 1, &scores);
    return y;
}

/* ds[j] += y[j]·(dy[j] - Σ_{k<=i} y[k]·dy[k]) for j <= i; masked entries get nothing */
void lti_causal_softmax_backward(lt_graph *g, lti_node *n) {
    lt_tensor *s = n->in[0], *y = n->out;
    if (!s->requires_grad) return;
    float *ds = lti_grad(g, s);
    if (!ds) return;
    int64_t T = s->shape[s->ndim - 1], rows = T ? lt_numel(s) / T : 0;
    #pragma omp parallel for schedule(static) if (rows * T > 65536)
    for (int64_t r = 0; r < rows; r++) {
        int64_t i = r % T;
        const float *yr = y->data + r * T, *dyr = y->grad + r * T;
        double dot = 0;
        for (int64_t j = 0; j <= i; j++) dot += (double)yr[j] * dyr[j];
        for (int64_t j = 0; j <= i; j++) ds[r * T + j] += yr[j] * (dyr[j] - (float)dot);
    }
}

/* ---- multi-head self-attention ----
 * Per (batch, head) pair, row block by row block (LTI_ATTN_ROWS query rows at a time):
 *   S = scale·Q·Kᵀ, P = softmax(S) (causal: row i sees columns 0..i), O = P·V.
 * Q, K and V are read in place from qkv (row stride 3C) and O written in place into
 * y (row stride C): no head is ever copied out. A causal block only computes the columns
 * its last row can see, about half the work at long T. The probabilities are not kept:
 * forward saves each row's log-sum-exp (B, heads, T) and backward recomputes P block by
 * block as exp(S - lse) (one more T·T·Dh product, against B·heads·T·T floats that
 * would otherwise sit in the arena until backward: 39 MB per layer at B 64, T 196).
 * Pairs are independent and write disjoint slices of y and of qkv's gradient, so the
 * loop is parallel over pairs with no reduction: the result does not depend on the
 * thread count. Inside the parallel region OpenBLAS (OpenMP build) runs single-threaded.
 * Node: iarg heads, causal; saved lse. */
#define LTI_ATTN_ROWS 64

typedef struct {
    int64_t B, T, C, H, Dh;
    int causal;
    float scale;
} lti_attn_geom;

/* Rows [r0,r1) of one pair: s (r1-r0, ld T) = scale·Q[r0:r1]·K[0:n]ᵀ, then each row
 * becomes its probabilities (columns past the causal limit set to 0). With lse == NULL
 * the row's log-sum-exp is computed and stored in lse_out; otherwise P = exp(s - lse). */
static void lti_attn_probs(const lti_attn_geom *q, const float *Q, const float *K, int64_t r0, int64_t r1, int64_t n,
                           float *s, const float *lse, float *lse_out) {
    int64_t ld3 = 3 * q->C;
    lti_gemm(0, 1, r1 - r0, n, q->Dh, q->scale, Q + r0 * ld3, ld3, K, ld3, 0.0f, s, q->T);
    for (int64_t i = r0; i < r1; i++) {
        float *row = s + (i - r0) * q->T;
        int64_t vis = q->causal ? i + 1 : n; /* columns row i sees */
        if (lse) {
            float l = lse[i];
            for (int64_t j = 0; j < vis; j++) row[j] = lti_expf(row[j] - l);
        } else {
            float mx = row[0], sum = 0.0f;
            for (int64_t j = 1; j < vis; j++) mx = row[j] > mx ? row[j] : mx;
            for (int64_t j = 0; j < vis; j++) {
                row[j] = lti_expf(row[j] - mx);
                sum += row[j];
            }
            float inv = 1.0f / sum;
            for (int64_t j = 0; j < vis; j++) row[j] *= inv;
            lse_out[i] = mx + logf(sum);
        }
        for (int64_t j = vis; j < n; j++) row[j] = 0.0f;
    }
}

/* columns of the key/value rows that rows [r0,r1) can see */
static int64_t lti_attn_cols(const lti_attn_geom *q, int64_t r1) { return q->causal ? r1 : q->T; }

/* scratch floats per thread: one block of rows (forward) or two (backward) */
static float *lti_attn_scratch(lt_graph *g, const lti_attn_geom *q, int blocks) {
    int64_t rows = q->T < LTI_ATTN_ROWS ? q->T : LTI_ATTN_ROWS;
    return lt_graph_alloc(g, sizeof(float) * (size_t)(omp_get_max_threads() * blocks * rows * q->T + 1));
}

static int lti_attn_parallel(const lti_attn_geom *q) { return q->B * q->H > 1 && q->B * q->H * q->T * q->T * q->Dh > 200000; }

lt_tensor *lt_attention(lt_graph *g, lt_tensor *qkv, int heads, int causal) {
    if (!lti_check_f32(g, "attention", qkv)) return NULL;
    char s[64];
    if (qkv->ndim != 3 || qkv->shape[2] % 3 || heads < 1 || (qkv->shape[2] / 3) % heads || qkv->shape[2] == 0) {
        lti_graph_fail(g, LT_ERR_SHAPE, "attention: want qkv (B,T,3C) with C divisible by %d heads, got %s", heads,
                       lt_shape_str(qkv, s, 64));
        return NULL;
    }
    lti_attn_geom q = {qkv->shape[0], qkv->shape[1], qkv->shape[2] / 3, heads, qkv->shape[2] / 3 / heads, causal != 0, 0};
    q.scale = 1.0f / sqrtf((float)q.Dh);
    lt_tensor *y = lt_graph_new(g, LT_F32, 3, (int64_t[]){q.B, q.T, q.C}); /* (B,T,C) */
    float *lse = lt_graph_alloc(g, sizeof(float) * (size_t)(q.B * q.H * q.T + 1));   /* (B,H,T) */
    float *scratch = lti_attn_scratch(g, &q, 1);
    if (!y || !lse || !scratch) return NULL;
    int64_t rows = q.T < LTI_ATTN_ROWS ? q.T : LTI_ATTN_ROWS;
    #pragma omp parallel for schedule(static) if (lti_attn_parallel(&q))
    for (int64_t p = 0; p < q.B * q.H; p++) {
        int64_t b = p / q.H, h = p % q.H;
        const float *Q = qkv->data + b * q.T * 3 * q.C + h * q.Dh, *K = Q + q.C, *V = Q + 2 * q.C;
        float *O = y->data + b * q.T * q.C + h * q.Dh, *sb = scratch + omp_get_thread_num() * rows * q.T;
        for (int64_t r0 = 0; r0 < q.T; r0 += rows) {
            int64_t r1 = r0 + rows < q.T ? r0 + rows : q.T, n = lti_attn_cols(&q, r1);
            lti_attn_probs(&q, Q, K, r0, r1, n, sb, NULL, lse + p * q.T);
            lti_gemm(0, 0, r1 - r0, q.Dh, n, 1.0f, sb, q.T, V, 3 * q.C, 0.0f, O + r0 * q.C, q.C);
        }
    }
    lti_node *n = lti_graph_record(g, LT_OP_ATTENTION, y, 1, &qkv);
    if (n) {
        n->iarg[0] = heads;
        n->iarg[1] = q.causal;
        n->saved = lse;
    }
    return y;
}

/* Per row block, with P recomputed and dO = the output's gradient:
 *   dP = dO·Vᵀ,  dV += Pᵀ·dO,  dS = P ⊙ (dP - rowsum(P ⊙ dP)),
 *   dQ += scale·dS·K,  dK += scale·dSᵀ·Q */
void lti_attention_backward(lt_graph *g, lti_node *n) {
    lt_tensor *qkv = n->in[0], *y = n->out;
    if (!qkv->requires_grad) return;
    float *dqkv = lti_grad(g, qkv);
    lti_attn_geom q = {qkv->shape[0], qkv->shape[1], qkv->shape[2] / 3, n->iarg[0], 0, (int)n->iarg[1], 0};
    q.Dh = q.C / q.H;
    q.scale = 1.0f / sqrtf((float)q.Dh);
    float *scratch = lti_attn_scratch(g, &q, 2);
    if (!dqkv || !scratch) return;
    const float *lse = n->saved;
    int64_t rows = q.T < LTI_ATTN_ROWS ? q.T : LTI_ATTN_ROWS, ld3 = 3 * q.C;
    #pragma omp parallel for schedule(static) if (lti_attn_parallel(&q))
    for (int64_t p = 0; p < q.B * q.H; p++) {
        int64_t b = p / q.H, h = p % q.H, off = b * q.T * ld3 + h * q.Dh;
        const float *Q = qkv->data + off, *K = Q + q.C, *V = Q + 2 * q.C;
        const float *dO = y->grad + b * q.T * q.C + h * q.Dh;
        float *dQ = dqkv + off, *dK = dQ + q.C, *dV = dQ + 2 * q.C;
        float *P = scratch + omp_get_thread_num() * 2 * rows * q.T, *dP = P + rows * q.T;
        for (int64_t r0 = 0; r0 < q.T; r0 += rows) {
            int64_t r1 = r0 + rows < q.T ? r0 + rows : q.T, m = r1 - r0, nc = lti_attn_cols(&q, r1);
            lti_attn_probs(&q, Q, K, r0, r1, nc, P, lse + p * q.T, NULL);
            lti_gemm(0, 1, m, nc, q.Dh, 1.0f, dO + r0 * q.C, q.C, V, ld3, 0.0f, dP, q.T);
            lti_gemm(1, 0, nc, q.Dh, m, 1.0f, P, q.T, dO + r0 * q.C, q.C, 1.0f, dV, ld3);
            for (int64_t i = 0; i < m; i++) {
                float *pr = P + i * q.T, *dr = dP + i * q.T, dot = 0.0f;
                for (int64_t j = 0; j < nc; j++) dot += pr[j] * dr[j];
                for (int64_t j = 0; j < nc; j++) dr[j] = pr[j] * (dr[j] - dot);
            }
            lti_gemm(0, 0, m, q.Dh, nc, q.scale, dP, q.T, K, ld3, 1.0f, dQ + r0 * ld3, ld3);
            lti_gemm(1, 0, nc, q.Dh, m, q.scale, dP, q.T, Q + r0 * ld3, ld3, 1.0f, dK, ld3);
        }
    }
}

/* ---- KV cache: incremental decoding ---- */

lt_status lt_kv_cache_init(lt_kv_cache *c, int64_t B, int64_t T_max, int64_t C, int heads) {
    memset(c, 0, sizeof *c);
    if (B < 1 || T_max < 1 || heads < 1 || C < 1 || C % heads)
        return lt_fail(LT_ERR_ARG, "kv cache: want B, T_max, C >= 1 and C divisible by heads, got B %lld T_max %lld "
                       "C %lld heads %d", (long long)B, (long long)T_max, (long long)C, heads);
    size_t n = (size_t)(B * T_max * C);
    c->k = lt_malloc(sizeof(float) * n);
    c->v = lt_malloc(sizeof(float) * n);
    if (!c->k || !c->v) {
        lt_kv_cache_free(c);
        return lt_fail(LT_ERR_NOMEM, "kv cache: out of memory for 2 x %zu floats", n);
    }
    c->B = B;
    c->T_max = T_max;
    c->C = C;
    c->heads = heads;
    return LT_OK;
}

void lt_kv_cache_free(lt_kv_cache *c) {
    lt_free(c->k);
    lt_free(c->v);
    memset(c, 0, sizeof *c);
}

/* Per (b, h): store k and v at row len, then o = Σ_j softmax(scale·q·k_j)_j v_j over
 * j = 0..len: O(len·Dh) per pair, the cost of one row of lt_attention's causal forward. */
lt_tensor *lt_attention_step(lt_graph *g, lt_kv_cache *c, const lt_tensor *qkv) {
    if (!lti_check_f32(g, "attention_step", qkv)) return NULL;
    char s[64];
    if (qkv->ndim != 2 || qkv->shape[0] != c->B || qkv->shape[1] != 3 * c->C) {
        lti_graph_fail(g, LT_ERR_SHAPE, "attention_step: want qkv (%lld,%lld) for this cache, got %s",
                       (long long)c->B, (long long)(3 * c->C), lt_shape_str(qkv, s, 64));
        return NULL;
    }
    if (c->len >= c->T_max) {
        lti_graph_fail(g, LT_ERR_ARG, "attention_step: the kv cache is full (%lld positions)", (long long)c->T_max);
        return NULL;
    }
    int64_t B = c->B, C = c->C, H = c->heads, Dh = C / H, T = c->T_max, t = c->len;
    float scale = 1.0f / sqrtf((float)Dh);
    lt_tensor *y = lt_graph_new(g, LT_F32, 2, (int64_t[]){B, C}); /* (B,C) */
    float *scratch = lt_graph_alloc(g, sizeof(float) * (size_t)(omp_get_max_threads() * (t + 1)));
    if (!y || !scratch) return NULL;
    #pragma omp parallel for schedule(static) if (B * H * (t + 1) * Dh > 100000)
    for (int64_t p = 0; p < B * H; p++) {
        int64_t b = p / H, h = p % H;
        const float *qv = qkv->data + b * 3 * C + h * Dh;
        float *K = c->k + p * T * Dh, *V = c->v + p * T * Dh, *o = y->data + b * C + h * Dh;
        float *sc = scratch + omp_get_thread_num() * (t + 1);
        memcpy(K + t * Dh, qv + C, sizeof(float) * Dh);
        memcpy(V + t * Dh, qv + 2 * C, sizeof(float) * Dh);
        float mx = -INFINITY, sum = 0.0f;
        for (int64_t j = 0; j <= t; j++) {
            float d = 0.0f;
            for (int64_t e = 0; e < Dh; e++) d += qv[e] * K[j * Dh + e];
            sc[j] = d * scale;
            mx = sc[j] > mx ? sc[j] : mx;
        }
        for (int64_t e = 0; e < Dh; e++) o[e] = 0.0f;
        for (int64_t j = 0; j <= t; j++) {
            float w = lti_expf(sc[j] - mx);
            sum += w;
            for (int64_t e = 0; e < Dh; e++) o[e] += w * V[j * Dh + e];
        }
        float inv = 1.0f / sum;
        for (int64_t e = 0; e < Dh; e++) o[e] *= inv;
    }
    c->len = t + 1;
    return y;
}
