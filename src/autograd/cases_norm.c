/* Gradient-check cases for norm.c: group norm (groups > 1, with and without affine,
 * batch > 1, spatial dims), layer norm, batch norm (batch statistics with and without
 * affine, given statistics), the fused batch_norm_relu (with and without the residual;
 * inputs placed so that no pre-activation is near relu's kink), the fused group_norm_silu,
 * dropout with a fixed mask. Planes of 20 values take the 16-lane kernels and their tails. */
#include "autograd/gradcheck.h"
#include "core/rng.h"
#include "ops/ops.h"

typedef struct { int groups, affine, silu; } lti_norm_arg; /* groups 0: layer norm */

static lt_tensor *lti_norm_build(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_norm_arg *a = arg;
    lt_tensor *ga = a->affine ? in[1] : NULL, *be = a->affine ? in[2] : NULL;
    if (a->silu) return lt_group_norm_silu(g, in[0], a->groups, ga, be, 1e-5f);
    return a->groups ? lt_group_norm(g, in[0], a->groups, ga, be, 1e-5f) : lt_layer_norm(g, in[0], ga, be, 1e-5f);
}

static lt_status lti_norm_case(lt_rng *rng, lt_gc_result *res, lti_norm_arg a, int ndim, const int64_t *shape) {
    lt_gc_pool p = {0};
    int64_t C = a.groups ? shape[1] : shape[ndim - 1];
    lt_tensor *in[3] = {lt_gc_pool_f32(&p, rng, ndim, shape, -2, 2, 0), lt_gc_pool_f32(&p, rng, 1, &C, 0.5f, 1.5f, 0),
                        lt_gc_pool_f32(&p, rng, 1, &C, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_norm_build, &a, a.affine ? 3 : 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

static lt_status lti_gn_affine(lt_rng *r, lt_gc_result *s) {
    return lti_norm_case(r, s, (lti_norm_arg){3, 1, 0}, 4, (int64_t[]){2, 6, 3, 2});
}
static lt_status lti_gn_plain(lt_rng *r, lt_gc_result *s) {
    return lti_norm_case(r, s, (lti_norm_arg){2, 0, 0}, 3, (int64_t[]){3, 4, 5});
}
static lt_status lti_gn_one(lt_rng *r, lt_gc_result *s) {
    return lti_norm_case(r, s, (lti_norm_arg){1, 1, 0}, 4, (int64_t[]){2, 3, 2, 3});
}
static lt_status lti_gn_wide(lt_rng *r, lt_gc_result *s) {
    return lti_norm_case(r, s, (lti_norm_arg){2, 1, 0}, 4, (int64_t[]){2, 4, 4, 5});
}
static lt_status lti_gns_affine(lt_rng *r, lt_gc_result *s) {
    return lti_norm_case(r, s, (lti_norm_arg){2, 1, 1}, 4, (int64_t[]){2, 4, 4, 5});
}
static lt_status lti_gns_plain(lt_rng *r, lt_gc_result *s) {
    return lti_norm_case(r, s, (lti_norm_arg){3, 0, 1}, 3, (int64_t[]){2, 6, 3});
}
static lt_status lti_ln_affine(lt_rng *r, lt_gc_result *s) {
    return lti_norm_case(r, s, (lti_norm_arg){0, 1, 0}, 2, (int64_t[]){4, 7});
}
static lt_status lti_ln_plain(lt_rng *r, lt_gc_result *s) {
    return lti_norm_case(r, s, (lti_norm_arg){0, 0, 0}, 3, (int64_t[]){2, 3, 5});
}

/* Batch norm: in[3], in[4] (when eval) are the given mean and var, constants. */
typedef struct { int affine, eval; } lti_bn_arg;

static lt_tensor *lti_bn_build(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_bn_arg *a = arg;
    return lt_batch_norm(g, in[0], a->eval ? in[3] : NULL, a->eval ? in[4] : NULL, a->affine ? in[1] : NULL,
                         a->affine ? in[2] : NULL, 1e-5f, NULL);
}

static lt_status lti_bn_case(lt_rng *rng, lt_gc_result *res, lti_bn_arg a, int ndim, const int64_t *shape) {
    lt_gc_pool p = {0};
    int64_t C = shape[1];
    lt_tensor *in[5] = {lt_gc_pool_f32(&p, rng, ndim, shape, -2, 2, 0), lt_gc_pool_f32(&p, rng, 1, &C, 0.5f, 1.5f, 0),
                        lt_gc_pool_f32(&p, rng, 1, &C, -1, 1, 0), lt_gc_pool_f32(&p, rng, 1, &C, -0.5f, 0.5f, 0),
                        lt_gc_pool_f32(&p, rng, 1, &C, 0.5f, 2, 0)};
    in[3]->requires_grad = in[4]->requires_grad = 0;
    lt_status st = lt_gradcheck(lti_bn_build, &a, 5, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

static lt_status lti_bn_affine(lt_rng *r, lt_gc_result *s) {
    return lti_bn_case(r, s, (lti_bn_arg){1, 0}, 4, (int64_t[]){3, 4, 3, 2});
}
static lt_status lti_bn_plain(lt_rng *r, lt_gc_result *s) {
    return lti_bn_case(r, s, (lti_bn_arg){0, 0}, 2, (int64_t[]){6, 3});
}
static lt_status lti_bn_wide(lt_rng *r, lt_gc_result *s) {
    return lti_bn_case(r, s, (lti_bn_arg){1, 0}, 4, (int64_t[]){2, 3, 4, 5});
}
static lt_status lti_bn_eval(lt_rng *r, lt_gc_result *s) {
    return lti_bn_case(r, s, (lti_bn_arg){1, 1}, 3, (int64_t[]){2, 3, 4});
}

/* batch_norm_relu: in x, gamma, beta, res, [mean, var]. The pre-activations z = bn(x) [+ res]
 * are kept at least 0.25 from relu's kink, where a central difference would straddle it: with
 * the residual, res is set so that z = ±(0.3..1.3) − and stays there under a step of x; without
 * it, beta_c centres the widest gap between channel c's values of bn(x) on 0. */
/* inner: x and res are intermediates (x + 0), whose gradients the op writes instead of adding to */
typedef struct { int res, eval, inner; } lti_bnr_arg;

static lt_tensor *lti_bnr_build(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_bnr_arg *a = arg;
    lt_tensor *x = a->inner ? lt_add_scalar(g, in[0], 0.0f) : in[0], *r = a->inner ? lt_add_scalar(g, in[3], 0.0f) : in[3];
    return lt_batch_norm_relu(g, x, a->eval ? in[4] : NULL, a->eval ? in[5] : NULL, in[1], in[2], 1e-5f, NULL,
                              a->res ? r : NULL);
}

static lt_status lti_bnr_case(lt_rng *rng, lt_gc_result *res, lti_bnr_arg a, int ndim, const int64_t *shape) {
    lt_gc_pool p = {0};
    const int64_t C = shape[1];
    lt_tensor *in[6] = {lt_gc_pool_f32(&p, rng, ndim, shape, -2, 2, 0), lt_gc_pool_f32(&p, rng, 1, &C, 0.5f, 1.5f, 0),
                        lt_gc_pool_f32(&p, rng, 1, &C, -1, 1, 0), lt_gc_pool_f32(&p, rng, ndim, shape, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 1, &C, -0.5f, 0.5f, 0), lt_gc_pool_f32(&p, rng, 1, &C, 0.5f, 2, 0)};
    in[4]->requires_grad = in[5]->requires_grad = 0;
    const int64_t n = lt_numel(in[0]), S = n / (shape[0] * C);
    lt_graph g;
    lt_status st = lt_graph_init(&g, 0);
    if (st) goto done;
    lt_graph_set_grad(&g, 0);
    float *sign = lt_graph_alloc(&g, sizeof(float) * (size_t)n);
    lt_tensor *z = lt_batch_norm(&g, in[0], a.eval ? in[4] : NULL, a.eval ? in[5] : NULL, in[1], a.res ? in[2] : NULL,
                                 1e-5f, NULL); /* without the residual: bn(x) − beta */
    if ((st = lt_graph_status(&g)) || !sign) {
        st = st ? st : LT_ERR_NOMEM;
        lt_graph_free(&g);
        goto done;
    }
    lt_rng_fill_uniform(rng, sign, n, 0, 1);
    if (a.res) {
        for (int64_t i = 0; i < n; i++) in[3]->data[i] = (sign[i] < 0.5f ? -1.0f : 1.0f) * (0.3f + sign[i]) - z->data[i];
    } else {
        for (int64_t c = 0; c < C; c++) { /* the widest gap between the sorted values of channel c */
            float lo = -3, best = -1, mid = 0;
            for (;;) {
                float next = 3; /* the least value above lo */
                for (int64_t i = 0; i < n; i++)
                    if ((i / S) % C == c && z->data[i] > lo && z->data[i] < next) next = z->data[i];
                if (next - lo > best) { best = next - lo; mid = 0.5f * (lo + next); }
                if (next >= 3) break;
                lo = next;
            }
            in[2]->data[c] = -mid;
        }
    }
    lt_graph_free(&g);
    st = lt_gradcheck(lti_bnr_build, &a, 6, in, NULL, rng, res);
done:
    lt_gc_pool_free(&p);
    return st;
}

static lt_status lti_bnr_res(lt_rng *r, lt_gc_result *s) {
    return lti_bnr_case(r, s, (lti_bnr_arg){1, 0, 0}, 4, (int64_t[]){3, 4, 3, 2});
}
static lt_status lti_bnr_plain(lt_rng *r, lt_gc_result *s) {
    return lti_bnr_case(r, s, (lti_bnr_arg){0, 0, 0}, 3, (int64_t[]){5, 3, 2});
}
static lt_status lti_bnr_inner(lt_rng *r, lt_gc_result *s) {
    return lti_bnr_case(r, s, (lti_bnr_arg){1, 0, 1}, 4, (int64_t[]){3, 4, 3, 2});
}
static lt_status lti_bnr_eval(lt_rng *r, lt_gc_result *s) {
    return lti_bnr_case(r, s, (lti_bnr_arg){1, 1, 0}, 3, (int64_t[]){2, 3, 4});
}

/* Dropout draws its mask from g->rng; every build reseeds a fresh rng the same way,
 * so the analytic and all numeric evaluations see one mask. */
static lt_tensor *lti_dropout_build(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    lt_rng r;
    lt_rng_seed(&r, 1234);
    lt_rng *old = g->rng;
    int was = g->training;
    g->rng = &r;
    g->training = 1;
    lt_tensor *y = lt_dropout(g, in[0], 0.3f);
    g->rng = old;
    g->training = was;
    return y;
}

static lt_status lti_dropout_case(lt_rng *rng, lt_gc_result *res) {
    lt_gc_pool p = {0};
    lt_tensor *in[1] = {lt_gc_pool_f32(&p, rng, 2, (int64_t[]){5, 8}, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_dropout_build, NULL, 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

const lt_gc_case lti_gc_cases_norm[] = {
    {"group_norm", "(2,6,3,2) 3 groups, gamma+beta", lti_gn_affine},
    {"group_norm", "(3,4,5) 2 groups, no affine", lti_gn_plain},
    {"group_norm", "(2,3,2,3) 1 group, gamma+beta", lti_gn_one},
    {"group_norm", "(2,4,4,5) 2 groups, gamma+beta, planes of 20", lti_gn_wide},
    {"group_norm_silu", "(2,4,4,5) 2 groups, gamma+beta, planes of 20", lti_gns_affine},
    {"group_norm_silu", "(2,6,3) 3 groups, no affine", lti_gns_plain},
    {"layer_norm", "(4,7) gamma+beta", lti_ln_affine},
    {"layer_norm", "(2,3,5) no affine", lti_ln_plain},
    {"batch_norm", "(3,4,3,2) batch statistics, gamma+beta", lti_bn_affine},
    {"batch_norm", "(6,3) batch statistics, no affine", lti_bn_plain},
    {"batch_norm", "(2,3,4) given mean and var, gamma+beta", lti_bn_eval},
    {"batch_norm", "(2,3,4,5) batch statistics, gamma+beta, planes of 20", lti_bn_wide},
    {"batch_norm_relu", "(3,4,3,2) batch statistics, gamma+beta, residual", lti_bnr_res},
    {"batch_norm_relu", "(5,3,2) batch statistics, gamma+beta", lti_bnr_plain},
    {"batch_norm_relu", "(3,4,3,2) as the first, of intermediates: dx, dres written", lti_bnr_inner},
    {"batch_norm_relu", "(2,3,4) given mean and var, residual", lti_bnr_eval},
    {"dropout", "(5,8) p 0.3, fixed mask", lti_dropout_case},
    {0},
};
