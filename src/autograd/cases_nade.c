/* Gradient-check cases for nade.c: shared and per-example initial pre-activations,
 * binary and fractional pixels (the x_d = 0 shortcut and the general path). */
#include "autograd/gradcheck.h"
#include "ops/ops.h"

enum { NB = 3, ND = 6, NH = 4 };

static lt_tensor *lti_nade_build(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lt_tensor *x = arg;
    return lt_nade(g, x, in[0], in[1], in[2], in[3]);
}

static lt_status lti_nade_case(lt_rng *rng, lt_gc_result *res, int per_example, int fractional) {
    float xv[NB * ND];
    for (int i = 0; i < NB * ND; i++) {
        float u = lt_rng_uniform(rng);
        xv[i] = fractional ? u : (u < 0.5f ? 0.0f : 1.0f);
    }
    lt_tensor x = lt_tensor_wrap(xv, 2, (int64_t[]){NB, ND});
    lt_gc_pool p = {0};
    lt_tensor *in[4] = {
        per_example ? lt_gc_pool_f32(&p, rng, 2, (int64_t[]){NB, NH}, -1, 1, 0)
                    : lt_gc_pool_f32(&p, rng, 1, (int64_t[]){NH}, -1, 1, 0),
        lt_gc_pool_f32(&p, rng, 2, (int64_t[]){ND, NH}, -1, 1, 0),
        lt_gc_pool_f32(&p, rng, 2, (int64_t[]){ND, NH}, -1, 1, 0),
        lt_gc_pool_f32(&p, rng, 1, (int64_t[]){ND}, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_nade_build, &x, 4, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

static lt_status lti_nade_shared(lt_rng *r, lt_gc_result *s) { return lti_nade_case(r, s, 0, 0); }
static lt_status lti_nade_rows(lt_rng *r, lt_gc_result *s) { return lti_nade_case(r, s, 1, 0); }
static lt_status lti_nade_frac(lt_rng *r, lt_gc_result *s) { return lti_nade_case(r, s, 1, 1); }

const lt_gc_case lti_gc_cases_nade[] = {
    {"nade", "x (3,6) binary, a0 (4), W V (6,4), b (6)", lti_nade_shared},
    {"nade", "x (3,6) binary, a0 (3,4) per example", lti_nade_rows},
    {"nade", "x (3,6) in [0,1], a0 (3,4)", lti_nade_frac},
    {0},
};
