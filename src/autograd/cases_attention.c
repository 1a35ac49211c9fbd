/* Gradient-check cases for attention.c: causal softmax on one matrix and on a batch of heads;
 * multi-head attention with and without the causal mask, one and several heads, T not a
 * multiple of anything and T past one row block of the kernel (64 rows). */
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

typedef struct {
    int heads, causal;
} lti_attn_arg;

static lt_tensor *lti_attn(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_attn_arg *a = arg;
    return lt_attention(g, in[0], a->heads, a->causal);
}

/* qkv (B,T,3C) */
static lt_status lti_attn_case(lt_rng *rng, lt_gc_result *res, int64_t B, int64_t T, int64_t C, int heads, int causal) {
    lt_gc_pool p = {0};
    lt_tensor *in[1] = {lt_gc_pool_f32(&p, rng, 3, (int64_t[]){B, T, 3 * C}, -1.5f, 1.5f, 0)};
    lti_attn_arg a = {heads, causal};
    lt_status st = lt_gradcheck(lti_attn, &a, 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}
static lt_status lti_attn_1(lt_rng *r, lt_gc_result *s) { return lti_attn_case(r, s, 2, 5, 3, 1, 0); }
static lt_status lti_attn_1c(lt_rng *r, lt_gc_result *s) { return lti_attn_case(r, s, 2, 7, 4, 1, 1); }
static lt_status lti_attn_h(lt_rng *r, lt_gc_result *s) { return lti_attn_case(r, s, 2, 7, 6, 3, 0); }
static lt_status lti_attn_hc(lt_rng *r, lt_gc_result *s) { return lti_attn_case(r, s, 3, 11, 8, 2, 1); }
static lt_status lti_attn_long(lt_rng *r, lt_gc_result *s) { return lti_attn_case(r, s, 1, 67, 4, 2, 1); }
static lt_status lti_attn_longf(lt_rng *r, lt_gc_result *s) { return lti_attn_case(r, s, 1, 67, 2, 2, 0); }

const lt_gc_case lti_gc_cases_attention[] = {
    {"causal_softmax", "(5,5)", lti_csm_one},
    {"causal_softmax", "(2,3,4,4) batch of heads", lti_csm_heads},
    {"attention", "(2,5,9) 1 head", lti_attn_1},
    {"attention", "(2,7,12) 1 head causal", lti_attn_1c},
    {"attention", "(2,7,18) 3 heads", lti_attn_h},
    {"attention", "(3,11,24) 2 heads causal", lti_attn_hc},
    {"attention", "(1,67,12) 2 heads causal, 2 blocks", lti_attn_long},
    {"attention", "(1,67,6) 2 heads, 2 blocks", lti_attn_longf},
    {0},
};
