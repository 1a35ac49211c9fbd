/* For the self-supervised models (simclr.c, and any model that shares their encoder): the
 * encoder's config keys, read into the nn module's options. */
#ifndef LTI_SSL_INTERNAL_H
#define LTI_SSL_INTERNAL_H

#include "models/model.h"
#include "nn/nn.h"

/* The config keys of the small ResNet encoder (nn/nn.h lt_nn_resnet), in config_keys order
 * ("width" alone is the images' geometry). */
#define LTI_SSL_ENCODER_KEYS "enc_width", "enc_stages", "enc_blocks", "enc_norm"
/* "enc_width" (32), "enc_stages" (3), "enc_blocks" (2), "enc_norm" batch|group (batch) and the model's channels
 * into o; LT_ERR_ARG naming the model and key for a bad value, or for images smaller than the
 * stages need (2^(stages-1) per side). */
lt_status lti_ssl_encoder_opts(const lt_model *m, lt_nn_resnet_opts *o);
/* The batch's rows as an image tensor (rows, C, H, W) on g (constant, no copy). */
lt_tensor *lti_ssl_images(lt_graph *g, const lt_model *m, const lt_batch *b);

#endif
