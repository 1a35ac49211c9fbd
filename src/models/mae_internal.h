/* The masked autoencoder's parts (models/mae_mask.c): patch masks, the reconstruction
 * targets and the masked loss; mae.c composes them with the encoder and reads the encoder's
 * config (below); tests/test_mae.c checks each. Nothing here
 * allocates: buffers are the caller's (the graph's arena in the model). */
#ifndef LTI_MODELS_MAE_INTERNAL_H
#define LTI_MODELS_MAE_INTERNAL_H

#include <stdint.h>

#include "core/graph.h"
#include "core/rng.h"
#include "models/model.h"
#include "nn/nn.h"

/* An image (C, H, W) cut into p×p patches, gh = H/p rows by gw = W/p columns of them. */
typedef struct lti_mae_geom {
    int64_t C, H, W, p, gh, gw;
} lti_mae_geom;

/* The geometry, LT_ERR_ARG (message set) unless p >= 1 divides H and W. */
lt_status lti_mae_geom_init(lti_mae_geom *gm, int64_t C, int64_t H, int64_t W, int64_t p);

/* Patches hidden per image for a ratio in (0, 1]: round(ratio·P), at least 1, at most P. */
int64_t lti_mae_hidden_count(int64_t P, double ratio);

/* MAE's random masking: for each of n images, P = gh·gw uniform scores from r (a batch
 * draw of (n, P) through lt_rng_fill_rows with part, so data-parallel ranks draw what one
 * process does), and the k patches with the lowest scores (ties to the lower index) are
 * hidden. scores (n, P) scratch; mask (n, P) out: 1 hidden, 0 visible, exactly k ones a row. */
void lti_mae_draw_mask(lt_rng *r, const lt_rng_part *part, int64_t n, int64_t P, int64_t k, float *scores, float *mask);

/* The patch mask (n, P) spread over pixels: pix (n, C·H·W), every channel of a hidden
 * patch's pixels 1. */
void lti_mae_pixel_mask(const lti_mae_geom *gm, int64_t n, const float *mask, float *pix);

/* Reconstruction targets t (n, C·H·W) of images x (n, C·H·W): x itself, or with norm_pix
 * each patch's C·p·p values standardized by their mean and unbiased variance (+1e-6), as
 * MAE's norm_pix_loss. */
void lti_mae_targets(const lti_mae_geom *gm, int64_t n, const float *x, int norm_pix, float *t);

/* The masked loss: Σ pix·(y − t)² / Σ pix, a scalar recorded on g. y (n, D) the decoder
 * output, t (n, D) and pix (n, D) constants (copied into the arena). The gradient at every
 * pixel with pix = 0 is exactly 0. A mask with no hidden pixel is LT_ERR_ARG. */
lt_tensor *lti_mae_masked_mse(lt_graph *g, lt_tensor *y, const float *t, const float *pix);

/* The encoder's config keys (the SSL models share the small ResNet of nn/nn.h): "enc_width"
 * (32; "width" is the images'), "stages" (3), "blocks" (2), "norm" batch|group (batch), read with the model's
 * channels into o; LT_ERR_ARG naming the model and key (mae.c; models/frozen_encoder.c reads a
 * simclr or mae run's config with it). */
#define LTI_MAE_ENCODER_KEYS "enc_width", "stages", "blocks", "norm"
lt_status lti_mae_encoder_opts(const lt_model *m, lt_nn_resnet_opts *o);

#endif
