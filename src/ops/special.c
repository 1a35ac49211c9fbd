/* Special-purpose ops for discrete codes: stop-gradient, straight-through, and
 * nearest-codebook search. */
#include <float.h>
#include <string.h>

#include "ops/internal.h"

/* A view of a (shared data) that does not require a gradient: the tape gets
 * nothing, so nothing flows back through it. */
lt_tensor *lt_stop_gradient(lt_graph *g, lt_tensor *a) {
    if (!a || g->status) return NULL;
    lt_tensor *out = lt_graph_alloc(g, sizeof *out);
    if (!out) return NULL;
    *out = *a;
    out->grad = NULL;
    out->requires_grad = 0;
    out->node = -1;
    return out;
}

/* Never recorded (see above); the entry keeps the op table complete and says
 * what a stop-gradient contributes to its input: nothing. */
void lti_stop_gradient_backward(lt_graph *g, lti_node *n) { (void)g; (void)n; }

/* A view of a's values whose gradient goes to b unchanged; a gets none
 * (as sg(a) + b - sg(b)). Node inputs: b only. */
lt_tensor *lt_straight_through(lt_graph *g, lt_tensor *a, lt_tensor *b) {
    if (!lti_check_f32(g, "straight_through", a) || !lti_check_f32(g, "straight_through", b)) return NULL;
    if (!lt_tensor_same_shape(a, b)) {
        char s1[64], s2[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "straight_through: value %s and gradient target %s differ in shape",
                       lt_shape_str(a, s1, 64), lt_shape_str(b, s2, 64));
        return NULL;
    }
    lt_tensor *out = lt_stop_gradient(g, a);
    if (out) lti_graph_record(g, LT_OP_STRAIGHT_THROUGH, out, 1, &b);
    return out;
}

void lti_straight_through_backward(lt_graph *g, lti_node *n) {
    lt_tensor *b = n->in[0];
    if (!b->requires_grad) return;
    float *db = lti_grad(g, b);
    if (!db) return;
    const float *dy = n->out->grad;
    int64_t m = lt_numel(b);
    for (int64_t i = 0; i < m; i++) db[i] += dy[i];
}

/* x (N,D), codebook (K,D) -> (N) int64. d(n,k) = ||c_k||² - 2·x_n·c_k (||x_n||² is the
 * same for every k and does not move the argmin); ties go to the smallest k. */
lt_tensor *lt_argmin_dist(lt_graph *g, const lt_tensor *x, const lt_tensor *codebook) {
    if (!lti_check_f32(g, "argmin_dist", x) || !lti_check_f32(g, "argmin_dist", codebook)) return NULL;
    if (x->ndim != 2 || codebook->ndim != 2 || x->shape[1] != codebook->shape[1] || codebook->shape[0] < 1) {
        char s1[64], s2[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "argmin_dist: want x (N,D) and a non-empty codebook (K,D), got %s and %s",
                       lt_shape_str(x, s1, 64), lt_shape_str(codebook, s2, 64));
        return NULL;
    }
    int64_t N = x->shape[0], D = x->shape[1], K = codebook->shape[0];
    lt_tensor *out = lt_graph_new(g, LT_I64, 1, &N);
    float *dot = lt_graph_alloc(g, sizeof(float) * (size_t)(N * K + K)); /* x·cᵀ (N,K), then ||c||² (K) */
    if (!out || !dot) return NULL;
    float *cn = dot + N * K;
    for (int64_t k = 0; k < K; k++) {
        double s = 0;
        for (int64_t d = 0; d < D; d++) s += (double)codebook->data[k * D + d] * codebook->data[k * D + d];
        cn[k] = (float)s;
    }
    lti_gemm(0, 1, N, K, D, 1.0f, x->data, D, codebook->data, D, 0.0f, dot, K);
    #pragma omp parallel for schedule(static) if (N * K > 65536)
    for (int64_t n = 0; n < N; n++) {
        int64_t best = 0;
        float bd = FLT_MAX;
        for (int64_t k = 0; k < K; k++) {
            float d = cn[k] - 2.0f * dot[n * K + k];
            if (d < bd) { bd = d; best = k; }
        }
        out->idata[n] = best;
    }
    return out;
}
