/* Gradient-check cases for staircase.c: random row and column permutations, rows that keep
 * nothing and rows that keep everything, one block and several (>= 128 rows each). The
 * weights outside the staircase must get a zero gradient, which the differences confirm. */
#include "autograd/gradcheck.h"
#include "core/rng.h"
#include "ops/ops.h"

enum { SC_MAX_O = 260, SC_MAX_I = 7 };

static lt_tensor *lti_sc_build(lt_graph *g, lt_tensor *const *in, const void *arg) {
    return lt_staircase_linear(g, in[0], in[1], arg, in[2]);
}

/* x (5,I), w (O,I), bias (O); len nondecreasing from 0 to I, as MADE's sorted units give. */
static lt_status lti_sc_case(lt_rng *rng, lt_gc_result *res, int64_t O, int64_t I) {
    static int64_t rows[SC_MAX_O], cols[SC_MAX_I], len[SC_MAX_O];
    lt_rng_permutation(rng, rows, O);
    lt_rng_permutation(rng, cols, I);
    for (int64_t i = 0; i < O; i++) len[i] = i == 0 ? 0 : (i == O - 1 ? I : (i * (I + 1)) / O);
    lt_staircase s = {O, I, rows, cols, len};
    lt_gc_pool p = {0};
    lt_tensor *in[3] = {lt_gc_pool_f32(&p, rng, 2, (int64_t[]){5, I}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 2, (int64_t[]){O, I}, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 1, (int64_t[]){O}, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_sc_build, &s, 3, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

static lt_status lti_sc_one(lt_rng *r, lt_gc_result *s) { return lti_sc_case(r, s, 6, SC_MAX_I); }
static lt_status lti_sc_blocks(lt_rng *r, lt_gc_result *s) { return lti_sc_case(r, s, SC_MAX_O, 5); }

const lt_gc_case lti_gc_cases_staircase[] = {
    {"staircase_linear", "(5,7)·((6,7)⊙staircase)ᵀ+(6), one block", lti_sc_one},
    {"staircase_linear", "(5,5)·((260,5)⊙staircase)ᵀ+(260), two blocks", lti_sc_blocks},
    {0},
};
