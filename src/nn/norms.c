/* GroupNorm, LayerNorm and BatchNorm modules (conventions: nn/nn.h). */
#include "nn/internal.h"
#include "ops/ops.h"

static lt_status lti_norm_declare(lt_nn_norm *m, const lt_nn *nn, const char *prefix, const char *what, int groups,
                                  int64_t C, float eps, int affine) {
    lt_status st = lti_nn_check(what, prefix, "channels", C, 1);
    if (st) return st;
    if (groups && C % groups)
        return lt_fail(LT_ERR_ARG, "nn GroupNorm '%s': %lld channels are not divisible into %d groups",
                       prefix ? prefix : "", (long long)C, groups);
    *m = (lt_nn_norm){.channels = C, .groups = groups, .eps = eps};
    if (affine && (!(m->weight = lti_nn_add(nn->params, prefix, "weight", 1, &C)) ||
                   !(m->bias = lti_nn_add(nn->params, prefix, "bias", 1, &C))))
        return LT_ERR_ARG;
    return LT_OK;
}

lt_status lt_nn_group_norm_declare(lt_nn_norm *m, const lt_nn *nn, const char *prefix, int groups, int64_t C,
                                   float eps, int affine) {
    lt_status st = lti_nn_check("GroupNorm", prefix, "groups", groups, 1);
    return st ? st : lti_norm_declare(m, nn, prefix, "GroupNorm", groups, C, eps, affine);
}

lt_status lt_nn_layer_norm_declare(lt_nn_norm *m, const lt_nn *nn, const char *prefix, int64_t C, float eps,
                                   int affine) {
    return lti_norm_declare(m, nn, prefix, "LayerNorm", 0, C, eps, affine);
}

void lt_nn_norm_reset(lt_nn_norm *m) {
    lti_nn_fill(m->weight, 1.0f);
    lti_nn_fill(m->bias, 0.0f);
}

/* silu: silu(norm(x)) */
static lt_tensor *lti_nn_norm(lt_graph *g, const lt_nn_norm *m, lt_tensor *x, int silu) {
    /* without affine tensors the ops would normalize any width: check the module's */
    if (x && (x->ndim < (m->groups ? 2 : 1) || x->shape[m->groups ? 1 : x->ndim - 1] != m->channels)) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "%s: want x %s%lld%s, got %s", m->groups ? "GroupNorm" : "LayerNorm",
                       m->groups ? "(N," : "(...,", (long long)m->channels, m->groups ? ",...)" : ")",
                       lt_shape_str(x, s, 64));
        return NULL;
    }
    if (m->groups)
        return silu ? lt_group_norm_silu(g, x, m->groups, m->weight, m->bias, m->eps)
                    : lt_group_norm(g, x, m->groups, m->weight, m->bias, m->eps);
    lt_tensor *y = lt_layer_norm(g, x, m->weight, m->bias, m->eps);
    return silu ? lt_silu(g, y) : y;
}

lt_tensor *lt_nn_norm_forward(lt_graph *g, const lt_nn_norm *m, lt_tensor *x) { return lti_nn_norm(g, m, x, 0); }

lt_tensor *lt_nn_norm_silu_forward(lt_graph *g, const lt_nn_norm *m, lt_tensor *x) { return lti_nn_norm(g, m, x, 1); }

lt_status lt_nn_batch_norm_declare(lt_nn_batch_norm *m, const lt_nn *nn, const char *prefix, int64_t C, float eps,
                                   float momentum, int affine) {
    lt_status st = lti_nn_check("BatchNorm", prefix, "channels", C, 1);
    if (st) return st;
    if (!nn->buffers) /* checked first: a failed declare adds nothing */
        return lt_fail(LT_ERR_ARG, "nn BatchNorm '%s': its running statistics need the lt_nn's buffers",
                       prefix ? prefix : "");
    if (!(momentum >= 0.0f && momentum <= 1.0f))
        return lt_fail(LT_ERR_ARG, "nn BatchNorm '%s': momentum %g must be in [0, 1]", prefix ? prefix : "",
                       (double)momentum);
    *m = (lt_nn_batch_norm){.channels = C, .eps = eps, .momentum = momentum};
    if (affine && (!(m->weight = lti_nn_add(nn->params, prefix, "weight", 1, &C)) ||
                   !(m->bias = lti_nn_add(nn->params, prefix, "bias", 1, &C))))
        return LT_ERR_ARG;
    if (!(m->running_mean = lti_nn_add(nn->buffers, prefix, "running_mean", 1, &C)) ||
        !(m->running_var = lti_nn_add(nn->buffers, prefix, "running_var", 1, &C)) ||
        !(m->num_batches_tracked = lti_nn_add(nn->buffers, prefix, "num_batches_tracked", 0, NULL)))
        return LT_ERR_ARG;
    return LT_OK;
}

void lt_nn_batch_norm_reset(lt_nn_batch_norm *m) {
    lti_nn_fill(m->weight, 1.0f);
    lti_nn_fill(m->bias, 0.0f);
    lti_nn_fill(m->running_mean, 0.0f);
    lti_nn_fill(m->running_var, 1.0f);
    lti_nn_fill(m->num_batches_tracked, 0.0f);
}

/* relu: relu(bn(x) + res) by the fused op; else bn(x) (res unused) */
static lt_tensor *lti_nn_bn(lt_graph *g, lt_nn_batch_norm *m, lt_tensor *x, int relu, lt_tensor *res) {
    if (!g->training)
        return relu ? lt_batch_norm_relu(g, x, m->running_mean, m->running_var, m->weight, m->bias, m->eps, NULL, res)
                    : lt_batch_norm(g, x, m->running_mean, m->running_var, m->weight, m->bias, m->eps, NULL);
    const int64_t C = m->channels;
    if (!x) return NULL;
    if (x->ndim < 2 || x->shape[1] != C) { /* stats below has room for C channels only */
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "BatchNorm: want x (N,%lld,...), got %s", (long long)C, lt_shape_str(x, s, 64));
        return NULL;
    }
    float *stats = lt_graph_alloc(g, sizeof(float) * (size_t)(2 * C)); /* batch mean (C), unbiased var (C) */
    lt_tensor *y = !stats ? NULL
                   : relu ? lt_batch_norm_relu(g, x, NULL, NULL, m->weight, m->bias, m->eps, stats, res)
                          : lt_batch_norm(g, x, NULL, NULL, m->weight, m->bias, m->eps, stats);
    if (!y) return NULL;
    const float mo = m->momentum;
    for (int64_t c = 0; c < C; c++) {
        m->running_mean->data[c] = (1.0f - mo) * m->running_mean->data[c] + mo * stats[c];
        m->running_var->data[c] = (1.0f - mo) * m->running_var->data[c] + mo * stats[C + c];
    }
    m->num_batches_tracked->data[0] += 1.0f;
    return y;
}

lt_tensor *lt_nn_batch_norm_forward(lt_graph *g, lt_nn_batch_norm *m, lt_tensor *x) { return lti_nn_bn(g, m, x, 0, NULL); }

lt_tensor *lt_nn_batch_norm_relu_forward(lt_graph *g, lt_nn_batch_norm *m, lt_tensor *x, lt_tensor *res) {
    return lti_nn_bn(g, m, x, 1, res);
}
