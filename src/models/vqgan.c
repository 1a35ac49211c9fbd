/* VQGAN (Esser, Rombach & Ommer 2021), composed from nn modules as taming-transformers
 * builds it, sized for 28×28 and 32×32 images (docs/vqgan.md).
 *
 * Encoder: conv_in (3×3, C→ch); per level i of log2(downsample)+1 (channels ch·(1,2,2,4)[i])
 * res_blocks ResnetBlocks (GroupNorm + SiLU + 3×3 convs) and, between levels, a 3×3
 * stride-2 conv; mid: ResnetBlock, AttnBlock (attn), ResnetBlock; GroupNorm, SiLU,
 * conv_out to D; quant_conv 1×1. Quantizer: lt_nn_vq (K codes; plain codebook by default as
 * taming, β on the commitment (encoder) term). Decoder: post_quant_conv 1×1, conv_in, mid,
 * levels in reverse with res_blocks+1 ResnetBlocks and nearest ×2 + 3×3 conv between them,
 * GroupNorm, SiLU, conv_out (3×3 → C): the "last layer" of the adaptive weight.
 * Discriminator: lt_nn_patchgan (2 stride-2 layers up to 32×32, 3 above), "loss.discriminator.*".
 * Parameter names follow taming's state_dict. Pixels are in [-1, 1] (range signed).
 *
 * Two groups, two phases (model.h's plan): "generator" (encoder, quantizer, decoder) with
 * the loss L1 + perceptual·w_p + λ·L_G + codebook_weight·(codebook + β·commitment), and
 * "discriminator" with the hinge (or non-saturating) loss on the batch and the
 * reconstruction of the generator phase (detached). λ = adaptive weight at conv_out
 * (nn.h) × disc_weight. Before disc_start steps the discriminator sits out and λ and L_G
 * are 0: the generator's update is then that of the plain VQ autoencoder. Adam β (0.5, 0.9)
 * for both groups.
 *
 * How the generator phase computes two gradient norms with one pass through the decoder:
 * the reconstruction is copied to a leaf xr; L_rec and L_G are back-propagated to xr alone
 * (their gradients d_rec, d_gan with respect to the decoder output); λ comes from the
 * weight gradients of conv_out for those two (a probe, nn.h); the returned loss then
 * carries sum(xrec · sg(d_rec + λ·d_gan)) − its own value, so that one backward through the
 * generator applies exactly d_rec + λ·d_gan at the output, plus the quantizer's loss.
 *
 * Perceptual term: "perceptual" names a self-supervised run (simclr or mae) whose frozen
 * encoder measures the distance (models/frozen_encoder.h), weighted by "perceptual_weight"
 * (1); opened at the first training step, so evaluation, encode and sample do not need that
 * run. Without it (or with weight 0) the term is off and train_perceptual_loss is null.
 *
 * log_prob: a Laplace decoder of scale 1 in the [-1, 1] pixel units, −Σ|x − x̂| − dim·log 2,
 * minus h·w·log K (uniform codes): a bound whose best is the best L1 reconstruction. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "autograd/backward.h"
#include "core/alloc.h"
#include "models/frozen_encoder.h"
#include "models/latent_internal.h"
#include "models/vq_stats.h"
#include "nn/nn.h"
#include "ops/ops.h"

#define LTI_GAN_LEVELS 4
#define LTI_GAN_RES 4

typedef struct lti_vqgan {
    int64_t ch, n_res, K, D, f, levels, h, w, ndf, disc_start, guard_steps;
    int attn, groups, disc_layers;
    lt_nn_gan_loss gan_loss;
    double disc_weight, codebook_weight, perceptual_weight;
    const char *perceptual;   /* the SSL run whose frozen encoder measures the perceptual distance, or NULL */
    lt_frozen_encoder *pe;    /* opened at the first training step (eval, encode and sample do not need it) */
    /* encoder */
    lt_nn_conv2d enc_in, enc_out, quant_conv;
    lt_nn_resnet_block enc_block[LTI_GAN_LEVELS][LTI_GAN_RES], enc_mid1, enc_mid2;
    lt_nn_resample enc_down[LTI_GAN_LEVELS];
    lt_nn_attn_block enc_attn, dec_attn;
    lt_nn_norm enc_norm, dec_norm;
    lt_nn_vq vq;
    /* decoder */
    lt_nn_conv2d post_quant, dec_in, dec_out;
    lt_nn_resnet_block dec_block[LTI_GAN_LEVELS][LTI_GAN_RES + 1], dec_mid1, dec_mid2;
    lt_nn_resample dec_up[LTI_GAN_LEVELS];
    int64_t gen_end;          /* floats of the generator group (declared first) */
    lt_nn_patchgan disc;
    /* training state of the step */
    int64_t step;             /* global step (on_step) */
    float *fake;              /* (cap, dim) the generator phase's reconstruction, for the discriminator */
    int64_t fake_n, fake_cap;
    int64_t *batch_hist;      /* (K) codes of the step's batch */
    double st_rec, st_perc, st_cb, st_g, st_lambda, st_d, st_real, st_fake, st_usage, st_ppl, st_lambda_raw;
    lt_nn_gan_guard guard;
    lti_vq_stats stats;       /* validation metrics */
    char why[320];            /* coupling()'s message */
} lti_vqgan;

static const int64_t lti_mult[LTI_GAN_LEVELS] = {1, 2, 2, 4};

static lt_status gan_declare(lt_model *m, lti_vqgan *v) {
    lt_nn nn = {&m->params, &m->buffers};
    char p[LT_NN_NAME_MAX];
    lt_status st;
    const int G = v->groups;
    const float eps = 1e-6f;
    const int64_t top = v->ch * lti_mult[v->levels - 1];
    if ((st = lt_nn_conv2d_declare(&v->enc_in, &nn, "encoder.conv_in", m->channels, v->ch, 3, 1, 1, 1))) return st;
    int64_t in = v->ch;
    for (int i = 0; i < v->levels; i++) {
        const int64_t out = v->ch * lti_mult[i];
        for (int j = 0; j < v->n_res; j++, in = out)
            if ((st = lt_nn_join(p, "encoder", "down.%d.block.%d", i, j)) ||
                (st = lt_nn_resnet_block_declare(&v->enc_block[i][j], &nn, p, in, out, G, eps, 0)))
                return st;
        if (i + 1 < v->levels && ((st = lt_nn_join(p, "encoder", "down.%d.downsample", i)) ||
                                  (st = lt_nn_downsample_declare(&v->enc_down[i], &nn, p, in, in, 3))))
            return st;
    }
    if ((st = lt_nn_resnet_block_declare(&v->enc_mid1, &nn, "encoder.mid.block_1", top, top, G, eps, 0)) ||
        (v->attn && (st = lt_nn_attn_block_declare(&v->enc_attn, &nn, "encoder.mid.attn_1", top, G, eps))) ||
        (st = lt_nn_resnet_block_declare(&v->enc_mid2, &nn, "encoder.mid.block_2", top, top, G, eps, 0)) ||
        (st = lt_nn_group_norm_declare(&v->enc_norm, &nn, "encoder.norm_out", G, top, eps, 1)) ||
        (st = lt_nn_conv2d_declare(&v->enc_out, &nn, "encoder.conv_out", top, v->D, 3, 1, 1, 1)) ||
        (st = lt_nn_conv2d_declare(&v->quant_conv, &nn, "quant_conv", v->D, v->D, 1, 1, 0, 1)))
        return st;
    lt_nn_vq_opts o = lt_nn_vq_opts_default();
    double beta, decay, thr;
    const char *cb, *init;
    int cosine;
    if ((st = lti_cfg_str(m, "codebook", "plain", &cb)) || (st = lti_cfg_str(m, "codebook_init", "random", &init)) ||
        (st = lti_cfg_real(m, "beta", 0.25, 0, 1e6, &beta)) || (st = lti_cfg_real(m, "decay", 0.99, 1e-6, 1 - 1e-9, &decay)) ||
        (st = lti_cfg_real(m, "restart_threshold", 0, 0, 1e9, &thr)) || (st = lti_cfg_bool(m, "cosine", 0, &cosine)))
        return st;
    if ((strcmp(cb, "ema") && strcmp(cb, "plain")) || (strcmp(init, "random") && strcmp(init, "kmeans")))
        return lt_fail(LT_ERR_ARG, "model 'vqgan': codebook '%s' / codebook_init '%s': expected ema|plain, random|kmeans", cb, init);
    o.ema = !strcmp(cb, "ema");
    o.kmeans = !strcmp(init, "kmeans");
    o.cosine = cosine;
    o.beta = (float)beta;
    o.decay = (float)decay;
    o.restart_threshold = (float)thr;
    if ((st = lt_nn_vq_declare(&v->vq, &nn, "quantize", v->K, v->D, &o))) return st;
    if ((st = lt_nn_conv2d_declare(&v->post_quant, &nn, "post_quant_conv", v->D, v->D, 1, 1, 0, 1)) ||
        (st = lt_nn_conv2d_declare(&v->dec_in, &nn, "decoder.conv_in", v->D, top, 3, 1, 1, 1)) ||
        (st = lt_nn_resnet_block_declare(&v->dec_mid1, &nn, "decoder.mid.block_1", top, top, G, eps, 0)) ||
        (v->attn && (st = lt_nn_attn_block_declare(&v->dec_attn, &nn, "decoder.mid.attn_1", top, G, eps))) ||
        (st = lt_nn_resnet_block_declare(&v->dec_mid2, &nn, "decoder.mid.block_2", top, top, G, eps, 0)))
        return st;
    in = top;
    for (int i = v->levels - 1; i >= 0; i--) {
        const int64_t out = v->ch * lti_mult[i];
        for (int j = 0; j <= v->n_res; j++, in = out)
            if ((st = lt_nn_join(p, "decoder", "up.%d.block.%d", i, j)) ||
                (st = lt_nn_resnet_block_declare(&v->dec_block[i][j], &nn, p, in, out, G, eps, 0)))
                return st;
        if (i > 0 && ((st = lt_nn_join(p, "decoder", "up.%d.upsample", i)) ||
                      (st = lt_nn_upsample_declare(&v->dec_up[i], &nn, p, in, in))))
            return st;
    }
    if ((st = lt_nn_group_norm_declare(&v->dec_norm, &nn, "decoder.norm_out", G, in, eps, 1)) ||
        (st = lt_nn_conv2d_declare(&v->dec_out, &nn, "decoder.conv_out", in, m->channels, 3, 1, 1, 1)))
        return st;
    /* everything so far is the generator group; the discriminator's parameters follow */
    int64_t n_gen = 0;
    for (int64_t i = 0; i < m->params.n; i++) n_gen += lt_numel(&m->params.items[i]->t);
    v->gen_end = n_gen;
    return lt_nn_patchgan_declare(&v->disc, &nn, "loss.discriminator", m->channels, v->ndf, v->disc_layers);
}

static void gan_reset(lt_model *m, lti_vqgan *v) {
    lt_rng *r = &m->rng;
    lt_nn_conv2d_reset(&v->enc_in, r);
    for (int i = 0; i < v->levels; i++) {
        for (int j = 0; j < v->n_res; j++) lt_nn_resnet_block_reset(&v->enc_block[i][j], r);
        if (i + 1 < v->levels) lt_nn_resample_reset(&v->enc_down[i], r);
    }
    lt_nn_resnet_block_reset(&v->enc_mid1, r);
    if (v->attn) lt_nn_attn_block_reset(&v->enc_attn, r);
    lt_nn_resnet_block_reset(&v->enc_mid2, r);
    lt_nn_norm_reset(&v->enc_norm);
    lt_nn_conv2d_reset(&v->enc_out, r);
    lt_nn_conv2d_reset(&v->quant_conv, r);
    lt_nn_vq_reset(&v->vq, r);
    lt_nn_conv2d_reset(&v->post_quant, r);
    lt_nn_conv2d_reset(&v->dec_in, r);
    lt_nn_resnet_block_reset(&v->dec_mid1, r);
    if (v->attn) lt_nn_attn_block_reset(&v->dec_attn, r);
    lt_nn_resnet_block_reset(&v->dec_mid2, r);
    for (int i = v->levels - 1; i >= 0; i--) {
        for (int j = 0; j <= v->n_res; j++) lt_nn_resnet_block_reset(&v->dec_block[i][j], r);
        if (i > 0) lt_nn_resample_reset(&v->dec_up[i], r);
    }
    lt_nn_norm_reset(&v->dec_norm);
    lt_nn_conv2d_reset(&v->dec_out, r);
    lt_nn_patchgan_reset(&v->disc, r);
}

static lt_status vqgan_create(lt_model *m) {
    lti_vqgan *v = lt_calloc(1, sizeof *v);
    if (!v) return lt_fail(LT_ERR_NOMEM, "out of memory creating vqgan");
    m->impl = v;
    int64_t H[1], groups, dl;
    int L, binary;
    const char *gl;
    lt_status st;
    if ((st = lti_cfg_hidden(m, 64, H, 1, &L)) || (st = lti_cfg_int(m, "res_blocks", 1, 1, LTI_GAN_RES, &v->n_res)) ||
        (st = lti_cfg_int(m, "codes", 512, 2, 1 << 24, &v->K)) || (st = lti_cfg_int(m, "code_dim", 64, 1, 1 << 16, &v->D)) ||
        (st = lti_cfg_int(m, "downsample", 4, 2, 8, &v->f)) || (st = lti_cfg_bool(m, "attn", 1, &v->attn)) ||
        (st = lti_cfg_int(m, "norm_groups", H[0] >= 64 ? 32 : 8, 1, 1 << 16, &groups)) ||
        (st = lti_cfg_int(m, "disc_hidden", 64, 1, 1 << 16, &v->ndf)) ||
        (st = lti_cfg_int(m, "disc_layers", lt_nn_patchgan_layers(m->height, m->width), 1, LT_NN_PATCHGAN_MAX, &dl)) ||
        (st = lti_cfg_int(m, "disc_start", 2000, 0, INT64_MAX / 2, &v->disc_start)) ||
        (st = lti_cfg_real(m, "disc_weight", 0.8, 0, 1e6, &v->disc_weight)) ||
        (st = lti_cfg_real(m, "codebook_weight", 1.0, 0, 1e6, &v->codebook_weight)) ||
        (st = lti_cfg_int(m, "guard_steps", 1000, 0, INT64_MAX / 2, &v->guard_steps)) ||
        (st = lti_cfg_str(m, "gan_loss", "hinge", &gl)) || (st = lti_cfg_bool(m, "binary", 0, &binary)) ||
        (st = lti_cfg_str(m, "perceptual", "", &v->perceptual)) ||
        (st = lti_cfg_real(m, "perceptual_weight", 1.0, 0, 1e6, &v->perceptual_weight)))
        return st;
    if (!*v->perceptual || v->perceptual_weight == 0) v->perceptual = NULL; /* the term is off */
    v->ch = H[0];
    v->groups = (int)groups;
    v->disc_layers = (int)dl;
    if (strcmp(gl, "hinge") && strcmp(gl, "non_saturating"))
        return lt_fail(LT_ERR_ARG, "model 'vqgan': gan_loss '%s', expected hinge or non_saturating", gl);
    v->gan_loss = strcmp(gl, "hinge") ? LT_NN_GAN_NON_SATURATING : LT_NN_GAN_HINGE;
    if (v->f != 2 && v->f != 4 && v->f != 8)
        return lt_fail(LT_ERR_ARG, "model 'vqgan': downsample %lld, expected 2, 4 or 8", (long long)v->f);
    v->levels = v->f == 2 ? 2 : v->f == 4 ? 3 : 4;
    if (m->height % v->f || m->width % v->f || m->height < v->f)
        return lt_fail(LT_ERR_ARG, "model 'vqgan': %lldx%lld images do not divide by downsample %lld", (long long)m->height,
                       (long long)m->width, (long long)v->f);
    if (v->ch % v->groups)
        return lt_fail(LT_ERR_ARG, "model 'vqgan': hidden %lld is not divisible by norm_groups %d", (long long)v->ch, v->groups);
    v->h = m->height / v->f;
    v->w = m->width / v->f;
    if ((st = gan_declare(m, v)) || (st = lt_params_finalize(&m->params)) || (st = lt_params_finalize(&m->buffers)))
        return st;
    gan_reset(m, v);
    lt_nn_gan_guard_init(&v->guard, v->guard_steps);
    if (!(v->batch_hist = lt_calloc((size_t)v->K, sizeof *v->batch_hist))) return lt_fail(LT_ERR_NOMEM, "vqgan code histogram");
    return lti_vq_stats_init(&v->stats, v->K);
}

/* x (n, C, H, W) -> z_e (n, D, h, w) */
static lt_tensor *gan_encoder(lt_graph *g, const lti_vqgan *v, lt_tensor *x) {
    lt_tensor *t = lt_nn_conv2d_forward(g, &v->enc_in, x);
    for (int i = 0; i < v->levels; i++) {
        for (int j = 0; j < v->n_res; j++) t = lt_nn_resnet_block_forward(g, &v->enc_block[i][j], t);
        if (i + 1 < v->levels) t = lt_nn_resample_forward(g, &v->enc_down[i], t);
    }
    t = lt_nn_resnet_block_forward(g, &v->enc_mid1, t);
    if (v->attn) t = lt_nn_attn_block_forward(g, &v->enc_attn, t);
    t = lt_nn_resnet_block_forward(g, &v->enc_mid2, t);
    t = lt_nn_conv2d_forward(g, &v->enc_out, lt_nn_norm_silu_forward(g, &v->enc_norm, t));
    return lt_nn_conv2d_forward(g, &v->quant_conv, t);
}

/* z_q (n, D, h, w) -> x̂ (n, C, H, W); *h_last: the input of conv_out (the adaptive weight's layer) */
static lt_tensor *gan_decoder(lt_graph *g, const lti_vqgan *v, lt_tensor *z, lt_tensor **h_last) {
    lt_tensor *t = lt_nn_conv2d_forward(g, &v->dec_in, lt_nn_conv2d_forward(g, &v->post_quant, z));
    t = lt_nn_resnet_block_forward(g, &v->dec_mid1, t);
    if (v->attn) t = lt_nn_attn_block_forward(g, &v->dec_attn, t);
    t = lt_nn_resnet_block_forward(g, &v->dec_mid2, t);
    for (int i = v->levels - 1; i >= 0; i--) {
        for (int j = 0; j <= v->n_res; j++) t = lt_nn_resnet_block_forward(g, &v->dec_block[i][j], t);
        if (i > 0) t = lt_nn_resample_forward(g, &v->dec_up[i], t);
    }
    t = lt_nn_norm_silu_forward(g, &v->dec_norm, t);
    if (h_last) *h_last = t;
    return lt_nn_conv2d_forward(g, &v->dec_out, t);
}

/* The batch as (n, C, H, W), then code and reconstruct it (mode: g->training). */
static lt_status gan_run(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **x, lt_nn_vq_out *q, lt_tensor **y,
                         lt_tensor **h_last) {
    lti_vqgan *v = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    *x = lt_reshape(g, lti_batch_x(g, b), 4, (int64_t[]){b->n, m->channels, m->height, m->width});
    if ((st = lt_nn_vq_forward(g, &v->vq, gan_encoder(g, v, *x), q))) return st;
    *y = gan_decoder(g, v, q->z_q, h_last);
    return lt_graph_status(g);
}

static double gan_mean(const lt_tensor *t) {
    double s = 0;
    for (int64_t i = 0; i < lt_numel(t); i++) s += t->data[i];
    return s / (double)lt_numel(t);
}

/* The step's code usage and perplexity from the batch's codes. */
static void gan_batch_codes(lti_vqgan *v, const lt_tensor *codes) {
    const int64_t M = lt_numel(codes);
    memset(v->batch_hist, 0, sizeof(int64_t) * (size_t)v->K);
    for (int64_t i = 0; i < M; i++) v->batch_hist[codes->idata[i]]++;
    int64_t used = 0;
    double H = 0;
    for (int64_t k = 0; k < v->K; k++)
        if (v->batch_hist[k] > 0) {
            const double p = (double)v->batch_hist[k] / (double)M;
            used++;
            H -= p * log(p);
        }
    v->st_usage = (double)used / (double)v->K;
    v->st_ppl = exp(H);
}

static lt_status gan_generator_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    lti_vqgan *v = m->impl;
    lt_tensor *x, *y, *h;
    lt_nn_vq_out q;
    lt_status st = gan_run(m, g, b, &x, &q, &y, &h);
    if (st) return st;
    const int64_t N = lt_numel(y);
    if (v->fake_cap < b->n) { /* the first step (or a larger batch): room for the discriminator's input */
        float *f = lt_realloc(v->fake, sizeof(float) * (size_t)N);
        if (!f) return lt_fail(LT_ERR_NOMEM, "vqgan: reconstruction buffer of %lld floats", (long long)N);
        v->fake = f;
        v->fake_cap = b->n;
    }
    memcpy(v->fake, y->data, sizeof(float) * (size_t)N);
    v->fake_n = b->n;
    /* xr: the reconstruction as a leaf, to take the losses' gradients at the decoder output */
    lt_tensor *xr = lt_graph_new(g, LT_F32, 4, y->shape);
    if (!xr) return lt_graph_status(g);
    memcpy(xr->data, y->data, sizeof(float) * (size_t)N);
    xr->requires_grad = 1;
    lt_tensor *rec = lt_mean(g, lt_abs(g, lt_sub(g, x, xr)), LT_AXIS_ALL, 0), *nll = rec, *perc = NULL;
    if (v->perceptual) { /* + w · mean perceptual distance through the frozen encoder (gradients to xr only) */
        if (!v->pe && (st = lt_frozen_encoder_open(v->perceptual, &v->pe)))
            return lt_fail_context(st, "model 'vqgan': perceptual run: ");
        if (v->pe->channels != m->channels)
            return lt_fail(LT_ERR_ARG, "model 'vqgan': the perceptual run %s saw %lld-channel images, this data has %lld",
                           v->perceptual, (long long)v->pe->channels, (long long)m->channels);
        perc = lt_mean(g, lt_frozen_encoder_distance(g, v->pe, x, xr, LT_MODEL_RANGE_SIGNED), LT_AXIS_ALL, 0);
        nll = lt_add(g, rec, lt_mul_scalar(g, perc, (float)v->perceptual_weight));
    }
    if ((st = lt_backward(g, nll))) return st;
    float *seed = lt_graph_alloc(g, sizeof(float) * (size_t)N); /* (n, C, H, W) d_rec, then d_rec + λ·d_gan */
    if (!seed) return lt_graph_status(g);
    memcpy(seed, xr->grad, sizeof(float) * (size_t)N);
    const double vrec = rec->data[0], vnll = nll->data[0];
    double lambda = 0, gval = 0, nr = 0, ng = 0;
    v->st_g = v->st_fake = v->st_lambda_raw = NAN;
    if (v->step >= v->disc_start) {
        memset(xr->grad, 0, sizeof(float) * (size_t)N);
        lt_tensor *logits = lt_nn_patchgan_forward(g, &v->disc, xr);
        lt_tensor *gl = lt_nn_gan_g_loss(g, v->gan_loss, logits);
        if ((st = lt_backward(g, gl))) return st;
        lambda = lt_nn_adaptive_weight(g, &v->dec_out, h, seed, xr->grad, v->disc_weight, &nr, &ng);
        if ((st = lt_graph_status(g))) return st;
        gval = gl->data[0];
        for (int64_t i = 0; i < N; i++) seed[i] += (float)lambda * xr->grad[i];
        v->st_g = gval;
        v->st_fake = gan_mean(logits);
        v->st_lambda_raw = nr / (ng + 1e-4);
    }
    /* S − sg(S) is 0 in value and passes `seed` to y in backward */
    lt_tensor *S = lt_sum(g, lt_mul(g, y, lt_graph_wrap(g, seed, 4, y->shape)), LT_AXIS_ALL, 0);
    lt_tensor *qw = lt_mul_scalar(g, q.loss, (float)v->codebook_weight);
    *loss = lt_add(g, lt_add(g, lt_sub(g, S, lt_stop_gradient(g, S)), qw), lt_graph_scalar(g, (float)(vnll + lambda * gval)));
    if ((st = lt_graph_status(g))) return st;
    v->st_rec = vrec;
    v->st_perc = perc ? perc->data[0] : NAN;
    v->st_cb = qw->data[0];
    v->st_lambda = lambda;
    gan_batch_codes(v, q.codes);
    return LT_OK;
}

static lt_status gan_discriminator_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    lti_vqgan *v = m->impl;
    v->st_d = v->st_real = NAN;
    if (v->step < v->disc_start) return LT_OK; /* sits out: no update */
    if (v->fake_n != b->n) return lt_fail(LT_ERR_INTERNAL, "vqgan: the discriminator phase without the generator's");
    const int64_t shape[4] = {b->n, m->channels, m->height, m->width};
    lt_tensor *real = lt_nn_patchgan_forward(g, &v->disc, lt_reshape(g, lti_batch_x(g, b), 4, shape));
    lt_tensor *fake = lt_nn_patchgan_forward(g, &v->disc, lt_graph_wrap(g, v->fake, 4, shape));
    *loss = lt_nn_gan_d_loss(g, v->gan_loss, real, fake);
    lt_status st = lt_graph_status(g);
    if (st) return st;
    v->st_d = (*loss)->data[0];
    v->st_real = gan_mean(real);
    v->st_fake = gan_mean(fake); /* after the generator phase's: the discriminator's view of the same batch */
    return LT_OK;
}

static lt_status vqgan_phase_loss(lt_model *m, lt_graph *g, const lt_batch *b, int phase, lt_tensor **loss) {
    *loss = NULL;
    return phase == 0 ? gan_generator_loss(m, g, b, loss) : gan_discriminator_loss(m, g, b, loss);
}

/* For callers without phases (the model's loss): the generator phase's. */
static lt_status vqgan_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    return gan_generator_loss(m, g, b, loss);
}

static lt_status vqgan_plan(const lt_model *m, lt_model_plan *out) {
    const lti_vqgan *v = m->impl;
    *out = (lt_model_plan){2, 2,
                           {{"generator", 0, v->gen_end, 0.5f, 0.9f}, {"discriminator", v->gen_end, m->params.total, 0.5f, 0.9f}},
                           {"generator", "discriminator"},
                           {0, 1}};
    return LT_OK;
}

static void vqgan_on_step(lt_model *m, int64_t step) { ((lti_vqgan *)m->impl)->step = step; }

static int vqgan_train_stats(const lt_model *m, const char **names, double *values, int max) {
    const lti_vqgan *v = m->impl;
    static const char *const keys[] = {"rec_loss", "perceptual_loss", "codebook_loss", "g_loss", "d_loss", "lambda", "logits_real",
                                       "logits_fake", "usage", "perplexity"};
    const double vals[] = {v->st_rec, v->st_perc, v->st_cb, v->st_g, v->st_d, v->st_lambda, v->st_real, v->st_fake, v->st_usage,
                           v->st_ppl};
    int n = 0;
    for (; n < (int)(sizeof keys / sizeof keys[0]) && n < max; n++) {
        names[n] = keys[n];
        values[n] = vals[n];
    }
    return n;
}

static const char *vqgan_diverged(lt_model *m) {
    lti_vqgan *v = m->impl;
    return lt_nn_gan_guard_update(&v->guard, v->st_d, v->st_lambda_raw == v->st_lambda_raw ? v->st_lambda_raw : 0);
}

static lt_status vqgan_log_prob(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out) {
    (void)o;
    lti_vqgan *v = m->impl;
    const int grad = lt_graph_set_grad(g, 0);
    lt_tensor *x, *y;
    lt_nn_vq_out q;
    lt_status st = gan_run(m, g, b, &x, &q, &y, NULL);
    lt_graph_set_grad(g, grad);
    if (st) return st;
    const double prior = (double)(v->h * v->w) * log((double)v->K);
    for (int64_t i = 0; i < b->n; i++) {
        double s = 0;
        for (int64_t j = 0; j < m->dim; j++) s += fabs((double)y->data[i * m->dim + j] - b->x[i * m->dim + j]);
        out[i] = -s - (double)m->dim * log(2.0) - prior;
    }
    return LT_OK;
}

static void vqgan_metrics_begin(lt_model *m) { lti_vq_stats_begin(&((lti_vqgan *)m->impl)->stats); }

static lt_status vqgan_metrics_add(lt_model *m, lt_graph *g, const lt_batch *b) {
    lti_vqgan *v = m->impl;
    const int grad = lt_graph_set_grad(g, 0);
    lt_tensor *x, *y;
    lt_nn_vq_out q;
    lt_status st = gan_run(m, g, b, &x, &q, &y, NULL);
    lt_graph_set_grad(g, grad);
    if (st) return st;
    lti_vq_stats_add(&v->stats, b->x, y->data, b->n * m->dim, 0.5, q.codes->idata, b->n * v->h * v->w, v->D,
                     q.commitment->data[0], q.codebook->data[0]);
    return LT_OK;
}

static int64_t vqgan_metrics_export(lt_model *m, double *acc, int64_t max) {
    return lti_vq_stats_export(&((lti_vqgan *)m->impl)->stats, acc, max);
}
static void vqgan_metrics_import(lt_model *m, const double *acc, int64_t n) {
    lti_vq_stats_import(&((lti_vqgan *)m->impl)->stats, acc, n);
}

static int vqgan_metrics_end(lt_model *m, const char **names, double *values, int max) {
    return lti_vq_stats_end(&((lti_vqgan *)m->impl)->stats, names, values, max);
}

static int64_t vqgan_code_size(const lt_model *m) {
    const lti_vqgan *v = m->impl;
    return v->h * v->w;
}

static lt_status vqgan_code_grid(const lt_model *m, int64_t *h, int64_t *w, int64_t *K) {
    const lti_vqgan *v = m->impl;
    *h = v->h;
    *w = v->w;
    *K = v->K;
    return LT_OK;
}

static lt_status vqgan_encode(lt_model *m, lt_graph *g, const lt_batch *b, float *out) {
    lti_vqgan *v = m->impl;
    const int grad = lt_graph_set_grad(g, 0), old = g->training;
    g->training = 0;
    lt_status st = lti_check_batch(m, b);
    lt_nn_vq_out q;
    if (!st) {
        lt_tensor *x = lt_reshape(g, lti_batch_x(g, b), 4, (int64_t[]){b->n, m->channels, m->height, m->width});
        st = lt_nn_vq_forward(g, &v->vq, gan_encoder(g, v, x), &q);
    }
    g->training = old;
    lt_graph_set_grad(g, grad);
    if (st) return st;
    for (int64_t i = 0; i < b->n * v->h * v->w; i++) out[i] = (float)q.codes->idata[i];
    return LT_OK;
}

/* codes (n, h·w) as floats -> pixels (n, dim) in [-1, 1] (not clamped) */
static lt_status vqgan_decode(lt_model *m, lt_graph *g, const float *z, int64_t n, float *out) {
    lti_vqgan *v = m->impl;
    const int64_t hw = v->h * v->w;
    lt_tensor *c = lt_graph_new(g, LT_I64, 3, (int64_t[]){n, v->h, v->w});
    if (!c) return lt_graph_status(g);
    for (int64_t i = 0; i < n * hw; i++) {
        if (!(z[i] >= 0 && z[i] < (float)v->K && z[i] == floorf(z[i])))
            return lt_fail(LT_ERR_ARG, "vqgan: code %g of image %lld (position %lld) is not an index in 0..%lld", (double)z[i],
                           (long long)(i / hw), (long long)(i % hw), (long long)v->K - 1);
        c->idata[i] = (int64_t)z[i];
    }
    const int grad = lt_graph_set_grad(g, 0);
    lt_tensor *y = gan_decoder(g, v, lt_nn_vq_lookup(g, &v->vq, c), NULL);
    lt_graph_set_grad(g, grad);
    lt_status st = lt_graph_status(g);
    if (!st) memcpy(out, y->data, sizeof(float) * (size_t)(n * m->dim));
    return st;
}

static lt_status vqgan_sample(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels, float *out) {
    (void)labels;
    lti_vqgan *v = m->impl;
    float *z = lt_graph_alloc(g, sizeof(float) * (size_t)(n * v->h * v->w)); /* (n, h·w) uniform codes */
    if (!z) return lt_graph_status(g);
    for (int64_t i = 0; i < n * v->h * v->w; i++) z[i] = (float)lt_rng_below(rng, (uint64_t)v->K);
    return vqgan_decode(m, g, z, n, out);
}

static void vqgan_destroy(lt_model *m) {
    lti_vqgan *v = m->impl;
    if (!v) return;
    lti_vq_stats_free(&v->stats);
    lt_free(v->batch_hist);
    lt_free(v->fake);
    lt_frozen_encoder_close(v->pe);
    lt_free(v);
    m->impl = NULL;
}

/* The PatchGAN's BatchNorm (from disc_start on) normalizes with the whole batch's statistics,
 * which data-parallel training does not gather; before it the generator phase is the VQ
 * autoencoder's, whose codebook updates (ema, restart, kmeans) sum over the group. */
static int vqgan_coupling(const lt_model *m, int64_t steps, const char **why) {
    lti_vqgan *v = m->impl;
    if (v->disc_start < steps) {
        snprintf(v->why, sizeof v->why,
                 "the PatchGAN discriminator (from step %lld, --disc-start) normalizes with BatchNorm over the whole "
                 "batch, which data-parallel training does not gather (no synchronized BatchNorm); run with one rank "
                 "or --disc-start %lld (the run's steps) or more", (long long)v->disc_start, (long long)steps);
        *why = v->why;
        return LT_MODEL_COUPLING_WHOLE;
    }
    if (!lt_nn_vq_batch_coupled(&v->vq)) return LT_MODEL_COUPLING_NONE;
    *why = "the codebook's EMA, restart or k-means initialization sum batch statistics over the ranks at every step";
    return LT_MODEL_COUPLING_GROUP;
}

static const char *const vqgan_keys[] = {"hidden", "res_blocks", "codes", "code_dim", "downsample", "attn", "norm_groups",
                                         "codebook", "beta", "decay", "restart_threshold", "codebook_init", "cosine",
                                         "disc_hidden", "disc_layers", "disc_start", "disc_weight", "codebook_weight",
                                         "gan_loss", "guard_steps", "perceptual", "perceptual_weight", NULL};

const lt_model_vtable lti_model_vqgan = {
    .name = "vqgan",
    .config_keys = vqgan_keys,
    .create = vqgan_create,
    .loss = vqgan_loss,
    .log_prob = vqgan_log_prob,
    .sample = vqgan_sample,
    .on_step = vqgan_on_step,
    .destroy = vqgan_destroy,
    .code_size = vqgan_code_size,
    .encode = vqgan_encode,
    .decode = vqgan_decode,
    .range = LT_MODEL_RANGE_SIGNED,
    .continuous = 1,
    .metrics_begin = vqgan_metrics_begin,
    .metrics_add = vqgan_metrics_add,
    .metrics_end = vqgan_metrics_end,
    .metrics_export = vqgan_metrics_export,
    .metrics_import = vqgan_metrics_import,
    .code_grid = vqgan_code_grid,
    .plan = vqgan_plan,
    .phase_loss = vqgan_phase_loss,
    .train_stats = vqgan_train_stats,
    .diverged = vqgan_diverged,
    .coupling = vqgan_coupling,
};
