/* For nn module implementations only: declaring a tensor under a prefix, filling values. */
#ifndef LTI_NN_INTERNAL_H
#define LTI_NN_INTERNAL_H

#include "nn/nn.h"

/* Adds "prefix.name" to p (shape (dims)); NULL with the message set on failure. */
lt_tensor *lti_nn_add(lt_params *p, const char *prefix, const char *name, int ndim, const int64_t *shape);
/* t ← U(−bound, bound) from r; t may be NULL (nothing happens). */
void lti_nn_uniform(lt_rng *r, lt_tensor *t, float bound);
/* t ← v everywhere; t may be NULL. */
void lti_nn_fill(lt_tensor *t, float v);
/* LT_ERR_ARG "<what>: <name> must be >= lo, got v" unless v >= lo. */
lt_status lti_nn_check(const char *what, const char *prefix, const char *name, int64_t v, int64_t lo);

#endif
