/* NADE, the neural autoregressive density estimator (Larochelle & Murray 2011),
 * H hidden units, fixed raster order:
 *     a_0 = c (+ U·onehot(y)),  h_d = σ(a_d),  p(x_d = 1 | x_<d) = σ(b_d + V_d·h_d),
 *     a_{d+1} = a_d + W_d x_d
 * exact in O(D·H) per example. The recurrence and its hand-written backward are
 * the op lt_nade (ops/nade.c): one tape node per batch, not D small graph ops.
 *
 * Parameters: "W" (D,H) (row d: pixel d's weights into the hidden layer, stored
 * by pixel so each step reads one contiguous row; PyTorch's W (H,D) is its
 * transpose), "c" (H), "V" (D,H), "b" (D); class-conditional models add "U"
 * (H,C): the one-hot label enters the initial pre-activation a_0 = c + U[:,y],
 * so it reaches every conditional, including the first pixel's.
 * Config: "hidden" H (default 500). Init: W, V, U ~ N(0, 0.01²), biases 0. */
#include <math.h>

#include "core/alloc.h"
#include "models/internal.h"
#include "nn/nn.h"
#include "ops/ops.h"

typedef struct lti_nade {
    int64_t H;
    lt_tensor *W, *c, *V, *b, *U; /* point into m->params; U NULL unless conditional */
} lti_nade;

static lt_status nade_create(lt_model *m) {
    const int64_t D = m->dim, C = m->n_classes;
    int64_t sizes[1];
    int nl;
    lti_nade *z = lt_calloc(1, sizeof *z);
    if (!z) return lt_fail(LT_ERR_NOMEM, "out of memory creating nade");
    m->impl = z;
    lt_status st = lti_cfg_hidden(m, 500, sizes, 1, &nl);
    if (st) return st;
    const int64_t H = z->H = sizes[0];
    if (!(z->W = lt_params_add(&m->params, "W", 2, (int64_t[]){D, H})) ||
        !(z->c = lt_params_add(&m->params, "c", 1, (int64_t[]){H})) ||
        !(z->V = lt_params_add(&m->params, "V", 2, (int64_t[]){D, H})) ||
        !(z->b = lt_params_add(&m->params, "b", 1, (int64_t[]){D})) ||
        (C > 0 && !(z->U = lt_params_add(&m->params, "U", 2, (int64_t[]){H, C}))))
        return LT_ERR_NOMEM;
    if ((st = lt_params_finalize(&m->params))) return st;
    lt_rng_fill_normal(&m->rng, z->W->data, D * H, 0.0f, 0.01f);
    lt_rng_fill_normal(&m->rng, z->V->data, D * H, 0.0f, 0.01f);
    if (z->U) lt_rng_fill_normal(&m->rng, z->U->data, H * C, 0.0f, 0.01f);
    return LT_OK;
}

static lt_tensor *nade_logits(lt_model *m, lt_graph *g, lt_tensor *x, const int64_t *labels) {
    lti_nade *z = m->impl;
    lt_tensor *a0 = z->c; /* (H), or (B,H) = onehot·Uᵀ + c when conditional */
    if (z->U) a0 = lt_linear(g, lti_onehot(g, m, labels, x->shape[0]), z->U, z->c);
    return lt_nade(g, x, a0, z->W, z->V, z->b);
}

static lt_status nade_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    return lti_logits_loss(m, g, b, nade_logits, loss);
}

static lt_status nade_log_prob(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out) {
    (void)o;
    return lti_logits_log_prob(m, g, b, nade_logits, out);
}

/* Pixel by pixel, the forward recurrence with each x_d drawn before a_{d+1} (lt_nn_nade_draw). */
static lt_status nade_sample(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels, float *out) {
    lti_nade *z = m->impl;
    const int64_t D = m->dim, H = z->H, C = m->n_classes;
    lt_batch chk = {out, labels, n, D, NULL};
    lt_status st = lti_check_batch(m, &chk);
    if (st) return st;
    float *a = lt_graph_alloc(g, sizeof(float) * (size_t)(2 * H)), *h = a + H; /* (H) a, (H) scratch */
    if (!a) return lt_graph_status(g);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t k = 0; k < H; k++) a[k] = z->c->data[k] + (C > 0 ? z->U->data[k * C + labels[i]] : 0.0f);
        lt_nn_nade_draw(z->W->data, z->V->data, z->b->data, D, H, a, h, NULL, rng, out + i * D);
    }
    return LT_OK;
}

static void nade_destroy(lt_model *m) {
    lt_free(m->impl);
    m->impl = NULL;
}

static const char *const nade_keys[] = {"hidden", NULL};

const lt_model_vtable lti_model_nade = {
    .name = "nade",
    .config_keys = nade_keys,
    .create = nade_create,
    .loss = nade_loss,
    .log_prob = nade_log_prob,
    .sample = nade_sample,
    .on_step = NULL,
    .destroy = nade_destroy,
};
