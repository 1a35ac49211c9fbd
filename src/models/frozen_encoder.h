/* A frozen self-supervised encoder loaded from a trained run, for another model's
 * perceptual loss (vqgan) and anything else that needs the encoder's activations with
 * gradients to the images but never into the encoder.
 *
 * lt_frozen_encoder_open(RUN) reads RUN/config.json ("model" simclr or mae, whose encoder is
 * the small ResNet of nn/nn.h named "encoder.*", and "model_config"), builds that encoder
 * from the config and copies its tensors ("param.encoder.*", "buffer.encoder.*") from
 * RUN/checkpoints/best.safetensors, or last.safetensors when there is no best. The rest of
 * the checkpoint (projection head, decoder, optimizer) is not read. Every tensor is frozen
 * (requires_grad 0). Errors (LT_ERR_ARG: no run, not an SSL model; LT_ERR_FORMAT: a tensor
 * missing or of another shape, a checkpoint of another model) name the file and, where one
 * is at fault, the tensor.
 *
 * Ownership: *out is the caller's, freed with lt_frozen_encoder_close (which frees the
 * tensors too); the struct may be read but not copied (enc points into its blocks). Nothing
 * writes into it after open (eval mode, frozen), so one encoder may serve several graphs. */
#ifndef LT_FROZEN_ENCODER_H
#define LT_FROZEN_ENCODER_H

#include "core/graph.h"
#include "core/params.h"
#include "nn/nn.h"

typedef struct lt_frozen_encoder {
    lt_nn_resnet enc;          /* its tensors live in params and buffers */
    lt_params params, buffers; /* owned; every tensor frozen */
    char model[32];            /* the run's model: "simclr" or "mae" */
    int64_t channels, height, width; /* the images it was trained on */
    int range;                 /* LT_MODEL_RANGE_UNIT or _SIGNED: the pixel range it was trained on */
    char path[4200];           /* the checkpoint read */
} lt_frozen_encoder;

lt_status lt_frozen_encoder_open(const char *run_dir, lt_frozen_encoder **out);
void lt_frozen_encoder_close(lt_frozen_encoder *e);

/* The perceptual distance (nn/perceptual.h) between images x and y (N, C, H, W) given in
 * pixel range `range` (LT_MODEL_RANGE_*; converted to the encoder's, differentiably): (N),
 * recorded on g, gradients to x and y only. C must be the encoder's channels. */
lt_tensor *lt_frozen_encoder_distance(lt_graph *g, lt_frozen_encoder *e, lt_tensor *x, lt_tensor *y, int range);

#endif
