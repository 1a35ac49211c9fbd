/* Distributions from ops (see dist.h). Noise is drawn into constant arena
 * tensors; everything differentiable is a chain of recorded ops. */
#include "dist/dist.h"

#include <math.h>
#include <string.h>

#include "ops/ops.h"

#define LTI_LOG_2PI 1.8378770664093453f

/* Sum over every axis but the first: (N,...) -> (N). */
static lt_tensor *lti_rowsum(lt_graph *g, lt_tensor *t) {
    if (!t) return NULL;
    if (t->ndim == 1) return t;
    lt_tensor *r = lt_reshape(g, t, 2, (int64_t[]){t->shape[0], -1});
    return lt_sum(g, r, 1, 0);
}

/* A constant tensor of t's shape (NULL when t is). */
static lt_tensor *lti_like(lt_graph *g, const lt_tensor *t) {
    return t ? lt_graph_new(g, LT_F32, t->ndim, t->shape) : NULL;
}

/* Per-example noise of t's shape (leading dimension = rows) through the graph's part (core/rng.h). */
static void lti_draw(lt_graph *g, lt_rng *r, lt_rng_dist d, const lt_tensor *t, float *out, float a, float b) {
    const int64_t n = lt_numel(t), rows = t->ndim > 0 ? t->shape[0] : 1;
    lt_rng_fill_rows(r, g->part, d, out, rows, rows > 0 ? n / rows : 0, a, b);
}

lt_tensor *lt_normal_sample(lt_graph *g, lt_rng *r, lt_tensor *mu, lt_tensor *logvar) {
    lt_tensor *z = lti_like(g, mu); /* (N,Z) */
    if (!z || !logvar) return NULL;
    int64_t n = lt_numel(z);
    lti_draw(g, r, LT_RNG_NORMAL, z, z->data, 0.0f, 1.0f);
    for (int64_t i = 0; i < n; i++) z->data[i] = mu->data[i] + expf(0.5f * logvar->data[i]) * z->data[i];
    return z;
}

lt_tensor *lt_normal_rsample(lt_graph *g, lt_rng *r, lt_tensor *mu, lt_tensor *logvar) {
    lt_tensor *eps = lti_like(g, mu); /* (N,Z) */
    if (!eps || !logvar) return NULL;
    lti_draw(g, r, LT_RNG_NORMAL, eps, eps->data, 0.0f, 1.0f);
    lt_tensor *sd = lt_exp(g, lt_mul_scalar(g, logvar, 0.5f));
    return lt_add(g, mu, lt_mul(g, sd, eps));
}

lt_tensor *lt_normal_log_prob(lt_graph *g, lt_tensor *x, lt_tensor *mu, lt_tensor *logvar) {
    if (!x) return NULL;
    lt_tensor *d = mu ? lt_sub(g, x, mu) : x;
    lt_tensor *q = lt_mul(g, d, d);
    if (logvar) q = lt_add(g, lt_mul(g, q, lt_exp(g, lt_neg(g, logvar))), logvar);
    int64_t per = x->shape[0] > 0 ? lt_numel(x) / x->shape[0] : 0;
    return lt_add_scalar(g, lt_mul_scalar(g, lti_rowsum(g, q), -0.5f), -0.5f * (float)per * LTI_LOG_2PI);
}

lt_tensor *lt_normal_entropy(lt_graph *g, lt_tensor *logvar) {
    if (!logvar) return NULL;
    int64_t per = logvar->shape[0] > 0 ? lt_numel(logvar) / logvar->shape[0] : 0;
    return lt_add_scalar(g, lt_mul_scalar(g, lti_rowsum(g, logvar), 0.5f), 0.5f * (float)per * (1.0f + LTI_LOG_2PI));
}

lt_tensor *lt_normal_kl_std(lt_graph *g, lt_tensor *mu, lt_tensor *logvar) { return lt_kl_std_normal(g, mu, logvar); }

lt_tensor *lt_normal_kl(lt_graph *g, lt_tensor *mu1, lt_tensor *lv1, lt_tensor *mu2, lt_tensor *lv2) {
    return lt_kl_normal(g, mu1, lv1, mu2, lv2);
}

lt_tensor *lt_bernoulli_sample(lt_graph *g, lt_rng *r, lt_tensor *logits) {
    lt_tensor *z = lti_like(g, logits);
    if (!z) return NULL;
    int64_t n = lt_numel(z);
    lti_draw(g, r, LT_RNG_UNIFORM1, z, z->data, 0.0f, 1.0f);
    for (int64_t i = 0; i < n; i++) z->data[i] = z->data[i] < 1.0f / (1.0f + expf(-logits->data[i])) ? 1.0f : 0.0f;
    return z;
}

lt_tensor *lt_bernoulli_log_prob(lt_graph *g, lt_tensor *logits, lt_tensor *x) {
    return lt_neg(g, lt_bce_with_logits(g, logits, x));
}

/* H = p·softplus(−l) + (1−p)·softplus(l) = softplus(l) − p·l, elementwise */
static lt_tensor *lti_bernoulli_h(lt_graph *g, lt_tensor *logits) {
    return lt_sub(g, lt_softplus(g, logits), lt_mul(g, lt_sigmoid(g, logits), logits));
}

lt_tensor *lt_bernoulli_entropy(lt_graph *g, lt_tensor *logits) { return lti_rowsum(g, lti_bernoulli_h(g, logits)); }

lt_tensor *lt_bernoulli_kl_uniform(lt_graph *g, lt_tensor *logits) {
    if (!logits) return NULL;
    int64_t per = logits->shape[0] > 0 ? lt_numel(logits) / logits->shape[0] : 0;
    return lt_add_scalar(g, lt_neg(g, lt_bernoulli_entropy(g, logits)), (float)per * logf(2.0f));
}

lt_tensor *lt_relaxed_bernoulli(lt_graph *g, lt_rng *r, lt_tensor *logits, float tau) {
    lt_tensor *noise = lti_like(g, logits); /* logistic noise log u − log(1−u) */
    if (!noise) return NULL;
    int64_t n = lt_numel(noise);
    lti_draw(g, r, LT_RNG_UNIFORM1, noise, noise->data, 0.0f, 1.0f);
    for (int64_t i = 0; i < n; i++) {
        float u = noise->data[i];
        u = u < 1e-7f ? 1e-7f : u; /* keeps log u finite; u < 1 already */
        noise->data[i] = logf(u) - log1pf(-u);
    }
    return lt_sigmoid(g, lt_mul_scalar(g, lt_add(g, logits, noise), 1.0f / tau));
}

void lt_gumbel_max(lt_rng *r, const float *logits, int64_t rows, int64_t k, int64_t *idx) {
    float gum[64];
    for (int64_t i = 0; i < rows; i++) {
        int64_t best = 0;
        float bv = -INFINITY;
        for (int64_t j0 = 0; j0 < k; j0 += 64) { /* noise in blocks: any K without a heap buffer */
            int64_t nb = k - j0 < 64 ? k - j0 : 64;
            lt_rng_fill_gumbel(r, gum, nb);
            for (int64_t j = 0; j < nb; j++) {
                float v = logits[i * k + j0 + j] + gum[j];
                if (v > bv) { bv = v; best = j0 + j; }
            }
        }
        idx[i] = best;
    }
}

lt_tensor *lt_onehot_argmax(lt_graph *g, const lt_tensor *x) {
    lt_tensor *h = x ? lt_graph_zeros(g, LT_F32, x->ndim, x->shape) : NULL;
    if (!h) return NULL;
    int64_t k = x->shape[x->ndim - 1], rows = lt_numel(x) / k;
    for (int64_t i = 0; i < rows; i++) {
        int64_t best = 0;
        for (int64_t j = 1; j < k; j++)
            if (x->data[i * k + j] > x->data[i * k + best]) best = j;
        h->data[i * k + best] = 1.0f;
    }
    return h;
}

lt_tensor *lt_categorical_sample(lt_graph *g, lt_rng *r, lt_tensor *logits) {
    lt_tensor *h = logits ? lt_graph_zeros(g, LT_F32, logits->ndim, logits->shape) : NULL;
    if (!h) return NULL;
    int64_t k = logits->shape[logits->ndim - 1], rows = lt_numel(logits) / k;
    int64_t *idx = lt_graph_alloc(g, sizeof(int64_t) * (size_t)rows);
    if (!idx) return NULL;
    const int64_t ex = logits->ndim > 1 ? logits->shape[0] : 1; /* examples: rows / ex argmaxes each */
    if (!lt_rng_part_applies(g->part, ex) || ex == 0) {
        lt_gumbel_max(r, logits->data, rows, k, idx);
    } else { /* row j of the whole draw starts at counter base + j·(counters per row) */
        const int64_t per = rows / ex;
        uint64_t c_row = 0;
        for (int64_t j0 = 0; j0 < k; j0 += 64) c_row += (uint64_t)((k - j0 < 64 ? k - j0 : 64) + 3) / 4;
        const uint64_t base = r->counter;
        for (int64_t i = 0; i < rows; i++) {
            lt_rng s = *r;
            s.counter = base + (uint64_t)(lt_rng_part_row(g->part, i / per) * per + i % per) * c_row;
            lt_gumbel_max(&s, logits->data + i * k, 1, k, idx + i);
        }
        r->counter = base + (uint64_t)(lt_rng_part_rows(g->part, ex) * per) * c_row;
    }
    for (int64_t i = 0; i < rows; i++) h->data[i * k + idx[i]] = 1.0f;
    return h;
}

lt_tensor *lt_categorical_log_prob(lt_graph *g, lt_tensor *logits, lt_tensor *onehot) {
    return lti_rowsum(g, lt_mul(g, onehot, lt_log_softmax(g, logits, -1)));
}

lt_tensor *lt_categorical_entropy(lt_graph *g, lt_tensor *logits) {
    lt_tensor *lq = lt_log_softmax(g, logits, -1);
    return lt_neg(g, lti_rowsum(g, lt_mul(g, lt_exp(g, lq), lq)));
}

lt_tensor *lt_categorical_kl_uniform(lt_graph *g, lt_tensor *logits) {
    if (!logits) return NULL;
    int64_t k = logits->shape[logits->ndim - 1];
    int64_t rows = logits->shape[0] > 0 ? lt_numel(logits) / logits->shape[0] / k : 0;
    return lt_add_scalar(g, lt_neg(g, lt_categorical_entropy(g, logits)), (float)rows * logf((float)k));
}

lt_tensor *lt_gumbel_softmax(lt_graph *g, lt_rng *r, lt_tensor *logits, float tau, int hard) {
    lt_tensor *gum = lti_like(g, logits);
    if (!gum) return NULL;
    lti_draw(g, r, LT_RNG_GUMBEL, gum, gum->data, 0.0f, 0.0f);
    lt_tensor *y = lt_softmax(g, lt_mul_scalar(g, lt_add(g, logits, gum), 1.0f / tau), -1);
    return hard ? lt_straight_through(g, lt_onehot_argmax(g, y), y) : y;
}
