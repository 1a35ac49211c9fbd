/* A VQ-VAE's frozen trunk (config "trunk_from": the conv encoder, codebook and conv decoder
 * copied from another run, frozen) and a memo of its outputs per image, so that training
 * only the autoregressive head on top costs the trunk's forward once per distinct image.
 *
 * lti_vq_trunk_load copies every tensor of p whose name does not start with skip from
 * "<prefix><name>" of RUN's best (else last) checkpoint, F32 of the same shape, and clears
 * its requires_grad. Errors (LT_ERR_ARG no checkpoint; LT_ERR_FORMAT another model, a tensor
 * missing or of another shape) name the file and the tensor.
 *
 * The memo maps an image (its dim pixels, binary: compared bit for bit, not by hash alone)
 * to the trunk's logits (dim), codes (hw) and commitment (its mean ‖z_e − e‖²). It is exact
 * because the trunk is frozen and run in eval mode. Ownership: the memo owns its arrays,
 * freed by lti_vq_memo_free; it lives as long as the model. */
#ifndef LT_MODELS_VQ_TRUNK_H
#define LT_MODELS_VQ_TRUNK_H

#include <stdint.h>

#include "core/params.h"

lt_status lti_vq_trunk_load(const char *run, lt_params *p, const char *prefix, const char *skip);

typedef struct lti_vq_memo {
    int64_t dim, hw, bytes;   /* pixels, codes per image, packed bytes per image */
    int64_t n, cap, tcap;     /* entries, their capacity, hash slots (a power of two) */
    int64_t *table;           /* (tcap) entry index + 1, 0 empty */
    unsigned char *bits;      /* (cap, bytes) the images, one bit per pixel */
    float *logits;            /* (cap, dim) */
    int64_t *codes;           /* (cap, hw) */
    float *commit;            /* (cap) */
} lti_vq_memo;

void lti_vq_memo_init(lti_vq_memo *m, int64_t dim, int64_t hw);
/* the entry of image x (dim floats, 0/1), or -1 */
int64_t lti_vq_memo_find(const lti_vq_memo *m, const float *x);
lt_status lti_vq_memo_add(lti_vq_memo *m, const float *x, const float *logits, const int64_t *codes, float commit);
void lti_vq_memo_free(lti_vq_memo *m);

#endif
