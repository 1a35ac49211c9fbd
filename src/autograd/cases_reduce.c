/* Gradient-check cases for reduce.c: first, middle, last and negative axes,
 * keepdim, whole-tensor reductions to a 0-dim scalar, and a random shape with
 * a random axis. max gets distinct values (a random permutation scaled by 0.05)
 * so no tie is within the step size. */
#include "autograd/gradcheck.h"
#include "core/alloc.h"
#include "ops/ops.h"

typedef struct {
    lt_op op;
    int axis, keepdim;
    int nd;
    int64_t shape[4];
} lti_red_case;

static lt_tensor *lti_red_build(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_red_case *c = arg;
    switch (c->op) {
    case LT_OP_SUM: return lt_sum(g, in[0], c->axis, c->keepdim);
    case LT_OP_MEAN: return lt_mean(g, in[0], c->axis, c->keepdim);
    case LT_OP_MAX: return lt_max(g, in[0], c->axis, c->keepdim);
    case LT_OP_LOGSUMEXP: return lt_logsumexp(g, in[0], c->axis, c->keepdim);
    case LT_OP_SOFTMAX: return lt_softmax(g, in[0], c->axis);
    default: return lt_log_softmax(g, in[0], c->axis);
    }
}

static lt_status lti_red_run(const lti_red_case *c, lt_rng *rng, lt_gc_result *res) {
    lt_gc_pool p = {0};
    lt_tensor *in[1] = {lt_gc_pool_f32(&p, rng, c->nd, c->shape, -2, 2, 0)};
    if (!in[0]) return LT_ERR_NOMEM;
    if (c->op == LT_OP_MAX) {
        int64_t n = lt_numel(in[0]);
        int64_t *perm = lt_malloc(sizeof(int64_t) * n);
        if (!perm) { lt_gc_pool_free(&p); return LT_ERR_NOMEM; }
        lt_rng_permutation(rng, perm, n);
        for (int64_t i = 0; i < n; i++) in[0]->data[i] = 0.05f * (float)(perm[i] - n / 2);
        lt_free(perm);
    }
    lt_status st = lt_gradcheck(lti_red_build, c, 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

/* A random shape of 1..4 dims of 1..5 and a random axis (sometimes negative, sometimes all). */
static lt_status lti_red_random(lt_op op, lt_rng *rng, lt_gc_result *res) {
    lti_red_case c = {op, 0, (int)lt_rng_below(rng, 2), 1 + (int)lt_rng_below(rng, 4), {0}};
    for (int d = 0; d < c.nd; d++) c.shape[d] = 1 + (int64_t)lt_rng_below(rng, 5);
    c.axis = (int)lt_rng_below(rng, (uint64_t)c.nd) - (lt_rng_below(rng, 2) ? c.nd : 0);
    if (op != LT_OP_SOFTMAX && op != LT_OP_LOG_SOFTMAX && !lt_rng_below(rng, 4)) c.axis = LT_AXIS_ALL;
    return lti_red_run(&c, rng, res);
}

#define LTI_RED(fn, ...)                                                      \
    static lt_status fn(lt_rng *r, lt_gc_result *s) {                         \
        static const lti_red_case c = __VA_ARGS__;                            \
        return lti_red_run(&c, r, s);                                         \
    }
LTI_RED(sum_first, {LT_OP_SUM, 0, 0, 3, {3, 4, 5}})
LTI_RED(sum_mid_keep, {LT_OP_SUM, 1, 1, 3, {3, 4, 5}})
LTI_RED(sum_last_neg, {LT_OP_SUM, -1, 0, 2, {5, 7}})
LTI_RED(sum_all, {LT_OP_SUM, LT_AXIS_ALL, 0, 3, {2, 3, 5}})
LTI_RED(sum_all_keep, {LT_OP_SUM, LT_AXIS_ALL, 1, 2, {3, 5}})
LTI_RED(mean_mid, {LT_OP_MEAN, 1, 0, 4, {2, 3, 4, 3}})
LTI_RED(mean_last_keep, {LT_OP_MEAN, -1, 1, 2, {4, 7}})
LTI_RED(mean_all, {LT_OP_MEAN, LT_AXIS_ALL, 0, 2, {5, 3}})
LTI_RED(max_last, {LT_OP_MAX, -1, 0, 2, {4, 7}})
LTI_RED(max_first_keep, {LT_OP_MAX, 0, 1, 3, {5, 3, 4}})
LTI_RED(max_all, {LT_OP_MAX, LT_AXIS_ALL, 0, 2, {3, 5}})
LTI_RED(lse_last, {LT_OP_LOGSUMEXP, -1, 0, 2, {4, 7}})
LTI_RED(lse_mid_keep, {LT_OP_LOGSUMEXP, 1, 1, 3, {2, 5, 3}})
LTI_RED(lse_all, {LT_OP_LOGSUMEXP, LT_AXIS_ALL, 0, 2, {3, 4}})
LTI_RED(sm_last, {LT_OP_SOFTMAX, -1, 0, 2, {4, 7}})
LTI_RED(sm_mid, {LT_OP_SOFTMAX, 1, 0, 3, {2, 5, 3}})
LTI_RED(lsm_last, {LT_OP_LOG_SOFTMAX, 1, 0, 2, {4, 7}})
LTI_RED(lsm_first, {LT_OP_LOG_SOFTMAX, 0, 0, 3, {5, 2, 3}})
#undef LTI_RED

static lt_status sum_rand(lt_rng *r, lt_gc_result *s) { return lti_red_random(LT_OP_SUM, r, s); }
static lt_status mean_rand(lt_rng *r, lt_gc_result *s) { return lti_red_random(LT_OP_MEAN, r, s); }
static lt_status max_rand(lt_rng *r, lt_gc_result *s) { return lti_red_random(LT_OP_MAX, r, s); }
static lt_status lse_rand(lt_rng *r, lt_gc_result *s) { return lti_red_random(LT_OP_LOGSUMEXP, r, s); }
static lt_status sm_rand(lt_rng *r, lt_gc_result *s) { return lti_red_random(LT_OP_SOFTMAX, r, s); }
static lt_status lsm_rand(lt_rng *r, lt_gc_result *s) { return lti_red_random(LT_OP_LOG_SOFTMAX, r, s); }

const lt_gc_case lti_gc_cases_reduce[] = {
    {"sum", "(3,4,5) axis 0", sum_first},
    {"sum", "(3,4,5) axis 1 keepdim", sum_mid_keep},
    {"sum", "(5,7) axis -1", sum_last_neg},
    {"sum", "(2,3,5) all -> 0-dim", sum_all},
    {"sum", "(3,5) all keepdim -> (1,1)", sum_all_keep},
    {"sum", "random shape and axis", sum_rand},
    {"mean", "(2,3,4,3) axis 1", mean_mid},
    {"mean", "(4,7) axis -1 keepdim", mean_last_keep},
    {"mean", "(5,3) all", mean_all},
    {"mean", "random shape and axis", mean_rand},
    {"max", "(4,7) axis -1", max_last},
    {"max", "(5,3,4) axis 0 keepdim", max_first_keep},
    {"max", "(3,5) all", max_all},
    {"max", "random shape and axis", max_rand},
    {"logsumexp", "(4,7) axis -1", lse_last},
    {"logsumexp", "(2,5,3) axis 1 keepdim", lse_mid_keep},
    {"logsumexp", "(3,4) all", lse_all},
    {"logsumexp", "random shape and axis", lse_rand},
    {"softmax", "(4,7) axis -1", sm_last},
    {"softmax", "(2,5,3) axis 1", sm_mid},
    {"softmax", "random shape and axis", sm_rand},
    {"log_softmax", "(4,7) axis 1", lsm_last},
    {"log_softmax", "(5,2,3) axis 0", lsm_first},
    {"log_softmax", "random shape and axis", lsm_rand},
    {0},
};
