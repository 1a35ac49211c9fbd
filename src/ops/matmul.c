/* Matrix products: matmul (batched, both transposes), linear, masked linear, linear plus
 * a residual.
 * All go through lti_gemm; backward accumulates with beta = 1. */
#include <string.h>

#include "ops/internal.h"

/* ---- matmul ---- iarg: trans_a, trans_b, batch, M, N, K */

static int64_t lti_bstride(const lt_tensor *t) { return t->ndim == 3 ? t->shape[1] * t->shape[2] : 0; }

lt_tensor *lt_matmul(lt_graph *g, lt_tensor *a, lt_tensor *b, int trans_a, int trans_b) {
    if (!lti_check_f32(g, "matmul", a) || !lti_check_f32(g, "matmul", b)) return NULL;
    if (a->ndim < 2 || a->ndim > 3 || b->ndim < 2 || b->ndim > 3) {
        lti_graph_fail(g, LT_ERR_SHAPE, "matmul: operands must be 2-D or 3-D (got %d-D and %d-D)", a->ndim, b->ndim);
        return NULL;
    }
    int64_t ar = a->shape[a->ndim - 2], ac = a->shape[a->ndim - 1];
    int64_t br = b->shape[b->ndim - 2], bc = b->shape[b->ndim - 1];
    int64_t M = trans_a ? ac : ar, K = trans_a ? ar : ac, Kb = trans_b ? bc : br, N = trans_b ? br : bc;
    int64_t batch = a->ndim == 3 ? a->shape[0] : (b->ndim == 3 ? b->shape[0] : 1);
    if (K != Kb || (a->ndim == 3 && b->ndim == 3 && a->shape[0] != b->shape[0])) {
        char s1[64], s2[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "matmul: shapes %s%s and %s%s do not multiply", lt_shape_str(a, s1, 64),
                       trans_a ? "ᵀ" : "", lt_shape_str(b, s2, 64), trans_b ? "ᵀ" : "");
        return NULL;
    }
    int batched = a->ndim == 3 || b->ndim == 3;
    int64_t shape[3] = {batch, M, N};
    lt_tensor *out = batched ? lt_graph_new(g, LT_F32, 3, shape) : lt_graph_new(g, LT_F32, 2, shape + 1);
    if (!out) return NULL;
    int64_t sa = lti_bstride(a), sb = lti_bstride(b);
    for (int64_t i = 0; i < batch; i++)
        lti_gemm(trans_a, trans_b, M, N, K, 1.0f, a->data + i * sa, ac, b->data + i * sb, bc, 0.0f,
                 out->data + i * M * N, N);
    lti_node *n = lti_graph_record(g, LT_OP_MATMUL, out, 2, (lt_tensor *[]){a, b});
    if (n) {
        n->iarg[0] = trans_a; n->iarg[1] = trans_b; n->iarg[2] = batch;
        n->iarg[3] = M; n->iarg[4] = N; n->iarg[5] = K;
    }
    return out;
}

void lti_matmul_backward(lt_graph *g, lti_node *n) {
    lt_tensor *a = n->in[0], *b = n->in[1], *out = n->out;
    int ta = (int)n->iarg[0], tb = (int)n->iarg[1];
    int64_t batch = n->iarg[2], M = n->iarg[3], N = n->iarg[4], K = n->iarg[5];
    int64_t ac = a->shape[a->ndim - 1], bc = b->shape[b->ndim - 1];
    int64_t sa = lti_bstride(a), sb = lti_bstride(b);
    const float *dC = out->grad;
    if (a->requires_grad) {
        float *da = lti_grad(g, a);
        if (!da) return;
        for (int64_t i = 0; i < batch; i++) {
            const float *B = b->data + i * sb, *dc = dC + i * M * N;
            if (!ta) lti_gemm(0, !tb, M, K, N, 1.0f, dc, N, B, bc, 1.0f, da + i * sa, ac); /* dA = dC·op(B)ᵀ */
            else lti_gemm(tb, 1, K, M, N, 1.0f, B, bc, dc, N, 1.0f, da + i * sa, ac);     /* dAᵀ = op(B)·dCᵀ */
        }
    }
    if (b->requires_grad) {
        float *db = lti_grad(g, b);
        if (!db) return;
        for (int64_t i = 0; i < batch; i++) {
            const float *A = a->data + i * sa, *dc = dC + i * M * N;
            if (!tb) lti_gemm(!ta, 0, K, N, M, 1.0f, A, ac, dc, N, 1.0f, db + i * sb, bc); /* dB = op(A)ᵀ·dC */
            else lti_gemm(1, ta, N, K, M, 1.0f, dc, N, A, ac, 1.0f, db + i * sb, bc);      /* dBᵀ = dCᵀ·op(A) */
        }
    }
}

/* ---- linear and masked linear ---- saved: the effective weight (masked linear) */

static int lti_linear_check(lt_graph *g, const char *op, lt_tensor *x, lt_tensor *w, lt_tensor *bias) {
    if (!lti_check_f32(g, op, x) || !lti_check_f32(g, op, w)) return 0;
    if (bias && !lti_check_f32(g, op, bias)) return 0;
    if (x->ndim != 2 || w->ndim != 2 || x->shape[1] != w->shape[1] ||
        (bias && (bias->ndim != 1 || bias->shape[0] != w->shape[0]))) {
        char s1[64], s2[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "%s: input %s does not fit weight %s (want x (N,I), w (O,I), bias (O))", op,
                       lt_shape_str(x, s1, 64), lt_shape_str(w, s2, 64));
        return 0;
    }
    return 1;
}

/* y (N,O) = x (N,I) · weff (O,I)ᵀ + bias (O) [+ res (N,O)] */
static void lti_linear_forward(lt_tensor *y, const lt_tensor *x, const float *weff, const lt_tensor *bias,
                               const lt_tensor *res) {
    int64_t N = x->shape[0], I = x->shape[1], O = y->shape[1];
    float beta = 0.0f;
    if (res) { /* the residual and the bias in the pass that would have copied the bias alone */
        #pragma omp parallel for schedule(static) if (N * O > 100000)
        for (int64_t i = 0; i < N; i++) {
            const float *r = res->data + i * O;
            float *o = y->data + i * O;
            if (bias)
                for (int64_t j = 0; j < O; j++) o[j] = r[j] + bias->data[j];
            else
                memcpy(o, r, sizeof(float) * O);
        }
        beta = 1.0f;
    } else if (bias) {
        for (int64_t i = 0; i < N; i++) memcpy(y->data + i * O, bias->data, sizeof(float) * O);
        beta = 1.0f;
    }
    lti_gemm(0, 1, N, O, I, 1.0f, x->data, I, weff, I, beta, y->data, O);
}

lt_tensor *lt_linear(lt_graph *g, lt_tensor *x, lt_tensor *w, lt_tensor *bias) {
    if (!lti_linear_check(g, "linear", x, w, bias)) return NULL;
    lt_tensor *y = lt_graph_new(g, LT_F32, 2, (int64_t[]){x->shape[0], w->shape[0]});
    if (!y) return NULL;
    lti_linear_forward(y, x, w->data, bias, NULL);
    lti_graph_record(g, LT_OP_LINEAR, y, 3, (lt_tensor *[]){x, w, bias});
    return y;
}

/* One op instead of lt_add(res, lt_linear(...)): no (N,O) product kept beside the sum, one
 * pass less each way. in[3] = res. */
lt_tensor *lt_linear_add(lt_graph *g, lt_tensor *x, lt_tensor *w, lt_tensor *bias, lt_tensor *res) {
    if (!lti_linear_check(g, "linear_add", x, w, bias) || !lti_check_f32(g, "linear_add", res)) return NULL;
    if (res->ndim != 2 || res->shape[0] != x->shape[0] || res->shape[1] != w->shape[0]) {
        char s1[64], s2[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "linear_add: residual %s does not fit the product (%lld,%lld) of x %s",
                       lt_shape_str(res, s1, 64), (long long)x->shape[0], (long long)w->shape[0],
                       lt_shape_str(x, s2, 64));
        return NULL;
    }
    lt_tensor *y = lt_graph_new(g, LT_F32, 2, (int64_t[]){x->shape[0], w->shape[0]});
    if (!y) return NULL;
    lti_linear_forward(y, x, w->data, bias, res);
    lti_graph_record(g, LT_OP_LINEAR_ADD, y, 4, (lt_tensor *[]){x, w, bias, res});
    return y;
}

lt_tensor *lt_masked_linear(lt_graph *g, lt_tensor *x, lt_tensor *w, const lt_tensor *mask, lt_tensor *bias) {
    if (!lti_linear_check(g, "masked_linear", x, w, bias)) return NULL;
    if (!mask || !lt_tensor_same_shape(mask, w) || mask->dtype != LT_F32) {
        lti_graph_fail(g, LT_ERR_SHAPE, "masked_linear: mask must be float32 with the weight's shape");
        return NULL;
    }
    int64_t O = w->shape[0], I = w->shape[1], nw = O * I;
    lt_tensor *y = lt_graph_new(g, LT_F32, 2, (int64_t[]){x->shape[0], O});
    float *weff = lt_graph_alloc(g, sizeof(float) * nw);
    if (!y || !weff) return NULL;
    #pragma omp parallel for schedule(static) if (nw > 100000)
    for (int64_t i = 0; i < nw; i++) weff[i] = w->data[i] * mask->data[i];
    lti_linear_forward(y, x, weff, bias, NULL);
    lti_node *n = lti_graph_record(g, LT_OP_MASKED_LINEAR, y, 3, (lt_tensor *[]){x, w, bias});
    if (n) {
        n->saved = weff;
        n->in[3] = (lt_tensor *)mask; /* kept for backward, not differentiated */
    }
    return y;
}

/* dx += dy·weff; dw += (dyᵀ·x) [⊙ mask]; db += Σ_rows dy */
static void lti_linear_backward_common(lt_graph *g, lti_node *n, const float *weff, const lt_tensor *mask) {
    lt_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2], *y = n->out;
    int64_t N = x->shape[0], I = x->shape[1], O = w->shape[0];
    const float *dy = y->grad;
    if (x->requires_grad) {
        float *dx = lti_grad(g, x);
        if (!dx) return;
        lti_gemm(0, 0, N, I, O, 1.0f, dy, O, weff, I, 1.0f, dx, I);
    }
    if (w->requires_grad) {
        float *dw = lti_grad(g, w);
        if (!dw) return;
        if (!mask) {
            lti_gemm(1, 0, O, I, N, 1.0f, dy, O, x->data, I, 1.0f, dw, I);
        } else {
            float *tmp = lt_graph_alloc(g, sizeof(float) * O * I);
            if (!tmp) return;
            lti_gemm(1, 0, O, I, N, 1.0f, dy, O, x->data, I, 0.0f, tmp, I);
            const float *m = mask->data;
            #pragma omp parallel for schedule(static) if (O * I > 100000)
            for (int64_t i = 0; i < O * I; i++) dw[i] += tmp[i] * m[i];
        }
    }
    if (bias && bias->requires_grad) {
        float *db = lti_grad(g, bias);
        if (!db) return;
        for (int64_t i = 0; i < N; i++) {
            const float *r = dy + i * O;
            for (int64_t j = 0; j < O; j++) db[j] += r[j];
        }
    }
}

void lti_linear_backward(lt_graph *g, lti_node *n) { lti_linear_backward_common(g, n, n->in[1]->data, NULL); }

/* as linear; dres += dy */
void lti_linear_add_backward(lt_graph *g, lti_node *n) {
    lti_linear_backward_common(g, n, n->in[1]->data, NULL);
    lt_tensor *res = n->in[3];
    if (g->status || !res->requires_grad) return;
    float *dr = lti_grad(g, res);
    if (!dr) return;
    const float *dy = n->out->grad;
    int64_t m = lt_numel(res);
    #pragma omp parallel for schedule(static) if (m > 100000)
    for (int64_t i = 0; i < m; i++) dr[i] += dy[i];
}

void lti_masked_linear_backward(lt_graph *g, lti_node *n) {
    lti_linear_backward_common(g, n, n->saved, n->in[3]);
}
