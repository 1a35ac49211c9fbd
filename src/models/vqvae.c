/* The VQ-VAE (van den Oord et al. 2017), composed from nn modules as in the paper and
 * Sonnet's CIFAR example (docs/vqvae.md).
 *
 * Encoder: log2(downsample) 4×4 stride-2 convs (hidden/2 channels, the last hidden), ReLU
 * after each; a 3×3 conv; res_blocks VQ-VAE residual blocks and a ReLU; a 1×1 conv to D:
 * z_e (N,D,h,w), h = H/downsample. Quantizer: lt_nn_vq (K codes). Decoder: a 3×3 conv
 * D→hidden, the residual blocks and a ReLU, then 4×4 stride-2 transposed convs back
 * (hidden/2 channels between them, ReLU between them, C out).
 *
 * Likelihood: "binary" data (the trainer sets the key): Bernoulli(sigmoid(decoder));
 * with decoder "made" (binary data only) autoregressive instead: the conv decoder's logits
 * c (n, dim) plus a conditioned MADE head (nn/made_head.c) over the pixels in raster order,
 * p(x|z_q) = Π_i Bernoulli(x_i | σ(c_i + MADE_i(x_<i, c))), c entering the head's hidden
 * layer unmasked; loss, log_prob and the validation metrics take it teacher-forced (one pass),
 * sample and decode draw the pixels one at a time (decode's draws from the model's seed:
 * the same codes decode to the same images); "ar_hidden" is the head's hidden size;
 * decoder "nade" likewise with a conditioned NADE head (nn/nade_head.c) whose initial
 * pre-activation is c_bias + Wc·c: c, the conv decoder's logits (784 values, the same context
 * as made's; the last feature map would be 64·14·14 = 12,544), sets where the NADE starts;
 * otherwise the decoder output is the mean of a Gaussian with the data's variance v (the
 * buffer "data_variance", measured on the first training batch).
 * Training loss (per element, as Sonnet and taming): mean BCE per pixel, or mean squared
 * error / v, plus the quantizer's loss (codebook + β·commitment, or β·commitment with EMA).
 * log_prob: log p(x|z_q(x)) − h·w·log K, i.e. minus the bound −log p(x|z_q) + h·w·log K of a
 * uniform prior over codes in nats (a density for Gaussian data: not comparable with the
 * discrete NLLs). Validation metrics: mse (pixels in [0,1]), psnr, normalized_mse (mse over
 * the split's pixel variance), usage (fraction of codes used over the split), dead_codes,
 * perplexity exp(H) of the code histogram, commitment and codebook_loss (unweighted means).
 * sample: codes uniform over K (the prior of the bound), decoded. encode/decode: code
 * indices (h·w per image, as floats).
 * codebook "none": the continuous autoencoder of the same architecture (issue 12's baseline):
 * z_q = z_e, no quantizer (no codebook or commitment loss, no codebook parameters); metrics
 * mse, psnr, normalized_mse only; log_prob is log p(x|z_e), no prior term; encode/decode
 * carry z_e (D·h·w floats); no code grid, so `latent encode`/`decode` and `--codes-of`
 * refuse it; sample decodes z_e ~ N(0, I), which is not a model of the data (none has a prior).
 * Training scalars (train_stats): mse (pixels in [0,1]) and nmse = mse / v, the
 * reconstruction term of the loss (Sonnet's "recon_error"), per step, NaN on binary data;
 * perplexity exp(H) of the batch's code histogram (Sonnet's per-step perplexity; NaN with none).
 * features (`latent probe`, `latent fd`): the encoder's output z_e before quantization,
 * flattened (D·h·w floats, channel-major). Not pooled: z_e is what the decoder reads, its
 * layout is spatial (a code per location), and averaging over locations would throw away
 * where things are, which is most of what a 7×7 grid of 28×28 clothing knows; not the
 * quantized z_q, whose K discrete values per location are coarser than z_e. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "models/latent_internal.h"
#include "models/vq_stats.h"
#include "models/vq_trunk.h"
#include "nn/nn.h"
#include "ops/ops.h"

#define LTI_VQ_MAX_RES 16

typedef struct lti_vqvae {
    int64_t hidden, res_hidden, n_res, K, D, f, n_scale, h, w;
    int binary, none;         /* none: codebook "none", the continuous autoencoder */
    int made;                 /* decoder: 0 conv, 1 "made", 2 "nade" (an autoregressive head on the conv decoder) */
    int64_t ar_hidden;
    const char *trunk_from;   /* "trunk_from": a run whose frozen trunk this one trains a head on, or NULL */
    lti_vq_memo memo;         /* trunk_from: the frozen trunk's outputs per image */
    double st_mse, st_nmse, st_ppl; /* the last training step's reconstruction error, batch perplexity (train_stats) */
    lt_nn_conv2d down[3], enc_conv, pre_vq, dec_conv;
    lt_nn_res_block enc_res[LTI_VQ_MAX_RES], dec_res[LTI_VQ_MAX_RES];
    lt_nn_conv_transpose2d up[3];
    lt_nn_vq vq;
    lt_nn_made_head ar;       /* decoder "made" only */
    lt_nn_nade_head nade;     /* decoder "nade" only */
    lt_tensor *data_variance; /* () buffer; 0 until the first training batch */
    lti_vq_stats stats;       /* validation metrics */
} lti_vqvae;

/* *out = the index of the key's value among a, b, c (c may be NULL). */
static lt_status vq_cfg_choice(const lt_model *m, const char *key, const char *a, const char *b, const char *c, int *out) {
    const char *s;
    lt_status st = lti_cfg_str(m, key, a, &s);
    if (st) return st;
    if (!strcmp(s, a)) *out = 0;
    else if (!strcmp(s, b)) *out = 1;
    else if (c && !strcmp(s, c)) *out = 2;
    else return lt_fail(LT_ERR_ARG, "model 'vqvae': %s '%s', expected %s or %s%s%s", key, s, a, b, c ? " or " : "", c ? c : "");
    return LT_OK;
}

static lt_status vq_declare(lt_model *m, lti_vqvae *v) {
    lt_nn nn = {&m->params, &m->buffers};
    char p[LT_NN_NAME_MAX];
    lt_status st;
    const int64_t C = m->channels, Hh = v->hidden / 2 > 0 ? v->hidden / 2 : 1;
    for (int i = 0; i < v->n_scale; i++) {
        int64_t in = i ? Hh : C, out = i == v->n_scale - 1 ? v->hidden : Hh;
        if ((st = lt_nn_join(p, "encoder", "down.%d", i)) || (st = lt_nn_conv2d_declare(&v->down[i], &nn, p, in, out, 4, 2, 1, 1)))
            return st;
    }
    if ((st = lt_nn_conv2d_declare(&v->enc_conv, &nn, "encoder.conv", v->hidden, v->hidden, 3, 1, 1, 1))) return st;
    for (int i = 0; i < v->n_res; i++)
        if ((st = lt_nn_join(p, "encoder", "res.%d", i)) || (st = lt_nn_res_block_declare(&v->enc_res[i], &nn, p, v->hidden, v->res_hidden)))
            return st;
    if ((st = lt_nn_conv2d_declare(&v->pre_vq, &nn, "encoder.pre_vq", v->hidden, v->D, 1, 1, 0, 1))) return st;
    lt_nn_vq_opts o = lt_nn_vq_opts_default();
    double beta, decay, thr;
    int book = 0, kmeans = 0, cosine = 0;
    if ((st = vq_cfg_choice(m, "codebook", "ema", "plain", "none", &book)) ||
        (st = vq_cfg_choice(m, "codebook_init", "random", "kmeans", NULL, &kmeans)) ||
        (st = lti_cfg_real(m, "beta", 0.25, 0, 1e6, &beta)) || (st = lti_cfg_real(m, "decay", 0.99, 1e-6, 1 - 1e-9, &decay)) ||
        (st = lti_cfg_real(m, "restart_threshold", 0, 0, 1e9, &thr)) || (st = lti_cfg_bool(m, "cosine", 0, &cosine)))
        return st;
    v->none = book == 2;
    o.ema = book == 0;
    o.kmeans = kmeans;
    o.cosine = cosine;
    o.beta = (float)beta;
    o.decay = (float)decay;
    o.restart_threshold = (float)thr;
    if (!v->none && (st = lt_nn_vq_declare(&v->vq, &nn, "quantizer", v->K, v->D, &o))) return st;
    if ((st = lt_nn_conv2d_declare(&v->dec_conv, &nn, "decoder.conv", v->D, v->hidden, 3, 1, 1, 1))) return st;
    for (int i = 0; i < v->n_res; i++)
        if ((st = lt_nn_join(p, "decoder", "res.%d", i)) || (st = lt_nn_res_block_declare(&v->dec_res[i], &nn, p, v->hidden, v->res_hidden)))
            return st;
    for (int i = 0; i < v->n_scale; i++) {
        int64_t in = i ? Hh : v->hidden, out = i == v->n_scale - 1 ? C : Hh;
        if ((st = lt_nn_join(p, "decoder", "up.%d", i)) ||
            (st = lt_nn_conv_transpose2d_declare(&v->up[i], &nn, p, in, out, 4, 2, 1, 1)))
            return st;
    }
    if (v->made == 1 && (st = lt_nn_made_head_declare(&v->ar, &nn, "decoder.ar", m->dim, v->ar_hidden, m->dim))) return st;
    if (v->made == 2 && (st = lt_nn_nade_head_declare(&v->nade, &nn, "decoder.nade", m->dim, v->ar_hidden, m->dim)))
        return st;
    if (!(v->data_variance = lt_params_add(&m->buffers, "data_variance", 0, NULL))) return LT_ERR_ARG;
    return LT_OK;
}

static lt_status vqvae_create(lt_model *m) {
    lti_vqvae *v = lt_calloc(1, sizeof *v);
    if (!v) return lt_fail(LT_ERR_NOMEM, "out of memory creating vqvae");
    m->impl = v;
    int64_t H[1];
    int L;
    lt_status st;
    if ((st = lti_cfg_hidden(m, 128, H, 1, &L)) || (st = lti_cfg_int(m, "res_blocks", 2, 0, LTI_VQ_MAX_RES, &v->n_res)) ||
        (st = lti_cfg_int(m, "res_hidden", 32, 1, 1 << 16, &v->res_hidden)) ||
        (st = lti_cfg_int(m, "codes", 512, 2, 1 << 24, &v->K)) || (st = lti_cfg_int(m, "code_dim", 64, 1, 1 << 16, &v->D)) ||
        (st = lti_cfg_int(m, "downsample", 4, 2, 8, &v->f)) || (st = lti_cfg_bool(m, "binary", 0, &v->binary)) ||
        (st = vq_cfg_choice(m, "decoder", "conv", "made", "nade", &v->made)) ||
        (st = lti_cfg_int(m, "ar_hidden", 500, 1, 1 << 16, &v->ar_hidden)) ||
        (st = lti_cfg_str(m, "trunk_from", "", &v->trunk_from)))
        return st;
    if (!*v->trunk_from) v->trunk_from = NULL;
    if (v->trunk_from && !v->made)
        return lt_fail(LT_ERR_ARG, "model 'vqvae': trunk_from trains an autoregressive head on a frozen trunk: it needs "
                       "decoder made or nade");
    if (v->made && !v->binary)
        return lt_fail(LT_ERR_ARG, "model 'vqvae': decoder '%s' is a Bernoulli likelihood: it needs binary data "
                       "(--binarize), the data here are grey or colour values", v->made == 1 ? "made" : "nade");
    v->hidden = H[0];
    if (v->f != 2 && v->f != 4 && v->f != 8)
        return lt_fail(LT_ERR_ARG, "model 'vqvae': downsample %lld, expected 2, 4 or 8", (long long)v->f);
    v->n_scale = v->f == 2 ? 1 : v->f == 4 ? 2 : 3;
    if (m->height % v->f || m->width % v->f || m->height < v->f)
        return lt_fail(LT_ERR_ARG, "model 'vqvae': %lldx%lld images do not divide by downsample %lld",
                       (long long)m->height, (long long)m->width, (long long)v->f);
    v->h = m->height / v->f;
    v->w = m->width / v->f;
    if ((st = vq_declare(m, v)) || (st = lt_params_finalize(&m->params)) || (st = lt_params_finalize(&m->buffers)))
        return st;
    for (int i = 0; i < v->n_scale; i++) lt_nn_conv2d_reset(&v->down[i], &m->rng);
    lt_nn_conv2d_reset(&v->enc_conv, &m->rng);
    for (int i = 0; i < v->n_res; i++) lt_nn_res_block_reset(&v->enc_res[i], &m->rng);
    lt_nn_conv2d_reset(&v->pre_vq, &m->rng);
    if (!v->none) lt_nn_vq_reset(&v->vq, &m->rng);
    lt_nn_conv2d_reset(&v->dec_conv, &m->rng);
    for (int i = 0; i < v->n_res; i++) lt_nn_res_block_reset(&v->dec_res[i], &m->rng);
    for (int i = 0; i < v->n_scale; i++) lt_nn_conv_transpose2d_reset(&v->up[i], &m->rng);
    if (v->made == 1) lt_nn_made_head_reset(&v->ar, &m->rng);
    if (v->made == 2) lt_nn_nade_head_reset(&v->nade, &m->rng);
    v->data_variance->data[0] = 0.0f;
    if (v->trunk_from && ((st = lti_vq_trunk_load(v->trunk_from, &m->params, "param.", v->made == 1 ? "decoder.ar." : "decoder.nade.")) ||
                          (st = lti_vq_trunk_load(v->trunk_from, &m->buffers, "buffer.", NULL))))
        return st;
    lti_vq_memo_init(&v->memo, m->dim, v->h * v->w);
    return lti_vq_stats_init(&v->stats, v->K);
}

/* x (n, C·H·W) -> z_e (n, D, h, w) */
static lt_tensor *vq_encoder(lt_graph *g, const lt_model *m, const lti_vqvae *v, lt_tensor *x) {
    lt_tensor *t = lt_reshape(g, x, 4, (int64_t[]){x ? x->shape[0] : 0, m->channels, m->height, m->width});
    for (int i = 0; i < v->n_scale; i++) t = lt_relu(g, lt_nn_conv2d_forward(g, &v->down[i], t));
    t = lt_nn_conv2d_forward(g, &v->enc_conv, t);
    for (int i = 0; i < v->n_res; i++) t = lt_nn_res_block_forward(g, &v->enc_res[i], t);
    return lt_nn_conv2d_forward(g, &v->pre_vq, lt_relu(g, t));
}

/* z_q (n, D, h, w) -> logits or means (n, C·H·W) */
static lt_tensor *vq_decoder(lt_graph *g, const lt_model *m, const lti_vqvae *v, lt_tensor *z) {
    lt_tensor *t = lt_nn_conv2d_forward(g, &v->dec_conv, z);
    for (int i = 0; i < v->n_res; i++) t = lt_nn_res_block_forward(g, &v->dec_res[i], t);
    t = lt_relu(g, t);
    for (int i = 0; i < v->n_scale; i++) {
        t = lt_nn_conv_transpose2d_forward(g, &v->up[i], t);
        if (i + 1 < v->n_scale) t = lt_relu(g, t);
    }
    return lt_reshape(g, t, 2, (int64_t[]){z ? z->shape[0] : 0, m->dim});
}

/* trunk_from: the frozen trunk's logits (n, dim), codes and commitment for b, from the memo,
 * running the trunk (eval mode, no gradient) on the images it has not seen; q->loss is 0
 * (nothing of the trunk trains) and q->z_q NULL. */
static lt_tensor *vq_trunk_memo(lt_model *m, lt_graph *g, const lt_batch *b, lt_nn_vq_out *q) {
    lti_vqvae *v = m->impl;
    const int64_t n = b->n, dim = m->dim, hw = v->h * v->w;
    int64_t *at = lt_graph_alloc(g, sizeof(int64_t) * (size_t)n), miss = 0; /* (n) memo entries */
    if (!at) return NULL;
    for (int64_t i = 0; i < n; i++) miss += (at[i] = lti_vq_memo_find(&v->memo, b->x + i * dim)) < 0;
    const int grad = lt_graph_set_grad(g, 0), old = g->training;
    g->training = 0;
    lt_tensor *xm = miss ? lt_graph_new(g, LT_F32, 2, (int64_t[]){miss, dim}) : NULL; /* (miss, dim) */
    for (int64_t i = 0, j = 0; xm && i < n; i++)
        if (at[i] < 0) memcpy(xm->data + j++ * dim, b->x + i * dim, sizeof(float) * (size_t)dim);
    lt_nn_vq_out qm;
    lt_tensor *ze = xm ? vq_encoder(g, m, v, xm) : NULL, *L = NULL; /* (miss, D, h, w) */
    lt_status st = ze ? lt_nn_vq_forward(g, &v->vq, ze, &qm) : lt_graph_status(g);
    if (!st && ze) L = vq_decoder(g, m, v, qm.z_q);
    g->training = old;
    lt_graph_set_grad(g, grad);
    if (st || (st = lt_graph_status(g))) return NULL;
    const int64_t E = v->D * hw; /* z_e's values per image */
    for (int64_t i = 0, j = 0; L && i < n; i++) {
        if (at[i] >= 0) continue;
        double c = 0;
        for (int64_t e = 0; e < E; e++) {
            const double d = (double)ze->data[j * E + e] - qm.z_q->data[j * E + e];
            c += d * d;
        }
        if ((st = lti_vq_memo_add(&v->memo, b->x + i * dim, L->data + j * dim, qm.codes->idata + j * hw, (float)(c / E)))) {
            lti_graph_fail(g, st, "vqvae: the trunk memo: out of memory");
            return NULL;
        }
        j++;
    }
    lt_tensor *y = lt_graph_new(g, LT_F32, 2, (int64_t[]){n, dim});
    memset(q, 0, sizeof *q);
    q->codes = lt_graph_new(g, LT_I64, 3, (int64_t[]){n, v->h, v->w});
    if (!y || !q->codes) return NULL;
    double c = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t e = lti_vq_memo_find(&v->memo, b->x + i * dim);
        memcpy(y->data + i * dim, v->memo.logits + e * dim, sizeof(float) * (size_t)dim);
        memcpy(q->codes->idata + i * hw, v->memo.codes + e * hw, sizeof(int64_t) * (size_t)hw);
        c += v->memo.commit[e];
    }
    q->commitment = lt_graph_scalar(g, (float)(c / (double)n));
    q->codebook = lt_graph_scalar(g, (float)(c / (double)n));
    q->loss = lt_graph_scalar(g, 0.0f);
    return y;
}

/* The whole model in the given mode: the decoder output (n, dim) and the quantizer's. */
static lt_status vq_run(lt_model *m, lt_graph *g, const lt_batch *b, int training, lt_tensor **x, lt_tensor **y,
                        lt_nn_vq_out *q) {
    lti_vqvae *v = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    const int old = g->training;
    g->training = training;
    *x = lti_batch_x(g, b);
    if (v->trunk_from) { /* the head alone trains, on the frozen trunk's memoized logits */
        lt_tensor *L = vq_trunk_memo(m, g, b, q);
        *y = !L ? NULL : v->made == 1 ? lt_add(g, L, lt_nn_made_head_forward(g, &v->ar, *x, L))
                                      : lt_add(g, L, lt_nn_nade_head_forward(g, &v->nade, *x, L));
        g->training = old;
        return lt_graph_status(g);
    }
    if (v->none) { /* the continuous autoencoder: z_q = z_e, no quantizer terms */
        memset(q, 0, sizeof *q);
        q->z_q = vq_encoder(g, m, v, *x);
    } else {
        st = lt_nn_vq_forward(g, &v->vq, vq_encoder(g, m, v, *x), q);
    }
    *y = st ? NULL : vq_decoder(g, m, v, q->z_q);
    if (!st && v->made == 1) *y = lt_add(g, *y, lt_nn_made_head_forward(g, &v->ar, *x, *y)); /* teacher-forced */
    if (!st && v->made == 2) *y = lt_add(g, *y, lt_nn_nade_head_forward(g, &v->nade, *x, *y));
    g->training = old;
    return st ? st : lt_graph_status(g);
}

static lt_status vqvae_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    lti_vqvae *v = m->impl;
    lt_tensor *x, *y;
    lt_nn_vq_out q;
    lt_status st = vq_run(m, g, b, 1, &x, &y, &q);
    if (st) return st;
    lt_tensor *rec;
    v->st_mse = v->st_nmse = v->st_ppl = NAN;
    if (!v->none) { /* exp(H) of this batch's code histogram, as Sonnet's per-step perplexity */
        const int64_t M = b->n * v->h * v->w;
        int64_t *hist = lt_graph_alloc(g, sizeof(int64_t) * (size_t)v->K); /* (K) */
        if (!hist) return lt_graph_status(g);
        memset(hist, 0, sizeof(int64_t) * (size_t)v->K);
        for (int64_t i = 0; i < M; i++) hist[q.codes->idata[i]]++;
        double H = 0;
        for (int64_t k = 0; k < v->K; k++)
            if (hist[k]) H -= (double)hist[k] / (double)M * log((double)hist[k] / (double)M);
        v->st_ppl = exp(H);
    }
    if (v->binary) {
        rec = lt_mul_scalar(g, lt_mean(g, lt_bce_with_logits(g, y, x), LT_AXIS_ALL, 0), 1.0f / (float)m->dim);
    } else {
        if (v->data_variance->data[0] <= 0.0f) { /* the first training batch's pixel variance */
            const int64_t n = b->n * b->dim;
            double acc[3] = {0, 0, (double)n}; /* sum, sum of squares, count: over the group's whole batch */
            for (int64_t i = 0; i < n; i++) acc[0] += b->x[i], acc[1] += (double)b->x[i] * b->x[i];
            if ((st = lt_graph_sum_f64(g, acc, 3))) return st;
            const double var = acc[1] / acc[2] - (acc[0] / acc[2]) * (acc[0] / acc[2]);
            v->data_variance->data[0] = var > 1e-6 ? (float)var : 1.0f;
        }
        rec = lt_mul_scalar(g, lt_mean(g, lt_pow(g, lt_sub(g, y, x), 2.0f), LT_AXIS_ALL, 0),
                            1.0f / v->data_variance->data[0]);
        if (!lt_graph_status(g)) {
            v->st_nmse = rec->data[0];
            v->st_mse = v->st_nmse * v->data_variance->data[0];
        }
    }
    *loss = v->none ? rec : lt_add(g, rec, q.loss);
    return lt_graph_status(g);
}

static int vqvae_train_stats(const lt_model *m, const char **names, double *values, int max) {
    const lti_vqvae *v = m->impl;
    static const char *const keys[] = {"mse", "nmse", "perplexity"};
    const double vals[] = {v->st_mse, v->st_nmse, v->st_ppl};
    int n = 0;
    for (; n < 3 && n < max; n++) {
        names[n] = keys[n];
        values[n] = vals[n];
    }
    return n;
}

static double vq_variance(const lti_vqvae *v) { return v->data_variance->data[0] > 0 ? v->data_variance->data[0] : 1.0; }

static lt_status vqvae_log_prob(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out) {
    (void)o;
    lti_vqvae *v = m->impl;
    int grad = lt_graph_set_grad(g, 0);
    lt_tensor *x, *y;
    lt_nn_vq_out q;
    lt_status st = vq_run(m, g, b, 0, &x, &y, &q);
    lt_graph_set_grad(g, grad);
    if (st) return st;
    const double prior = v->none ? 0 : (double)(v->h * v->w) * log((double)v->K), var = vq_variance(v), D = (double)m->dim;
    if (v->binary) {
        if ((st = lti_bernoulli_log_prob(g, y, x, out))) return st;
        for (int64_t i = 0; i < b->n; i++) out[i] -= prior;
        return LT_OK;
    }
    for (int64_t i = 0; i < b->n; i++) {
        double sse = 0;
        for (int64_t j = 0; j < m->dim; j++) {
            const double d = (double)y->data[i * m->dim + j] - b->x[i * m->dim + j];
            sse += d * d;
        }
        out[i] = -(sse / (2 * var) + 0.5 * D * log(2 * M_PI * var)) - prior;
    }
    return LT_OK;
}

static void vqvae_metrics_begin(lt_model *m) {
    lti_vqvae *v = m->impl;
    lti_vq_stats_begin(&v->stats);
}

static lt_status vqvae_metrics_add(lt_model *m, lt_graph *g, const lt_batch *b) {
    lti_vqvae *v = m->impl;
    int grad = lt_graph_set_grad(g, 0);
    lt_tensor *x, *y;
    lt_nn_vq_out q;
    lt_status st = vq_run(m, g, b, 0, &x, &y, &q);
    if (!st && v->binary) y = lt_sigmoid(g, y);
    lt_graph_set_grad(g, grad);
    if (st || (st = lt_graph_status(g))) return st;
    if (v->none) /* pixels only: no codes, no quantizer terms */
        lti_vq_stats_add(&v->stats, b->x, y->data, b->n * m->dim, 1.0, NULL, 0, v->D, 0, 0);
    else
        lti_vq_stats_add(&v->stats, b->x, y->data, b->n * m->dim, 1.0, q.codes->idata, b->n * v->h * v->w, v->D,
                         q.commitment->data[0], q.codebook->data[0]);
    return LT_OK;
}

/* The accumulators for the all-reduce over ranks (vq_stats.h). */
static int64_t vqvae_metrics_export(lt_model *m, double *acc, int64_t max) {
    const lti_vqvae *v = m->impl;
    return lti_vq_stats_export(&v->stats, acc, max);
}

static void vqvae_metrics_import(lt_model *m, const double *acc, int64_t n) {
    lti_vqvae *v = m->impl;
    lti_vq_stats_import(&v->stats, acc, n);
}

static int vqvae_metrics_end(lt_model *m, const char **names, double *values, int max) {
    lti_vqvae *v = m->impl;
    /* none: mse, psnr and normalized_mse, the first three (no codes to count) */
    return lti_vq_stats_end(&v->stats, names, values, v->none && max > 3 ? 3 : max);
}

static int64_t vqvae_code_size(const lt_model *m) {
    const lti_vqvae *v = m->impl;
    return v->none ? v->D * v->h * v->w : v->h * v->w;
}

static lt_status vqvae_code_grid(const lt_model *m, int64_t *h, int64_t *w, int64_t *K) {
    const lti_vqvae *v = m->impl;
    if (v->none)
        return lt_fail(LT_ERR_ARG, "model 'vqvae' with codebook 'none' (a continuous autoencoder) has no discrete codes");
    *h = v->h;
    *w = v->w;
    *K = v->K;
    return LT_OK;
}

static lt_status vqvae_encode(lt_model *m, lt_graph *g, const lt_batch *b, float *out) {
    lti_vqvae *v = m->impl;
    int grad = lt_graph_set_grad(g, 0);
    const int old = g->training;
    g->training = 0;
    lt_status st = lti_check_batch(m, b);
    lt_nn_vq_out q;
    lt_tensor *z = NULL; /* none: z_e (n, D, h, w) */
    if (!st && v->none) z = vq_encoder(g, m, v, lti_batch_x(g, b));
    else if (!st) st = lt_nn_vq_forward(g, &v->vq, vq_encoder(g, m, v, lti_batch_x(g, b)), &q);
    g->training = old;
    lt_graph_set_grad(g, grad);
    if (st || (st = lt_graph_status(g))) return st;
    if (v->none) {
        memcpy(out, z->data, sizeof(float) * (size_t)(b->n * v->D * v->h * v->w));
        return LT_OK;
    }
    for (int64_t i = 0; i < b->n * v->h * v->w; i++) out[i] = (float)q.codes->idata[i];
    return LT_OK;
}

static int64_t vqvae_feature_size(const lt_model *m) {
    const lti_vqvae *v = m->impl;
    return v->D * v->h * v->w;
}

/* z_e (n, D, h, w) flattened into out (n, D·h·w) */
static lt_status vqvae_features(lt_model *m, lt_graph *g, const lt_batch *b, float *out) {
    lti_vqvae *v = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    int grad = lt_graph_set_grad(g, 0);
    const int old = g->training;
    g->training = 0;
    lt_tensor *z = vq_encoder(g, m, v, lti_batch_x(g, b));
    g->training = old;
    lt_graph_set_grad(g, grad);
    if ((st = lt_graph_status(g))) return st;
    memcpy(out, z->data, sizeof(float) * (size_t)(b->n * v->D * v->h * v->w));
    return LT_OK;
}

/* codes (n, h·w) as floats (none: z_e (n, D·h·w)) -> pixel probabilities (binary), means, or
 * with decoder "made" pixels drawn from rng (n, dim) */
static lt_status vq_decode_rng(lt_model *m, lt_graph *g, const float *z, int64_t n, lt_rng *rng, float *out) {
    lti_vqvae *v = m->impl;
    const int64_t hw = v->h * v->w;
    lt_tensor *zq; /* (n, D, h, w) */
    if (v->none) {
        zq = lt_graph_wrap(g, (float *)z, 4, (int64_t[]){n, v->D, v->h, v->w});
    } else {
        lt_tensor *c = lt_graph_new(g, LT_I64, 3, (int64_t[]){n, v->h, v->w});
        if (!c) return lt_graph_status(g);
        for (int64_t i = 0; i < n * hw; i++) {
            if (!(z[i] >= 0 && z[i] < (float)v->K && z[i] == floorf(z[i])))
                return lt_fail(LT_ERR_ARG, "vqvae: code %g of image %lld (position %lld) is not an index in 0..%lld",
                               (double)z[i], (long long)(i / hw), (long long)(i % hw), (long long)v->K - 1);
            c->idata[i] = (int64_t)z[i];
        }
        zq = lt_nn_vq_lookup(g, &v->vq, c);
    }
    int grad = lt_graph_set_grad(g, 0);
    lt_tensor *y = vq_decoder(g, m, v, zq);
    if (v->binary && !v->made) y = lt_sigmoid(g, y);
    lt_graph_set_grad(g, grad);
    lt_status st = lt_graph_status(g);
    if (!st && v->made == 1) return lt_nn_made_head_sample(g, &v->ar, y, y->data, rng, n, out);
    if (!st && v->made == 2) return lt_nn_nade_head_sample(g, &v->nade, y, y->data, rng, n, out);
    if (!st) memcpy(out, y->data, sizeof(float) * (size_t)(n * m->dim));
    return st;
}

static lt_status vqvae_decode(lt_model *m, lt_graph *g, const float *z, int64_t n, float *out) {
    lt_rng r = lt_rng_fork(&m->rng, 0x44454344ULL); /* decoder "made": the same draws on every call */
    return vq_decode_rng(m, g, z, n, &r, out);
}

static lt_status vqvae_sample(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels, float *out) {
    (void)labels;
    lti_vqvae *v = m->impl;
    const int64_t c = vqvae_code_size(m);
    float *z = lt_graph_alloc(g, sizeof(float) * (size_t)(n * c)); /* (n, h·w) uniform codes; none: (n, D·h·w) N(0, 1) */
    if (!z) return lt_graph_status(g);
    if (v->none) lt_rng_fill_normal(rng, z, n * c, 0.0f, 1.0f);
    else
        for (int64_t i = 0; i < n * c; i++) z[i] = (float)lt_rng_below(rng, (uint64_t)v->K);
    lt_status st = vq_decode_rng(m, g, z, n, rng, out);
    if (!st && v->binary && !v->made) lt_rng_fill_bernoulli(rng, out, n * m->dim, out, 0.0f);
    return st;
}

/* The codebook's EMA, restart and k-means, and the first batch's pixel variance (MSE
 * decoder), are measured over the whole batch: through the graph's group sums. */
static int vqvae_coupling(const lt_model *m, int64_t steps, const char **why) {
    (void)steps;
    const lti_vqvae *v = m->impl;
    if (!lt_nn_vq_batch_coupled(&v->vq) && v->binary) return LT_MODEL_COUPLING_NONE;
    *why = "the EMA codebook, its restart and k-means initialization and the data variance sum batch statistics "
           "over the ranks at every step";
    return LT_MODEL_COUPLING_GROUP;
}

static void vqvae_destroy(lt_model *m) {
    lti_vqvae *v = m->impl;
    if (!v) return;
    lti_vq_stats_free(&v->stats);
    lti_vq_memo_free(&v->memo);
    lt_free(v);
    m->impl = NULL;
}

static const char *const vqvae_keys[] = {"hidden", "res_blocks", "res_hidden", "codes", "code_dim", "downsample",
                                         "codebook", "beta", "decay", "restart_threshold", "codebook_init", "cosine", "decoder",
                                         "ar_hidden", "trunk_from", NULL};

const lt_model_vtable lti_model_vqvae = {
    .name = "vqvae",
    .config_keys = vqvae_keys,
    .create = vqvae_create,
    .loss = vqvae_loss,
    .log_prob = vqvae_log_prob,
    .sample = vqvae_sample,
    .destroy = vqvae_destroy,
    .code_size = vqvae_code_size,
    .encode = vqvae_encode,
    .decode = vqvae_decode,
    .continuous = 1,
    .metrics_begin = vqvae_metrics_begin,
    .metrics_add = vqvae_metrics_add,
    .metrics_end = vqvae_metrics_end,
    .metrics_export = vqvae_metrics_export,
    .metrics_import = vqvae_metrics_import,
    .code_grid = vqvae_code_grid,
    .train_stats = vqvae_train_stats,
    .feature_size = vqvae_feature_size,
    .features = vqvae_features,
    .coupling = vqvae_coupling,
};
