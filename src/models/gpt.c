/* GPT: an autoregressive transformer prior over code grids (stage two of "compress first,
 * then generate"; Radford et al. 2018, van den Oord et al. 2017, Esser et al. 2021).
 *
 * The T = h·w codes of a grid in raster order, c_0..c_{T-1} in [0, K), are predicted from
 * the sequence [s, c_0, ..., c_{T-2}]: s is a start token (K), or for a class-conditional
 * model the class token K + y, so p(c | y) = Π_t p(c_t | c_<t, y).
 *   x = dropout(tok_emb(input) + pos_emb(0..T-1))              (n, T, C)
 *   x = blocks[l](x), l = 0..L-1   pre-LN TransformerEncoderLayer, causal, MLP 4C, GELU
 *   logits = head(ln_f(x))                                      (n, T, K)
 * With "tie" the head is the code rows of tok_emb (logits = ln_f(x)·tok_emb[:K]ᵀ).
 *
 * Parameters, named as the equivalent torch module's state_dict (docs/gpt.md):
 * "tok_emb.weight" (K + S, C) with S = max(1, n_classes) start/class tokens,
 * "pos_emb.weight" (T, C), "blocks.<l>.*" (nn/nn.h's transformer block), "ln_f.weight",
 * "ln_f.bias" (C), "head.weight" (K, C) unless tied. Initialization: torch's defaults
 * (nn/nn.h) except the embeddings, N(0, 0.02) as GPT-2 (N(0, 1) rows would give logits
 * of scale √C through a tied head).
 *
 * Training loss: Σ_t −log p(c_t | ...) averaged over the batch (nats per grid); dropout is
 * on during loss() when the graph has an rng. Sampling runs token by token through one KV
 * cache per layer (ops.h lt_attention_step: O(t) per token, no re-run of the prefix) on a
 * scratch graph of its own, rows in chunks of LTI_GPT_CHUNK. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "models/internal.h"
#include "models/latent_internal.h" /* lti_cfg_real */
#include "nn/nn.h"
#include "ops/ops.h"

#define LTI_GPT_MAX_LAYERS 48
#define LTI_GPT_CHUNK 256

typedef struct lti_gpt {
    int64_t K, T, C, S;        /* codes, positions, width, start/class tokens */
    int layers, heads, tie;
    float dropout;
    lt_nn_embedding tok_emb;   /* (K + S, C) */
    lt_nn_embedding pos_emb;   /* (T, C) */
    lt_nn_transformer_block blocks[LTI_GPT_MAX_LAYERS];
    lt_nn_norm ln_f;
    lt_nn_linear head;         /* (K, C), no bias; weight NULL when tied */
    int64_t *pos;              /* (T) 0..T-1, owned */
} lti_gpt;

static const char *const gpt_keys[] = {"vocab", "layers", "heads", "d_model", "dropout", "tie", "stage1", NULL};

static lt_status gpt_create(lt_model *m) {
    lti_gpt *p = lt_calloc(1, sizeof *p);
    if (!p) return lt_fail(LT_ERR_NOMEM, "out of memory creating gpt");
    m->impl = p;
    int64_t K, L, H, C;
    double drop;
    lt_status st;
    if ((st = lti_cfg_int(m, "vocab", 0, 0, (int64_t)1 << 24, &K)) || (st = lti_cfg_int(m, "layers", 4, 1, LTI_GPT_MAX_LAYERS, &L)) ||
        (st = lti_cfg_int(m, "heads", 4, 1, 256, &H)) || (st = lti_cfg_int(m, "d_model", 128, 1, 1 << 14, &C)) ||
        (st = lti_cfg_real(m, "dropout", 0.0, 0.0, 0.99, &drop)) || (st = lti_cfg_bool(m, "tie", 0, &p->tie)))
        return st;
    json_t *s1 = json_object_get(m->config, "stage1");
    if (s1 && !json_is_string(s1)) return lt_fail(LT_ERR_ARG, "model 'gpt': option 'stage1' must be a path (string)");
    if (K < 1)
        return lt_fail(LT_ERR_ARG, "model 'gpt' needs 'vocab', the number of codes (the trainer sets it from code data)");
    if (C % H)
        return lt_fail(LT_ERR_ARG, "model 'gpt': d_model %lld is not divisible into %lld heads", (long long)C, (long long)H);
    m->vocab = p->K = K;
    p->T = m->dim;
    p->C = C;
    p->S = m->n_classes > 0 ? m->n_classes : 1;
    p->layers = (int)L;
    p->heads = (int)H;
    p->dropout = (float)drop;
    if (!(p->pos = lt_malloc((size_t)p->T * sizeof *p->pos))) return lt_fail(LT_ERR_NOMEM, "gpt positions");
    for (int64_t t = 0; t < p->T; t++) p->pos[t] = t;
    const lt_nn nn = {&m->params, &m->buffers};
    char name[LT_NN_NAME_MAX];
    if ((st = lt_nn_embedding_declare(&p->tok_emb, &nn, "tok_emb", K + p->S, C)) ||
        (st = lt_nn_embedding_declare(&p->pos_emb, &nn, "pos_emb", p->T, C)))
        return st;
    for (int l = 0; l < p->layers; l++)
        if ((st = lt_nn_join(name, "blocks", "%d", l)) ||
            (st = lt_nn_transformer_block_declare(&p->blocks[l], &nn, name, C, p->heads, 4 * C, p->dropout, 1)))
            return st;
    if ((st = lt_nn_layer_norm_declare(&p->ln_f, &nn, "ln_f", C, 1e-5f, 1))) return st;
    if (!p->tie && (st = lt_nn_linear_declare(&p->head, &nn, "head", C, K, 0))) return st;
    if ((st = lt_params_finalize(&m->params))) return st;
    lt_nn_embedding_reset(&p->tok_emb, &m->rng);
    lt_nn_embedding_reset(&p->pos_emb, &m->rng);
    for (lt_nn_embedding *e = &p->tok_emb;; e = &p->pos_emb) {
        for (int64_t i = 0, n = e->num * e->dim; i < n; i++) e->weight->data[i] *= 0.02f;
        if (e == &p->pos_emb) break;
    }
    for (int l = 0; l < p->layers; l++) lt_nn_transformer_block_reset(&p->blocks[l], &m->rng);
    lt_nn_norm_reset(&p->ln_f);
    if (!p->tie) lt_nn_linear_reset(&p->head, &m->rng);
    return LT_OK;
}

static void gpt_destroy(lt_model *m) {
    lti_gpt *p = m->impl;
    if (p) lt_free(p->pos);
    lt_free(p);
}

/* h (..., C) after ln_f -> logits (..., K) */
static lt_tensor *lti_gpt_head(lt_graph *g, const lti_gpt *p, lt_tensor *h) {
    if (!p->tie) return lt_nn_linear_forward(g, &p->head, h);
    lt_nn_linear tied = {p->C, p->K, lt_slice(g, p->tok_emb.weight, 0, 0, p->K), NULL};
    return lt_nn_linear_forward(g, &tied, h);
}

static lt_tensor *lti_gpt_drop(lt_graph *g, const lti_gpt *p, lt_tensor *x) {
    return p->dropout > 0 ? lt_dropout(g, x, p->dropout) : x;
}

/* The token of the start position: the start token, or the class token of label y. */
static int64_t lti_gpt_start(const lti_gpt *p, const int64_t *labels, int64_t i) {
    return p->K + (labels ? labels[i] : 0);
}

lt_tensor *lti_gpt_logits(lt_model *m, lt_graph *g, const int64_t *codes, const int64_t *labels, int64_t n) {
    const lti_gpt *p = m->impl;
    const int64_t T = p->T;
    lt_tensor *in = lt_graph_new(g, LT_I64, 2, (int64_t[]){n, T}); /* (n, T): the inputs, shifted right */
    if (!in) return NULL;
    for (int64_t i = 0; i < n; i++) {
        in->idata[i * T] = lti_gpt_start(p, labels, i);
        memcpy(in->idata + i * T + 1, codes + i * T, (size_t)(T - 1) * sizeof *codes);
    }
    lt_tensor *pos = lt_graph_wrap_i64(g, p->pos, 1, (int64_t[]){T});
    lt_tensor *x = lt_add(g, lt_nn_embedding_forward(g, &p->tok_emb, in), lt_nn_embedding_forward(g, &p->pos_emb, pos));
    x = lti_gpt_drop(g, p, x); /* (n, T, C) */
    for (int l = 0; l < p->layers; l++) x = lt_nn_transformer_block_forward(g, &p->blocks[l], x);
    return lti_gpt_head(g, p, lt_nn_norm_forward(g, &p->ln_f, x)); /* (n, T, K) */
}

/* The batch's codes (n, T): b->tokens, or, when a caller filled only x, x's values (exact
 * integers as floats) copied into g's arena. Checks the labels as lti_check_batch and
 * every code in [0, K). */
static lt_status lti_gpt_codes(const lt_model *m, lt_graph *g, const lt_batch *b, const int64_t **out) {
    const lti_gpt *p = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    if (!b->tokens && !b->x) return lt_fail(LT_ERR_ARG, "model 'gpt' reads code grids; the batch has neither tokens nor values");
    int64_t *c = (int64_t *)b->tokens;
    if (!c) {
        lt_tensor *t = lt_graph_new(g, LT_I64, 1, (int64_t[]){b->n * p->T});
        if (!t) return lt_graph_status(g);
        c = t->idata;
        for (int64_t i = 0; i < b->n * p->T; i++) {
            c[i] = (int64_t)b->x[i];
            if ((float)c[i] != b->x[i]) c[i] = -1; /* not an integer: refused below */
        }
    }
    for (int64_t i = 0; i < b->n * p->T; i++)
        if (c[i] < 0 || c[i] >= p->K)
            return lt_fail(LT_ERR_ARG, "model 'gpt': code %g at position %lld of example %lld is not in 0..%lld",
                           b->tokens ? (double)b->tokens[i] : (double)b->x[i], (long long)(i % p->T),
                           (long long)(i / p->T), (long long)p->K - 1);
    *out = c;
    return LT_OK;
}

/* −log p(c_t | c_<t, y) for every position of codes c (n, T) -> (n·T) */
static lt_tensor *lti_gpt_nll(lt_model *m, lt_graph *g, const int64_t *c, const lt_batch *b) {
    const lti_gpt *p = m->impl;
    lt_tensor *logits = lti_gpt_logits(m, g, c, b->y, b->n);
    lt_tensor *target = lt_graph_wrap_i64(g, (int64_t *)c, 1, (int64_t[]){b->n * p->T}); /* never written */
    return lt_cross_entropy(g, lt_reshape(g, logits, 2, (int64_t[]){b->n * p->T, p->K}), target);
}

static lt_status gpt_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    const int64_t *c;
    lt_status st = lti_gpt_codes(m, g, b, &c);
    if (st) return st;
    const int training = g->training;
    g->training = g->rng != NULL; /* dropout needs the graph's rng; without one it stays off */
    lt_tensor *nll = lti_gpt_nll(m, g, c, b);
    g->training = training;
    *loss = lt_mul_scalar(g, lt_sum(g, nll, LT_AXIS_ALL, 0), 1.0f / (float)b->n);
    return lt_graph_status(g);
}

static lt_status gpt_log_prob(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out) {
    (void)o;
    const int64_t *c;
    lt_status st = lti_gpt_codes(m, g, b, &c);
    if (st) return st;
    const int64_t T = ((lti_gpt *)m->impl)->T;
    const int grad = lt_graph_set_grad(g, 0), training = g->training;
    g->training = 0;
    lt_tensor *nll = lti_gpt_nll(m, g, c, b);
    g->training = training;
    lt_graph_set_grad(g, grad);
    if ((st = lt_graph_status(g))) return st;
    for (int64_t i = 0; i < b->n; i++) {
        double s = 0;
        for (int64_t t = 0; t < T; t++) s += nll->data[i * T + t];
        out[i] = -s;
    }
    return LT_OK;
}

/* One position t for n rows through the caches: tokens tok (n) -> logits (n, K). */
static lt_tensor *lti_gpt_step(lt_graph *g, const lti_gpt *p, lt_kv_cache *cache, const int64_t *tok, int64_t n,
                               int64_t t) {
    lt_tensor *idx = lt_graph_wrap_i64(g, (int64_t *)tok, 1, (int64_t[]){n}); /* read at once, never written */
    lt_tensor *x = lt_add(g, lt_nn_embedding_forward(g, &p->tok_emb, idx), lt_slice(g, p->pos_emb.weight, 0, t, 1));
    for (int l = 0; l < p->layers; l++) { /* lt_nn_transformer_block_forward, one position at a time */
        const lt_nn_transformer_block *b = &p->blocks[l];
        lt_tensor *qkv = lt_linear(g, lt_nn_norm_forward(g, &b->norm1, x), b->self_attn.in_proj_weight,
                                   b->self_attn.in_proj_bias); /* (n, 3C) */
        x = lt_add(g, x, lt_nn_linear_forward(g, &b->self_attn.out_proj, lt_attention_step(g, &cache[l], qkv)));
        lt_tensor *h = lt_gelu(g, lt_nn_linear_forward(g, &b->linear1, lt_nn_norm_forward(g, &b->norm2, x)));
        x = lt_add(g, x, lt_nn_linear_forward(g, &b->linear2, h));
    }
    return lti_gpt_head(g, p, lt_nn_norm_forward(g, &p->ln_f, x)); /* (n, K) */
}

/* Rows [0, n) token by token through fresh caches. codes given: teacher forcing (the
 * logits of every position into logits_out (n, T, K)); else draws with o into out (n, T). */
static lt_status lti_gpt_decode(lt_model *m, lt_rng *rng, int64_t n, const int64_t *labels, const lt_sample_opts *o,
                                const int64_t *codes, float *logits_out, int64_t *out) {
    const lti_gpt *p = m->impl;
    const int64_t T = p->T, K = p->K;
    lt_kv_cache cache[LTI_GPT_MAX_LAYERS];
    memset(cache, 0, sizeof cache);
    lt_graph g;
    lt_status st = lt_graph_init(&g, (size_t)1 << 20);
    if (st) return st;
    lt_graph_set_grad(&g, 0);
    int64_t *tok = lt_malloc((size_t)n * sizeof *tok);         /* (n) this position's inputs */
    lt_sample_rank *rank = lt_malloc((size_t)K * sizeof *rank); /* (K) */
    double *probs = lt_malloc((size_t)K * sizeof *probs);       /* (K) */
    if (!tok || !rank || !probs) st = lt_fail(LT_ERR_NOMEM, "gpt sampling buffers");
    for (int l = 0; !st && l < p->layers; l++) st = lt_kv_cache_init(&cache[l], n, T, p->C, p->heads);
    for (int64_t i = 0; !st && i < n; i++) tok[i] = lti_gpt_start(p, labels, i);
    for (int64_t t = 0; !st && t < T; t++) {
        lt_tensor *lg = lti_gpt_step(&g, p, cache, tok, n, t);
        if ((st = lt_graph_status(&g))) break;
        for (int64_t i = 0; i < n; i++) {
            const float *row = lg->data + i * K;
            if (codes) {
                memcpy(logits_out + (i * T + t) * K, row, (size_t)K * sizeof *row);
                tok[i] = codes[i * T + t];
            } else {
                tok[i] = out[i * T + t] = lt_sample_token(rng, row, K, o, rank, probs);
            }
        }
        lt_graph_reset(&g);
    }
    for (int l = 0; l < p->layers; l++) lt_kv_cache_free(&cache[l]);
    lt_free(tok);
    lt_free(rank);
    lt_free(probs);
    lt_graph_free(&g);
    return st;
}

lt_status lti_gpt_cached_logits(lt_model *m, lt_graph *g, const int64_t *codes, const int64_t *labels, int64_t n,
                                float *out) {
    (void)g;
    return lti_gpt_decode(m, NULL, n, labels, NULL, codes, out, NULL);
}

static lt_status gpt_sample_codes(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels,
                                  const lt_sample_opts *o, int64_t *out) {
    (void)g;
    lt_status st = o ? lt_sample_opts_check(o) : LT_OK;
    for (int64_t i = 0; !st && labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->n_classes)
            st = lt_fail(LT_ERR_ARG, "model 'gpt': class %lld is outside 0..%lld", (long long)labels[i],
                         (long long)m->n_classes - 1);
    if (!st && m->n_classes > 0 && !labels) st = lt_fail(LT_ERR_ARG, "model 'gpt' is class-conditional: give labels");
    for (int64_t s = 0; !st && s < n; s += LTI_GPT_CHUNK) {
        const int64_t c = n - s < LTI_GPT_CHUNK ? n - s : LTI_GPT_CHUNK;
        st = lti_gpt_decode(m, rng, c, labels ? labels + s : NULL, o, NULL, NULL, out + s * m->dim);
    }
    return st;
}

static lt_status gpt_sample(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels, float *out) {
    int64_t *c = lt_malloc((size_t)(n * m->dim) * sizeof *c);
    if (!c) return lt_fail(LT_ERR_NOMEM, "gpt sample buffer");
    lt_status st = gpt_sample_codes(m, g, rng, n, labels, NULL, c);
    for (int64_t i = 0; !st && i < n * m->dim; i++) out[i] = (float)c[i];
    lt_free(c);
    return st;
}

const lt_model_vtable lti_model_gpt = {
    .name = "gpt",
    .config_keys = gpt_keys,
    .create = gpt_create,
    .loss = gpt_loss,
    .log_prob = gpt_log_prob,
    .sample = gpt_sample,
    .destroy = gpt_destroy,
    .tokens = 1,
    .sample_codes = gpt_sample_codes,
};
