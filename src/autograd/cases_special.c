/* Gradient-check cases for special.c.
 *
 * Neither op is a function whose finite differences equal its gradient, so each
 * case checks it against the function it stands for. lt_gradcheck runs its
 * analytic pass with gradients on and its finite-difference evaluations with
 * gradients off (g->grad_enabled == 0); the builds use the op in the first and
 * its meaning, written out with frozen copies of the inputs, in the second:
 *     stop_gradient(x)        means  the constant x0
 *     straight_through(a, b)  means  a0 + b - b0   (value a, derivative 1 in b, 0 in a)
 * If either op leaked or dropped a gradient, or the numeric builds ever ran with
 * gradients on, analytic and numeric would differ and the case would fail. */
#include <string.h>

#include "autograd/gradcheck.h"
#include "ops/ops.h"

/* y (3,3) = x · sg(x)ᵀ: only the left factor carries a gradient */
static lt_tensor *lti_sg(lt_graph *g, lt_tensor *const *in, const void *arg) {
    lt_tensor *x = in[0];
    lt_tensor *c = g->grad_enabled ? lt_stop_gradient(g, x) : lt_graph_wrap(g, (float *)arg, x->ndim, x->shape);
    return lt_matmul(g, x, c, 0, 1);
}

static lt_status lti_sg_case(lt_rng *rng, lt_gc_result *res) {
    lt_gc_pool p = {0};
    lt_tensor *in[1] = {lt_gc_pool_f32(&p, rng, 2, (int64_t[]){3, 4}, -1, 1, 0)};
    float x0[12];
    memcpy(x0, in[0]->data, sizeof x0);
    lt_status st = lt_gradcheck(lti_sg, x0, 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

/* y (3,2) = straight_through(a, b) · w; arg: a0 then b0, 12 floats each */
static lt_tensor *lti_st(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const float *a0 = arg, *b0 = a0 + 12;
    lt_tensor *t;
    if (g->grad_enabled) {
        t = lt_straight_through(g, in[0], in[1]);
    } else {
        t = lt_graph_new(g, LT_F32, 2, in[1]->shape);
        if (t)
            for (int i = 0; i < 12; i++) t->data[i] = a0[i] + in[1]->data[i] - b0[i];
    }
    return lt_matmul(g, t, in[2], 0, 0);
}

static lt_status lti_st_case(lt_rng *rng, lt_gc_result *res) {
    lt_gc_pool p = {0};
    lt_tensor *in[3] = {lt_gc_pool_f32(&p, rng, 2, (int64_t[]){3, 4}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 2, (int64_t[]){3, 4}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 2, (int64_t[]){4, 2}, -1, 1, 0)};
    float frozen[24];
    memcpy(frozen, in[0]->data, sizeof(float) * 12);
    memcpy(frozen + 12, in[1]->data, sizeof(float) * 12);
    lt_status st = lt_gradcheck(lti_st, frozen, 3, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

const lt_gc_case lti_gc_cases_special[] = {
    {"stop_gradient", "x (3,4) · sg(x)ᵀ vs x · x0ᵀ", lti_sg_case},
    {"straight_through", "st(a,b) (3,4) · w (4,2) vs (a0 + b - b0) · w", lti_st_case},
    {0},
};
