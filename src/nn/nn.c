/* The nn convention's helpers: dotted names, activations, tensor fills. */
#include <stdarg.h>
#include <stdio.h>

#include "nn/internal.h"
#include "ops/ops.h"

lt_status lt_nn_join(char out[LT_NN_NAME_MAX], const char *prefix, const char *fmt, ...) {
    int n = prefix && *prefix ? snprintf(out, LT_NN_NAME_MAX, "%s.", prefix) : 0;
    if (n >= 0 && n < LT_NN_NAME_MAX) {
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(out + n, (size_t)(LT_NN_NAME_MAX - n), fmt, ap);
        va_end(ap);
        if (m >= 0 && n + m < LT_NN_NAME_MAX) return LT_OK;
    }
    out[0] = '\0';
    return lt_fail(LT_ERR_ARG, "nn: the name '%s.%s...' is longer than %d characters", prefix ? prefix : "", fmt,
                   LT_NN_NAME_MAX - 1);
}

lt_tensor *lti_nn_add(lt_params *p, const char *prefix, const char *name, int ndim, const int64_t *shape) {
    char full[LT_NN_NAME_MAX];
    if (!p) {
        lt_fail(LT_ERR_ARG, "nn: '%s%s%s' is a buffer, but the lt_nn has no buffers", prefix ? prefix : "",
                prefix && *prefix ? "." : "", name);
        return NULL;
    }
    if (lt_nn_join(full, prefix, "%s", name)) return NULL;
    return lt_params_add(p, full, ndim, shape);
}

lt_status lti_nn_check(const char *what, const char *prefix, const char *name, int64_t v, int64_t lo) {
    if (v >= lo) return LT_OK;
    return lt_fail(LT_ERR_ARG, "nn %s '%s': %s must be >= %lld, got %lld", what, prefix ? prefix : "", name,
                   (long long)lo, (long long)v);
}

void lti_nn_uniform(lt_rng *r, lt_tensor *t, float bound) {
    if (t) lt_rng_fill_uniform(r, t->data, lt_numel(t), -bound, bound);
}

void lti_nn_fill(lt_tensor *t, float v) {
    if (!t) return;
    for (int64_t i = 0; i < lt_numel(t); i++) t->data[i] = v;
}

lt_tensor *lt_nn_act_forward(lt_graph *g, lt_nn_act act, lt_tensor *x) {
    switch (act) {
    case LT_NN_RELU: return lt_relu(g, x);
    case LT_NN_GELU: return lt_gelu(g, x);
    case LT_NN_SILU: return lt_silu(g, x);
    case LT_NN_TANH: return lt_tanh(g, x);
    default: return x;
    }
}
