/* A GPT-style transformer written from the ops, timed the way bench/torch_transformer.py
 * times the same model in PyTorch: 4 pre-LN layers (LN -> qkv Linear -> causal attention
 * -> out proj -> residual; LN -> Linear 4C -> GELU (tanh) -> Linear C -> residual), 4 heads,
 * width 128, token + learned position embedding, final LN, logits over 512 tokens,
 * cross-entropy against the next token. Random token sequences (the speed does not depend
 * on what is learned).
 *   bench_transformer train T [rounds] [steps]  training steps (forward, backward, Adam lr
 *       3e-4), batch 64: best round's tokens/s, and peak RSS (run one T per process)
 *   bench_transformer attn T [rounds] [reps]    the attention op alone on qkv (64, T, 384),
 *       4 heads, causal: forward, and forward + backward, ms per call (best round)
 *   bench_transformer sample T [rounds]          sampling T tokens for a batch of 64: one
 *       position per step through KV caches, against re-running the whole prefix per token
 * Threads: LATENT_THREADS (default 2). Output: lines for people, then "BENCH key=value". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "core/params.h"
#include "core/rng.h"
#include "ops/ops.h"

enum { LAYERS = 4, HEADS = 4, WIDTH = 128, VOCAB = 512, BATCH = 64 };

static void die(const char *what) { ltb_die("bench_transformer", what); }

typedef struct {
    lt_tensor *ln1_w, *ln1_b, *qkv_w, *qkv_b, *proj_w, *proj_b; /* (C) (C) (3C,C) (3C) (C,C) (C) */
    lt_tensor *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;   /* (C) (C) (4C,C) (4C) (C,4C) (C) */
} layer;

typedef struct {
    lt_params params;
    lt_tensor *tok, *pos;           /* (V,C), (T,C) */
    layer l[LAYERS];
    lt_tensor *lnf_w, *lnf_b, *head_w, *head_b; /* (C) (C) (V,C) (V) */
    int64_t T;
} model;

static lt_tensor *add(model *m, const char *name, int nd, int64_t d0, int64_t d1) {
    lt_tensor *t = lt_params_add(&m->params, name, nd, (int64_t[]){d0, d1});
    if (!t) die(name);
    return t;
}

/* PyTorch's default initializations do not matter for speed: normal(0, 0.02), LN 1 and 0. */
static void model_init(model *m, int64_t T) {
    const int64_t C = WIDTH;
    char n[64];
    lt_params_init(&m->params);
    m->T = T;
    m->tok = add(m, "tok.weight", 2, VOCAB, C);
    m->pos = add(m, "pos", 2, T, C);
    for (int i = 0; i < LAYERS; i++) {
        layer *L = &m->l[i];
#define P(field, nd, a, b) (snprintf(n, sizeof n, "blocks.%d." #field, i), L->field = add(m, n, nd, a, b))
        P(ln1_w, 1, C, 0); P(ln1_b, 1, C, 0); P(qkv_w, 2, 3 * C, C); P(qkv_b, 1, 3 * C, 0);
        P(proj_w, 2, C, C); P(proj_b, 1, C, 0); P(ln2_w, 1, C, 0); P(ln2_b, 1, C, 0);
        P(fc1_w, 2, 4 * C, C); P(fc1_b, 1, 4 * C, 0); P(fc2_w, 2, C, 4 * C); P(fc2_b, 1, C, 0);
#undef P
    }
    m->lnf_w = add(m, "ln_f.weight", 1, C, 0);
    m->lnf_b = add(m, "ln_f.bias", 1, C, 0);
    m->head_w = add(m, "head.weight", 2, VOCAB, C);
    m->head_b = add(m, "head.bias", 1, VOCAB, 0);
    if (lt_params_finalize(&m->params)) die("params");
    lt_rng r;
    lt_rng_seed(&r, 1);
    lt_rng_fill_normal(&r, m->params.data, m->params.total, 0.0f, 0.02f);
    for (int64_t i = 0; i < m->params.n; i++) { /* biases 0, LayerNorm weights 1 */
        lt_param *p = m->params.items[i];
        size_t len = strlen(p->name);
        int bias = len > 2 && (!strcmp(p->name + len - 2, "_b") || strstr(p->name, "bias"));
        int lnw = strstr(p->name, "ln") && !bias;
        for (int64_t j = 0; (bias || lnw) && j < lt_numel(&p->t); j++) p->t.data[j] = lnw ? 1.0f : 0.0f;
    }
}

/* One block on h (N,C), N = B·T rows of sequences of length T. With a cache (one per
 * layer), h is one position per sequence (N = B) and attention goes through the cache. */
static lt_tensor *block(lt_graph *g, const layer *L, lt_tensor *h, int64_t B, int64_t T, lt_kv_cache *cache) {
    const int64_t C = WIDTH;
    lt_tensor *a = lt_layer_norm(g, h, L->ln1_w, L->ln1_b, 1e-5f);
    lt_tensor *qkv = lt_linear(g, a, L->qkv_w, L->qkv_b); /* (N,3C) */
    lt_tensor *att = cache ? lt_attention_step(g, cache, qkv)
                           : lt_reshape(g, lt_attention(g, lt_reshape(g, qkv, 3, (int64_t[]){B, T, 3 * C}), HEADS, 1),
                                        2, (int64_t[]){B * T, C});
    h = lt_linear_add(g, att, L->proj_w, L->proj_b, h); /* h + proj(att) */
    lt_tensor *f = lt_layer_norm(g, h, L->ln2_w, L->ln2_b, 1e-5f);
    f = lt_gelu(g, lt_linear(g, f, L->fc1_w, L->fc1_b));
    return lt_linear_add(g, f, L->fc2_w, L->fc2_b, h);
}

/* tokens (B,T) at positions t0.. -> logits (B·T, V) */
static lt_tensor *forward(lt_graph *g, model *m, lt_tensor *tokens, int64_t t0, lt_kv_cache *caches) {
    int64_t B = tokens->shape[0], T = tokens->shape[1], C = WIDTH;
    lt_tensor *pos = lt_slice(g, m->pos, 0, t0, T);
    lt_tensor *h = lt_add(g, lt_embedding(g, m->tok, tokens), pos); /* (B,T,C) */
    h = lt_reshape(g, h, 2, (int64_t[]){B * T, C});
    for (int i = 0; i < LAYERS; i++) h = block(g, &m->l[i], h, B, T, caches ? &caches[i] : NULL);
    h = lt_layer_norm(g, h, m->lnf_w, m->lnf_b, 1e-5f);
    return lt_linear(g, h, m->head_w, m->head_b);
}

typedef struct {
    model *m;
    lt_optim *opt;
    lt_graph *g;
    int64_t *seq, *x, *y; /* (B, T+1), (B, T), (B, T) */
    lt_rng r;
    double loss;
} train_ctx;

/* one step on fresh random sequences: x predicts y, the sequence shifted by one */
static int train_step(void *ud, int round) {
    (void)round;
    train_ctx *c = ud;
    lt_graph *g = c->g;
    const int64_t T = c->m->T;
    for (int64_t i = 0; i < BATCH * (T + 1); i++) c->seq[i] = (int64_t)lt_rng_below(&c->r, VOCAB);
    for (int64_t b = 0; b < BATCH; b++) {
        memcpy(c->x + b * T, c->seq + b * (T + 1), sizeof(int64_t) * T);
        memcpy(c->y + b * T, c->seq + b * (T + 1) + 1, sizeof(int64_t) * T);
    }
    lt_tensor *xt = lt_graph_wrap_i64(g, c->x, 2, (int64_t[]){BATCH, T});
    lt_tensor *yt = lt_graph_wrap_i64(g, c->y, 1, (int64_t[]){BATCH * T});
    lt_params_zero_grad(&c->m->params);
    lt_tensor *l = lt_mean(g, lt_cross_entropy(g, forward(g, c->m, xt, 0, NULL), yt), LT_AXIS_ALL, 0);
    if (!l || lt_backward(g, l)) die("train step");
    c->loss = l->data[0];
    lt_optim_step(c->opt, &c->m->params, 3e-4f);
    lt_graph_reset(g);
    return 0;
}

static void train(int64_t T, int rounds, int steps) {
    model m;
    model_init(&m, T);
    lt_optim opt;
    lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAM, 3e-4f);
    lt_graph g;
    if (lt_optim_init(&opt, &oc, &m.params) || lt_graph_init(&g, 0)) die("init");
    train_ctx c = {&m, &opt, &g, malloc(sizeof(int64_t) * BATCH * (T + 1)), malloc(sizeof(int64_t) * BATCH * T),
                   malloc(sizeof(int64_t) * BATCH * T), {0}, 0};
    lt_rng_seed(&c.r, 2);
    double best_cpu;
    const double best = ltb_best_rate("bench_transformer", rounds, steps, 0, (double)(BATCH * T), train_step, &c, &best_cpu);
    printf("latent  train T=%-3lld %9.0f tokens/s (%.1f ms/step, best of %d rounds of %d steps, batch %d, %d threads), "
           "last loss %.3f, peak RSS %.1f MB, CPU %.2f s/step\n", (long long)T, best, 1e3 * BATCH * T / best, rounds, steps,
           BATCH, lt_threads_get(), c.loss, ltb_peak_rss_mb(), best_cpu);
    printf("BENCH impl=latent what=train T=%lld tok_per_s=%.1f peak_rss_mb=%.1f cpu_s=%.3f arena_mb=%.1f\n",
           (long long)T, best, ltb_peak_rss_mb(), best_cpu, g.arena.high_water / 1048576.0);
    free(c.seq); free(c.x); free(c.y);
    lt_graph_free(&g);
    lt_optim_free(&opt);
    lt_params_free(&m.params);
}

static void attn(int64_t T, int rounds, int reps) {
    const int64_t C = WIDTH;
    lt_graph g;
    if (lt_graph_init(&g, 0)) die("init");
    float *data = malloc(sizeof(float) * BATCH * T * 3 * C), *grad = malloc(sizeof(float) * BATCH * T * 3 * C);
    lt_rng r;
    lt_rng_seed(&r, 3);
    lt_rng_fill_normal(&r, data, BATCH * T * 3 * C, 0.0f, 1.0f);
    double best[2] = {1e30, 1e30};
    for (int round = -1; round < rounds; round++)
        for (int bwd = 0; bwd < 2; bwd++) {
            double t0 = ltb_now();
            for (int i = 0; i < reps; i++) {
                lt_tensor qkv = lt_tensor_wrap(data, 3, (int64_t[]){BATCH, T, 3 * C});
                qkv.requires_grad = bwd;
                qkv.grad = grad;
                lt_tensor *y = lt_attention(&g, &qkv, HEADS, 1);
                if (!y || (bwd && lt_backward_from(&g, y, data))) die("attention"); /* seed: any (B,T,C) floats */
                lt_graph_reset(&g);
            }
            double ms = 1e3 * (ltb_now() - t0) / reps;
            if (round >= 0 && ms < best[bwd]) best[bwd] = ms;
        }
    printf("latent  attention T=%-3lld qkv (%d,%lld,%lld) %d heads causal: fwd %.3f ms, fwd+bwd %.3f ms (best of %d rounds "
           "of %d)\n", (long long)T, BATCH, (long long)T, (long long)(3 * C), HEADS, best[0], best[1], rounds, reps);
    printf("BENCH impl=latent what=attn T=%lld fwd_ms=%.4f fwdbwd_ms=%.4f\n", (long long)T, best[0], best[1]);
    free(data); free(grad);
    lt_graph_free(&g);
}

/* Greedy decoding (argmax) of T tokens from a start token, both ways; returns seconds. */
static double sample(model *m, lt_graph *g, int64_t T, int cached, int64_t *out /* (B,T) */) {
    lt_kv_cache caches[LAYERS];
    for (int i = 0; i < LAYERS; i++)
        if (cached && lt_kv_cache_init(&caches[i], BATCH, T, WIDTH, HEADS)) die("kv cache");
    int64_t *tok = malloc(sizeof(int64_t) * BATCH * T);
    for (int64_t b = 0; b < BATCH; b++) tok[b * T] = b % VOCAB;
    int old = lt_graph_set_grad(g, 0);
    double t0 = ltb_now();
    for (int64_t t = 0; t < T; t++) {
        lt_tensor *logits; /* (B,V): position t's */
        if (cached) {
            int64_t *cur = lt_graph_alloc(g, sizeof(int64_t) * BATCH);
            for (int64_t b = 0; b < BATCH; b++) cur[b] = tok[b * T + t];
            logits = forward(g, m, lt_graph_wrap_i64(g, cur, 2, (int64_t[]){BATCH, 1}), t, caches);
        } else { /* the prefix 0..t, re-run whole; keep each sequence's last row */
            int64_t *pre = lt_graph_alloc(g, sizeof(int64_t) * BATCH * (t + 1));
            for (int64_t b = 0; b < BATCH; b++) memcpy(pre + b * (t + 1), tok + b * T, sizeof(int64_t) * (t + 1));
            lt_tensor *all = forward(g, m, lt_graph_wrap_i64(g, pre, 2, (int64_t[]){BATCH, t + 1}), 0, NULL);
            logits = all ? lt_graph_new(g, LT_F32, 2, (int64_t[]){BATCH, VOCAB}) : NULL;
            for (int64_t b = 0; logits && b < BATCH; b++)
                memcpy(logits->data + b * VOCAB, all->data + (b * (t + 1) + t) * VOCAB, sizeof(float) * VOCAB);
        }
        if (!logits) die("sample");
        for (int64_t b = 0; b < BATCH && t + 1 < T; b++) {
            const float *l = logits->data + b * VOCAB;
            int64_t arg = 0;
            for (int64_t v = 1; v < VOCAB; v++) arg = l[v] > l[arg] ? v : arg;
            tok[b * T + t + 1] = arg;
        }
        lt_graph_reset(g);
    }
    double dt = ltb_now() - t0;
    lt_graph_set_grad(g, old);
    memcpy(out, tok, sizeof(int64_t) * BATCH * T);
    free(tok);
    for (int i = 0; i < LAYERS && cached; i++) lt_kv_cache_free(&caches[i]);
    return dt;
}

static void sampling(int64_t T, int rounds) {
    model m;
    model_init(&m, T);
    lt_graph g;
    if (lt_graph_init(&g, 0)) die("init");
    int64_t *a = malloc(sizeof(int64_t) * BATCH * T), *b = malloc(sizeof(int64_t) * BATCH * T);
    double best[2] = {1e30, 1e30};
    for (int round = -1; round < rounds; round++)
        for (int cached = 0; cached < 2; cached++) {
            if (round < 0 && !cached) continue; /* the re-run is long enough to need no warm-up */
            double s = sample(&m, &g, T, cached, cached ? a : b);
            if (round >= 0 && s < best[cached]) best[cached] = s;
        }
    int64_t same = 0;
    for (int64_t i = 0; i < BATCH * T; i++) same += a[i] == b[i];
    printf("latent  sample T=%-3lld batch %d greedy: KV cache %.3f s (%.0f tokens/s), re-run per token %.3f s: %.1fx; "
           "%.1f%% of tokens the same both ways\n", (long long)T, BATCH, best[1], BATCH * T / best[1], best[0],
           best[0] / best[1], 100.0 * (double)same / (double)(BATCH * T));
    printf("BENCH impl=latent what=sample T=%lld cache_s=%.4f rerun_s=%.4f same=%.4f\n", (long long)T, best[1], best[0],
           (double)same / (double)(BATCH * T));
    free(a); free(b);
    lt_graph_free(&g);
    lt_params_free(&m.params);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_transformer train|attn|sample T [rounds] [steps|reps]\n");
        return 2;
    }
    int64_t T = atoll(argv[2]);
    int rounds = ltb_arg(argc, argv, 3, 3), n = ltb_arg(argc, argv, 4, 0);
    if (T < 1 || T > 4096 || rounds < 1) {
        fprintf(stderr, "bench_transformer: T must be in 1..4096 and rounds >= 1\n");
        return 2;
    }
    ltb_threads(2);
    if (!strcmp(argv[1], "train")) train(T, rounds, n > 0 ? n : (T <= 64 ? 8 : 2));
    else if (!strcmp(argv[1], "attn")) attn(T, rounds, n > 0 ? n : (T <= 64 ? 40 : 10));
    else if (!strcmp(argv[1], "sample")) sampling(T, rounds);
    else {
        fprintf(stderr, "bench_transformer: unknown mode '%s' (train, attn, sample)\n", argv[1]);
        return 2;
    }
    return 0;
}
