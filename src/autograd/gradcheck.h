/* Finite-difference gradient checking.
 *
 * For an op y = f(x1..xk) and fixed random weights r, the check compares the
 * analytic gradient of L = Σ r·y (one backward pass seeded with r) against
 * central differences (L(x+h) - L(x-h)) / (x+h - x-h) for every input element,
 * with L summed in double. An element passes when
 *     |num - ana| <= atol + rtol · max(|num|, |ana|)
 * Defaults (float32 kernels): h = 5e-3, atol = 2e-3, rtol = 2e-2.
 * Inputs are caller-owned leaf tensors with data and grad buffers. */
#ifndef LT_GRADCHECK_H
#define LT_GRADCHECK_H

#include "core/graph.h"
#include "core/rng.h"

typedef lt_tensor *(*lt_gc_build)(lt_graph *g, lt_tensor *const *in, const void *arg);

typedef struct lt_gc_opts {
    double eps, atol, rtol;
} lt_gc_opts;

typedef struct lt_gc_result {
    double max_abs_err;     /* over all checked elements */
    double max_rel_err;
    int64_t n_checked, n_failed;
    char worst[160];        /* where the largest violation was */
} lt_gc_result;

/* Checks the inputs with requires_grad set. opts NULL = defaults. Returns LT_OK
 * when the check ran (see res->n_failed), an error if building the op failed. */
lt_status lt_gradcheck(lt_gc_build build, const void *arg, int nin, lt_tensor *const *in,
                       const lt_gc_opts *opts, lt_rng *rng, lt_gc_result *res);

/* Leaf tensors for cases: a pool that owns their data and grad (heap). */
typedef struct lt_gc_pool {
    lt_tensor t[8];
    int n;
} lt_gc_pool;
/* Values uniform in [lo,hi]; when `away` > 0, values within `away` of zero are
 * pushed out (for kinks at 0: relu, abs, ...). requires_grad = 1. */
lt_tensor *lt_gc_pool_f32(lt_gc_pool *p, lt_rng *rng, int ndim, const int64_t *shape, float lo, float hi, float away);
/* An int64 tensor with values uniform in [0, hi). */
lt_tensor *lt_gc_pool_i64(lt_gc_pool *p, lt_rng *rng, int ndim, const int64_t *shape, int64_t hi);
void lt_gc_pool_free(lt_gc_pool *p);

/* A named case for one op; `run` builds inputs and calls lt_gradcheck. */
typedef struct lt_gc_case {
    const char *op;         /* the op's table name: every op needs >= 1 case */
    const char *what;       /* e.g. "broadcast (3,1,5)+(4,5)" */
    lt_status (*run)(lt_rng *rng, lt_gc_result *res);
} lt_gc_case;

/* All registered cases (autograd/cases.c). */
const lt_gc_case *const *lt_gc_cases(int64_t *n);

#endif
