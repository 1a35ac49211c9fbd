/* The perceptual distance over encoder taps (the maths in nn/perceptual.h). */
#include "nn/perceptual.h"

#include "nn/nn.h"
#include "ops/ops.h"

/* f (N,C,H,W) over its l2 norm across C at each (n, h, w) */
static lt_tensor *lti_unit_channels(lt_graph *g, lt_tensor *f) {
    lt_tensor *n2 = lt_sum(g, lt_mul(g, f, f), 1, 1); /* (N,1,H,W) */
    return lt_div(g, f, lt_sqrt(g, lt_add_scalar(g, n2, LT_NN_PERCEPTUAL_EPS)));
}

lt_tensor *lt_nn_perceptual_taps(lt_graph *g, int n_taps, lt_tensor *const *fx, lt_tensor *const *fy) {
    if (lt_graph_status(g)) return NULL;
    if (n_taps < 1 || n_taps > LT_NN_PERCEPTUAL_MAX_TAPS) {
        lti_graph_fail(g, LT_ERR_ARG, "perceptual distance: %d taps, expected 1..%d", n_taps, LT_NN_PERCEPTUAL_MAX_TAPS);
        return NULL;
    }
    lt_tensor *d = NULL; /* (N) */
    for (int l = 0; l < n_taps; l++) {
        if (!fx[l] || !fy[l]) return NULL;
        char a[64], b[64];
        if (fx[l]->ndim != 4 || !lt_tensor_same_shape(fx[l], fy[l]) || fx[l]->shape[0] != fx[0]->shape[0]) {
            lti_graph_fail(g, LT_ERR_SHAPE, "perceptual distance: tap %d is %s and %s, expected two equal (N,C,H,W) shapes "
                           "with N = %lld", l, lt_shape_str(fx[l], a, sizeof a), lt_shape_str(fy[l], b, sizeof b),
                           (long long)fx[0]->shape[0]);
            return NULL;
        }
        const int64_t N = fx[l]->shape[0];
        lt_tensor *diff = lt_sub(g, lti_unit_channels(g, fx[l]), lti_unit_channels(g, fy[l]));
        lt_tensor *dl = lt_mean(g, lt_reshape(g, lt_mul(g, diff, diff), 2, (int64_t[]){N, -1}), 1, 0); /* (N) */
        d = d ? lt_add(g, d, dl) : dl;
    }
    return lt_mul_scalar(g, d, 1.0f / (float)n_taps);
}

void lt_nn_freeze(lt_params *p) {
    for (int64_t i = 0; i < p->n; i++) p->items[i]->t.requires_grad = 0;
}

lt_tensor *lt_nn_perceptual(lt_graph *g, lt_nn_resnet *enc, lt_tensor *x, lt_tensor *y) {
    if (lt_graph_status(g) || !x || !y) return NULL;
    if (enc->conv1.weight->requires_grad) {
        lti_graph_fail(g, LT_ERR_ARG, "perceptual distance: the encoder's parameters require gradients; freeze them "
                       "(lt_nn_freeze) so that backward leaves the encoder alone");
        return NULL;
    }
    const int training = g->training;
    g->training = 0;
    lt_nn_resnet_out ox, oy;
    lt_nn_resnet_forward(g, enc, x, &ox);
    lt_nn_resnet_forward(g, enc, y, &oy);
    g->training = training;
    if (lt_graph_status(g)) return NULL;
    return lt_nn_perceptual_taps(g, ox.n_taps, ox.taps, oy.taps);
}
