/* The cmocka fixture of the nn-module tests (test_nn.c, test_vq.c): a parameter block P,
 * a buffer block Bf, the lt_nn over both, a graph G and an rng R seeded with
 * NN_FIXTURE_SEED (define it before including). Header only, like test_util.h: each test
 * file is its own executable. Include after <cmocka.h>. */
#ifndef LT_NN_FIXTURE_H
#define LT_NN_FIXTURE_H

#include "autograd/backward.h"
#include "nn/nn.h"
#include "ops/ops.h"

static lt_params P, Bf;
static lt_nn NN = {&P, &Bf};
static lt_graph G;
static lt_rng R;

static int setup(void **state) {
    (void)state;
    lt_params_init(&P);
    lt_params_init(&Bf);
    lt_rng_seed(&R, NN_FIXTURE_SEED);
    return lt_graph_init(&G, 0) ? -1 : 0;
}
static int teardown(void **state) {
    (void)state;
    lt_params_free(&P);
    lt_params_free(&Bf);
    lt_graph_free(&G);
    return 0;
}
static void finalize(void) {
    assert_int_equal(lt_params_finalize(&P), LT_OK);
    assert_int_equal(lt_params_finalize(&Bf), LT_OK);
}

#endif
