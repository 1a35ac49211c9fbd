/* Residual blocks, taming's attention block, down/up-sampling and the MLP (conventions: nn/nn.h). */
#include "nn/internal.h"
#include "ops/ops.h"

lt_status lt_nn_res_block_declare(lt_nn_res_block *m, const lt_nn *nn, const char *prefix, int64_t C, int64_t hidden) {
    char p[LT_NN_NAME_MAX];
    lt_status st;
    if ((st = lt_nn_join(p, prefix, "conv1")) || (st = lt_nn_conv2d_declare(&m->conv1, nn, p, C, hidden, 3, 1, 1, 1)) ||
        (st = lt_nn_join(p, prefix, "conv2")) || (st = lt_nn_conv2d_declare(&m->conv2, nn, p, hidden, C, 1, 1, 0, 1)))
        return st;
    return LT_OK;
}

void lt_nn_res_block_reset(lt_nn_res_block *m, lt_rng *rng) {
    lt_nn_conv2d_reset(&m->conv1, rng);
    lt_nn_conv2d_reset(&m->conv2, rng);
}

lt_tensor *lt_nn_res_block_forward(lt_graph *g, const lt_nn_res_block *m, lt_tensor *x) {
    lt_tensor *h = lt_nn_conv2d_forward(g, &m->conv1, lt_relu(g, x));
    return lt_add(g, x, lt_nn_conv2d_forward(g, &m->conv2, lt_relu(g, h)));
}

lt_status lt_nn_resnet_block_declare(lt_nn_resnet_block *m, const lt_nn *nn, const char *prefix, int64_t in,
                                     int64_t out, int groups, float eps, float dropout) {
    if (!(dropout >= 0.0f && dropout < 1.0f))
        return lt_fail(LT_ERR_ARG, "nn ResnetBlock '%s': dropout %g must be in [0, 1)", prefix ? prefix : "",
                       (double)dropout);
    *m = (lt_nn_resnet_block){.in = in, .out = out, .dropout = dropout};
    char p[LT_NN_NAME_MAX];
    lt_status st;
    if ((st = lt_nn_join(p, prefix, "norm1")) || (st = lt_nn_group_norm_declare(&m->norm1, nn, p, groups, in, eps, 1)) ||
        (st = lt_nn_join(p, prefix, "conv1")) || (st = lt_nn_conv2d_declare(&m->conv1, nn, p, in, out, 3, 1, 1, 1)) ||
        (st = lt_nn_join(p, prefix, "norm2")) || (st = lt_nn_group_norm_declare(&m->norm2, nn, p, groups, out, eps, 1)) ||
        (st = lt_nn_join(p, prefix, "conv2")) || (st = lt_nn_conv2d_declare(&m->conv2, nn, p, out, out, 3, 1, 1, 1)))
        return st;
    if (in != out &&
        ((st = lt_nn_join(p, prefix, "nin_shortcut")) || (st = lt_nn_conv2d_declare(&m->nin_shortcut, nn, p, in, out, 1, 1, 0, 1))))
        return st;
    return LT_OK;
}

void lt_nn_resnet_block_reset(lt_nn_resnet_block *m, lt_rng *rng) {
    lt_nn_norm_reset(&m->norm1);
    lt_nn_conv2d_reset(&m->conv1, rng);
    lt_nn_norm_reset(&m->norm2);
    lt_nn_conv2d_reset(&m->conv2, rng);
    if (m->nin_shortcut.weight) lt_nn_conv2d_reset(&m->nin_shortcut, rng);
}

lt_tensor *lt_nn_resnet_block_forward(lt_graph *g, const lt_nn_resnet_block *m, lt_tensor *x) {
    lt_tensor *h = lt_nn_conv2d_forward(g, &m->conv1, lt_nn_norm_silu_forward(g, &m->norm1, x));
    h = lt_nn_norm_silu_forward(g, &m->norm2, h);
    if (m->dropout > 0.0f) h = lt_dropout(g, h, m->dropout);
    h = lt_nn_conv2d_forward(g, &m->conv2, h);
    return lt_add(g, m->nin_shortcut.weight ? lt_nn_conv2d_forward(g, &m->nin_shortcut, x) : x, h);
}

lt_status lt_nn_attn_block_declare(lt_nn_attn_block *m, const lt_nn *nn, const char *prefix, int64_t C, int groups,
                                   float eps) {
    char p[LT_NN_NAME_MAX];
    lt_status st;
    if ((st = lt_nn_join(p, prefix, "norm")) || (st = lt_nn_group_norm_declare(&m->norm, nn, p, groups, C, eps, 1)))
        return st;
    lt_nn_conv2d *conv[4] = {&m->q, &m->k, &m->v, &m->proj_out};
    const char *names[4] = {"q", "k", "v", "proj_out"};
    for (int i = 0; i < 4; i++)
        if ((st = lt_nn_join(p, prefix, "%s", names[i])) || (st = lt_nn_conv2d_declare(conv[i], nn, p, C, C, 1, 1, 0, 1)))
            return st;
    return LT_OK;
}

void lt_nn_attn_block_reset(lt_nn_attn_block *m, lt_rng *rng) {
    lt_nn_norm_reset(&m->norm);
    lt_nn_conv2d_reset(&m->q, rng);
    lt_nn_conv2d_reset(&m->k, rng);
    lt_nn_conv2d_reset(&m->v, rng);
    lt_nn_conv2d_reset(&m->proj_out, rng);
}

/* (N,C,H,W) <-> (N,H·W,C): the positions as a sequence for the attention op */
static lt_tensor *lti_to_seq(lt_graph *g, lt_tensor *x) {
    if (!x) return NULL;
    lt_tensor *f = lt_reshape(g, x, 3, (int64_t[]){x->shape[0], x->shape[1], x->shape[2] * x->shape[3]});
    return lt_permute(g, f, (int[]){0, 2, 1});
}

lt_tensor *lt_nn_attn_block_forward(lt_graph *g, const lt_nn_attn_block *m, lt_tensor *x) {
    if (!x || g->status) return NULL;
    if (x->ndim != 4) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "AttnBlock: want x (N,C,H,W), got %s", lt_shape_str(x, s, 64));
        return NULL;
    }
    lt_tensor *h = lt_nn_norm_forward(g, &m->norm, x);
    lt_tensor *qkv[3] = {lti_to_seq(g, lt_nn_conv2d_forward(g, &m->q, h)), lti_to_seq(g, lt_nn_conv2d_forward(g, &m->k, h)),
                         lti_to_seq(g, lt_nn_conv2d_forward(g, &m->v, h))};
    lt_tensor *a = lt_attention(g, lt_concat(g, 3, qkv, 2), 1, 0); /* (N, H·W, C), one head */
    a = lt_reshape(g, lt_permute(g, a, (int[]){0, 2, 1}), 4, x->shape);
    return lt_add(g, x, lt_nn_conv2d_forward(g, &m->proj_out, a));
}

lt_status lt_nn_downsample_declare(lt_nn_resample *m, const lt_nn *nn, const char *prefix, int64_t in, int64_t out,
                                   int kernel) {
    char p[LT_NN_NAME_MAX];
    m->up = 0;
    lt_status st = lt_nn_join(p, prefix, "conv");
    return st ? st : lt_nn_conv2d_declare(&m->conv, nn, p, in, out, kernel, 2, (kernel - 1) / 2, 1);
}

lt_status lt_nn_upsample_declare(lt_nn_resample *m, const lt_nn *nn, const char *prefix, int64_t in, int64_t out) {
    char p[LT_NN_NAME_MAX];
    m->up = 1;
    lt_status st = lt_nn_join(p, prefix, "conv");
    return st ? st : lt_nn_conv2d_declare(&m->conv, nn, p, in, out, 3, 1, 1, 1);
}

void lt_nn_resample_reset(lt_nn_resample *m, lt_rng *rng) { lt_nn_conv2d_reset(&m->conv, rng); }

lt_tensor *lt_nn_resample_forward(lt_graph *g, const lt_nn_resample *m, lt_tensor *x) {
    return lt_nn_conv2d_forward(g, &m->conv, m->up ? lt_upsample_nearest(g, x, 2) : x);
}

lt_status lt_nn_mlp_declare(lt_nn_mlp *m, const lt_nn *nn, const char *prefix, const int64_t *sizes, int n,
                            lt_nn_act act) {
    if (n < 1 || n > LT_NN_MLP_MAX)
        return lt_fail(LT_ERR_ARG, "nn MLP '%s': %d layers, expected 1..%d", prefix ? prefix : "", n, LT_NN_MLP_MAX);
    m->n = n;
    m->act = act;
    char p[LT_NN_NAME_MAX];
    lt_status st;
    for (int l = 0; l < n; l++)
        if ((st = lt_nn_join(p, prefix, "%d", 2 * l)) ||
            (st = lt_nn_linear_declare(&m->layer[l], nn, p, sizes[l], sizes[l + 1], 1)))
            return st;
    return LT_OK;
}

void lt_nn_mlp_reset(lt_nn_mlp *m, lt_rng *rng) {
    for (int l = 0; l < m->n; l++) lt_nn_linear_reset(&m->layer[l], rng);
}

lt_tensor *lt_nn_mlp_forward(lt_graph *g, const lt_nn_mlp *m, lt_tensor *x) {
    for (int l = 0; l < m->n; l++) {
        x = lt_nn_linear_forward(g, &m->layer[l], x);
        if (l + 1 < m->n) x = lt_nn_act_forward(g, m->act, x);
    }
    return x;
}
