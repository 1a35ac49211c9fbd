/* Reductions and normalizations along one axis: sum, mean, max, logsumexp,
 * softmax, log_softmax.
 *
 * A tensor is viewed as (outer, len, inner) around the axis (LT_AXIS_ALL: one
 * lane of all elements). Each of the outer·inner lanes is a strided vector of
 * `len` elements at stride `inner`; every op is written once per lane, and
 * lanes run in parallel. Sums accumulate in double. */
#include <math.h>

#include "ops/internal.h"

#define LTI_PAR_MIN 32768

typedef struct {
    int64_t outer, len, inner;
} lti_axes;

/* Lane p's first element. */
static inline int64_t lti_lane(const lti_axes *v, int64_t p) {
    return (p / v->inner) * v->len * v->inner + p % v->inner;
}

/* Resolves axis; writes the view and the reduced shape (keepdim rules as PyTorch). */
static int lti_reduce_plan(lt_graph *g, const char *name, const lt_tensor *a, int axis, int keepdim, lti_axes *v,
                           int *ond, int64_t *oshape) {
    if (!lti_check_f32(g, name, a)) return 0;
    int nd = a->ndim;
    if (axis == LT_AXIS_ALL) {
        *v = (lti_axes){1, lt_numel(a), 1};
        *ond = keepdim ? nd : 0;
        for (int d = 0; d < nd; d++) oshape[d] = 1;
        return 1;
    }
    if (axis < -nd || axis >= nd) {
        char s[64];
        lti_graph_fail(g, LT_ERR_ARG, "%s: axis %d is out of range for shape %s", name, axis, lt_shape_str(a, s, 64));
        return 0;
    }
    if (axis < 0) axis += nd;
    *v = (lti_axes){1, a->shape[axis], 1};
    for (int d = 0; d < axis; d++) v->outer *= a->shape[d];
    for (int d = axis + 1; d < nd; d++) v->inner *= a->shape[d];
    *ond = 0;
    for (int d = 0; d < nd; d++) {
        if (d != axis) oshape[(*ond)++] = a->shape[d];
        else if (keepdim) oshape[(*ond)++] = 1;
    }
    return 1;
}

/* Every backward's prologue: da, the gradient buffer of the input a = n->in[0], and v, the
 * lane view of the recorded axis (n->iarg[0]); NULL when a needs no gradient or the graph
 * has failed. keepdim changes only the output shape, never the view. */
static float *lti_reduce_grad(lt_graph *g, lti_node *n, lti_axes *v) {
    lt_tensor *a = n->in[0];
    if (!a->requires_grad) return NULL;
    float *da = lti_grad(g, a);
    if (!da) return NULL;
    int ond;
    int64_t oshape[LT_MAX_DIMS];
    return lti_reduce_plan(g, "", a, (int)n->iarg[0], 1, v, &ond, oshape) ? da : NULL;
}

/* ---- sum, mean, max: one value per lane ---- iarg: axis, keepdim; saved: argmax (max) */

enum { LTI_SUM, LTI_MEAN, LTI_MAX };

static lt_tensor *lti_reduce(lt_graph *g, lt_op opid, const char *name, lt_tensor *a, int axis, int keepdim) {
    lti_axes v;
    int ond;
    int64_t oshape[LT_MAX_DIMS];
    if (!lti_reduce_plan(g, name, a, axis, keepdim, &v, &ond, oshape)) return NULL;
    int kind = opid == LT_OP_SUM ? LTI_SUM : opid == LT_OP_MEAN ? LTI_MEAN : LTI_MAX;
    if (kind == LTI_MAX && v.len == 0) {
        lti_graph_fail(g, LT_ERR_SHAPE, "max: reducing an empty axis");
        return NULL;
    }
    lt_tensor *y = lt_graph_new(g, LT_F32, ond, oshape); /* a's shape without (or with 1 at) axis */
    int64_t lanes = v.outer * v.inner;
    int64_t *arg = kind == LTI_MAX ? lt_graph_alloc(g, sizeof(int64_t) * (lanes ? lanes : 1)) : NULL;
    if (!y || (kind == LTI_MAX && !arg)) return NULL;
    const float *x = a->data;
    #pragma omp parallel for schedule(static) if (lanes * v.len > LTI_PAR_MIN && lanes > 1)
    for (int64_t p = 0; p < lanes; p++) {
        const float *xl = x + lti_lane(&v, p);
        if (kind == LTI_MAX) {
            int64_t best = 0;
            for (int64_t k = 1; k < v.len; k++)
                if (xl[k * v.inner] > xl[best * v.inner] || isnan(xl[k * v.inner])) {
                    best = k;
                    if (isnan(xl[k * v.inner])) break; /* NaN propagates, as in PyTorch */
                }
            arg[p] = best;
            y->data[p] = xl[best * v.inner];
        } else {
            double s = 0;
            for (int64_t k = 0; k < v.len; k++) s += xl[k * v.inner];
            y->data[p] = (float)(kind == LTI_MEAN ? (v.len ? s / (double)v.len : NAN) : s);
        }
    }
    lti_node *n = lti_graph_record(g, opid, y, 1, &a);
    if (n) {
        n->iarg[0] = axis;
        n->iarg[1] = keepdim;
        n->saved = arg;
    }
    return y;
}

lt_tensor *lt_sum(lt_graph *g, lt_tensor *a, int axis, int keepdim) { return lti_reduce(g, LT_OP_SUM, "sum", a, axis, keepdim); }
lt_tensor *lt_mean(lt_graph *g, lt_tensor *a, int axis, int keepdim) { return lti_reduce(g, LT_OP_MEAN, "mean", a, axis, keepdim); }
lt_tensor *lt_max(lt_graph *g, lt_tensor *a, int axis, int keepdim) { return lti_reduce(g, LT_OP_MAX, "max", a, axis, keepdim); }

/* sum: da += dy at every element of the lane; mean: dy/len; max: dy at the argmax */
static void lti_reduce_backward(lt_graph *g, lti_node *n) {
    lti_axes v;
    float *da = lti_reduce_grad(g, n, &v);
    if (!da) return;
    const float *dy = n->out->grad;
    const int64_t *arg = n->saved;
    int64_t lanes = v.outer * v.inner;
    float scale = n->op == LT_OP_MEAN && v.len ? 1.0f / (float)v.len : 1.0f;
    #pragma omp parallel for schedule(static) if (lanes * v.len > LTI_PAR_MIN && lanes > 1)
    for (int64_t p = 0; p < lanes; p++) {
        float *dl = da + lti_lane(&v, p);
        if (arg) dl[arg[p] * v.inner] += dy[p];
        else
            for (int64_t k = 0; k < v.len; k++) dl[k * v.inner] += dy[p] * scale;
    }
}

void lti_sum_backward(lt_graph *g, lti_node *n) { lti_reduce_backward(g, n); }
void lti_mean_backward(lt_graph *g, lti_node *n) { lti_reduce_backward(g, n); }
void lti_max_backward(lt_graph *g, lti_node *n) { lti_reduce_backward(g, n); }

/* ---- logsumexp, softmax, log_softmax ---- iarg: axis, keepdim */

/* Over one lane: m = max_k x[k·s] and ls = log Σ_k exp(x[k·s] - m), so logsumexp = m + ls.
 * Kept apart so that softmax can use x - m (exact for nearby values) even when m is huge.
 * An empty or all -inf lane gives m = -inf; m = +inf gives ls = 0. */
static void lti_lane_lse(const float *x, int64_t len, int64_t s, float *m_out, float *ls_out) {
    float m = -INFINITY;
    for (int64_t k = 0; k < len; k++) m = fmaxf(m, x[k * s]);
    *m_out = m;
    *ls_out = 0.0f;
    if (isinf(m)) return;
    double acc = 0;
    for (int64_t k = 0; k < len; k++) acc += expf(x[k * s] - m);
    *ls_out = (float)log(acc);
}

lt_tensor *lt_logsumexp(lt_graph *g, lt_tensor *a, int axis, int keepdim) {
    lti_axes v;
    int ond;
    int64_t oshape[LT_MAX_DIMS];
    if (!lti_reduce_plan(g, "logsumexp", a, axis, keepdim, &v, &ond, oshape)) return NULL;
    lt_tensor *y = lt_graph_new(g, LT_F32, ond, oshape); /* a's shape reduced over axis */
    if (!y) return NULL;
    int64_t lanes = v.outer * v.inner;
    #pragma omp parallel for schedule(static) if (lanes * v.len > LTI_PAR_MIN && lanes > 1)
    for (int64_t p = 0; p < lanes; p++) {
        float m, ls;
        lti_lane_lse(a->data + lti_lane(&v, p), v.len, v.inner, &m, &ls);
        y->data[p] = m + ls;
    }
    lti_node *n = lti_graph_record(g, LT_OP_LOGSUMEXP, y, 1, &a);
    if (n) { n->iarg[0] = axis; n->iarg[1] = keepdim; }
    return y;
}

/* da += dy · exp(x - lse) */
void lti_logsumexp_backward(lt_graph *g, lti_node *n) {
    lt_tensor *a = n->in[0], *y = n->out;
    lti_axes v;
    float *da = lti_reduce_grad(g, n, &v);
    if (!da) return;
    int64_t lanes = v.outer * v.inner;
    #pragma omp parallel for schedule(static) if (lanes * v.len > LTI_PAR_MIN && lanes > 1)
    for (int64_t p = 0; p < lanes; p++) {
        int64_t o = lti_lane(&v, p);
        for (int64_t k = 0; k < v.len; k++)
            da[o + k * v.inner] += y->grad[p] * expf(a->data[o + k * v.inner] - y->data[p]);
    }
}

/* softmax (log = 0) or log_softmax (log = 1) along axis; same shape out */
static lt_tensor *lti_softmax(lt_graph *g, lt_op opid, const char *name, lt_tensor *a, int axis) {
    lti_axes v;
    int ond;
    int64_t oshape[LT_MAX_DIMS];
    if (!lti_reduce_plan(g, name, a, axis, 1, &v, &ond, oshape)) return NULL;
    lt_tensor *y = lti_like(g, a); /* a's shape */
    if (!y) return NULL;
    int log = opid == LT_OP_LOG_SOFTMAX;
    int64_t lanes = v.outer * v.inner;
    #pragma omp parallel for schedule(static) if (lanes * v.len > LTI_PAR_MIN && lanes > 1)
    for (int64_t p = 0; p < lanes; p++) {
        int64_t o = lti_lane(&v, p);
        float m, ls;
        lti_lane_lse(a->data + o, v.len, v.inner, &m, &ls);
        for (int64_t k = 0; k < v.len; k++) {
            float z = a->data[o + k * v.inner] - m - ls;
            y->data[o + k * v.inner] = log ? z : expf(z);
        }
    }
    lti_node *n = lti_graph_record(g, opid, y, 1, &a);
    if (n) n->iarg[0] = axis;
    return y;
}

lt_tensor *lt_softmax(lt_graph *g, lt_tensor *a, int axis) { return lti_softmax(g, LT_OP_SOFTMAX, "softmax", a, axis); }
lt_tensor *lt_log_softmax(lt_graph *g, lt_tensor *a, int axis) {
    return lti_softmax(g, LT_OP_LOG_SOFTMAX, "log_softmax", a, axis);
}

/* softmax: da += y·(dy - Σ dy·y); log_softmax: da += dy - softmax·Σ dy */
static void lti_softmax_common_backward(lt_graph *g, lti_node *n) {
    lt_tensor *y = n->out;
    lti_axes v;
    float *da = lti_reduce_grad(g, n, &v);
    if (!da) return;
    int log = n->op == LT_OP_LOG_SOFTMAX;
    const float *dy = y->grad;
    int64_t lanes = v.outer * v.inner;
    #pragma omp parallel for schedule(static) if (lanes * v.len > LTI_PAR_MIN && lanes > 1)
    for (int64_t p = 0; p < lanes; p++) {
        int64_t o = lti_lane(&v, p), s = v.inner;
        double dot = 0;
        for (int64_t k = 0; k < v.len; k++) dot += log ? dy[o + k * s] : dy[o + k * s] * y->data[o + k * s];
        for (int64_t k = 0; k < v.len; k++) {
            int64_t i = o + k * s;
            da[i] += log ? dy[i] - expf(y->data[i]) * (float)dot : y->data[i] * (dy[i] - (float)dot);
        }
    }
}

void lti_softmax_backward(lt_graph *g, lti_node *n) { lti_softmax_common_backward(g, n); }
void lti_log_softmax_backward(lt_graph *g, lti_node *n) { lti_softmax_common_backward(g, n); }
