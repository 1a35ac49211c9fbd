/* MultiheadAttention and the pre-LN transformer block (conventions: nn/nn.h), on the fused
 * attention op; the *_step forms decode one position at a time with a KV cache. */
#include <math.h>

#include "nn/internal.h"
#include "ops/ops.h"

lt_status lt_nn_mha_declare(lt_nn_mha *m, const lt_nn *nn, const char *prefix, int64_t dim, int heads) {
    lt_status st;
    if ((st = lti_nn_check("MultiheadAttention", prefix, "dim", dim, 1)) ||
        (st = lti_nn_check("MultiheadAttention", prefix, "heads", heads, 1)))
        return st;
    if (dim % heads)
        return lt_fail(LT_ERR_ARG, "nn MultiheadAttention '%s': width %lld is not divisible into %d heads",
                       prefix ? prefix : "", (long long)dim, heads);
    *m = (lt_nn_mha){.dim = dim, .heads = heads};
    char p[LT_NN_NAME_MAX];
    if (!(m->in_proj_weight = lti_nn_add(nn->params, prefix, "in_proj_weight", 2, (int64_t[]){3 * dim, dim})) ||
        !(m->in_proj_bias = lti_nn_add(nn->params, prefix, "in_proj_bias", 1, (int64_t[]){3 * dim})))
        return LT_ERR_ARG;
    if ((st = lt_nn_join(p, prefix, "out_proj")) || (st = lt_nn_linear_declare(&m->out_proj, nn, p, dim, dim, 1)))
        return st;
    return LT_OK;
}

void lt_nn_mha_reset(lt_nn_mha *m, lt_rng *rng) {
    lti_nn_uniform(rng, m->in_proj_weight, sqrtf(6.0f / (float)(m->dim + 3 * m->dim))); /* xavier_uniform */
    lti_nn_fill(m->in_proj_bias, 0.0f);
    lt_nn_linear_reset(&m->out_proj, rng);
    lti_nn_fill(m->out_proj.bias, 0.0f);
}

lt_tensor *lt_nn_mha_forward(lt_graph *g, const lt_nn_mha *m, lt_tensor *x, int causal) {
    if (!x || g->status) return NULL;
    if (x->ndim != 3 || x->shape[2] != m->dim) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "MultiheadAttention: want x (B,T,%lld), got %s", (long long)m->dim,
                       lt_shape_str(x, s, 64));
        return NULL;
    }
    const int64_t B = x->shape[0], T = x->shape[1], C = m->dim;
    lt_tensor *qkv = lt_linear(g, lt_reshape(g, x, 2, (int64_t[]){B * T, C}), m->in_proj_weight, m->in_proj_bias);
    lt_tensor *a = lt_attention(g, lt_reshape(g, qkv, 3, (int64_t[]){B, T, 3 * C}), m->heads, causal);
    return lt_nn_linear_forward(g, &m->out_proj, a);
}

lt_tensor *lt_nn_mha_step(lt_graph *g, const lt_nn_mha *m, lt_kv_cache *cache, lt_tensor *x) {
    if (!x || g->status) return NULL;
    if (x->ndim != 2 || x->shape[1] != m->dim || cache->C != m->dim || cache->heads != m->heads) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "MultiheadAttention step: want x (B,%lld) and a cache of width %lld with %d heads, "
                       "got x %s and a cache of width %lld with %d heads", (long long)m->dim, (long long)m->dim,
                       m->heads, lt_shape_str(x, s, 64), (long long)cache->C, cache->heads);
        return NULL;
    }
    lt_tensor *a = lt_attention_step(g, cache, lt_linear(g, x, m->in_proj_weight, m->in_proj_bias)); /* (B,C) */
    return lt_nn_linear_forward(g, &m->out_proj, a);
}

lt_status lt_nn_transformer_block_declare(lt_nn_transformer_block *m, const lt_nn *nn, const char *prefix,
                                          int64_t dim, int heads, int64_t ff, float dropout, int causal) {
    if (!(dropout >= 0.0f && dropout < 1.0f))
        return lt_fail(LT_ERR_ARG, "nn TransformerEncoderLayer '%s': dropout %g must be in [0, 1)",
                       prefix ? prefix : "", (double)dropout);
    *m = (lt_nn_transformer_block){.dropout = dropout, .causal = causal};
    char p[LT_NN_NAME_MAX];
    lt_status st;
    /* torch's declaration order: self_attn, linear1, linear2, norm1, norm2 */
    if ((st = lt_nn_join(p, prefix, "self_attn")) || (st = lt_nn_mha_declare(&m->self_attn, nn, p, dim, heads)) ||
        (st = lt_nn_join(p, prefix, "linear1")) || (st = lt_nn_linear_declare(&m->linear1, nn, p, dim, ff, 1)) ||
        (st = lt_nn_join(p, prefix, "linear2")) || (st = lt_nn_linear_declare(&m->linear2, nn, p, ff, dim, 1)) ||
        (st = lt_nn_join(p, prefix, "norm1")) || (st = lt_nn_layer_norm_declare(&m->norm1, nn, p, dim, 1e-5f, 1)) ||
        (st = lt_nn_join(p, prefix, "norm2")) || (st = lt_nn_layer_norm_declare(&m->norm2, nn, p, dim, 1e-5f, 1)))
        return st;
    return LT_OK;
}

void lt_nn_transformer_block_reset(lt_nn_transformer_block *m, lt_rng *rng) {
    lt_nn_mha_reset(&m->self_attn, rng);
    lt_nn_linear_reset(&m->linear1, rng);
    lt_nn_linear_reset(&m->linear2, rng);
    lt_nn_norm_reset(&m->norm1);
    lt_nn_norm_reset(&m->norm2);
}

/* dropout only when it is on: lt_dropout in training mode needs g->rng */
static lt_tensor *lti_nn_drop(lt_graph *g, lt_tensor *x, float p) { return p > 0.0f ? lt_dropout(g, x, p) : x; }

/* The block around its attention: a (x's shape) = self_attn(norm1(x)), given. */
static lt_tensor *lti_nn_block_rest(lt_graph *g, const lt_nn_transformer_block *m, lt_tensor *x, lt_tensor *a) {
    x = lt_add(g, x, lti_nn_drop(g, a, m->dropout));
    lt_tensor *h = lt_gelu(g, lt_nn_linear_forward(g, &m->linear1, lt_nn_norm_forward(g, &m->norm2, x)));
    h = lt_nn_linear_forward(g, &m->linear2, lti_nn_drop(g, h, m->dropout));
    return lt_add(g, x, lti_nn_drop(g, h, m->dropout));
}

lt_tensor *lt_nn_transformer_block_forward(lt_graph *g, const lt_nn_transformer_block *m, lt_tensor *x) {
    return lti_nn_block_rest(g, m, x, lt_nn_mha_forward(g, &m->self_attn, lt_nn_norm_forward(g, &m->norm1, x), m->causal));
}

lt_tensor *lt_nn_transformer_block_step(lt_graph *g, const lt_nn_transformer_block *m, lt_kv_cache *cache,
                                        lt_tensor *x) {
    if (!m->causal && !g->status) {
        lti_graph_fail(g, LT_ERR_ARG, "TransformerEncoderLayer step: the block is not causal");
        return NULL;
    }
    return lti_nn_block_rest(g, m, x, lt_nn_mha_step(g, &m->self_attn, cache, lt_nn_norm_forward(g, &m->norm1, x)));
}
