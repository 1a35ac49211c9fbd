/* The variational autoencoder (Kingma & Welling 2014) with the IWAE bound
 * (Burda et al. 2016) as an option.
 *
 * q(z|x) = N(mu(x), diag exp(logvar(x))): an MLP D -> hidden... -> 2Z whose output
 * splits into mu and logvar. p(z) = N(0, I). p(x|z) = Bernoulli(sigmoid(dec(z))),
 * an MLP Z -> hidden reversed... -> D. Training loss (mean nats per example):
 *   iw = 1   −ELBO = E_q[−log p(x|z)] + KL(q||p), one reparameterized sample, analytic KL;
 *   iw = K   −log (1/K Σ_k w_k), w_k = p(x,z_k)/q(z_k|x), K reparameterized samples.
 * KL warm-up (config "kl_warmup" N steps, iw = 1 only): the KL term is weighted by
 * β = min(1, t / N) at step t (on_step), so the first steps learn to reconstruct before
 * the prior pulls q in (Sønderby et al. 2016); evaluation always uses β = 1.
 * log_prob: the same importance-weighted estimate with lt_eval_opts.iw_samples
 * samples (default 10); elbo: one-sample reconstruction averaged over 10 draws
 * plus the analytic KL.
 * State: "encW*"/"encb*", "decW*"/"decb*" in m->params; impl owns a scratch graph
 * (evaluation in chunks of samples) and the evaluation rng (forked from the seed).
 * Training noise comes from the graph's rng (the trainer's), else from impl. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "dist/dist.h"
#include "models/latent_internal.h"
#include "ops/ops.h"

typedef struct lti_vae {
    int64_t Z, iw;
    int64_t kl_warmup; /* steps; 0: none */
    float beta;        /* the KL weight of the current step */
    lti_mlp enc, dec;
    lt_rng train_rng, eval_rng;
    lt_graph scratch;
    int scratch_ready;
} lti_vae;

static lt_status vae_create(lt_model *m) {
    lti_vae *v = lt_calloc(1, sizeof *v);
    if (!v) return lt_fail(LT_ERR_NOMEM, "out of memory creating vae");
    m->impl = v;
    int64_t H[LTI_MLP_MAX], sizes[LTI_MLP_MAX + 1];
    int L;
    lti_act act;
    lt_status st;
    json_t *hid = json_object_get(m->config, "hidden");
    if (!hid) { H[0] = H[1] = 500; L = 2; }
    else if ((st = lti_cfg_hidden(m, 500, H, LTI_MLP_MAX - 1, &L))) return st;
    if ((st = lti_cfg_int(m, "latent", 50, 1, 1 << 16, &v->Z)) || (st = lti_cfg_int(m, "iw", 1, 1, 100000, &v->iw)) ||
        (st = lti_cfg_act(m, LTI_ACT_SOFTPLUS, &act)) ||
        (st = lti_cfg_int(m, "kl_warmup", 0, 0, INT64_MAX, &v->kl_warmup)))
        return st;
    if (v->kl_warmup > 0 && v->iw > 1)
        return lt_fail(LT_ERR_ARG, "vae: kl_warmup applies to the ELBO (iw = 1); the IWAE bound (iw = %lld) has no "
                       "separate KL term to weight", (long long)v->iw);
    v->beta = v->kl_warmup > 0 ? 0.0f : 1.0f;
    sizes[0] = m->dim;
    for (int l = 0; l < L; l++) sizes[l + 1] = H[l];
    sizes[L + 1] = 2 * v->Z;
    if ((st = lti_mlp_declare(m, &v->enc, "enc", sizes, L + 1, act))) return st;
    sizes[0] = v->Z;
    for (int l = 0; l < L; l++) sizes[l + 1] = H[L - 1 - l];
    sizes[L + 1] = m->dim;
    if ((st = lti_mlp_declare(m, &v->dec, "dec", sizes, L + 1, act)) || (st = lt_params_finalize(&m->params))) return st;
    lti_mlp_init(m, &v->enc);
    lti_mlp_init(m, &v->dec);
    v->train_rng = lt_rng_fork(&m->rng, 0x5641455452ULL);
    v->eval_rng = lt_rng_fork(&m->rng, 0x5641454556ULL);
    return LT_OK;
}

/* mu, logvar (N,Z) of q(z|x) for x (N,D). */
static void vae_encode_t(lt_graph *g, const lti_vae *v, lt_tensor *x, lt_tensor **mu, lt_tensor **lv) {
    lt_tensor *h = lti_mlp_forward(g, &v->enc, x); /* (N,2Z) */
    *mu = lt_slice(g, h, 1, 0, v->Z);
    *lv = lt_slice(g, h, 1, v->Z, v->Z);
}

/* log w = log p(x|z) + log p(z) − log q(z|x) for K samples per example: (K·N), rows k·N + i.
 * rsample: reparameterized (training), else constant samples. */
static lt_tensor *vae_log_w(lt_graph *g, lt_rng *r, const lti_vae *v, lt_tensor *x, int64_t K, int rsample) {
    lt_tensor *mu, *lv;
    vae_encode_t(g, v, x, &mu, &lv);
    lt_tensor *mur = lti_tile(g, mu, K), *lvr = lti_tile(g, lv, K); /* (K·N, Z) */
    lt_tensor *xr = lti_tile(g, x, K);                               /* (K·N, D) constant */
    lt_tensor *z = rsample ? lt_normal_rsample(g, r, mur, lvr) : lt_normal_sample(g, r, mur, lvr);
    lt_tensor *lpx = lt_bernoulli_log_prob(g, lti_mlp_forward(g, &v->dec, z), xr);
    return lt_sub(g, lt_add(g, lpx, lt_normal_log_prob(g, z, NULL, NULL)), lt_normal_log_prob(g, z, mur, lvr));
}

static lt_status vae_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    lti_vae *v = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    lt_rng *r = g->rng ? g->rng : &v->train_rng;
    lt_tensor *x = lti_batch_x(g, b);
    if (v->iw == 1) {
        lt_tensor *mu, *lv;
        vae_encode_t(g, v, x, &mu, &lv);
        lt_tensor *logits = lti_mlp_forward(g, &v->dec, lt_normal_rsample(g, r, mu, lv));
        lt_tensor *kl = lt_normal_kl_std(g, mu, lv); /* (N) */
        if (v->beta < 1.0f) kl = lt_mul_scalar(g, kl, v->beta);
        *loss = lt_mean(g, lt_add(g, lt_bce_with_logits(g, logits, x), kl), LT_AXIS_ALL, 0);
    } else {
        lt_tensor *lw = lt_reshape(g, vae_log_w(g, r, v, x, v->iw, 1), 2, (int64_t[]){v->iw, b->n}); /* (K,N) */
        lt_tensor *bound = lt_add_scalar(g, lt_logsumexp(g, lw, 0, 0), -logf((float)v->iw));  /* (N) */
        *loss = lt_neg(g, lt_mean(g, bound, LT_AXIS_ALL, 0));
    }
    return lt_graph_status(g);
}

static lt_status vae_scratch(lti_vae *v) {
    if (v->scratch_ready) return LT_OK;
    lt_status st = lt_graph_init(&v->scratch, (size_t)1 << 24);
    if (!st) v->scratch_ready = 1;
    return st;
}

/* Per-example samples (K, n) into lw: mode 0 log w (importance weights), mode 1 log p(x|z) − KL. */
static lt_status vae_samples(lt_model *m, const lt_batch *b, int64_t K, int mode, double *lw) {
    lti_vae *v = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st || (st = vae_scratch(v))) return st;
    lt_graph *s = &v->scratch;
    lt_graph_set_grad(s, 0);
    const int64_t n = b->n, chunk = n >= 4096 ? 1 : 4096 / n; /* samples per pass: about 4096 rows */
    for (int64_t k0 = 0; k0 < K && !st; k0 += chunk) {
        int64_t kc = K - k0 < chunk ? K - k0 : chunk;
        lt_graph_reset(s);
        lt_tensor *x = lti_batch_x(s, b), *out;
        if (mode == 0) {
            out = vae_log_w(s, &v->eval_rng, v, x, kc, 0);
        } else {
            lt_tensor *mu, *lv;
            vae_encode_t(s, v, x, &mu, &lv);
            lt_tensor *z = lt_normal_sample(s, &v->eval_rng, lti_tile(s, mu, kc), lti_tile(s, lv, kc));
            lt_tensor *lpx = lt_bernoulli_log_prob(s, lti_mlp_forward(s, &v->dec, z), lti_tile(s, x, kc));
            out = lt_sub(s, lpx, lti_tile(s, lt_normal_kl_std(s, mu, lv), kc));
        }
        if ((st = lt_graph_status(s))) break;
        for (int64_t i = 0; i < kc * n; i++) lw[k0 * n + i] = out->data[i];
    }
    lt_graph_reset(s);
    return st;
}

static lt_status vae_estimate(lt_model *m, const lt_batch *b, int64_t K, int mode, double *out) {
    double *lw = lt_malloc(sizeof(double) * (size_t)(K * b->n)); /* (K, n) */
    if (!lw) return lt_fail(LT_ERR_NOMEM, "vae: out of memory for %lld importance samples", (long long)K);
    lt_status st = vae_samples(m, b, K, mode, lw);
    if (!st) {
        double *tmp = lt_malloc(sizeof(double) * (size_t)b->n);
        if (!tmp) st = lt_fail(LT_ERR_NOMEM, "vae: out of memory");
        else if (mode == 0) lti_log_mean_exp(lw, K, b->n, out, tmp);
        else lti_log_mean_exp(lw, K, b->n, tmp, out);
        lt_free(tmp);
    }
    lt_free(lw);
    return st;
}

static lt_status vae_log_prob(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out) {
    (void)g;
    return vae_estimate(m, b, o && o->iw_samples > 0 ? o->iw_samples : 10, 0, out);
}

static lt_status vae_elbo(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out) {
    (void)g;
    (void)o;
    return vae_estimate(m, b, 10, 1, out);
}

static int64_t vae_code_size(const lt_model *m) { return ((const lti_vae *)m->impl)->Z; }

static lt_status vae_encode(lt_model *m, lt_graph *g, const lt_batch *b, float *out) {
    lti_vae *v = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    int old = lt_graph_set_grad(g, 0);
    lt_tensor *mu, *lv;
    vae_encode_t(g, v, lti_batch_x(g, b), &mu, &lv);
    lt_graph_set_grad(g, old);
    if ((st = lt_graph_status(g))) return st;
    for (int64_t i = 0; i < b->n * v->Z; i++) out[i] = mu->data[i]; /* slice made mu a contiguous (n,Z) copy */
    return LT_OK;
}

static lt_status vae_decode(lt_model *m, lt_graph *g, const float *zc, int64_t n, float *out) {
    lti_vae *v = m->impl;
    int old = lt_graph_set_grad(g, 0);
    lt_tensor *z = lt_graph_wrap(g, (float *)zc, 2, (int64_t[]){n, v->Z}); /* (n,Z), never written */
    lt_tensor *p = lt_sigmoid(g, lti_mlp_forward(g, &v->dec, z));       /* (n,D) */
    lt_graph_set_grad(g, old);
    lt_status st = lt_graph_status(g);
    if (!st) memcpy(out, p->data, sizeof(float) * (size_t)(n * m->dim));
    return st;
}

static lt_status vae_sample(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels, float *out) {
    (void)labels;
    lti_vae *v = m->impl;
    float *z = lt_graph_alloc(g, sizeof(float) * (size_t)(n * v->Z)); /* (n,Z) ~ N(0,I) */
    if (!z) return lt_graph_status(g);
    lt_rng_fill_normal(rng, z, n * v->Z, 0.0f, 1.0f);
    lt_status st = vae_decode(m, g, z, n, out);
    if (st) return st;
    lt_rng_fill_bernoulli(rng, out, n * m->dim, out, 0.0f);
    return LT_OK;
}

static void vae_on_step(lt_model *m, int64_t step) {
    lti_vae *v = m->impl;
    v->beta = v->kl_warmup > 0 && step < v->kl_warmup ? (float)((double)step / (double)v->kl_warmup) : 1.0f;
}

static void vae_destroy(lt_model *m) {
    lti_vae *v = m->impl;
    if (!v) return;
    if (v->scratch_ready) lt_graph_free(&v->scratch);
    lt_free(v);
    m->impl = NULL;
}

static const char *const vae_keys[] = {"hidden", "latent", "activation", "iw", "kl_warmup", NULL};

const lt_model_vtable lti_model_vae = {
    .name = "vae",
    .config_keys = vae_keys,
    .create = vae_create,
    .loss = vae_loss,
    .log_prob = vae_log_prob,
    .sample = vae_sample,
    .on_step = vae_on_step,
    .destroy = vae_destroy,
    .elbo = vae_elbo,
    .code_size = vae_code_size,
    .encode = vae_encode,
    .decode = vae_decode,
};
