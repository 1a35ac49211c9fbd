/* MADE, the masked autoencoder for distribution estimation (Germain et al. 2015).
 *
 * An MLP x -> relu(hidden 1) -> ... -> relu(hidden L) -> logits whose weight
 * matrices are masked so that logit d sees only the inputs before d in the
 * mask's ordering. Masks come from degrees (the paper's m^l, 1-based):
 *   inputs     m^0_d = position of pixel d in the ordering, in 1..D
 *              (raster order: m^0_d = d+1; order-agnostic: a random permutation per mask);
 *   hidden l   m^l_k ~ uniform integer in [min_j m^{l-1}_j, D-1];
 *   hidden     unit k of layer l sees unit j of layer l-1 iff m^l_k >= m^{l-1}_j;
 *   output     logit d sees hidden unit k of layer L iff m^0_d > m^L_k;
 *   direct     (option) logit d sees input j iff m^0_d > m^0_j: a masked D x D linear added to the logits.
 * Connectivity-agnostic training: K masks (config "masks"), generated from the
 * seed, mask k = step mod K during training (on_step). Test time: log_prob
 * averages PROBABILITIES over the first n masks (log-mean-exp of per-mask
 * log-likelihoods; averaging logits would not give a density). sample draws from
 * that same mixture: a mask uniformly per sample, then the mask's autoregressive model.
 *
 * State: parameters "W0".."W{L-1}" (H_l, H_{l-1}) with biases "b0".., "Wout" (D,H_L),
 * "bout" (D), "A" (D,D) with "direct", and for a class-conditional model "Uy"
 * (H_1,C) and "Vy" (D,C): the one-hot label is added, unmasked (it is not part of
 * x, so it may reach every unit), to the first hidden pre-activation and to the
 * logits (so even the first pixel in the ordering depends on y).
 * Buffer "degrees" (K, D + ΣH) holds every mask's degrees (the masks in compact
 * form; a checkpoint restores them).
 *
 * Cost: no dense mask is ever built. With the units of every layer sorted by degree
 * (inputs by the ordering), unit i sees a prefix of the layer below, so W ⊙ M is a
 * staircase and each layer is one lt_staircase_linear (ops/staircase.c), which multiplies
 * only the row blocks' non-zero prefixes: about half the dense FLOPs per layer. The
 * staircases of one mask index (sort orders and prefix lengths) are cached in impl and
 * rebuilt when the index or the degrees change, so log_prob and sample (which switch
 * masks) must not run between a loss and its backward.
 * Config: "hidden" (default 500; "500,500" or [500,500] for two layers),
 * "masks" K (default 1), "direct" (default false), "order_agnostic" (default false),
 * "orthogonal_init" (default false: U(±1/√fan_in)). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "models/internal.h"
#include "nn/nn.h"
#include "ops/ops.h"

#define LTI_MADE_MAX_LAYERS 16

typedef struct lti_made {
    int L;                                  /* hidden layers */
    int64_t H[LTI_MADE_MAX_LAYERS];         /* their sizes */
    int64_t K;                              /* masks */
    int direct, order_agnostic, orthogonal; /* orthogonal: the weights' init (config "orthogonal_init") */
    lt_tensor *W[LTI_MADE_MAX_LAYERS + 1];  /* W[l] (H_l, H_{l-1}) with H_{-1} = D; W[L] = Wout (D, H_{L-1}) */
    lt_tensor *b[LTI_MADE_MAX_LAYERS + 1];  /* (H_l), b[L] = bout (D) */
    lt_tensor *A, *Uy, *Vy;                 /* (D,D), (H_0,C), (D,C) or NULL */
    lt_tensor *degrees;                     /* (K, D + ΣH) in m->buffers */
    int64_t row;                            /* D + ΣH */
    /* the staircases of mask index `cached` (owned, one block of indices) */
    int64_t *index_block;
    int64_t *order[LTI_MADE_MAX_LAYERS + 1]; /* order[0] (D): inputs by degree; order[l+1] (H_l): hidden layer l */
    lt_staircase st[LTI_MADE_MAX_LAYERS + 1]; /* layer l's weight W[l]; st[L] the output's */
    lt_staircase st_direct;                   /* A: inputs to outputs, both in input order */
    float *cached_degrees;                   /* (row) the degrees the masks were built from */
    int64_t cached;                          /* -1: none */
    int64_t train_k;                         /* mask used by loss */
    lt_graph scratch;                        /* log_prob and sample: reset per mask / per pixel */
    int scratch_ready;
} lti_made;

/* Draws the degrees of every mask; deterministic in the seed and the config. */
static lt_status made_draw_degrees(lt_model *m, lti_made *z) {
    const int64_t D = m->dim;
    int64_t *perm = lt_malloc(sizeof(int64_t) * (size_t)D);
    if (!perm) return lt_fail(LT_ERR_NOMEM, "out of memory drawing made's orderings");
    for (int64_t k = 0; k < z->K; k++) {
        lt_rng r = lt_rng_fork(&m->rng, 0x4D41444500ULL + (uint64_t)k);
        float *deg = z->degrees->data + k * z->row; /* (D + ΣH) */
        if (z->order_agnostic) {
            lt_rng_permutation(&r, perm, D);
            for (int64_t d = 0; d < D; d++) deg[perm[d]] = (float)(d + 1); /* perm[t] is the t-th pixel */
        } else {
            for (int64_t d = 0; d < D; d++) deg[d] = (float)(d + 1);
        }
        float *prev = deg, *cur = deg + D;
        int64_t nprev = D;
        for (int l = 0; l < z->L; l++) {
            float lo = prev[0];
            for (int64_t j = 1; j < nprev; j++) lo = fminf(lo, prev[j]);
            uint64_t span = (uint64_t)(D - 1 - (int64_t)lo + 1); /* [lo, D-1] */
            for (int64_t i = 0; i < z->H[l]; i++) cur[i] = lo + (float)lt_rng_below(&r, span);
            prev = cur;
            nprev = z->H[l];
            cur += z->H[l];
        }
    }
    lt_free(perm);
    return LT_OK;
}

/* Sorts unit indices by degree (ties by index: deterministic). */
typedef struct { float deg; int64_t i; } lti_made_unit;
static int made_unit_cmp(const void *a, const void *b) {
    const lti_made_unit *u = a, *v = b;
    return u->deg < v->deg ? -1 : u->deg > v->deg ? 1 : (u->i > v->i) - (u->i < v->i);
}

/* len[i] = #{ j : prev[order_prev[j]] < cur (strict) or <= cur } for the sorted rows: a walk. */
static void made_prefix(const float *prev_deg, const int64_t *order_prev, int64_t nprev, const float *cur_deg,
                        const int64_t *order_cur, int64_t ncur, int strict, int64_t *len) {
    int64_t j = 0;
    for (int64_t i = 0; i < ncur; i++) {
        float c = cur_deg[order_cur[i]];
        while (j < nprev && (strict ? prev_deg[order_prev[j]] < c : prev_deg[order_prev[j]] <= c)) j++;
        len[i] = j;
    }
}

/* Makes the staircases of mask k current: every layer's units sorted by degree, and each
 * row's prefix in the layer below (unit i of layer l sees unit j of l-1 iff m_j <= m_i;
 * logit d sees hidden or input j iff m_j < m_d). */
static lt_status made_build_masks(lt_model *m, lti_made *z, int64_t k) {
    const float *deg = z->degrees->data + k * z->row;
    if (z->cached == k && !memcmp(deg, z->cached_degrees, sizeof(float) * (size_t)z->row)) return LT_OK;
    const int64_t D = m->dim;
    int64_t most = D;
    for (int l = 0; l < z->L; l++) most = z->H[l] > most ? z->H[l] : most;
    lti_made_unit *u = lt_malloc(sizeof *u * (size_t)most);
    if (!u) return lt_fail(LT_ERR_NOMEM, "out of memory sorting made's units");
    const float *ldeg[LTI_MADE_MAX_LAYERS + 1]; /* degrees of unit layer t: inputs, then hidden 0..L-1 */
    int64_t n[LTI_MADE_MAX_LAYERS + 1];
    ldeg[0] = deg;
    n[0] = D;
    for (int t = 0; t <= z->L; t++) {
        if (t > 0) {
            ldeg[t] = ldeg[t - 1] + n[t - 1];
            n[t] = z->H[t - 1];
        }
        for (int64_t i = 0; i < n[t]; i++) u[i] = (lti_made_unit){ldeg[t][i], i};
        qsort(u, (size_t)n[t], sizeof *u, made_unit_cmp);
        for (int64_t i = 0; i < n[t]; i++) z->order[t][i] = u[i].i;
    }
    lt_free(u);
    for (int l = 0; l <= z->L; l++) { /* W[l]: rows are unit layer l+1 (the inputs again for the output) */
        int out = l < z->L ? l + 1 : 0;
        made_prefix(ldeg[l], z->order[l], n[l], ldeg[out], z->order[out], n[out], l == z->L, (int64_t *)z->st[l].len);
    }
    if (z->direct) made_prefix(deg, z->order[0], D, deg, z->order[0], D, 1, (int64_t *)z->st_direct.len);
    memcpy(z->cached_degrees, deg, sizeof(float) * (size_t)z->row);
    z->cached = k;
    return LT_OK;
}

static lt_status made_create(lt_model *m) {
    const int64_t D = m->dim, C = m->n_classes;
    lti_made *z = lt_calloc(1, sizeof *z);
    if (!z) return lt_fail(LT_ERR_NOMEM, "out of memory creating made");
    m->impl = z;
    z->cached = -1;
    lt_status st;
    if ((st = lti_cfg_hidden(m, 500, z->H, LTI_MADE_MAX_LAYERS, &z->L)) ||
        (st = lti_cfg_int(m, "masks", 1, 1, 100000, &z->K)) || (st = lti_cfg_bool(m, "direct", 0, &z->direct)) ||
        (st = lti_cfg_bool(m, "order_agnostic", 0, &z->order_agnostic)) ||
        (st = lti_cfg_bool(m, "orthogonal_init", 0, &z->orthogonal)))
        return st;
    if (D < 2) return lt_fail(LT_ERR_ARG, "model 'made' needs at least 2 inputs, got dim %lld", (long long)D);
    /* parameters */
    int64_t nin = D;
    z->row = D;
    for (int l = 0; l <= z->L; l++) {
        int64_t nout = l < z->L ? z->H[l] : D;
        char wn[32], bn[32];
        snprintf(wn, sizeof wn, l < z->L ? "W%d" : "Wout", l);
        snprintf(bn, sizeof bn, l < z->L ? "b%d" : "bout", l);
        if (!(z->W[l] = lt_params_add(&m->params, wn, 2, (int64_t[]){nout, nin})) ||
            !(z->b[l] = lt_params_add(&m->params, bn, 1, (int64_t[]){nout})))
            return LT_ERR_NOMEM;
        if (l < z->L) z->row += nout;
        nin = nout;
    }
    if (z->direct && !(z->A = lt_params_add(&m->params, "A", 2, (int64_t[]){D, D}))) return LT_ERR_NOMEM;
    if (C > 0 && (!(z->Uy = lt_params_add(&m->params, "Uy", 2, (int64_t[]){z->H[0], C})) ||
                  !(z->Vy = lt_params_add(&m->params, "Vy", 2, (int64_t[]){D, C}))))
        return LT_ERR_NOMEM;
    if (!(z->degrees = lt_params_add(&m->buffers, "degrees", 2, (int64_t[]){z->K, z->row}))) return LT_ERR_NOMEM;
    if ((st = lt_params_finalize(&m->params)) || (st = lt_params_finalize(&m->buffers))) return st;
    z->degrees->requires_grad = 0;
    /* staircase cache: the orders (D + ΣH), then the prefix lengths (ΣH + D [+ D]) */
    int64_t nidx = 2 * z->row + (z->direct ? D : 0);
    z->index_block = lt_malloc(sizeof(int64_t) * (size_t)nidx);
    z->cached_degrees = lt_malloc(sizeof(float) * (size_t)z->row);
    if (!z->index_block || !z->cached_degrees)
        return lt_fail(LT_ERR_NOMEM, "out of memory for made's masks (%lld indices)", (long long)nidx);
    int64_t *p = z->index_block;
    for (int t = 0; t <= z->L; t++) {
        z->order[t] = p;
        p += t == 0 ? D : z->H[t - 1];
    }
    for (int l = 0; l <= z->L; l++) {
        int64_t nout = z->W[l]->shape[0], nin = z->W[l]->shape[1];
        z->st[l] = (lt_staircase){nout, nin, z->order[l < z->L ? l + 1 : 0], z->order[l], p};
        p += nout;
    }
    if (z->direct) z->st_direct = (lt_staircase){D, D, z->order[0], z->order[0], p};
    /* init: PyTorch's nn.Linear weight scale U(±1/sqrt(fan_in)), or (orthogonal_init, the
     * authors' "Orthogonal") random orthogonal matrices, masked like any other; biases 0 */
    for (int l = 0; l <= z->L + 1; l++) {
        lt_tensor *w = l <= z->L ? z->W[l] : z->A;
        if (!w) continue;
        const float s = 1.0f / sqrtf((float)w->shape[1]);
        if (!z->orthogonal) lt_rng_fill_uniform(&m->rng, w->data, lt_numel(w), -s, s);
        else if ((st = lt_nn_init_orthogonal(&m->rng, w, 1.0f))) return st;
    }
    if (C > 0) {
        float s = 1.0f / sqrtf((float)C);
        lt_rng_fill_uniform(&m->rng, z->Uy->data, lt_numel(z->Uy), -s, s);
        lt_rng_fill_uniform(&m->rng, z->Vy->data, lt_numel(z->Vy), -s, s);
    }
    return made_draw_degrees(m, z);
}

/* Logits (n,D) of x (n,D) under mask k. Declared in models/internal.h for tests. */
lt_tensor *lti_made_logits(lt_model *m, lt_graph *g, lt_tensor *x, const int64_t *labels, int64_t k) {
    lti_made *z = m->impl;
    lt_status st = made_build_masks(m, z, k);
    if (st) {
        lti_graph_fail(g, st, "%s", lt_error_message());
        return NULL;
    }
    lt_tensor *y1 = z->Uy || z->Vy ? lti_onehot(g, m, labels, x->shape[0]) : NULL; /* (n,C) */
    lt_tensor *h = x;
    for (int l = 0; l < z->L; l++) {
        lt_tensor *pre = lt_staircase_linear(g, h, z->W[l], &z->st[l], z->b[l]); /* (n,H_l) */
        if (l == 0 && z->Uy) pre = lt_add(g, pre, lt_linear(g, y1, z->Uy, NULL));
        h = lt_relu(g, pre);
    }
    lt_tensor *logits = lt_staircase_linear(g, h, z->W[z->L], &z->st[z->L], z->b[z->L]); /* (n,D) */
    if (z->A) logits = lt_add(g, logits, lt_staircase_linear(g, x, z->A, &z->st_direct, NULL));
    if (z->Vy) logits = lt_add(g, logits, lt_linear(g, y1, z->Vy, NULL));
    return logits;
}

lt_status lti_made_macs(lt_model *m, int64_t k, int64_t *dense, int64_t *done, int64_t *nonzero) {
    lti_made *z = m->impl;
    lt_status st = made_build_masks(m, z, k);
    if (st) return st;
    *dense = *done = *nonzero = 0;
    for (int l = 0; l <= z->L + 1; l++) {
        const lt_staircase *s = l <= z->L ? &z->st[l] : (z->direct ? &z->st_direct : NULL);
        if (!s) continue;
        *dense += s->n_out * s->n_in;
        *done += lt_staircase_macs(s, 1);
        for (int64_t i = 0; i < s->n_out; i++) *nonzero += s->len[i];
    }
    return LT_OK;
}

static lt_status made_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    lti_made *z = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    lt_tensor *x = lti_batch_x(g, b);
    *loss = lti_bernoulli_nll_mean(g, lti_made_logits(m, g, x, b->y, z->train_k), x);
    return lt_graph_status(g);
}

static lt_status made_scratch(lti_made *z) {
    if (z->scratch_ready) return LT_OK;
    lt_status st = lt_graph_init(&z->scratch, 1u << 22);
    if (!st) z->scratch_ready = 1;
    return st;
}

/* log p(x) = log (1/n Σ_k p_k(x)) over masks k < n, per example. */
static lt_status made_log_prob(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out) {
    (void)g;
    lti_made *z = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st || (st = made_scratch(z))) return st;
    int64_t n = o && o->n_masks > 0 ? o->n_masks : z->K, B = b->n;
    if (n > z->K)
        return lt_fail(LT_ERR_ARG, "made: %lld masks asked for at test time, the model was trained with %lld",
                       (long long)n, (long long)z->K);
    double *lp = lt_malloc(sizeof(double) * (size_t)(n * B)); /* (n, B) per-mask log-likelihoods */
    if (!lp) return lt_fail(LT_ERR_NOMEM, "out of memory for made's ensemble");
    lt_graph *s = &z->scratch;
    lt_graph_set_grad(s, 0);
    for (int64_t k = 0; k < n && !st; k++) {
        lt_graph_reset(s);
        lt_tensor *x = lti_batch_x(s, b);
        lt_tensor *logits = lti_made_logits(m, s, x, b->y, k);
        st = lt_graph_status(s);
        if (!st) st = lti_bernoulli_log_prob(s, logits, x, lp + k * B);
    }
    lt_graph_reset(s);
    for (int64_t i = 0; i < B && !st; i++) {
        double mx = -INFINITY, sum = 0.0;
        for (int64_t k = 0; k < n; k++) mx = fmax(mx, lp[k * B + i]);
        for (int64_t k = 0; k < n; k++) sum += exp(lp[k * B + i] - mx);
        out[i] = mx + log(sum) - log((double)n);
    }
    lt_free(lp);
    return st;
}

/* n samples of mask mk's model, pixel by pixel in its ordering, without a pass of the
 * whole network per pixel: the first layer's pre-activation a (n,H_0) starts at its bias
 * (+ label term) and gains the masked weight column of each pixel drawn as 1, and only
 * the drawn pixel's logit is computed: O(n (H + D)) per pixel with one hidden layer.
 * Layers after the first are recomputed per pixel (through the graph), with their staircase
 * blocks packed once per call (the weights do not change while it draws). Uniforms are
 * drawn pixel-major, sample-minor; tests replay them against lti_made_logits. */
static lt_status made_sample_mask(lt_model *m, lt_rng *rng, int64_t n, const int64_t *labels, int64_t mk, float *out) {
    lti_made *z = m->impl;
    const int64_t D = m->dim, H0 = z->H[0], HL = z->H[z->L - 1], C = m->n_classes;
    lt_status st = made_scratch(z);
    if (st || (st = made_build_masks(m, z, mk))) return st;
    const float *deg = z->degrees->data + mk * z->row, *deg0 = deg + D; /* inputs, hidden layer 0 */
    const float *degL = deg + z->row - HL;                                /* the last hidden layer */
    int64_t *order = lt_malloc(sizeof(int64_t) * (size_t)D); /* order[t] = the t-th pixel of mask mk */
    float *colT = lt_malloc(sizeof(float) * (size_t)(D * H0));   /* (D,H_0) masked W0, transposed */
    float *a = lt_malloc(sizeof(float) * (size_t)(n * H0));      /* (n,H_0) first pre-activation */
    float *h = lt_malloc(sizeof(float) * (size_t)(n * H0));      /* (n,H_0) relu(a) */
    float *wrow = lt_malloc(sizeof(float) * (size_t)(HL + D));   /* (H_{L-1}+D) pixel d's masked logit weights */
    lt_staircase_pack *pk[LTI_MADE_MAX_LAYERS] = {NULL};       /* layers 1..L-1 */
    if (!order || !colT || !a || !h || !wrow) {
        st = lt_fail(LT_ERR_NOMEM, "out of memory sampling made");
        goto done;
    }
    for (int l = 1; l < z->L && !st; l++) st = lt_staircase_pack_new(z->W[l], &z->st[l], &pk[l]);
    if (st) goto done;
    for (int64_t d = 0; d < D; d++) {
        int64_t t = (int64_t)deg[d] - 1;
        order[t < 0 ? 0 : (t >= D ? D - 1 : t)] = d;
    }
    const float *W0 = z->W[0]->data; /* (H_0,D) */
    for (int64_t k = 0; k < H0; k++)
        for (int64_t d = 0; d < D; d++) colT[d * H0 + k] = deg0[k] >= deg[d] ? W0[k * D + d] : 0.0f;
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < H0; k++)
            a[i * H0 + k] = z->b[0]->data[k] + (z->Uy ? z->Uy->data[k * C + labels[i]] : 0.0f);
    memset(out, 0, sizeof(float) * (size_t)(n * D));
    lt_graph *s = &z->scratch;
    lt_graph_set_grad(s, 0);
    const float *Wo = z->W[z->L]->data; /* (D,H_{L-1}) */
    for (int64_t t = 0; t < D && !st; t++) {
        const int64_t d = order[t];
        for (int64_t j = 0; j < n * H0; j++) h[j] = a[j] > 0.0f ? a[j] : 0.0f;
        const float *top = h; /* (n,H_{L-1}) the last hidden layer */
        if (z->L > 1) {
            lt_graph_reset(s);
            lt_tensor *x = lt_graph_wrap(s, h, 2, (int64_t[]){n, H0});
            for (int l = 1; l < z->L; l++) x = lt_relu(s, lt_staircase_linear_packed(s, x, z->W[l], pk[l], z->b[l]));
            if ((st = lt_graph_status(s))) break;
            top = x->data;
        }
        float *arow = wrow + HL; /* the direct connections' row, with A */
        for (int64_t k = 0; k < HL; k++) wrow[k] = deg[d] > degL[k] ? Wo[d * HL + k] : 0.0f;
        if (z->A)
            for (int64_t j = 0; j < D; j++) arow[j] = deg[d] > deg[j] ? z->A->data[d * D + j] : 0.0f;
        for (int64_t i = 0; i < n; i++) {
            float v = z->b[z->L]->data[d];
            for (int64_t k = 0; k < HL; k++) v += wrow[k] * top[i * HL + k];
            if (z->A)
                for (int64_t j = 0; j < D; j++) v += arow[j] * out[i * D + j];
            if (z->Vy) v += z->Vy->data[d * C + labels[i]];
            float p = 1.0f / (1.0f + expf(-v));
            if (lt_rng_uniform(rng) < p) {
                out[i * D + d] = 1.0f;
                for (int64_t k = 0; k < H0; k++) a[i * H0 + k] += colT[d * H0 + k];
            }
        }
    }
    lt_graph_reset(s);
done:
    for (int l = 1; l < z->L; l++) lt_staircase_pack_free(pk[l]);
    lt_free(order);
    lt_free(colT);
    lt_free(a);
    lt_free(h);
    lt_free(wrow);
    return st;
}

/* Samples of the model log_prob scores: the ensemble of all K masks is the mixture
 * (1/K) Σ_k p_k, so each sample first draws its mask (no draw when K = 1), then is drawn
 * from that mask's model; samples are grouped by mask. */
static lt_status made_sample(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels, float *out) {
    (void)g;
    lti_made *z = m->impl;
    const int64_t D = m->dim;
    lt_batch chk = {out, labels, n, D, NULL};
    lt_status st = lti_check_batch(m, &chk);
    if (st) return st;
    if (z->K == 1) return made_sample_mask(m, rng, n, labels, 0, out);
    int64_t *mask_of = lt_malloc(sizeof(int64_t) * (size_t)n), *pick = lt_malloc(sizeof(int64_t) * (size_t)n);
    int64_t *lab = labels ? lt_malloc(sizeof(int64_t) * (size_t)n) : NULL;
    float *buf = lt_malloc(sizeof(float) * (size_t)(n * D)); /* (n_k, D) the samples of one mask */
    if (!mask_of || !pick || (labels && !lab) || !buf) st = lt_fail(LT_ERR_NOMEM, "out of memory sampling made");
    for (int64_t i = 0; i < n && !st; i++) mask_of[i] = (int64_t)lt_rng_below(rng, (uint64_t)z->K);
    for (int64_t k = 0; k < z->K && !st; k++) {
        int64_t nk = 0;
        for (int64_t i = 0; i < n; i++)
            if (mask_of[i] == k) {
                if (lab) lab[nk] = labels[i];
                pick[nk++] = i;
            }
        if (nk == 0 || (st = made_sample_mask(m, rng, nk, lab, k, buf))) continue;
        for (int64_t j = 0; j < nk; j++) memcpy(out + pick[j] * D, buf + j * D, sizeof(float) * (size_t)D);
    }
    lt_free(mask_of);
    lt_free(pick);
    lt_free(lab);
    lt_free(buf);
    return st;
}

static void made_on_step(lt_model *m, int64_t step) {
    lti_made *z = m->impl;
    z->train_k = step % z->K;
}

static void made_destroy(lt_model *m) {
    lti_made *z = m->impl;
    if (!z) return;
    if (z->scratch_ready) lt_graph_free(&z->scratch);
    lt_free(z->index_block);
    lt_free(z->cached_degrees);
    lt_free(z);
    m->impl = NULL;
}

static const char *const made_keys[] = {"hidden", "masks", "direct", "order_agnostic", "orthogonal_init", NULL};

const lt_model_vtable lti_model_made = {
    .name = "made",
    .config_keys = made_keys,
    .create = made_create,
    .loss = made_loss,
    .log_prob = made_log_prob,
    .sample = made_sample,
    .on_step = made_on_step,
    .destroy = made_destroy,
};
