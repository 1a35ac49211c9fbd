/* Gradient-check cases for shape.c: reshape, permute/transpose, slice, concat (including
 * more inputs than a node holds), embedding with repeated indices. */
#include "autograd/gradcheck.h"
#include "ops/ops.h"

/* ---- reshape ---- */

static lt_tensor *lti_rs(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    return lt_reshape(g, in[0], 2, (int64_t[]){4, -1});
}

/* reshape then a product, so a wrong element order would show in the weight's gradient */
static lt_tensor *lti_rs_mm(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    return lt_matmul(g, lt_reshape(g, in[0], 2, (int64_t[]){-1, 4}), in[1], 0, 0);
}

/* reshapes of an intermediate h = 2x, twice, times each other: the later reshape hands its
 * gradient buffer to h (nothing added to h's yet), the earlier one adds to it */
static lt_tensor *lti_rs_inner(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    lt_tensor *h = lt_mul_scalar(g, in[0], 2.0f);
    lt_tensor *a = lt_reshape(g, h, 2, (int64_t[]){-1, 4}), *b = lt_reshape(g, h, 2, (int64_t[]){-1, 4});
    return lt_matmul(g, lt_mul(g, lt_add_scalar(g, a, 0.5f), b), in[1], 0, 0);
}

static lt_status lti_rs_handover(lt_rng *rng, lt_gc_result *res) {
    lt_gc_pool p = {0};
    lt_tensor *in[2] = {lt_gc_pool_f32(&p, rng, 3, (int64_t[]){3, 2, 4}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 2, (int64_t[]){4, 3}, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_rs_inner, NULL, 2, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

static lt_status lti_rs_plain(lt_rng *rng, lt_gc_result *res) {
    lt_gc_pool p = {0};
    lt_tensor *in[1] = {lt_gc_pool_f32(&p, rng, 3, (int64_t[]){2, 3, 4}, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_rs, NULL, 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

static lt_status lti_rs_chain(lt_rng *rng, lt_gc_result *res) {
    lt_gc_pool p = {0};
    lt_tensor *in[2] = {lt_gc_pool_f32(&p, rng, 3, (int64_t[]){3, 2, 4}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 2, (int64_t[]){4, 3}, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_rs_mm, NULL, 2, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

/* ---- permute / transpose ---- */

typedef struct { int perm[4]; int t0, t1; } lti_perm_arg; /* t0 < 0: use perm */

static lt_tensor *lti_perm(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_perm_arg *a = arg;
    return a->t0 < 0 ? lt_permute(g, in[0], a->perm) : lt_transpose(g, in[0], a->t0, a->t1);
}

static lt_status lti_perm_case(lt_rng *rng, lt_gc_result *res, int ndim, const int64_t *shape, lti_perm_arg a) {
    lt_gc_pool p = {0};
    lt_tensor *in[1] = {lt_gc_pool_f32(&p, rng, ndim, shape, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_perm, &a, 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

static lt_status lti_perm4(lt_rng *r, lt_gc_result *s) {
    return lti_perm_case(r, s, 4, (int64_t[]){2, 3, 4, 5}, (lti_perm_arg){{2, 0, 3, 1}, -1, 0});
}
static lt_status lti_perm3(lt_rng *r, lt_gc_result *s) {
    return lti_perm_case(r, s, 3, (int64_t[]){3, 4, 5}, (lti_perm_arg){{2, 0, 1, 0}, -1, 0});
}
static lt_status lti_transp(lt_rng *r, lt_gc_result *s) {
    return lti_perm_case(r, s, 3, (int64_t[]){2, 3, 5}, (lti_perm_arg){{0}, 0, -1});
}

/* ---- slice ---- */

typedef struct { int axis; int64_t start, len; } lti_slice_arg;

static lt_tensor *lti_sl(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_slice_arg *a = arg;
    return lt_slice(g, in[0], a->axis, a->start, a->len);
}

static lt_status lti_sl_case(lt_rng *rng, lt_gc_result *res, lti_slice_arg a) {
    lt_gc_pool p = {0};
    lt_tensor *in[1] = {lt_gc_pool_f32(&p, rng, 3, (int64_t[]){3, 7, 2}, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_sl, &a, 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}
static lt_status lti_sl_mid(lt_rng *r, lt_gc_result *s) { return lti_sl_case(r, s, (lti_slice_arg){1, 2, 4}); }
static lt_status lti_sl_last(lt_rng *r, lt_gc_result *s) { return lti_sl_case(r, s, (lti_slice_arg){-1, 1, 1}); }

/* ---- concat ---- */

typedef struct { int n, axis; } lti_cat_arg;

static lt_tensor *lti_cat(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_cat_arg *a = arg;
    return lt_concat(g, a->n, in, a->axis);
}

static lt_status lti_cat3(lt_rng *rng, lt_gc_result *res) {
    lt_gc_pool p = {0};
    lt_tensor *in[3] = {lt_gc_pool_f32(&p, rng, 3, (int64_t[]){2, 3, 4}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 3, (int64_t[]){2, 1, 4}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 3, (int64_t[]){2, 2, 4}, -1, 1, 0)};
    in[1]->requires_grad = 0; /* a constant among differentiable inputs */
    lt_status st = lt_gradcheck(lti_cat, &(lti_cat_arg){3, 1}, 3, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

static lt_status lti_cat6(lt_rng *rng, lt_gc_result *res) {
    const int64_t rows[6] = {1, 2, 1, 3, 1, 2};
    lt_gc_pool p = {0};
    lt_tensor *in[6];
    for (int i = 0; i < 6; i++) in[i] = lt_gc_pool_f32(&p, rng, 2, (int64_t[]){rows[i], 3}, -1, 1, 0);
    in[0]->requires_grad = 0; /* the node must still see inputs 1..5 */
    lt_status st = lt_gradcheck(lti_cat, &(lti_cat_arg){6, 0}, 6, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

/* ---- embedding ---- */

static lt_tensor *lti_emb(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    return lt_embedding(g, in[0], in[1]);
}

static lt_status lti_emb_case(lt_rng *rng, lt_gc_result *res) {
    lt_gc_pool p = {0};
    lt_tensor *in[2] = {lt_gc_pool_f32(&p, rng, 2, (int64_t[]){7, 3}, -1, 1, 0),
                        lt_gc_pool_i64(&p, rng, 2, (int64_t[]){2, 5}, 7)};
    in[1]->idata[0] = in[1]->idata[9] = 4; /* at least one repeated index: its gradient must add */
    lt_status st = lt_gradcheck(lti_emb, NULL, 2, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

const lt_gc_case lti_gc_cases_shape[] = {
    {"reshape", "(2,3,4) -> (4,-1)", lti_rs_plain},
    {"reshape", "(3,2,4) -> (-1,4) · (4,3)", lti_rs_chain},
    {"reshape", "2·(3,2,4) twice -> (-1,4), (a + 0.5)·b · (4,3)", lti_rs_handover},
    {"permute", "(2,3,4,5) by (2,0,3,1)", lti_perm4},
    {"permute", "(3,4,5) by (2,0,1)", lti_perm3},
    {"permute", "transpose (2,3,5) dims 0,-1", lti_transp},
    {"slice", "(3,7,2) axis 1 [2,6)", lti_sl_mid},
    {"slice", "(3,7,2) axis -1 [1,2)", lti_sl_last},
    {"concat", "(2,3,4)+(2,1,4 const)+(2,2,4) axis 1", lti_cat3},
    {"concat", "six (r,3) along axis 0, first constant", lti_cat6},
    {"embedding", "table (7,3), indices (2,5) with repeats", lti_emb_case},
    {0},
};
