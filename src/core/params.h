/* Named parameters in one contiguous block, with a gradient block of the same
 * layout. A model declares its parameters (lt_params_add), then calls
 * lt_params_finalize once, which allocates both blocks; the tensors returned by
 * lt_params_add are valid from then on and owned by the lt_params.
 * Optimizers and checkpoints see the whole model as `data[0..total)`.
 * A model keeps non-trained state (masks, EMA statistics) in a second lt_params. */
#ifndef LT_PARAMS_H
#define LT_PARAMS_H

#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"

#define LT_PARAM_NAME_MAX 64

typedef struct lt_param {
    char name[LT_PARAM_NAME_MAX];
    int64_t offset;   /* in floats, into data and grad */
    lt_tensor t;      /* data/grad point into the blocks after finalize */
} lt_param;

typedef struct lt_params {
    lt_param **items; /* n pointers; each lt_param owned here */
    int64_t n, cap;
    float *data;      /* (total) all values */
    float *grad;      /* (total) all gradients */
    int64_t total;
    int finalized;
} lt_params;

void lt_params_init(lt_params *p);
void lt_params_free(lt_params *p);
/* Declares a parameter; its data pointer is valid after lt_params_finalize.
 * Returns NULL (with message) on a duplicate name, bad shape, or when finalized. */
lt_tensor *lt_params_add(lt_params *p, const char *name, int ndim, const int64_t *shape);
/* Allocates the blocks (zeroed) and points every tensor into them. */
lt_status lt_params_finalize(lt_params *p);
void lt_params_zero_grad(lt_params *p);
lt_param *lt_params_find(const lt_params *p, const char *name);
/* Sum of squares of the gradient block, as double. */
double lt_params_grad_sqnorm(const lt_params *p);

#endif
