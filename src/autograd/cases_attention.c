/* Gradient-check cases for attention.c: causal softmax on one matrix and on a batch of heads. */
#include "autograd/gradcheck.h"
#include "ops/ops.h"

static lt_tensor *lti_csm(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    return lt_causal_softmax(g, in[0]);
}

static lt_status lti_csm_case(lt_rng *rng, lt_gc_result *res, int ndim, const int64_t *shape) {
    lt_gc_pool p = {0};
    lt_tensor *in[1] = {lt_gc_pool_f32(&p, rng, ndim, shape, -2, 2, 0)};
    lt_status st = lt_gradcheck(lti_csm, NULL, 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}
static lt_status lti_csm_one(lt_rng *r, lt_gc_result *s) { return lti_csm_case(r, s, 2, (int64_t[]){5, 5}); }
static lt_status lti_csm_heads(lt_rng *r, lt_gc_result *s) { return lti_csm_case(r, s, 4, (int64_t[]){2, 3, 4, 4}); }

const lt_gc_case lti_gc_cases_attention[] = {
    {"causal_softmax", "(5,5)", lti_csm_one},
    {"causal_softmax", "(2,3,4,4) batch of heads", lti_csm_heads},
    {0},
};
