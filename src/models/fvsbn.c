/* FVSBN, the fully visible sigmoid belief network (Frey 1998; Larochelle & Murray 2011):
 *     p(x_d | x_<d, y) = sigmoid(b_d + Σ_{j<d} W_dj x_j + Wy_{d,y})
 * a logistic regression per pixel on the previous pixels, in raster order.
 * All D regressions are one masked linear layer: logits = x·(W ⊙ M)ᵀ + b with M
 * strictly lower-triangular (M_dj = 1 for j < d).
 *
 * Parameters: "W" (D,D) (entries on/above the diagonal are unused and stay at
 * their initial value, their gradient is always 0), "b" (D), and for a
 * class-conditional model "Wy" (D,C): the one-hot label y enters every logit
 * through logits += onehot(y)·Wyᵀ. Config: no keys beyond the common ones. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "models/internal.h"
#include "ops/ops.h"

typedef struct lti_fvsbn {
    lt_tensor *W, *b, *Wy; /* (D,D), (D), (D,C) or NULL; point into m->params */
    float *mask;           /* (D,D) strictly lower-triangular 0/1, owned */
    lt_tensor mask_t;      /* describes mask */
} lti_fvsbn;

static lt_status fvsbn_create(lt_model *m) {
    const int64_t D = m->dim, C = m->n_classes;
    lti_fvsbn *f = lt_calloc(1, sizeof *f);
    if (!f) return lt_fail(LT_ERR_NOMEM, "out of memory creating fvsbn");
    m->impl = f;
    f->mask = lt_calloc((size_t)(D * D), sizeof(float));
    if (!f->mask) return lt_fail(LT_ERR_NOMEM, "out of memory for the fvsbn mask (%lld x %lld)", (long long)D, (long long)D);
    for (int64_t d = 0; d < D; d++)
        for (int64_t j = 0; j < d; j++) f->mask[d * D + j] = 1.0f;
    f->mask_t = lt_tensor_wrap(f->mask, 2, (int64_t[]){D, D});
    f->W = lt_params_add(&m->params, "W", 2, (int64_t[]){D, D});
    f->b = lt_params_add(&m->params, "b", 1, (int64_t[]){D});
    if (!f->W || !f->b) return LT_ERR_ARG;
    if (C > 0 && !(f->Wy = lt_params_add(&m->params, "Wy", 2, (int64_t[]){D, C}))) return LT_ERR_ARG;
    lt_status st = lt_params_finalize(&m->params);
    if (st) return st;
    /* PyTorch's nn.Linear scale; the bias starts at 0 (p = 1/2). */
    float s = 1.0f / sqrtf((float)(D > 1 ? D : 1));
    lt_rng_fill_uniform(&m->rng, f->W->data, D * D, -s, s);
    if (f->Wy) lt_rng_fill_uniform(&m->rng, f->Wy->data, D * C, -s, s);
    return LT_OK;
}

/* logits (n,D) for pixels x (n,D) and labels (n) or NULL */
static lt_tensor *fvsbn_logits(lt_model *m, lt_graph *g, lt_tensor *x, const int64_t *labels) {
    lti_fvsbn *f = m->impl;
    lt_tensor *logits = lt_masked_linear(g, x, f->W, &f->mask_t, f->b);
    if (f->Wy) logits = lt_add(g, logits, lt_linear(g, lti_onehot(g, m, labels, x->shape[0]), f->Wy, NULL));
    return logits;
}

static lt_status fvsbn_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    return lti_logits_loss(m, g, b, fvsbn_logits, loss);
}

static lt_status fvsbn_log_prob(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out) {
    (void)o;
    return lti_logits_log_prob(m, g, b, fvsbn_logits, out);
}

/* Pixel by pixel; each logit is one dot product with the pixels drawn so far. */
static lt_status fvsbn_sample(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels, float *out) {
    (void)g;
    lti_fvsbn *f = m->impl;
    const int64_t D = m->dim, C = m->n_classes;
    lt_batch chk = {out, labels, n, D, NULL};
    lt_status st = lti_check_batch(m, &chk);
    if (st) return st;
    for (int64_t i = 0; i < n; i++) {
        float *x = out + i * D; /* (D) */
        for (int64_t d = 0; d < D; d++) {
            const float *w = f->W->data + d * D;
            float a = f->b->data[d] + (C > 0 ? f->Wy->data[d * C + labels[i]] : 0.0f);
            for (int64_t j = 0; j < d; j++) a += w[j] * x[j];
            float p = 1.0f / (1.0f + expf(-a));
            x[d] = lt_rng_uniform(rng) < p ? 1.0f : 0.0f;
        }
    }
    return LT_OK;
}

static void fvsbn_destroy(lt_model *m) {
    lti_fvsbn *f = m->impl;
    if (!f) return;
    lt_free(f->mask);
    lt_free(f);
    m->impl = NULL;
}

static const char *const fvsbn_keys[] = {NULL};

const lt_model_vtable lti_model_fvsbn = {
    .name = "fvsbn",
    .config_keys = fvsbn_keys,
    .create = fvsbn_create,
    .loss = fvsbn_loss,
    .log_prob = fvsbn_log_prob,
    .sample = fvsbn_sample,
    .on_step = NULL,
    .destroy = fvsbn_destroy,
};
