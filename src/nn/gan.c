/* Adversarial pieces (taming-transformers' VQGAN): the PatchGAN discriminator, the GAN
 * losses, the adaptive weight of the generator's GAN term and the divergence guard. See nn.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "autograd/backward.h"
#include "nn/internal.h"
#include "ops/ops.h"

int lt_nn_patchgan_layers(int64_t height, int64_t width) { return height <= 32 && width <= 32 ? 2 : 3; }

lt_status lt_nn_patchgan_declare(lt_nn_patchgan *m, const lt_nn *nn, const char *prefix, int64_t in, int64_t ndf,
                                 int n_layers) {
    lt_status st;
    if ((st = lti_nn_check("PatchGAN", prefix, "n_layers", n_layers, 1)) || (st = lti_nn_check("PatchGAN", prefix, "ndf", ndf, 1)))
        return st;
    if (n_layers > LT_NN_PATCHGAN_MAX)
        return lt_fail(LT_ERR_ARG, "PatchGAN %s: n_layers must be <= %d, got %d", prefix ? prefix : "", LT_NN_PATCHGAN_MAX,
                       n_layers);
    memset(m, 0, sizeof *m);
    m->n_layers = n_layers;
    char p[LT_NN_NAME_MAX];
    /* torch.nn.Sequential indices: conv 0, LeakyReLU 1, then (conv, BatchNorm, LeakyReLU) per layer, the output conv */
    if ((st = lt_nn_join(p, prefix, "main.0")) || (st = lt_nn_conv2d_declare(&m->conv[0], nn, p, in, ndf, 4, 2, 1, 1)))
        return st;
    int64_t mult = 1;
    for (int j = 1; j <= n_layers; j++) {
        const int64_t prev = mult;
        mult = (int64_t)1 << j < 8 ? (int64_t)1 << j : 8;
        const int idx = 2 + 3 * (j - 1), stride = j < n_layers ? 2 : 1;
        if ((st = lt_nn_join(p, prefix, "main.%d", idx)) ||
            (st = lt_nn_conv2d_declare(&m->conv[j], nn, p, ndf * prev, ndf * mult, 4, stride, 1, 0)) ||
            (st = lt_nn_join(p, prefix, "main.%d", idx + 1)) ||
            (st = lt_nn_batch_norm_declare(&m->norm[j], nn, p, ndf * mult, 1e-5f, 0.1f, 1)))
            return st;
    }
    if ((st = lt_nn_join(p, prefix, "main.%d", 2 + 3 * n_layers)) ||
        (st = lt_nn_conv2d_declare(&m->conv[n_layers + 1], nn, p, ndf * mult, 1, 4, 1, 1, 1)))
        return st;
    return LT_OK;
}

void lt_nn_patchgan_reset(lt_nn_patchgan *m, lt_rng *rng) {
    for (int j = 0; j <= m->n_layers + 1; j++) { /* taming's weights_init: conv N(0, 0.02), bias 0 */
        lt_tensor *w = m->conv[j].weight;
        lt_rng_fill_normal(rng, w->data, lt_numel(w), 0.0f, 0.02f);
        lti_nn_fill(m->conv[j].bias, 0.0f);
    }
    for (int j = 1; j <= m->n_layers; j++) { /* BatchNorm weight N(1, 0.02), bias 0 */
        lt_nn_batch_norm_reset(&m->norm[j]);
        lt_rng_fill_normal(rng, m->norm[j].weight->data, m->norm[j].channels, 1.0f, 0.02f);
    }
}

lt_tensor *lt_nn_patchgan_forward(lt_graph *g, lt_nn_patchgan *m, lt_tensor *x) {
    lt_tensor *t = lt_leaky_relu(g, lt_nn_conv2d_forward(g, &m->conv[0], x), 0.2f);
    for (int j = 1; j <= m->n_layers; j++)
        t = lt_leaky_relu(g, lt_nn_batch_norm_forward(g, &m->norm[j], lt_nn_conv2d_forward(g, &m->conv[j], t)), 0.2f);
    return lt_nn_conv2d_forward(g, &m->conv[m->n_layers + 1], t);
}

lt_tensor *lt_nn_gan_d_loss(lt_graph *g, lt_nn_gan_loss kind, lt_tensor *real, lt_tensor *fake) {
    lt_tensor *a, *b;
    if (kind == LT_NN_GAN_HINGE) { /* relu(1 − real), relu(1 + fake) */
        a = lt_relu(g, lt_add_scalar(g, lt_neg(g, real), 1.0f));
        b = lt_relu(g, lt_add_scalar(g, fake, 1.0f));
    } else { /* −log σ(real) = softplus(−real), −log(1 − σ(fake)) = softplus(fake) */
        a = lt_softplus(g, lt_neg(g, real));
        b = lt_softplus(g, fake);
    }
    return lt_mul_scalar(g, lt_add(g, lt_mean(g, a, LT_AXIS_ALL, 0), lt_mean(g, b, LT_AXIS_ALL, 0)), 0.5f);
}

lt_tensor *lt_nn_gan_g_loss(lt_graph *g, lt_nn_gan_loss kind, lt_tensor *fake) {
    if (kind == LT_NN_GAN_HINGE) return lt_neg(g, lt_mean(g, fake, LT_AXIS_ALL, 0));
    return lt_mean(g, lt_softplus(g, lt_neg(g, fake)), LT_AXIS_ALL, 0);
}

/* ‖∇_W‖ of y = conv(h, W) for dL/dy = dy: a probe copy of W on g, backward from y. */
static double lti_weight_grad_norm(lt_graph *g, const lt_nn_conv2d *last, lt_tensor *h, const float *dy) {
    lt_tensor *w = lt_graph_new(g, LT_F32, 4, last->weight->shape);
    if (!w) return NAN;
    memcpy(w->data, last->weight->data, sizeof(float) * (size_t)lt_numel(w));
    w->requires_grad = 1; /* a leaf of this graph */
    lt_tensor *hc = lt_graph_wrap(g, h->data, h->ndim, h->shape); /* h as a constant */
    lt_tensor *y = lt_conv2d(g, hc, w, NULL, last->stride, last->pad);
    if (!y || lt_backward_from(g, y, dy) || !w->grad) return NAN;
    double s = 0;
    for (int64_t i = 0; i < lt_numel(w); i++) s += (double)w->grad[i] * w->grad[i];
    return sqrt(s);
}

double lt_nn_adaptive_weight(lt_graph *g, const lt_nn_conv2d *last, lt_tensor *h, const float *d_rec,
                             const float *d_gan, double disc_weight, double *rec_norm, double *gan_norm) {
    const int grad = lt_graph_set_grad(g, 1);
    const double nr = lti_weight_grad_norm(g, last, h, d_rec), ng = lti_weight_grad_norm(g, last, h, d_gan);
    lt_graph_set_grad(g, grad);
    if (rec_norm) *rec_norm = nr;
    if (gan_norm) *gan_norm = ng;
    double lambda = nr / (ng + 1e-4);
    if (lambda != lambda) return NAN;
    lambda = lambda < 0 ? 0 : lambda > LT_NN_LAMBDA_MAX ? LT_NN_LAMBDA_MAX : lambda;
    return lambda * disc_weight;
}

void lt_nn_gan_guard_init(lt_nn_gan_guard *gd, int64_t steps) {
    memset(gd, 0, sizeof *gd);
    gd->steps = steps;
}

const char *lt_nn_gan_guard_update(lt_nn_gan_guard *gd, double d_loss, double lambda_raw) {
    if (gd->steps <= 0) return NULL;
    if (d_loss == d_loss) { /* the discriminator ran this step */
        if (gd->pinned == 0 || fabs(d_loss - gd->pinned_at) > 1e-6) {
            gd->pinned_at = d_loss;
            gd->pinned = 0;
        }
        gd->pinned++;
        if (gd->pinned >= gd->steps) {
            snprintf(gd->msg, sizeof gd->msg, "discriminator loss pinned at %.6g for %lld steps", gd->pinned_at,
                     (long long)gd->pinned);
            return gd->msg;
        }
    }
    gd->clamped = lambda_raw >= LT_NN_LAMBDA_MAX ? gd->clamped + 1 : 0;
    if (gd->clamped >= gd->steps) {
        snprintf(gd->msg, sizeof gd->msg, "adaptive GAN weight at its clamp %g for %lld steps", LT_NN_LAMBDA_MAX,
                 (long long)gd->clamped);
        return gd->msg;
    }
    return NULL;
}
