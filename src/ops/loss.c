/* Per-example losses: each maps (N,...) inputs to (N), summing over all dims
 * but the first, so a model's loss is lt_mean(loss, 0) and its evaluation keeps
 * the per-example values. Rows run in parallel. */
#include <math.h>

#include "ops/fastmath.h"
#include "ops/internal.h"

#define LTI_PAR_MIN 32768

/* Inputs of a per-example loss: float, non-scalar, all of a's shape. */
static int lti_loss_check(lt_graph *g, const char *name, int nin, const lt_tensor *const *in) {
    for (int i = 0; i < nin; i++)
        if (!lti_check_f32(g, name, in[i])) return 0;
    for (int i = 0; i < nin; i++) {
        if (in[i]->ndim < 1 || !lt_tensor_same_shape(in[i], in[0])) {
            char s0[64], s1[64];
            lti_graph_fail(g, LT_ERR_SHAPE, "%s: input %d has shape %s, expected %s with a leading batch dim", name,
                           i, lt_shape_str(in[i], s1, 64), lt_shape_str(in[0], s0, 64));
            return 0;
        }
    }
    return 1;
}

/* ---- BCE with logits ---- in[1]: the target (constant, not differentiated)
 * Σ_j max(x,0) - x·t + log(1 + e^-|x|): no overflow for any x, and exact for
 * hard targets far from the decision boundary. */

lt_tensor *lt_bce_with_logits(lt_graph *g, lt_tensor *logits, const lt_tensor *target) {
    if (!lti_loss_check(g, "bce_with_logits", 2, (const lt_tensor *[]){logits, target})) return NULL;
    int64_t N = logits->shape[0], D = N ? lt_numel(logits) / N : 0;
    lt_tensor *y = lt_graph_new(g, LT_F32, 1, &N); /* (N) */
    if (!y) return NULL;
    const float *X = logits->data, *T = target->data;
    #pragma omp parallel for schedule(static) if (N * D > LTI_PAR_MIN)
    for (int64_t i = 0; i < N; i++) {
        const float *x = X + i * D, *t = T + i * D;
        float s = 0.0f;
        #pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < D; j++) s += (x[j] > 0.0f ? x[j] : 0.0f) - x[j] * t[j] + lti_log1p_exp_neg_abs(x[j]);
        y->data[i] = s;
    }
    lti_node *n = lti_graph_record(g, LT_OP_BCE_LOGITS, y, 1, &logits);
    if (n) n->in[1] = (lt_tensor *)target;
    return y;
}

/* dx += dy[row] · (sigmoid(x) - t) */
void lti_bce_with_logits_backward(lt_graph *g, lti_node *n) {
    lt_tensor *logits = n->in[0], *target = n->in[1];
    if (!logits->requires_grad) return;
    float *dx = lti_grad(g, logits);
    if (!dx) return;
    int64_t N = logits->shape[0], D = N ? lt_numel(logits) / N : 0;
    const float *X = logits->data, *T = target->data, *dy = n->out->grad;
    #pragma omp parallel for schedule(static) if (N * D > LTI_PAR_MIN)
    for (int64_t i = 0; i < N; i++) {
        const float *x = X + i * D, *t = T + i * D;
        float *d = dx + i * D, g_i = dy[i];
        #pragma omp simd
        for (int64_t j = 0; j < D; j++) d[j] += g_i * (lti_sigmoidf(x[j]) - t[j]);
    }
}

/* ---- cross-entropy ---- in[1]: the labels; saved: per row the max m and
 * ls = log Σ exp(x - m), (2N), kept apart so that x - m stays exact for huge logits */

lt_tensor *lt_cross_entropy(lt_graph *g, lt_tensor *logits, const lt_tensor *labels) {
    if (!lti_check_f32(g, "cross_entropy", logits) || !labels) return NULL;
    if (logits->ndim != 2 || labels->dtype != LT_I64 || labels->ndim != 1 || labels->shape[0] != logits->shape[0]) {
        char s0[64], s1[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "cross_entropy: logits %s and %s labels %s, expected (N,C) and int64 (N)",
                       lt_shape_str(logits, s0, 64), labels->dtype == LT_I64 ? "int64" : "float32",
                       lt_shape_str(labels, s1, 64));
        return NULL;
    }
    int64_t N = logits->shape[0], C = logits->shape[1];
    for (int64_t i = 0; i < N; i++)
        if (labels->idata[i] < 0 || labels->idata[i] >= C) {
            lti_graph_fail(g, LT_ERR_ARG, "cross_entropy: label %lld at row %lld is outside [0,%lld)",
                           (long long)labels->idata[i], (long long)i, (long long)C);
            return NULL;
        }
    lt_tensor *y = lt_graph_new(g, LT_F32, 1, &N); /* (N) */
    float *lse = lt_graph_alloc(g, sizeof(float) * (N ? 2 * N : 1)); /* (N,2): m, ls */
    if (!y || !lse) return NULL;
    #pragma omp parallel for schedule(static) if (N * C > LTI_PAR_MIN)
    for (int64_t i = 0; i < N; i++) {
        const float *x = logits->data + i * C;
        float m = -INFINITY;
        for (int64_t c = 0; c < C; c++) m = fmaxf(m, x[c]);
        double s = 0;
        for (int64_t c = 0; c < C; c++) s += expf(x[c] - m);
        lse[2 * i] = m;
        lse[2 * i + 1] = (float)log(s);
        y->data[i] = (m - x[labels->idata[i]]) + lse[2 * i + 1];
    }
    lti_node *n = lti_graph_record(g, LT_OP_CROSS_ENTROPY, y, 1, &logits);
    if (n) {
        n->in[1] = (lt_tensor *)labels;
        n->saved = lse;
    }
    return y;
}

/* dx += dy[row] · (softmax(x) - onehot(label)) */
void lti_cross_entropy_backward(lt_graph *g, lti_node *n) {
    lt_tensor *logits = n->in[0], *labels = n->in[1];
    if (!logits->requires_grad) return;
    float *dx = lti_grad(g, logits);
    if (!dx) return;
    int64_t N = logits->shape[0], C = logits->shape[1];
    const float *lse = n->saved, *dy = n->out->grad;
    #pragma omp parallel for schedule(static) if (N * C > LTI_PAR_MIN)
    for (int64_t i = 0; i < N; i++) {
        const float *x = logits->data + i * C;
        float *d = dx + i * C;
        for (int64_t c = 0; c < C; c++) d[c] += dy[i] * expf(x[c] - lse[2 * i] - lse[2 * i + 1]);
        d[labels->idata[i]] -= dy[i];
    }
}

/* ---- KL divergences of diagonal Gaussians ---- */

/* 0.5 Σ (mu² + e^lv - 1 - lv) */
lt_tensor *lt_kl_std_normal(lt_graph *g, lt_tensor *mu, lt_tensor *logvar) {
    if (!lti_loss_check(g, "kl_std_normal", 2, (const lt_tensor *[]){mu, logvar})) return NULL;
    int64_t N = mu->shape[0], Z = N ? lt_numel(mu) / N : 0;
    lt_tensor *y = lt_graph_new(g, LT_F32, 1, &N); /* (N) */
    if (!y) return NULL;
    #pragma omp parallel for schedule(static) if (N * Z > LTI_PAR_MIN)
    for (int64_t i = 0; i < N; i++) {
        const float *m = mu->data + i * Z, *lv = logvar->data + i * Z;
        float s = 0.0f;
        #pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < Z; j++) s += m[j] * m[j] + lti_expf(lv[j]) - 1.0f - lv[j];
        y->data[i] = 0.5f * s;
    }
    lti_graph_record(g, LT_OP_KL_STD_NORMAL, y, 2, (lt_tensor *[]){mu, logvar});
    return y;
}

/* dmu += dy·mu; dlv += dy·0.5(e^lv - 1) */
void lti_kl_std_normal_backward(lt_graph *g, lti_node *n) {
    lt_tensor *mu = n->in[0], *lv = n->in[1];
    int64_t N = mu->shape[0], Z = N ? lt_numel(mu) / N : 0;
    const float *dy = n->out->grad;
    float *dmu = mu->requires_grad ? lti_grad(g, mu) : NULL;
    float *dlv = lv->requires_grad ? lti_grad(g, lv) : NULL;
    if (g->status) return;
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < Z; j++) {
            int64_t k = i * Z + j;
            if (dmu) dmu[k] += dy[i] * mu->data[k];
            if (dlv) dlv[k] += dy[i] * 0.5f * (lti_expf(lv->data[k]) - 1.0f);
        }
}

/* KL(N(m1, e^l1) || N(m2, e^l2)) = 0.5 Σ (l2 - l1 + (e^l1 + (m1-m2)²) e^-l2 - 1) */
lt_tensor *lt_kl_normal(lt_graph *g, lt_tensor *mu1, lt_tensor *lv1, lt_tensor *mu2, lt_tensor *lv2) {
    lt_tensor *in[4] = {mu1, lv1, mu2, lv2};
    if (!lti_loss_check(g, "kl_normal", 4, (const lt_tensor *const *)in)) return NULL;
    int64_t N = mu1->shape[0], Z = N ? lt_numel(mu1) / N : 0;
    lt_tensor *y = lt_graph_new(g, LT_F32, 1, &N); /* (N) */
    if (!y) return NULL;
    #pragma omp parallel for schedule(static) if (N * Z > LTI_PAR_MIN)
    for (int64_t i = 0; i < N; i++) {
        const float *m1 = mu1->data + i * Z, *l1 = lv1->data + i * Z, *m2 = mu2->data + i * Z, *l2 = lv2->data + i * Z;
        float s = 0.0f;
        #pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < Z; j++) {
            float d = m1[j] - m2[j];
            s += l2[j] - l1[j] + (lti_expf(l1[j]) + d * d) * lti_expf(-l2[j]) - 1.0f;
        }
        y->data[i] = 0.5f * s;
    }
    lti_graph_record(g, LT_OP_KL_NORMAL, y, 4, in);
    return y;
}

/* with d = m1 - m2, r = e^-l2: dm1 = d·r, dm2 = -d·r, dl1 = 0.5(e^l1·r - 1), dl2 = 0.5(1 - (e^l1 + d²)·r) */
void lti_kl_normal_backward(lt_graph *g, lti_node *n) {
    float *grad[4];
    for (int i = 0; i < 4; i++) grad[i] = n->in[i]->requires_grad ? lti_grad(g, n->in[i]) : NULL;
    if (g->status) return;
    const float *m1 = n->in[0]->data, *l1 = n->in[1]->data, *m2 = n->in[2]->data, *l2 = n->in[3]->data;
    int64_t N = n->in[0]->shape[0], Z = N ? lt_numel(n->in[0]) / N : 0;
    const float *dy = n->out->grad;
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < Z; j++) {
            int64_t k = i * Z + j;
            float d = m1[k] - m2[k], r = lti_expf(-l2[k]), v1 = lti_expf(l1[k]), h = 0.5f * dy[i];
            if (grad[0]) grad[0][k] += dy[i] * d * r;
            if (grad[2]) grad[2][k] -= dy[i] * d * r;
            if (grad[1]) grad[1][k] += h * (v1 * r - 1.0f);
            if (grad[3]) grad[3][k] += h * (1.0f - (v1 + d * d) * r);
        }
}
