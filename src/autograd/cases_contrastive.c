/* Gradient-check cases for contrastive.c: NT-Xent at SimCLR's temperature and a sharp one,
 * and with one row near zero length (the normalization's Jacobian at small norms). */
#include "autograd/gradcheck.h"
#include "ops/ops.h"

static lt_tensor *lti_ntx(lt_graph *g, lt_tensor *const *in, const void *arg) {
    return lt_nt_xent(g, in[0], *(const float *)arg);
}

static lt_status lti_ntx_case(lt_rng *rng, lt_gc_result *res, int64_t M, int64_t D, float tau, int small_row) {
    lt_gc_pool p = {0};
    lt_tensor *in[1] = {lt_gc_pool_f32(&p, rng, 2, (int64_t[]){M, D}, -1.5f, 1.5f, 0)};
    if (!in[0]) { lt_gc_pool_free(&p); return LT_ERR_NOMEM; }
    if (small_row)
        for (int64_t k = 0; k < D; k++) in[0]->data[k] *= 0.05f;
    lt_status st = lt_gradcheck(lti_ntx, &tau, 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}
static lt_status ntx_6x5(lt_rng *r, lt_gc_result *s) { return lti_ntx_case(r, s, 6, 5, 0.5f, 0); }
static lt_status ntx_8x3(lt_rng *r, lt_gc_result *s) { return lti_ntx_case(r, s, 8, 3, 0.2f, 0); }
static lt_status ntx_small(lt_rng *r, lt_gc_result *s) { return lti_ntx_case(r, s, 4, 6, 1.0f, 1); }

const lt_gc_case lti_gc_cases_contrastive[] = {
    {"nt_xent", "(6,5) tau 0.5", ntx_6x5},
    {"nt_xent", "(8,3) tau 0.2", ntx_8x3},
    {"nt_xent", "(4,6) tau 1, a short row", ntx_small},
    {0},
};
