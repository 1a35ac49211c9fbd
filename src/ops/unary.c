/* Elementwise unary ops. Each op is two lines of math below: its value y = f(x)
 * and its derivative dy/dx given x and y (farg holds the op's constants). One
 * loop serves them all; it is instantiated per op (the op is a compile-time
 * constant inside the always-inline body), so relu, sigmoid etc. each get their
 * own vectorized loop without anyone writing it twice. */
#include <math.h>

#include "ops/fastmath.h"
#include "ops/internal.h"

#define LTI_INLINE static inline __attribute__((always_inline))
#define LTI_PAR_MIN 32768
#define LTI_BLOCK 8192 /* elements per parallel work item */

#define LTI_GELU_C 0.7978845608028654f /* sqrt(2/pi) */
#define LTI_GELU_K 0.044715f

/* y = f(x); p, q: the op's constants */
LTI_INLINE float lti_un_f(lt_op op, float x, float p, float q) {
    switch (op) {
    case LT_OP_ADD_SCALAR: return x + p;
    case LT_OP_MUL_SCALAR: return x * p;
    case LT_OP_NEG: return -x;
    case LT_OP_EXP: return lti_expf(x);
    case LT_OP_LOG: return logf(x);
    case LT_OP_LOG1P: return log1pf(x);
    case LT_OP_SQRT: return sqrtf(x);
    case LT_OP_POW: return powf(x, p);
    case LT_OP_ABS: return fabsf(x);
    case LT_OP_CLAMP: return x < p ? p : (x > q ? q : x); /* NaN stays NaN */
    case LT_OP_SIGMOID: return lti_sigmoidf(x);
    case LT_OP_TANH: return tanhf(x);
    case LT_OP_RELU: return x > 0.0f ? x : 0.0f;
    case LT_OP_LEAKY_RELU: return x > 0.0f ? x : p * x;
    case LT_OP_SOFTPLUS: return (x > 0.0f ? x : 0.0f) + lti_log1p_exp_neg_abs(x);
    case LT_OP_SILU: return x * lti_sigmoidf(x);
    default: /* LT_OP_GELU: 0.5·x·(1 + tanh(u)) = x·sigmoid(2u), which vectorizes (tanhf does not) */
        return x * lti_sigmoidf(2.0f * LTI_GELU_C * (x + LTI_GELU_K * x * x * x));
    }
}

/* dy/dx given x and y = f(x) */
LTI_INLINE float lti_un_df(lt_op op, float x, float y, float p, float q) {
    switch (op) {
    case LT_OP_ADD_SCALAR: return 1.0f;
    case LT_OP_MUL_SCALAR: return p;
    case LT_OP_NEG: return -1.0f;
    case LT_OP_EXP: return y;
    case LT_OP_LOG: return 1.0f / x;
    case LT_OP_LOG1P: return 1.0f / (1.0f + x);
    case LT_OP_SQRT: return 0.5f / y;
    case LT_OP_POW: return p * powf(x, p - 1.0f);
    case LT_OP_ABS: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
    case LT_OP_CLAMP: return x >= p && x <= q ? 1.0f : 0.0f;
    case LT_OP_SIGMOID: return y * (1.0f - y);
    case LT_OP_TANH: return 1.0f - y * y;
    case LT_OP_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case LT_OP_LEAKY_RELU: return x > 0.0f ? 1.0f : p;
    case LT_OP_SOFTPLUS: return lti_sigmoidf(x);
    case LT_OP_SILU: { /* s + x·s(1−s) */
        float s = lti_sigmoidf(x);
        return s * (1.0f + x * (1.0f - s));
    }
    default: { /* LT_OP_GELU: s = sigmoid(2u), d/dx x·s = s + x·s·(1 - s)·2u' */
        float s = lti_sigmoidf(2.0f * LTI_GELU_C * (x + LTI_GELU_K * x * x * x));
        return s + x * s * (1.0f - s) * 2.0f * LTI_GELU_C * (1.0f + 3.0f * LTI_GELU_K * x * x);
    }
    }
}

/* Elements [i0,i1): y = f(x); or, when dy is given, dx += dy · f'(x). Inlined
 * with a constant op, so each op's loop is its own vectorized code. */
LTI_INLINE void lti_un_range(lt_op op, int64_t i0, int64_t i1, const float *x, float *y, const float *dy, float *dx,
                             float p, float q) {
    if (!dy)
        for (int64_t i = i0; i < i1; i++) y[i] = lti_un_f(op, x[i], p, q);
    else
        for (int64_t i = i0; i < i1; i++) dx[i] += dy[i] * lti_un_df(op, x[i], y[i], p, q);
}

/* Threads take blocks; the op is dispatched per block (OpenMP outlines the
 * parallel body, which would hide a constant op from the vectorizer). */
static void lti_un_run(lt_op op, int64_t n, const float *x, float *y, const float *dy, float *dx, float p, float q) {
    int64_t nb = (n + LTI_BLOCK - 1) / LTI_BLOCK;
    #pragma omp parallel for schedule(static) if (n > LTI_PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * LTI_BLOCK, i1 = i0 + LTI_BLOCK < n ? i0 + LTI_BLOCK : n;
        switch (op) {
#define LTI_CASE(o) case o: lti_un_range(o, i0, i1, x, y, dy, dx, p, q); break
        LTI_CASE(LT_OP_ADD_SCALAR); LTI_CASE(LT_OP_MUL_SCALAR); LTI_CASE(LT_OP_NEG); LTI_CASE(LT_OP_EXP);
        LTI_CASE(LT_OP_LOG); LTI_CASE(LT_OP_LOG1P); LTI_CASE(LT_OP_SQRT); LTI_CASE(LT_OP_POW);
        LTI_CASE(LT_OP_ABS); LTI_CASE(LT_OP_CLAMP); LTI_CASE(LT_OP_SIGMOID); LTI_CASE(LT_OP_TANH);
        LTI_CASE(LT_OP_RELU); LTI_CASE(LT_OP_LEAKY_RELU); LTI_CASE(LT_OP_SOFTPLUS); LTI_CASE(LT_OP_GELU);
        LTI_CASE(LT_OP_SILU);
#undef LTI_CASE
        default: break;
        }
    }
}

static lt_tensor *lti_unary(lt_graph *g, lt_op op, const char *name, lt_tensor *a, float p, float q) {
    if (!lti_check_f32(g, name, a)) return NULL;
    lt_tensor *y = lti_like(g, a); /* a's shape */
    if (!y) return NULL;
    lti_un_run(op, lt_numel(a), a->data, y->data, NULL, NULL, p, q);
    lti_node *n = lti_graph_record(g, op, y, 1, &a);
    if (n) {
        n->farg[0] = p;
        n->farg[1] = q;
    }
    return y;
}

static void lti_unary_backward(lt_graph *g, lti_node *n) {
    lt_tensor *a = n->in[0], *y = n->out;
    if (!a->requires_grad) return;
    float *da = lti_grad(g, a);
    if (!da) return;
    lti_un_run((lt_op)n->op, lt_numel(a), a->data, y->data, y->grad, da, n->farg[0], n->farg[1]);
}

lt_tensor *lt_add_scalar(lt_graph *g, lt_tensor *a, float s) { return lti_unary(g, LT_OP_ADD_SCALAR, "add_scalar", a, s, 0); }
lt_tensor *lt_mul_scalar(lt_graph *g, lt_tensor *a, float s) { return lti_unary(g, LT_OP_MUL_SCALAR, "mul_scalar", a, s, 0); }
lt_tensor *lt_neg(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_NEG, "neg", a, 0, 0); }
lt_tensor *lt_exp(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_EXP, "exp", a, 0, 0); }
lt_tensor *lt_log(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_LOG, "log", a, 0, 0); }
lt_tensor *lt_log1p(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_LOG1P, "log1p", a, 0, 0); }
lt_tensor *lt_sqrt(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_SQRT, "sqrt", a, 0, 0); }
lt_tensor *lt_pow(lt_graph *g, lt_tensor *a, float p) { return lti_unary(g, LT_OP_POW, "pow", a, p, 0); }
lt_tensor *lt_abs(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_ABS, "abs", a, 0, 0); }
lt_tensor *lt_sigmoid(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_SIGMOID, "sigmoid", a, 0, 0); }
lt_tensor *lt_tanh(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_TANH, "tanh", a, 0, 0); }
lt_tensor *lt_relu(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_RELU, "relu", a, 0, 0); }
lt_tensor *lt_leaky_relu(lt_graph *g, lt_tensor *a, float slope) {
    return lti_unary(g, LT_OP_LEAKY_RELU, "leaky_relu", a, slope, 0);
}
lt_tensor *lt_softplus(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_SOFTPLUS, "softplus", a, 0, 0); }
lt_tensor *lt_gelu(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_GELU, "gelu", a, 0, 0); }
lt_tensor *lt_silu(lt_graph *g, lt_tensor *a) { return lti_unary(g, LT_OP_SILU, "silu", a, 0, 0); }
lt_tensor *lt_clamp(lt_graph *g, lt_tensor *a, float lo, float hi) {
    if (g && !g->status && lo > hi) {
        lti_graph_fail(g, LT_ERR_ARG, "clamp: lower bound %g is above upper bound %g", lo, hi);
        return NULL;
    }
    return lti_unary(g, LT_OP_CLAMP, "clamp", a, lo, hi);
}

void lti_add_scalar_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_mul_scalar_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_neg_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_exp_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_log_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_log1p_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_sqrt_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_pow_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_abs_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_clamp_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_sigmoid_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_tanh_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_relu_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_leaky_relu_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_softplus_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_gelu_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
void lti_silu_backward(lt_graph *g, lti_node *n) { lti_unary_backward(g, n); }
