/* Gradient-check cases for matmul.c: every transpose combination, batched and shared operands, odd sizes. */
#include "autograd/gradcheck.h"
#include "ops/ops.h"

typedef struct { int ta, tb; } lti_mm_arg;

static lt_tensor *lti_mm(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_mm_arg *a = arg;
    return lt_matmul(g, in[0], in[1], a->ta, a->tb);
}

static lt_status lti_mm_case(lt_rng *rng, lt_gc_result *res, int ta, int tb, int batch_a, int batch_b) {
    const int64_t M = 3, K = 5, N = 4, B = 2;
    int64_t sa[3] = {B, ta ? K : M, ta ? M : K}, sb[3] = {B, tb ? N : K, tb ? K : N};
    lt_gc_pool p = {0};
    lt_tensor *in[2] = {batch_a ? lt_gc_pool_f32(&p, rng, 3, sa, -1, 1, 0) : lt_gc_pool_f32(&p, rng, 2, sa + 1, -1, 1, 0),
                        batch_b ? lt_gc_pool_f32(&p, rng, 3, sb, -1, 1, 0) : lt_gc_pool_f32(&p, rng, 2, sb + 1, -1, 1, 0)};
    lti_mm_arg arg = {ta, tb};
    lt_status st = lt_gradcheck(lti_mm, &arg, 2, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

static lt_status lti_mm_nn(lt_rng *r, lt_gc_result *s) { return lti_mm_case(r, s, 0, 0, 0, 0); }
static lt_status lti_mm_tn(lt_rng *r, lt_gc_result *s) { return lti_mm_case(r, s, 1, 0, 0, 0); }
static lt_status lti_mm_nt(lt_rng *r, lt_gc_result *s) { return lti_mm_case(r, s, 0, 1, 0, 0); }
static lt_status lti_mm_tt(lt_rng *r, lt_gc_result *s) { return lti_mm_case(r, s, 1, 1, 0, 0); }
static lt_status lti_mm_bb(lt_rng *r, lt_gc_result *s) { return lti_mm_case(r, s, 0, 1, 1, 1); }
static lt_status lti_mm_b2(lt_rng *r, lt_gc_result *s) { return lti_mm_case(r, s, 1, 0, 1, 0); }
static lt_status lti_mm_2b(lt_rng *r, lt_gc_result *s) { return lti_mm_case(r, s, 0, 0, 0, 1); }

static lt_tensor *lti_lin(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lt_tensor *mask = arg;
    return mask ? lt_masked_linear(g, in[0], in[1], mask, in[2]) : lt_linear(g, in[0], in[1], in[2]);
}

static lt_status lti_lin_case(lt_rng *rng, lt_gc_result *res, int masked) {
    lt_gc_pool p = {0};
    lt_tensor *in[3] = {lt_gc_pool_f32(&p, rng, 2, (int64_t[]){5, 7}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 2, (int64_t[]){3, 7}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 1, (int64_t[]){3}, -1, 1, 0)};
    float m[21];
    for (int i = 0; i < 21; i++) m[i] = (i * 7 + 3) % 3 ? 1.0f : 0.0f;
    lt_tensor mask = lt_tensor_wrap(m, 2, (int64_t[]){3, 7});
    lt_status st = lt_gradcheck(lti_lin, masked ? &mask : NULL, 3, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}
static lt_status lti_lin_plain(lt_rng *r, lt_gc_result *s) { return lti_lin_case(r, s, 0); }

static lt_tensor *lti_lin_add(lt_graph *g, lt_tensor *const *in, const void *arg) {
    return lt_linear_add(g, in[0], in[1], arg ? in[3] : NULL, in[2]);
}

/* x (5,7), w (3,7), res (5,3) [, bias (3)] */
static lt_status lti_lin_add_case(lt_rng *rng, lt_gc_result *res, int bias) {
    lt_gc_pool p = {0};
    lt_tensor *in[4] = {lt_gc_pool_f32(&p, rng, 2, (int64_t[]){5, 7}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 2, (int64_t[]){3, 7}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 2, (int64_t[]){5, 3}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 1, (int64_t[]){3}, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_lin_add, bias ? "bias" : NULL, 3 + bias, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}
static lt_status lti_lin_add_b(lt_rng *r, lt_gc_result *s) { return lti_lin_add_case(r, s, 1); }
static lt_status lti_lin_add_nb(lt_rng *r, lt_gc_result *s) { return lti_lin_add_case(r, s, 0); }
static lt_status lti_lin_masked(lt_rng *r, lt_gc_result *s) { return lti_lin_case(r, s, 1); }

const lt_gc_case lti_gc_cases_matmul[] = {
    {"matmul", "(3,5)·(5,4)", lti_mm_nn},
    {"matmul", "(5,3)ᵀ·(5,4)", lti_mm_tn},
    {"matmul", "(3,5)·(4,5)ᵀ", lti_mm_nt},
    {"matmul", "(5,3)ᵀ·(4,5)ᵀ", lti_mm_tt},
    {"matmul", "batched (2,3,5)·(2,4,5)ᵀ", lti_mm_bb},
    {"matmul", "batched (2,5,3)ᵀ·shared (5,4)", lti_mm_b2},
    {"matmul", "shared (3,5)·batched (2,5,4)", lti_mm_2b},
    {"linear", "(5,7)·(3,7)ᵀ+(3)", lti_lin_plain},
    {"masked_linear", "(5,7)·((3,7)⊙mask)ᵀ+(3)", lti_lin_masked},
    {"linear_add", "(5,3)+(5,7)·(3,7)ᵀ+(3)", lti_lin_add_b},
    {"linear_add", "(5,3)+(5,7)·(3,7)ᵀ", lti_lin_add_nb},
    {0},
};
