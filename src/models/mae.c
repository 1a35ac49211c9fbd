/* The masked autoencoder (He et al. 2022) with the SimCLR encoder, so the two
 * self-supervised families are compared on equal terms (docs/mae.md).
 *
 * Encoder: the small ResNet of nn/nn.h (lt_nn_resnet, "encoder.*"; SimCLR's config keys
 * "enc_width", "enc_stages", "enc_blocks", "enc_norm", models/ssl_internal.h). Corruption of the input, per image:
 *   mask   round(mask_ratio·P) of its P = (H/p)·(W/p) patches of p×p pixels set to 0 (the
 *          middle of the model's [-1, 1] range);
 *   noise  the same patches get Gaussian noise of std noise_std added (mask_ratio 1: the
 *          classic denoising autoencoder, every pixel).
 * Decoder (light): the encoder's last stage (N, Ce, H/2^(S-1), W/2^(S-1)) → 1×1 conv to
 * dec_width, ReLU, S−1 times (ConvTranspose2d 4×4 stride 2, ReLU), a 3×3 conv to C channels:
 * the reconstruction (N, C, H, W). Names "decoder.proj", "decoder.up.<i>", "decoder.out".
 * Loss: mean squared error over the hidden pixels only (models/mae_internal.h), against the
 * pixels standardized per patch (norm_pix, default: MAE's norm_pix_loss) or the raw pixels.
 * Masks: for the training loss (always in training mode) from the trainer's stream g->rng
 * (saved in checkpoints, so a resumed run draws what an uninterrupted one does; per-row batch
 * draws, so MPI ranks draw what one process does); for log_prob from a fixed stream of the
 * model's seed, the same for every call, so validation figures compare across epochs.
 * log_prob (what validation and `latent eval` report; not a likelihood of the image): the log
 * density of each image's hidden values under N(reconstruction, I) with the evaluation masks,
 * −½·Σ_hidden (y − t)² − ½·M·log 2π (M hidden values an image): its "NLL" is half the summed
 * squared error of the masked reconstruction plus a constant.
 * features: the encoder's pooled output of the UNCORRUPTED image, eval mode (n, width·2^(S-1)).
 * No sampler (sample NULL). */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "models/internal.h"
#include "models/latent_internal.h"
#include "models/mae_internal.h"
#include "models/ssl_internal.h"
#include "ops/ops.h"

#define LTI_MAE_EVAL_STREAM 0x6d6165ull /* "mae": the evaluation masks' stream of the model's seed */

typedef struct lti_mae {
    lt_nn_resnet enc;
    lt_nn_conv2d proj, out;
    lt_nn_conv_transpose2d up[LT_NN_RESNET_MAX_STAGES];
    int n_up, noise, norm_pix;
    float noise_std;
    int64_t k;     /* hidden patches per image */
    uint64_t seed; /* the model's seed: the evaluation masks' stream */
    lti_mae_geom gm;
} lti_mae;

static lt_status mae_declare(lt_model *m, lti_mae *a, const lt_nn_resnet_opts *o, int64_t dw) {
    lt_nn nn = {&m->params, &m->buffers};
    char p[LT_NN_NAME_MAX];
    lt_status st;
    if ((st = lt_nn_resnet_declare(&a->enc, &nn, "encoder", o)) ||
        (st = lt_nn_conv2d_declare(&a->proj, &nn, "decoder.proj", lt_nn_resnet_dim(&a->enc), dw, 1, 1, 0, 1)))
        return st;
    for (int i = 0; i < a->n_up; i++)
        if ((st = lt_nn_join(p, "decoder", "up.%d", i)) ||
            (st = lt_nn_conv_transpose2d_declare(&a->up[i], &nn, p, dw, dw, 4, 2, 1, 1)))
            return st;
    return lt_nn_conv2d_declare(&a->out, &nn, "decoder.out", dw, m->channels, 3, 1, 1, 1);
}

static lt_status mae_create(lt_model *m) {
    lti_mae *a = lt_calloc(1, sizeof *a);
    if (!a) return lt_fail(LT_ERR_NOMEM, "out of memory creating mae");
    m->impl = a;
    lt_nn_resnet_opts o;
    int64_t patch, dw;
    double ratio, sd;
    const char *corrupt;
    int64_t seed;
    lt_status st;
    if ((st = lti_ssl_encoder_opts(m, &o)) || (st = lti_cfg_int(m, "patch", 4, 1, 1 << 16, &patch)) ||
        (st = lti_cfg_int(m, "dec_width", 64, 1, 1 << 16, &dw)) ||
        (st = lti_cfg_real(m, "mask_ratio", 0.75, 1e-9, 1, &ratio)) ||
        (st = lti_cfg_real(m, "noise_std", 0.5, 1e-9, 1e3, &sd)) || (st = lti_cfg_str(m, "corrupt", "mask", &corrupt)) ||
        (st = lti_cfg_bool(m, "norm_pix", 1, &a->norm_pix)) || (st = lti_cfg_int(m, "seed", 0, 0, INT64_MAX, &seed)))
        return st;
    a->seed = (uint64_t)seed;
    if (strcmp(corrupt, "mask") && strcmp(corrupt, "noise"))
        return lt_fail(LT_ERR_ARG, "model 'mae': corrupt '%s', expected mask or noise", corrupt);
    a->noise = !strcmp(corrupt, "noise");
    a->noise_std = (float)sd;
    if ((st = lti_mae_geom_init(&a->gm, m->channels, m->height, m->width, patch))) return st;
    const int64_t P = a->gm.gh * a->gm.gw, f = (int64_t)1 << (o.stages - 1);
    a->k = lti_mae_hidden_count(P, ratio);
    if (!a->noise && a->k == P)
        return lt_fail(LT_ERR_ARG, "model 'mae': mask_ratio %g hides all %lld patches; keep some visible (or "
                       "corrupt noise)", ratio, (long long)P);
    if (m->height % f || m->width % f)
        return lt_fail(LT_ERR_ARG, "model 'mae': %lldx%lld images do not divide by %lld (the encoder's %d stages); "
                       "the decoder upsamples by 2 per stage", (long long)m->height, (long long)m->width,
                       (long long)f, o.stages);
    a->n_up = o.stages - 1;
    if ((st = mae_declare(m, a, &o, dw)) || (st = lt_params_finalize(&m->params)) ||
        (st = lt_params_finalize(&m->buffers)))
        return st;
    lt_nn_resnet_reset(&a->enc, &m->rng);
    lt_nn_conv2d_reset(&a->proj, &m->rng);
    for (int i = 0; i < a->n_up; i++) lt_nn_conv_transpose2d_reset(&a->up[i], &m->rng);
    lt_nn_conv2d_reset(&a->out, &m->rng);
    return LT_OK;
}

/* x (n, C, H, W) -> the reconstruction (n, C·H·W) */
static lt_tensor *mae_autoencode(lt_graph *g, lti_mae *a, lt_tensor *x) {
    lt_nn_resnet_out eo;
    lt_nn_resnet_forward(g, &a->enc, x, &eo);
    lt_tensor *h = lt_relu(g, lt_nn_conv2d_forward(g, &a->proj, eo.taps[eo.n_taps - 1]));
    for (int i = 0; i < a->n_up; i++) h = lt_relu(g, lt_nn_conv_transpose2d_forward(g, &a->up[i], h));
    h = lt_nn_conv2d_forward(g, &a->out, h);
    return lt_reshape(g, h, 2, (int64_t[]){x ? x->shape[0] : 0, a->gm.C * a->gm.H * a->gm.W});
}

/* The evaluation masks' stream: the same for every call. */
static lt_rng mae_eval_rng(const lti_mae *a) {
    lt_rng root;
    lt_rng_seed(&root, a->seed);
    return lt_rng_fork(&root, LTI_MAE_EVAL_STREAM);
}

/* Draws the masks from r (part: this rank's rows), corrupts b's images: *xin (n, C, H, W) the
 * encoder's input, t (n, D) the targets, pix (n, D) the pixel mask, all in g's arena. */
static lt_status mae_corrupt(lt_model *m, lt_graph *g, const lt_batch *b, lt_rng *r, const lt_rng_part *part,
                             lt_tensor **xin, float **t, float **pix) {
    lti_mae *a = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    const int64_t n = b->n, D = m->dim, P = a->gm.gh * a->gm.gw;
    float *scores = lt_graph_alloc(g, sizeof(float) * (size_t)(n * P)), *mask = lt_graph_alloc(g, sizeof(float) * (size_t)(n * P));
    *pix = lt_graph_alloc(g, sizeof(float) * (size_t)(n * D));
    *t = lt_graph_alloc(g, sizeof(float) * (size_t)(n * D));
    lt_tensor *x = *xin = lt_graph_new(g, LT_F32, 4, (int64_t[]){n, a->gm.C, a->gm.H, a->gm.W});
    if (!scores || !mask || !*pix || !*t || !x) return lt_graph_status(g);
    lti_mae_draw_mask(r, part, n, P, a->k, scores, mask);
    lti_mae_pixel_mask(&a->gm, n, mask, *pix);
    lti_mae_targets(&a->gm, n, b->x, a->norm_pix, *t);
    const float *pm = *pix;
    if (a->noise) {
        lt_rng_fill_rows(r, part, LT_RNG_NORMAL, x->data, n, D, 0.0f, a->noise_std);
        for (int64_t e = 0; e < n * D; e++) x->data[e] = b->x[e] + pm[e] * x->data[e];
    } else {
        for (int64_t e = 0; e < n * D; e++) x->data[e] = pm[e] > 0 ? 0.0f : b->x[e];
    }
    return LT_OK;
}

/* Training mode (BatchNorm's batch statistics), masks from the trainer's stream. */
static lt_status mae_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    lti_mae *a = m->impl;
    if (!g->rng) return lt_fail(LT_ERR_ARG, "model 'mae': training needs the graph's rng (g->rng) for its masks");
    lt_tensor *xin;
    float *t, *pix;
    lt_status st = mae_corrupt(m, g, b, g->rng, g->part, &xin, &t, &pix);
    if (st) return st;
    const int training = g->training;
    g->training = 1;
    *loss = lti_mae_masked_mse(g, mae_autoencode(g, a, xin), t, pix);
    g->training = training;
    return lt_graph_status(g);
}

/* Per example: the log density of its hidden values (targets) under N(reconstruction, I),
 * −½·Σ_hidden (y − t)² − ½·M·log 2π, M hidden values; evaluation masks, eval mode. */
static lt_status mae_log_prob(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out) {
    (void)o;
    lti_mae *a = m->impl;
    lt_rng r = mae_eval_rng(a);
    const int grad = lt_graph_set_grad(g, 0), training = g->training;
    g->training = 0;
    lt_tensor *xin, *y = NULL;
    float *t, *pix;
    lt_status st = mae_corrupt(m, g, b, &r, NULL, &xin, &t, &pix);
    if (!st) y = mae_autoencode(g, a, xin);
    g->training = training;
    lt_graph_set_grad(g, grad);
    if (st || (st = lt_graph_status(g))) return st;
    const int64_t D = m->dim;
    for (int64_t i = 0; i < b->n; i++) {
        double sse = 0, M = 0;
        for (int64_t e = i * D; e < (i + 1) * D; e++)
            if (pix[e] > 0) {
                const double d = (double)y->data[e] - t[e];
                sse += d * d;
                M++;
            }
        out[i] = -0.5 * sse - 0.5 * M * log(2 * M_PI);
    }
    return LT_OK;
}

static int64_t mae_feature_size(const lt_model *m) { return lt_nn_resnet_dim(&((const lti_mae *)m->impl)->enc); }

static lt_status mae_features(lt_model *m, lt_graph *g, const lt_batch *b, float *out) {
    lti_mae *a = m->impl;
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    const int grad = lt_graph_set_grad(g, 0), training = g->training;
    g->training = 0;
    lt_tensor *h = lt_nn_resnet_forward(g, &a->enc, lti_ssl_images(g, m, b), NULL); /* (n, d) */
    g->training = training;
    lt_graph_set_grad(g, grad);
    if ((st = lt_graph_status(g))) return st;
    memcpy(out, h->data, sizeof(float) * (size_t)lt_numel(h));
    return LT_OK;
}

/* The masked loss is a mean of per-example terms (every example hides the same number of
 * patches) with masks drawn through g->part; the encoder's BatchNorm alone couples a batch. */
static int mae_coupling(const lt_model *m, int64_t steps, const char **why) {
    (void)steps;
    if (((const lti_mae *)m->impl)->enc.o.norm != LT_NN_NORM_BATCH) return LT_MODEL_COUPLING_NONE;
    *why = "the encoder's BatchNorm (--enc-norm batch) normalizes with the whole batch's statistics, which "
           "data-parallel training does not gather (no synchronized BatchNorm); run with one rank or --enc-norm group";
    return LT_MODEL_COUPLING_WHOLE;
}

static void mae_destroy(lt_model *m) {
    lt_free(m->impl);
    m->impl = NULL;
}

static const char *const mae_keys[] = {LTI_SSL_ENCODER_KEYS, "patch", "mask_ratio", "corrupt", "noise_std", "norm_pix",
                                       "dec_width", NULL};

const lt_model_vtable lti_model_mae = {
    .name = "mae",
    .config_keys = mae_keys,
    .create = mae_create,
    .loss = mae_loss,
    .log_prob = mae_log_prob,
    .destroy = mae_destroy,
    .range = LT_MODEL_RANGE_SIGNED,
    .continuous = 1,
    .feature_size = mae_feature_size,
    .features = mae_features,
    .coupling = mae_coupling,
};
