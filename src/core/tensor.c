#include "core/tensor.h"

#include <stdio.h>
#include <string.h>

lt_tensor lt_tensor_wrap(float *data, int ndim, const int64_t *shape) {
    lt_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.ndim = ndim;
    t.dtype = LT_F32;
    t.node = -1;
    for (int i = 0; i < ndim; i++) t.shape[i] = shape[i];
    return t;
}

lt_tensor lt_tensor_wrap_i64(int64_t *data, int ndim, const int64_t *shape) {
    lt_tensor t = lt_tensor_wrap(NULL, ndim, shape);
    t.idata = data;
    t.dtype = LT_I64;
    return t;
}

int lt_tensor_same_shape(const lt_tensor *a, const lt_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

const char *lt_shape_str(const lt_tensor *t, char *buf, int cap) {
    int n = snprintf(buf, cap, "(");
    for (int i = 0; i < t->ndim && n < cap; i++)
        n += snprintf(buf + n, cap - n, i ? ",%lld" : "%lld", (long long)t->shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, ")");
    return buf;
}
