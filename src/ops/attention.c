/* Attention helpers: the causal (lower-triangular) softmax of a score matrix. */
#include <math.h>

#include "ops/internal.h"

/* scores (...,T,T) -> y (...,T,T): row i is the softmax of scores[i, 0..i]; y[i, j>i] = 0.
 * saved: nothing (backward reads y). */
lt_tensor *lt_causal_softmax(lt_graph *g, lt_tensor *scores) {
    if (!lti_check_f32(g, "causal_softmax", scores)) return NULL;
    int nd = scores->ndim;
    if (nd < 2 || scores->shape[nd - 1] != scores->shape[nd - 2]) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "causal_softmax: want scores (...,T,T), got %s", lt_shape_str(scores, s, 64));
        return NULL;
    }
    int64_t T = scores->shape[nd - 1], rows = T ? lt_numel(scores) / T : 0;
    lt_tensor *y = lti_like(g, scores);
    if (!y) return NULL;
    #pragma omp parallel for schedule(static) if (rows * T > 65536)
    for (int64_t r = 0; r < rows; r++) {
        int64_t i = r % T; /* row within its (T,T) matrix: columns 0..i are visible */
        const float *s = scores->data + r * T;
        float *o = y->data + r * T, mx = s[0];
        for (int64_t j = 1; j <= i; j++) mx = s[j] > mx ? s[j] : mx;
        double sum = 0;
        for (int64_t j = 0; j <= i; j++) {
            o[j] = expf(s[j] - mx);
            sum += o[j];
        }
        float inv = (float)(1.0 / sum);
        for (int64_t j = 0; j <= i; j++) o[j] *= inv;
        for (int64_t j = i + 1; j < T; j++) o[j] = 0.0f;
    }
    lti_graph_record(g, LT_OP_CAUSAL_SOFTMAX, y, 1, &scores);
    return y;
}

/* ds[j] += y[j]·(dy[j] - Σ_{k<=i} y[k]·dy[k]) for j <= i; masked entries get nothing */
void lti_causal_softmax_backward(lt_graph *g, lti_node *n) {
    lt_tensor *s = n->in[0], *y = n->out;
    if (!s->requires_grad) return;
    float *ds = lti_grad(g, s);
    if (!ds) return;
    int64_t T = s->shape[s->ndim - 1], rows = T ? lt_numel(s) / T : 0;
    #pragma omp parallel for schedule(static) if (rows * T > 65536)
    for (int64_t r = 0; r < rows; r++) {
        int64_t i = r % T;
        const float *yr = y->data + r * T, *dyr = y->grad + r * T;
        double dot = 0;
        for (int64_t j = 0; j <= i; j++) dot += (double)yr[j] * dyr[j];
        for (int64_t j = 0; j <= i; j++) ds[r * T + j] += yr[j] * (dyr[j] - (float)dot);
    }
}
