/* Gradient-check cases for binary.c: equal shapes, row broadcast (N,D)·(D),
 * column broadcast, 0-dim scalars, broadcasting on both sides, an input used
 * twice, and random broadcast-compatible shape pairs drawn from the rng. */
#include "autograd/gradcheck.h"
#include "ops/ops.h"

typedef struct {
    lt_op op;
    int na;
    int64_t sa[4];
    int nb;
    int64_t sb[4];
    int same; /* b is a itself */
} lti_bin_case;

static lt_tensor *lti_bin_build(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_bin_case *c = arg;
    lt_tensor *a = in[0], *b = c->same ? in[0] : in[1];
    switch (c->op) {
    case LT_OP_ADD: return lt_add(g, a, b);
    case LT_OP_SUB: return lt_sub(g, a, b);
    case LT_OP_MUL: return lt_mul(g, a, b);
    default: return lt_div(g, a, b);
    }
}

static lt_status lti_bin_run(const lti_bin_case *c, lt_rng *rng, lt_gc_result *res) {
    lt_gc_pool p = {0};
    /* divisors stay in [0.5, 1.5] in magnitude so the quotient is smooth at the step size */
    float lo = c->op == LT_OP_DIV ? 0.5f : -1.0f, hi = c->op == LT_OP_DIV ? 1.5f : 1.0f;
    lt_tensor *in[2] = {lt_gc_pool_f32(&p, rng, c->na, c->sa, -1, 1, 0),
                        c->same ? NULL : lt_gc_pool_f32(&p, rng, c->nb, c->sb, lo, hi, 0)};
    if (c->op == LT_OP_DIV && !c->same) /* both signs of divisor */
        for (int64_t i = 0; i < lt_numel(in[1]); i += 2) in[1]->data[i] = -in[1]->data[i];
    lt_status st = lt_gradcheck(lti_bin_build, c, c->same ? 1 : 2, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

/* A random broadcast pair: out has 1..4 dims of 1..4; each input keeps a
 * random suffix of the dims and sets some of them to 1. */
static lt_status lti_bin_random(lt_op op, lt_rng *rng, lt_gc_result *res) {
    lti_bin_case c = {op, 0, {0}, 0, {0}, 0};
    int nd = 1 + (int)lt_rng_below(rng, 4);
    int64_t out[4];
    for (int d = 0; d < nd; d++) out[d] = 1 + (int64_t)lt_rng_below(rng, 4);
    c.na = nd - (int)lt_rng_below(rng, (uint64_t)nd + 1);
    c.nb = nd - (int)lt_rng_below(rng, (uint64_t)nd + 1);
    for (int d = 0; d < c.na; d++) c.sa[d] = lt_rng_below(rng, 3) ? out[nd - c.na + d] : 1;
    for (int d = 0; d < c.nb; d++) c.sb[d] = lt_rng_below(rng, 3) ? out[nd - c.nb + d] : 1;
    return lti_bin_run(&c, rng, res);
}

#define LTI_BIN(fn, ...)                                                      \
    static lt_status fn(lt_rng *r, lt_gc_result *s) {                         \
        static const lti_bin_case c = __VA_ARGS__;                            \
        return lti_bin_run(&c, r, s);                                         \
    }
LTI_BIN(add_same, {LT_OP_ADD, 2, {5, 7}, 2, {5, 7}, 0})
LTI_BIN(add_row, {LT_OP_ADD, 2, {6, 7}, 1, {7}, 0})
LTI_BIN(add_both, {LT_OP_ADD, 3, {3, 1, 5}, 2, {4, 5}, 0})
LTI_BIN(add_scalar0, {LT_OP_ADD, 0, {0}, 2, {4, 3}, 0})
LTI_BIN(add_4d, {LT_OP_ADD, 4, {2, 1, 3, 1}, 4, {1, 4, 1, 5}, 0})
LTI_BIN(sub_same, {LT_OP_SUB, 3, {2, 3, 4}, 3, {2, 3, 4}, 0})
LTI_BIN(sub_col, {LT_OP_SUB, 3, {2, 3, 4}, 2, {3, 1}, 0})
LTI_BIN(sub_rev, {LT_OP_SUB, 1, {5}, 3, {3, 2, 5}, 0})
LTI_BIN(mul_same, {LT_OP_MUL, 2, {5, 7}, 2, {5, 7}, 0})
LTI_BIN(mul_both, {LT_OP_MUL, 3, {3, 1, 5}, 2, {4, 5}, 0})
LTI_BIN(mul_col, {LT_OP_MUL, 2, {6, 7}, 2, {6, 1}, 0})
LTI_BIN(mul_scalar0, {LT_OP_MUL, 3, {2, 3, 3}, 0, {0}, 0})
LTI_BIN(mul_self, {LT_OP_MUL, 2, {3, 4}, 0, {0}, 1})
LTI_BIN(div_same, {LT_OP_DIV, 2, {4, 5}, 2, {4, 5}, 0})
LTI_BIN(div_row, {LT_OP_DIV, 2, {6, 7}, 1, {7}, 0})
LTI_BIN(div_both, {LT_OP_DIV, 3, {3, 1, 5}, 2, {4, 5}, 0})
LTI_BIN(div_mid, {LT_OP_DIV, 3, {2, 3, 4}, 3, {2, 1, 4}, 0})
#undef LTI_BIN

static lt_status add_rand(lt_rng *r, lt_gc_result *s) { return lti_bin_random(LT_OP_ADD, r, s); }
static lt_status sub_rand(lt_rng *r, lt_gc_result *s) { return lti_bin_random(LT_OP_SUB, r, s); }
static lt_status mul_rand(lt_rng *r, lt_gc_result *s) { return lti_bin_random(LT_OP_MUL, r, s); }
static lt_status div_rand(lt_rng *r, lt_gc_result *s) { return lti_bin_random(LT_OP_DIV, r, s); }

const lt_gc_case lti_gc_cases_binary[] = {
    {"add", "(5,7)+(5,7)", add_same},
    {"add", "row (6,7)+(7)", add_row},
    {"add", "broadcast (3,1,5)+(4,5)", add_both},
    {"add", "0-dim scalar + (4,3)", add_scalar0},
    {"add", "(2,1,3,1)+(1,4,1,5)", add_4d},
    {"add", "random broadcast shapes", add_rand},
    {"sub", "(2,3,4)-(2,3,4)", sub_same},
    {"sub", "(2,3,4)-(3,1)", sub_col},
    {"sub", "(5)-(3,2,5)", sub_rev},
    {"sub", "random broadcast shapes", sub_rand},
    {"mul", "(5,7)*(5,7)", mul_same},
    {"mul", "broadcast (3,1,5)*(4,5)", mul_both},
    {"mul", "column (6,7)*(6,1)", mul_col},
    {"mul", "(2,3,3)*0-dim scalar", mul_scalar0},
    {"mul", "x*x (same tensor twice)", mul_self},
    {"mul", "random broadcast shapes", mul_rand},
    {"div", "(4,5)/(4,5)", div_same},
    {"div", "row (6,7)/(7)", div_row},
    {"div", "broadcast (3,1,5)/(4,5)", div_both},
    {"div", "(2,3,4)/(2,1,4)", div_mid},
    {"div", "random broadcast shapes", div_rand},
    {0},
};
