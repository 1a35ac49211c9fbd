/* Gradient-check cases for loss.c: BCE with soft and hard targets (2-D and
 * 3-D logits), cross-entropy, and both Gaussian KLs (all inputs, and with some
 * inputs held constant). */
#include "autograd/gradcheck.h"
#include "ops/ops.h"

/* ---- bce_with_logits ---- in[1]: the constant target */

static lt_tensor *lti_bce(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    return lt_bce_with_logits(g, in[0], in[1]);
}

static lt_status lti_bce_case(lt_rng *rng, lt_gc_result *res, int nd, const int64_t *shape, int hard) {
    lt_gc_pool p = {0};
    lt_tensor *in[2] = {lt_gc_pool_f32(&p, rng, nd, shape, -4, 4, 0), lt_gc_pool_f32(&p, rng, nd, shape, 0, 1, 0)};
    if (!in[0] || !in[1]) { lt_gc_pool_free(&p); return LT_ERR_NOMEM; }
    in[1]->requires_grad = 0;
    if (hard)
        for (int64_t i = 0; i < lt_numel(in[1]); i++) in[1]->data[i] = in[1]->data[i] < 0.5f ? 0.0f : 1.0f;
    lt_status st = lt_gradcheck(lti_bce, NULL, 2, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}
static lt_status bce_soft(lt_rng *r, lt_gc_result *s) { return lti_bce_case(r, s, 2, (int64_t[]){5, 7}, 0); }
static lt_status bce_hard(lt_rng *r, lt_gc_result *s) { return lti_bce_case(r, s, 3, (int64_t[]){3, 2, 5}, 1); }
static lt_status bce_1d(lt_rng *r, lt_gc_result *s) { return lti_bce_case(r, s, 1, (int64_t[]){6}, 1); }

/* ---- cross_entropy ---- in[1]: int64 labels */

static lt_tensor *lti_ce(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    return lt_cross_entropy(g, in[0], in[1]);
}

static lt_status lti_ce_case(lt_rng *rng, lt_gc_result *res, int64_t N, int64_t C) {
    lt_gc_pool p = {0};
    lt_tensor *in[2] = {lt_gc_pool_f32(&p, rng, 2, (int64_t[]){N, C}, -3, 3, 0),
                        lt_gc_pool_i64(&p, rng, 1, &N, C)};
    lt_status st = lt_gradcheck(lti_ce, NULL, 2, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}
static lt_status ce_6x5(lt_rng *r, lt_gc_result *s) { return lti_ce_case(r, s, 6, 5); }
static lt_status ce_3x11(lt_rng *r, lt_gc_result *s) { return lti_ce_case(r, s, 3, 11); }

/* ---- KL ---- */

static lt_tensor *lti_kl(lt_graph *g, lt_tensor *const *in, const void *arg) {
    return arg ? lt_kl_normal(g, in[0], in[1], in[2], in[3]) : lt_kl_std_normal(g, in[0], in[1]);
}

/* const_mask bit i: input i is a constant */
static lt_status lti_kl_case(lt_rng *rng, lt_gc_result *res, int normal, int nd, const int64_t *shape, int const_mask) {
    static const int is_normal = 1;
    lt_gc_pool p = {0};
    int nin = normal ? 4 : 2;
    lt_tensor *in[4];
    for (int i = 0; i < nin; i++) {
        in[i] = lt_gc_pool_f32(&p, rng, nd, shape, -1.5f, 1.5f, 0);
        if (!in[i]) { lt_gc_pool_free(&p); return LT_ERR_NOMEM; }
        if (const_mask >> i & 1) in[i]->requires_grad = 0;
    }
    lt_status st = lt_gradcheck(lti_kl, normal ? &is_normal : NULL, nin, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}
static lt_status kls_4x6(lt_rng *r, lt_gc_result *s) { return lti_kl_case(r, s, 0, 2, (int64_t[]){4, 6}, 0); }
static lt_status kls_3d(lt_rng *r, lt_gc_result *s) { return lti_kl_case(r, s, 0, 3, (int64_t[]){2, 3, 4}, 0); }
static lt_status kln_4x6(lt_rng *r, lt_gc_result *s) { return lti_kl_case(r, s, 1, 2, (int64_t[]){4, 6}, 0); }
static lt_status kln_prior(lt_rng *r, lt_gc_result *s) { return lti_kl_case(r, s, 1, 2, (int64_t[]){3, 5}, 0x3); }

const lt_gc_case lti_gc_cases_loss[] = {
    {"bce_with_logits", "(5,7) soft targets", bce_soft},
    {"bce_with_logits", "(3,2,5) 0/1 targets", bce_hard},
    {"bce_with_logits", "(6) one value per example", bce_1d},
    {"cross_entropy", "(6,5) labels", ce_6x5},
    {"cross_entropy", "(3,11) labels", ce_3x11},
    {"kl_std_normal", "(4,6)", kls_4x6},
    {"kl_std_normal", "(2,3,4)", kls_3d},
    {"kl_normal", "(4,6) all four inputs", kln_4x6},
    {"kl_normal", "(3,5) q constant, prior learned", kln_prior},
    {0},
};
