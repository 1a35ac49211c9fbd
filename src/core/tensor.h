/* Tensors: float32 values or int64 indices, row-major, up to 4 dims.
 * A tensor does not own its memory: intermediates point into a graph's arena,
 * parameters into a parameter block (core/params.h), user tensors wherever
 * the caller put them (lt_tensor_wrap). `grad`, when not NULL, has the
 * tensor's shape and receives accumulated gradients during backward. */
#ifndef LT_TENSOR_H
#define LT_TENSOR_H

#include <stdint.h>

#define LT_MAX_DIMS 4

typedef enum lt_dtype { LT_F32 = 0, LT_I64 = 1 } lt_dtype;

typedef struct lt_tensor {
    union {
        float *data;    /* LT_F32 values */
        int64_t *idata; /* LT_I64 values */
    };
    float *grad;          /* NULL until a backward pass needs it (never for LT_I64) */
    int64_t shape[LT_MAX_DIMS];
    int32_t ndim;
    lt_dtype dtype;
    int32_t requires_grad; /* a leaf the user wants gradients for, or derived from one */
    int32_t node;          /* index of the producing tape node, -1 for leaves */
} lt_tensor;

static inline int64_t lt_numel(const lt_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

/* Describes a tensor over caller-owned memory (nothing is copied or freed). */
lt_tensor lt_tensor_wrap(float *data, int ndim, const int64_t *shape);
lt_tensor lt_tensor_wrap_i64(int64_t *data, int ndim, const int64_t *shape);
int lt_tensor_same_shape(const lt_tensor *a, const lt_tensor *b);
/* "(2,3,4)" into buf; returns buf. */
const char *lt_shape_str(const lt_tensor *t, char *buf, int cap);

#endif
