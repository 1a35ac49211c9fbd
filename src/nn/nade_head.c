/* The autoregressive Bernoulli head: a conditioned NADE (nn/nn.h). The teacher-forced pass
 * is the op lt_nade (ops/nade.c) with a per-example a_0; sampling is lt_nn_nade_draw. */
#include <string.h>

#include "nn/internal.h"
#include "ops/fastmath.h"
#include "ops/ops.h"

lt_status lt_nn_nade_head_declare(lt_nn_nade_head *m, const lt_nn *nn, const char *prefix, int64_t D, int64_t H,
                                  int64_t Cc) {
    lt_status st;
    if ((st = lti_nn_check("NadeHead", prefix, "D", D, 1)) || (st = lti_nn_check("NadeHead", prefix, "H", H, 1)) ||
        (st = lti_nn_check("NadeHead", prefix, "Cc", Cc, 1)))
        return st;
    *m = (lt_nn_nade_head){.D = D, .H = H, .Cc = Cc};
    if (!(m->W = lti_nn_add(nn->params, prefix, "W", 2, (int64_t[]){D, H})) ||
        !(m->V = lti_nn_add(nn->params, prefix, "V", 2, (int64_t[]){D, H})) ||
        !(m->b = lti_nn_add(nn->params, prefix, "b", 1, &D)) ||
        !(m->c = lti_nn_add(nn->params, prefix, "c", 1, &H)) ||
        !(m->Wc = lti_nn_add(nn->params, prefix, "Wc", 2, (int64_t[]){H, Cc})))
        return LT_ERR_ARG;
    return LT_OK;
}

void lt_nn_nade_head_reset(lt_nn_nade_head *m, lt_rng *rng) {
    lt_rng_fill_normal(rng, m->W->data, lt_numel(m->W), 0.0f, 0.01f);
    lt_rng_fill_normal(rng, m->V->data, lt_numel(m->V), 0.0f, 0.01f);
    lt_rng_fill_normal(rng, m->Wc->data, lt_numel(m->Wc), 0.0f, 0.01f);
    lti_nn_fill(m->b, 0.0f);
    lti_nn_fill(m->c, 0.0f);
}

lt_tensor *lt_nn_nade_head_forward(lt_graph *g, const lt_nn_nade_head *m, lt_tensor *x, lt_tensor *cond) {
    return lt_nade(g, x, lt_linear(g, cond, m->Wc, m->c), m->W, m->V, m->b);
}

void lt_nn_nade_draw(const float *W, const float *V, const float *b, int64_t D, int64_t H, float *a, float *h,
                     const float *base, lt_rng *rng, float *out) {
    int moved = 1; /* h = σ(a) is recomputed only after a pixel drawn 1 moved a */
    for (int64_t d = 0; d < D; d++) {
        const float *v = V + d * H, *w = W + d * H;
        if (moved)
            for (int64_t k = 0; k < H; k++) h[k] = lti_sigmoidf(a[k]);
        float s = 0.0f;
        for (int64_t k = 0; k < H; k++) s += h[k] * v[k];
        const float xd = lt_rng_uniform(rng) < lti_sigmoidf(b[d] + s + (base ? base[d] : 0.0f)) ? 1.0f : 0.0f;
        out[d] = xd;
        moved = xd != 0.0f;
        if (moved)
            for (int64_t k = 0; k < H; k++) a[k] += w[k];
    }
}

lt_status lt_nn_nade_head_sample(lt_graph *g, const lt_nn_nade_head *m, lt_tensor *cond, const float *base, lt_rng *rng,
                                 int64_t n, float *out) {
    const int64_t D = m->D, H = m->H;
    int grad = lt_graph_set_grad(g, 0);
    lt_tensor *a = lt_linear(g, cond, m->Wc, m->c);                 /* (n,H) a_0 per example */
    float *h = lt_graph_alloc(g, sizeof(float) * (size_t)H);         /* (H) scratch */
    lt_graph_set_grad(g, grad);
    lt_status st = lt_graph_status(g);
    if (st) return st;
    if (!h) return LT_ERR_NOMEM;
    for (int64_t i = 0; i < n; i++)
        lt_nn_nade_draw(m->W->data, m->V->data, m->b->data, D, H, a->data + i * H, h, base ? base + i * D : NULL, rng,
                        out + i * D);
    return LT_OK;
}
