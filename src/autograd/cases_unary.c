/* Gradient-check cases for unary.c. Inputs stay clear of kinks (relu, abs,
 * leaky_relu at 0; clamp at its bounds) by more than the step size, and
 * log/sqrt/pow get positive inputs. */
#include <math.h>

#include "autograd/gradcheck.h"
#include "ops/ops.h"

typedef struct {
    lt_op op;
    float p, q;    /* the op's constants */
    float lo, hi;  /* input range */
    float away;    /* distance kept from 0 */
    int nd;
    int64_t shape[4];
} lti_un_case;

static lt_tensor *lti_un_build(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_un_case *c = arg;
    lt_tensor *x = in[0];
    switch (c->op) {
    case LT_OP_ADD_SCALAR: return lt_add_scalar(g, x, c->p);
    case LT_OP_MUL_SCALAR: return lt_mul_scalar(g, x, c->p);
    case LT_OP_NEG: return lt_neg(g, x);
    case LT_OP_EXP: return lt_exp(g, x);
    case LT_OP_LOG: return lt_log(g, x);
    case LT_OP_LOG1P: return lt_log1p(g, x);
    case LT_OP_SQRT: return lt_sqrt(g, x);
    case LT_OP_POW: return lt_pow(g, x, c->p);
    case LT_OP_ABS: return lt_abs(g, x);
    case LT_OP_CLAMP: return lt_clamp(g, x, c->p, c->q);
    case LT_OP_SIGMOID: return lt_sigmoid(g, x);
    case LT_OP_TANH: return lt_tanh(g, x);
    case LT_OP_RELU: return lt_relu(g, x);
    case LT_OP_LEAKY_RELU: return lt_leaky_relu(g, x, c->p);
    case LT_OP_SOFTPLUS: return lt_softplus(g, x);
    case LT_OP_SILU: return lt_silu(g, x);
    default: return lt_gelu(g, x);
    }
}

static lt_status lti_un_run(const lti_un_case *c, lt_rng *rng, lt_gc_result *res) {
    lt_gc_pool p = {0};
    lt_tensor *in[1] = {lt_gc_pool_f32(&p, rng, c->nd, c->shape, c->lo, c->hi, c->away)};
    if (!in[0]) return LT_ERR_NOMEM;
    if (c->op == LT_OP_CLAMP) /* keep 0.05 from either bound */
        for (int64_t i = 0; i < lt_numel(in[0]); i++) {
            float *v = &in[0]->data[i];
            if (fabsf(*v - c->p) < 0.05f) *v = c->p + (*v < c->p ? -0.05f : 0.05f);
            if (fabsf(*v - c->q) < 0.05f) *v = c->q + (*v < c->q ? -0.05f : 0.05f);
        }
    lt_status st = lt_gradcheck(lti_un_build, c, 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

#define LTI_UN(fn, ...)                                                       \
    static lt_status fn(lt_rng *r, lt_gc_result *s) {                         \
        static const lti_un_case c = __VA_ARGS__;                             \
        return lti_un_run(&c, r, s);                                          \
    }
LTI_UN(add_scalar, {LT_OP_ADD_SCALAR, 0.7f, 0, -1, 1, 0, 2, {3, 5}})
LTI_UN(mul_scalar, {LT_OP_MUL_SCALAR, -1.3f, 0, -1, 1, 0, 3, {2, 3, 4}})
LTI_UN(neg, {LT_OP_NEG, 0, 0, -1, 1, 0, 1, {7}})
LTI_UN(exp_, {LT_OP_EXP, 0, 0, -2, 2, 0, 2, {3, 5}})
LTI_UN(log_, {LT_OP_LOG, 0, 0, 0.3f, 3, 0, 2, {4, 3}})
LTI_UN(log1p_, {LT_OP_LOG1P, 0, 0, -0.6f, 2, 0, 2, {4, 3}})
LTI_UN(sqrt_, {LT_OP_SQRT, 0, 0, 0.3f, 3, 0, 2, {3, 5}})
LTI_UN(pow_frac, {LT_OP_POW, 2.5f, 0, 0.3f, 2, 0, 2, {3, 5}})
LTI_UN(pow_neg, {LT_OP_POW, -1.5f, 0, 0.5f, 2, 0, 2, {3, 4}})
LTI_UN(pow_int, {LT_OP_POW, 3.0f, 0, -1.5f, 1.5f, 0, 2, {3, 4}})
LTI_UN(abs_, {LT_OP_ABS, 0, 0, -1, 1, 0.05f, 2, {5, 3}})
LTI_UN(clamp_, {LT_OP_CLAMP, -0.4f, 0.6f, -1, 1, 0, 2, {5, 4}})
LTI_UN(sigmoid_, {LT_OP_SIGMOID, 0, 0, -4, 4, 0, 3, {2, 3, 5}})
LTI_UN(tanh_, {LT_OP_TANH, 0, 0, -2, 2, 0, 2, {3, 5}})
LTI_UN(relu_, {LT_OP_RELU, 0, 0, -1, 1, 0.05f, 3, {2, 3, 5}})
LTI_UN(leaky_relu_, {LT_OP_LEAKY_RELU, 0.1f, 0, -1, 1, 0.05f, 2, {4, 5}})
LTI_UN(softplus_, {LT_OP_SOFTPLUS, 0, 0, -5, 5, 0, 2, {3, 7}})
LTI_UN(gelu_, {LT_OP_GELU, 0, 0, -3, 3, 0, 2, {3, 7}})
LTI_UN(silu_, {LT_OP_SILU, 0, 0, -4, 4, 0, 3, {2, 3, 7}})
#undef LTI_UN

const lt_gc_case lti_gc_cases_unary[] = {
    {"add_scalar", "(3,5)+0.7", add_scalar},
    {"mul_scalar", "(2,3,4)*-1.3", mul_scalar},
    {"neg", "(7)", neg},
    {"exp", "(3,5) in [-2,2]", exp_},
    {"log", "(4,3) in [0.3,3]", log_},
    {"log1p", "(4,3) in [-0.6,2]", log1p_},
    {"sqrt", "(3,5) in [0.3,3]", sqrt_},
    {"pow", "(3,5)^2.5", pow_frac},
    {"pow", "(3,4)^-1.5", pow_neg},
    {"pow", "(3,4)^3 with negative base", pow_int},
    {"abs", "(5,3) away from 0", abs_},
    {"clamp", "(5,4) to [-0.4,0.6]", clamp_},
    {"sigmoid", "(2,3,5) in [-4,4]", sigmoid_},
    {"tanh", "(3,5)", tanh_},
    {"relu", "(2,3,5) away from 0", relu_},
    {"leaky_relu", "(4,5) slope 0.1", leaky_relu_},
    {"softplus", "(3,7) in [-5,5]", softplus_},
    {"gelu", "(3,7) in [-3,3]", gelu_},
    {"silu", "(2,3,7) in [-4,4]", silu_},
    {0},
};
