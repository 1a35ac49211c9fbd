/* The discrete-latent VAE of Jang, Gu & Poole (2017): M categorical variables
 * of K classes (default 20×10), or M binary units (latent_type "bernoulli",
 * default 200), trained with any estimator of dist/estimator.h.
 *
 * q(z|x): an MLP D -> hidden (512,256) -> M·K logits (softmax per variable, or
 * M sigmoid logits). p(z): uniform. p(x|z): an MLP M·K -> hidden reversed -> D
 * Bernoulli logits. Loss (mean nats per example, the negative ELBO whatever the
 * estimator): −log p(x|z) for one z drawn by the estimator plus the analytic
 * KL(q(z|x) || uniform). The score-function estimators differentiate the
 * reconstruction term through log q(z|x) (the KL keeps its analytic gradient):
 * learning signal f = −log p(x|z), baseline the moving average b (score-ma,
 * score-nn) plus b(x) from a baseline MLP D -> baseline_hidden -> 1 (score-nn)
 * fitted to f − b on its own squared loss.
 * Temperature: τ = max(τ_min, τ0·exp(−r·t)) per on_step, t rounded down to a
 * multiple of anneal_every.
 * log_prob: log (1/S Σ_s p(x,z_s)/q(z_s|x)) with S = iw_samples (default 10)
 * hard samples z_s ~ q (one-hot / binary), a multi-sample bound; elbo: 10 hard
 * samples of log p(x|z) minus the analytic KL.
 * State: "encW*", "encb*", "decW*", "decb*", with score-nn "baseW*", "baseb*", in
 * m->params; the moving average, current τ, rngs and a scratch graph in impl. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "dist/dist.h"
#include "dist/estimator.h"
#include "autograd/backward.h"
#include "models/latent_internal.h"
#include "ops/ops.h"

typedef struct lti_gsvae {
    int64_t M, K, C;          /* variables, classes (1 for binary), code size M·K */
    lt_latent_kind kind;
    lt_estimator est;
    lt_tau_schedule sched;
    float tau;
    lti_mlp enc, dec, base;
    int has_base;
    lt_ma_baseline ma;
    lt_rng train_rng, eval_rng;
    lt_graph scratch;
    int scratch_ready;
} lti_gsvae;

static lt_status gsvae_create(lt_model *m) {
    lti_gsvae *v = lt_calloc(1, sizeof *v);
    if (!v) return lt_fail(LT_ERR_NOMEM, "out of memory creating gsvae");
    m->impl = v;
    int64_t H[LTI_MLP_MAX], sizes[LTI_MLP_MAX + 1], bh, every;
    int L;
    lti_act act;
    const char *type, *est;
    double tau0, tau_min, rate, mom;
    lt_status st;
    if (!json_object_get(m->config, "hidden")) { H[0] = 512; H[1] = 256; L = 2; }
    else if ((st = lti_cfg_hidden(m, 512, H, LTI_MLP_MAX - 1, &L))) return st;
    if ((st = lti_cfg_str(m, "latent_type", "categorical", &type)) || (st = lti_cfg_str(m, "estimator", "gumbel", &est)) ||
        (st = lti_cfg_act(m, LTI_ACT_RELU, &act)) || (st = lt_estimator_parse(est, &v->est)))
        return st;
    if (strcmp(type, "categorical") && strcmp(type, "bernoulli"))
        return lt_fail(LT_ERR_ARG, "model 'gsvae': latent_type '%s', expected categorical or bernoulli", type);
    v->kind = strcmp(type, "bernoulli") ? LT_LATENT_CATEGORICAL : LT_LATENT_BERNOULLI;
    const int cat = v->kind == LT_LATENT_CATEGORICAL;
    if ((st = lti_cfg_int(m, "latent", cat ? 20 : 200, 1, 1 << 16, &v->M)) ||
        (st = lti_cfg_int(m, "classes", cat ? 10 : 1, cat ? 2 : 1, cat ? 1 << 16 : 1, &v->K)) ||
        (st = lti_cfg_real(m, "tau0", 1.0, 1e-3, 1e3, &tau0)) || (st = lti_cfg_real(m, "tau_min", 0.5, 1e-3, 1e3, &tau_min)) ||
        (st = lti_cfg_real(m, "anneal_rate", 3e-5, 0, 1, &rate)) ||
        (st = lti_cfg_int(m, "anneal_every", 500, 1, INT64_MAX, &every)) ||
        (st = lti_cfg_int(m, "baseline_hidden", 100, 1, 1 << 20, &bh)) ||
        (st = lti_cfg_real(m, "baseline_momentum", 0.9, 0, 0.9999, &mom)))
        return st;
    if (v->est == LT_ESTIMATOR_PATHWISE)
        return lt_fail(LT_ERR_ARG, "model 'gsvae': estimator 'pathwise' needs continuous latents (use vae); choose "
                                   "score, score-ma, score-nn, st, gumbel or st-gumbel");
    v->C = v->M * v->K;
    v->sched = (lt_tau_schedule){(float)tau0, (float)tau_min, (float)rate, every};
    v->tau = lt_tau_at(&v->sched, 0);
    v->ma.momentum = (float)mom;
    sizes[0] = m->dim;
    for (int l = 0; l < L; l++) sizes[l + 1] = H[l];
    sizes[L + 1] = v->C;
    if ((st = lti_mlp_declare(m, &v->enc, "enc", sizes, L + 1, act))) return st;
    sizes[0] = v->C;
    for (int l = 0; l < L; l++) sizes[l + 1] = H[L - 1 - l];
    sizes[L + 1] = m->dim;
    if ((st = lti_mlp_declare(m, &v->dec, "dec", sizes, L + 1, act))) return st;
    v->has_base = v->est == LT_ESTIMATOR_SCORE_NN;
    if (v->has_base && (st = lti_mlp_declare(m, &v->base, "base", (int64_t[]){m->dim, bh, 1}, 2, LTI_ACT_TANH))) return st;
    if ((st = lt_params_finalize(&m->params))) return st;
    lti_mlp_init(m, &v->enc);
    lti_mlp_init(m, &v->dec);
    if (v->has_base) lti_mlp_init(m, &v->base);
    v->train_rng = lt_rng_fork(&m->rng, 0x4753545241ULL);
    v->eval_rng = lt_rng_fork(&m->rng, 0x4753455641ULL);
    return LT_OK;
}

/* Encoder logits shaped for the latent: (N,M,K) categorical, (N,M) binary. */
static lt_tensor *gsvae_logits(lt_graph *g, const lti_gsvae *v, lt_tensor *x) {
    lt_tensor *h = lti_mlp_forward(g, &v->enc, x); /* (N,C) */
    if (v->kind == LT_LATENT_BERNOULLI || !h) return h;
    return lt_reshape(g, h, 3, (int64_t[]){h->shape[0], v->M, v->K});
}

static lt_tensor *gsvae_kl(lt_graph *g, const lti_gsvae *v, lt_tensor *logits) {
    return v->kind == LT_LATENT_CATEGORICAL ? lt_categorical_kl_uniform(g, logits) : lt_bernoulli_kl_uniform(g, logits);
}

/* Decoder logits (N,D) of codes z shaped like the logits. */
static lt_tensor *gsvae_decode_t(lt_graph *g, const lti_gsvae *v, lt_tensor *z) {
    if (!z) return NULL;
    return lti_mlp_forward(g, &v->dec, lt_reshape(g, z, 2, (int64_t[]){z->shape[0], v->C}));
}

static lt_status gsvae_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    lti_gsvae *v = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    lt_rng *r = g->rng ? g->rng : &v->train_rng;
    lt_tensor *x = lti_batch_x(g, b), *logits = gsvae_logits(g, v, x);
    lt_latent_draw d;
    if ((st = lt_latent_draw_sample(g, r, v->est, v->kind, logits, v->tau, &d))) return st;
    lt_tensor *rec = lt_bce_with_logits(g, gsvae_decode_t(g, v, d.z), x); /* (N) −log p(x|z) */
    lt_tensor *total = lt_add(g, rec, gsvae_kl(g, v, logits));           /* (N) */
    if (lt_estimator_is_score(v->est) && rec) {
        lt_tensor *base = NULL; /* (N) */
        if (v->est != LT_ESTIMATOR_SCORE && v->ma.started) {
            base = lt_graph_new(g, LT_F32, 1, (int64_t[]){b->n});
            if (base)
                for (int64_t i = 0; i < b->n; i++) base->data[i] = (float)v->ma.value;
        }
        if (v->has_base) {
            lt_tensor *bx = lt_reshape(g, lti_mlp_forward(g, &v->base, x), 1, (int64_t[]){b->n}); /* (N) */
            lt_tensor *target = lt_stop_gradient(g, base ? lt_sub(g, rec, base) : rec);
            lt_tensor *err = lt_sub(g, bx, target);
            total = lt_add(g, total, lt_zero_value(g, lt_mul(g, err, err)));
            base = base ? lt_add(g, base, bx) : bx;
        }
        total = lt_add(g, total, lt_score_surrogate(g, rec, base, d.log_q));
        if ((st = lt_graph_status(g))) return st;
        double acc[2] = {0, (double)b->n}; /* the learning signal's sum and count over the group's whole batch */
        for (int64_t i = 0; i < b->n; i++) acc[0] += rec->data[i];
        if ((st = lt_graph_sum_f64(g, acc, 2))) return st;
        lt_ma_baseline_push(&v->ma, acc[0], acc[1]);
    }
    *loss = lt_mean(g, total, LT_AXIS_ALL, 0);
    return lt_graph_status(g);
}

static void gsvae_on_step(lt_model *m, int64_t step) {
    lti_gsvae *v = m->impl;
    v->tau = lt_tau_at(&v->sched, step);
}

static lt_status gsvae_scratch(lti_gsvae *v) {
    if (v->scratch_ready) return LT_OK;
    lt_status st = lt_graph_init(&v->scratch, (size_t)1 << 24);
    if (!st) v->scratch_ready = 1;
    return st;
}

/* (S, n) per-example samples into lw with hard z ~ q: mode 0 log p(x,z) − log q(z|x), mode 1 log p(x|z) − KL. */
static lt_status gsvae_samples(lt_model *m, const lt_batch *b, int64_t S, int mode, double *lw) {
    lti_gsvae *v = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st || (st = gsvae_scratch(v))) return st;
    lt_graph *s = &v->scratch;
    lt_graph_set_grad(s, 0);
    const int cat = v->kind == LT_LATENT_CATEGORICAL;
    const float log_pz = -(float)v->M * logf(cat ? (float)v->K : 2.0f); /* uniform prior */
    const int64_t n = b->n, chunk = n >= 4096 ? 1 : 4096 / n;
    for (int64_t k0 = 0; k0 < S && !st; k0 += chunk) {
        int64_t kc = S - k0 < chunk ? S - k0 : chunk;
        lt_graph_reset(s);
        lt_tensor *x = lti_batch_x(s, b), *logits = gsvae_logits(s, v, x);
        lt_tensor *lr = lti_tile(s, logits, kc); /* (kc·n, M[,K]) */
        lt_tensor *z = cat ? lt_categorical_sample(s, &v->eval_rng, lr) : lt_bernoulli_sample(s, &v->eval_rng, lr);
        lt_tensor *lpx = lt_neg(s, lt_bce_with_logits(s, gsvae_decode_t(s, v, z), lti_tile(s, x, kc)));
        lt_tensor *out;
        if (mode == 0) {
            lt_tensor *lq = cat ? lt_categorical_log_prob(s, lr, z) : lt_bernoulli_log_prob(s, lr, z);
            out = lt_add_scalar(s, lt_sub(s, lpx, lq), log_pz);
        } else {
            out = lt_sub(s, lpx, lti_tile(s, gsvae_kl(s, v, logits), kc));
        }
        if ((st = lt_graph_status(s))) break;
        for (int64_t i = 0; i < kc * n; i++) lw[k0 * n + i] = out->data[i];
    }
    lt_graph_reset(s);
    return st;
}

static lt_status gsvae_estimate(lt_model *m, const lt_batch *b, int64_t S, int mode, double *out) {
    double *lw = lt_malloc(sizeof(double) * (size_t)(S * b->n + b->n)); /* (S, n) then (n) scratch */
    if (!lw) return lt_fail(LT_ERR_NOMEM, "gsvae: out of memory for %lld samples", (long long)S);
    lt_status st = gsvae_samples(m, b, S, mode, lw);
    double *tmp = lw + S * b->n;
    if (!st) {
        if (mode == 0) lti_log_mean_exp(lw, S, b->n, out, tmp);
        else lti_log_mean_exp(lw, S, b->n, tmp, out);
    }
    lt_free(lw);
    return st;
}

static lt_status gsvae_log_prob(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out) {
    (void)g;
    return gsvae_estimate(m, b, o && o->iw_samples > 0 ? o->iw_samples : 10, 0, out);
}

static lt_status gsvae_elbo(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out) {
    (void)g;
    (void)o;
    return gsvae_estimate(m, b, 10, 1, out);
}

static int64_t gsvae_code_size(const lt_model *m) { return ((const lti_gsvae *)m->impl)->C; }

static lt_status gsvae_encode(lt_model *m, lt_graph *g, const lt_batch *b, float *out) {
    lti_gsvae *v = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    int old = lt_graph_set_grad(g, 0);
    lt_tensor *lg = gsvae_logits(g, v, lti_batch_x(g, b));
    lt_tensor *p = v->kind == LT_LATENT_CATEGORICAL ? lt_softmax(g, lg, -1) : lt_sigmoid(g, lg);
    lt_graph_set_grad(g, old);
    if ((st = lt_graph_status(g))) return st;
    memcpy(out, p->data, sizeof(float) * (size_t)(b->n * v->C));
    return LT_OK;
}

static lt_status gsvae_decode(lt_model *m, lt_graph *g, const float *zc, int64_t n, float *out) {
    lti_gsvae *v = m->impl;
    int old = lt_graph_set_grad(g, 0);
    lt_tensor *z = lt_graph_wrap(g, (float *)zc, 2, (int64_t[]){n, v->C}); /* (n,C), never written */
    lt_tensor *p = lt_sigmoid(g, lti_mlp_forward(g, &v->dec, z));       /* (n,D) */
    lt_graph_set_grad(g, old);
    lt_status st = lt_graph_status(g);
    if (!st) memcpy(out, p->data, sizeof(float) * (size_t)(n * m->dim));
    return st;
}

/* z from the uniform prior, then pixels from p(x|z). */
static lt_status gsvae_sample(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels, float *out) {
    (void)labels;
    lti_gsvae *v = m->impl;
    float *z = lt_graph_alloc(g, sizeof(float) * (size_t)(n * v->C)); /* (n,C) */
    if (!z) return lt_graph_status(g);
    if (v->kind == LT_LATENT_CATEGORICAL) {
        memset(z, 0, sizeof(float) * (size_t)(n * v->C));
        for (int64_t r = 0; r < n * v->M; r++) z[r * v->K + (int64_t)lt_rng_below(rng, (uint64_t)v->K)] = 1.0f;
    } else {
        lt_rng_fill_bernoulli(rng, z, n * v->C, NULL, 0.5f);
    }
    lt_status st = gsvae_decode(m, g, z, n, out);
    if (!st) lt_rng_fill_bernoulli(rng, out, n * m->dim, out, 0.0f);
    return st;
}

/* Only the relaxations have a temperature. */
static double gsvae_temperature(const lt_model *m) {
    const lti_gsvae *v = m->impl;
    return v->est == LT_ESTIMATOR_GUMBEL || v->est == LT_ESTIMATOR_ST_GUMBEL ? v->tau : NAN;
}

/* f = −log p(x|z) per row for codes z (R,C) and inputs x (R,D), on s (gradients as s says). -> (R) */
static lt_tensor *gsvae_recon(lt_graph *s, const lti_gsvae *v, lt_tensor *z, lt_tensor *x) {
    return lt_bce_with_logits(s, gsvae_decode_t(s, v, z), x);
}

/* Rows of x (n,D) repeated: copy k of example i at row (k·n + i) when k_major, else at (i·reps + k). */
static lt_tensor *gsvae_repeat(lt_graph *s, const float *x, int64_t n, int64_t D, int64_t reps, int k_major) {
    lt_tensor *t = lt_graph_new(s, LT_F32, 2, (int64_t[]){n * reps, D}); /* (n·reps, D) */
    if (t)
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < reps; k++)
                memcpy(t->data + (k_major ? k * n + i : i * reps + k) * D, x + i * D, sizeof(float) * (size_t)D);
    return t;
}

/* Per-draw estimates with estimator e: rows of draws k0.. in chunks; out (draws, n·C). */
static lt_status gsvae_grads_est(lti_gsvae *v, lt_graph *s, const lt_batch *b, const float *phi, lt_estimator e,
                                 float tau, int64_t draws, lt_rng *r, float *out) {
    const int64_t n = b->n, C = v->C, D = b->dim, chunk = n >= 2048 ? 1 : 2048 / n;
    const int cat = v->kind == LT_LATENT_CATEGORICAL;
    double base = 0; /* score-ma: the mean signal over one chunk of other draws, as a moving average would hold */
    lt_status st = LT_OK;
    if (e == LT_ESTIMATOR_SCORE_MA) {
        lt_graph_reset(s);
        lt_graph_set_grad(s, 0);
        lt_tensor *lg = gsvae_repeat(s, phi, n, C, chunk, 1); /* (chunk·n, C) */
        lt_tensor *shaped = lg && cat ? lt_reshape(s, lg, 3, (int64_t[]){chunk * n, v->M, v->K}) : lg;
        lt_tensor *z = cat ? lt_categorical_sample(s, r, shaped) : lt_bernoulli_sample(s, r, shaped);
        lt_tensor *f = gsvae_recon(s, v, z, gsvae_repeat(s, b->x, n, D, chunk, 1));
        if ((st = lt_graph_status(s))) return st;
        lt_ma_baseline ma = {0, 0.0f, 0};
        lt_ma_baseline_update(&ma, f->data, chunk * n);
        base = ma.value;
    }
    for (int64_t k0 = 0; k0 < draws && !st; k0 += chunk) {
        const int64_t kc = draws - k0 < chunk ? draws - k0 : chunk, R = kc * n;
        lt_graph_reset(s);
        lt_graph_set_grad(s, 1);
        lt_tensor *lg = gsvae_repeat(s, phi, n, C, kc, 1); /* (R, C) leaf: every row's gradient is one draw */
        if (!lg) return lt_graph_status(s);
        lg->requires_grad = 1;
        lt_tensor *shaped = cat ? lt_reshape(s, lg, 3, (int64_t[]){R, v->M, v->K}) : lg;
        lt_latent_draw d;
        if ((st = lt_latent_draw_sample(s, r, e, v->kind, shaped, tau, &d))) break;
        lt_tensor *f = gsvae_recon(s, v, d.z, gsvae_repeat(s, b->x, n, D, kc, 1)); /* (R) */
        lt_tensor *obj = f;
        if (d.log_q) {
            lt_tensor *bt = NULL;
            if (e == LT_ESTIMATOR_SCORE_MA && (bt = lt_graph_new(s, LT_F32, 1, (int64_t[]){R})))
                for (int64_t i = 0; i < R; i++) bt->data[i] = (float)base;
            obj = lt_score_surrogate(s, f, bt, d.log_q);
        }
        if ((st = lt_backward(s, lt_sum(s, obj, LT_AXIS_ALL, 0)))) break;
        memcpy(out + k0 * n * C, lg->grad, sizeof(float) * (size_t)(R * C));
    }
    return st;
}

/* The local-expectation estimate (Titsias & Lázaro-Gredilla 2015): for a hard draw z ~ q,
 * variable m's gradient sums over its classes exactly with the others held at z:
 * categorical ∂/∂φ_mj = p_mj (f(z_{−m}, j) − Σ_k p_mk f(z_{−m}, k)); binary
 * ∂/∂φ_m = p_m(1 − p_m)(f(z_{−m}, 1) − f(z_{−m}, 0)). Unbiased for the gradient of E_q[f]. */
static lt_status gsvae_grads_ref(lti_gsvae *v, lt_graph *s, const lt_batch *b, const float *phi, int64_t draws, lt_rng *r,
                                 float *out) {
    const int64_t n = b->n, C = v->C, D = b->dim, M = v->M, K = v->K, V = v->kind == LT_LATENT_CATEGORICAL ? K : 2;
    const int cat = v->kind == LT_LATENT_CATEGORICAL;
    lt_status st = LT_OK;
    lt_graph_set_grad(s, 0);
    for (int64_t k = 0; k < draws && !st; k++) {
        lt_graph_reset(s);
        lt_tensor *lg = lt_graph_new(s, LT_F32, 2, (int64_t[]){n, C}); /* (n, C) */
        if (!lg) return lt_graph_status(s);
        memcpy(lg->data, phi, sizeof(float) * (size_t)(n * C));
        lt_tensor *shaped = cat ? lt_reshape(s, lg, 3, (int64_t[]){n, M, K}) : lg;
        lt_tensor *z = cat ? lt_categorical_sample(s, r, shaped) : lt_bernoulli_sample(s, r, shaped); /* hard */
        lt_tensor *p = cat ? lt_softmax(s, shaped, -1) : lt_sigmoid(s, lg);
        lt_tensor *zz = lt_graph_new(s, LT_F32, 2, (int64_t[]){n * M * V, C}); /* (n·M·V, C): variable m set to j */
        if ((st = lt_graph_status(s))) break;
        for (int64_t i = 0; i < n; i++)
            for (int64_t mm = 0; mm < M; mm++)
                for (int64_t j = 0; j < V; j++) {
                    float *row = zz->data + ((i * M + mm) * V + j) * C;
                    memcpy(row, z->data + i * C, sizeof(float) * (size_t)C);
                    if (cat) {
                        memset(row + mm * K, 0, sizeof(float) * (size_t)K);
                        row[mm * K + j] = 1.0f;
                    } else {
                        row[mm] = (float)j;
                    }
                }
        lt_tensor *f = gsvae_recon(s, v, zz, gsvae_repeat(s, b->x, n, D, M * V, 0)); /* (n·M·V) */
        if ((st = lt_graph_status(s))) break;
        float *o = out + k * n * C;
        for (int64_t i = 0; i < n; i++)
            for (int64_t mm = 0; mm < M; mm++) {
                const float *fv = f->data + (i * M + mm) * V, *pv = p->data + i * C + mm * (cat ? K : 1);
                if (!cat) {
                    o[i * C + mm] = pv[0] * (1 - pv[0]) * (fv[1] - fv[0]);
                    continue;
                }
                double avg = 0;
                for (int64_t j = 0; j < K; j++) avg += (double)pv[j] * fv[j];
                for (int64_t j = 0; j < K; j++) o[i * C + mm * K + j] = (float)(pv[j] * (fv[j] - avg));
            }
    }
    return st;
}

static lt_status gsvae_latent_grads(lt_model *m, const lt_batch *b, lt_estimator e, int reference, float tau,
                                    int64_t draws, lt_rng *r, float *out) {
    lti_gsvae *v = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st || (st = gsvae_scratch(v))) return st;
    if (!reference && e == LT_ESTIMATOR_PATHWISE)
        return lt_fail(LT_ERR_ARG, "gsvae: estimator 'pathwise' needs continuous latents");
    lt_graph *s = &v->scratch;
    float *phi = lt_malloc(sizeof(float) * (size_t)(b->n * v->C)); /* (n, C) encoder logits */
    if (!phi) return lt_fail(LT_ERR_NOMEM, "gsvae: logits of %lld examples", (long long)b->n);
    lt_graph_reset(s);
    lt_graph_set_grad(s, 0);
    lt_tensor *lg = lti_mlp_forward(s, &v->enc, lti_batch_x(s, b));
    if (!(st = lt_graph_status(s))) memcpy(phi, lg->data, sizeof(float) * (size_t)(b->n * v->C));
    if (!st) st = reference ? gsvae_grads_ref(v, s, b, phi, draws, r, out)
                            : gsvae_grads_est(v, s, b, phi, e, tau > 0 ? tau : v->tau, draws, r, out);
    lt_graph_reset(s);
    lt_graph_set_grad(s, 0);
    lt_free(phi);
    return st;
}

/* score-ma / score-nn: the moving-average baseline follows the whole batch (group sums). */
static int gsvae_coupling(const lt_model *m, int64_t steps, const char **why) {
    (void)steps;
    const lti_gsvae *v = m->impl;
    if (!lt_estimator_is_score(v->est) || v->est == LT_ESTIMATOR_SCORE) return LT_MODEL_COUPLING_NONE;
    *why = "the score estimator's moving-average baseline sums the batch's learning signal over the ranks at every step";
    return LT_MODEL_COUPLING_GROUP;
}

static void gsvae_destroy(lt_model *m) {
    lti_gsvae *v = m->impl;
    if (!v) return;
    if (v->scratch_ready) lt_graph_free(&v->scratch);
    lt_free(v);
    m->impl = NULL;
}

static const char *const gsvae_keys[] = {"hidden", "latent", "classes", "latent_type", "activation", "estimator", "tau0",
                                         "tau_min", "anneal_rate", "anneal_every", "baseline_hidden",
                                         "baseline_momentum", NULL};

const lt_model_vtable lti_model_gsvae = {
    .name = "gsvae",
    .config_keys = gsvae_keys,
    .create = gsvae_create,
    .loss = gsvae_loss,
    .log_prob = gsvae_log_prob,
    .sample = gsvae_sample,
    .on_step = gsvae_on_step,
    .destroy = gsvae_destroy,
    .elbo = gsvae_elbo,
    .code_size = gsvae_code_size,
    .encode = gsvae_encode,
    .decode = gsvae_decode,
    .temperature = gsvae_temperature,
    .latent_grads = gsvae_latent_grads,
    .coupling = gsvae_coupling,
};
