/* Backward releases each intermediate gradient once its op has run, and lti_grad reuses
 * released buffers: leaf gradients are unchanged, intermediates' ->grad is NULL after
 * backward, and a long chain's backward needs a few gradient buffers, not one per op. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "core/rng.h"
#include "ops/ops.h"

static void leaf_gradients_exact_intermediates_released(void **state) {
    (void)state;
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 0), LT_OK);
    lt_tensor *x = lt_graph_new(&g, LT_F32, 1, (int64_t[]){1000});
    lt_rng r;
    lt_rng_seed(&r, 1);
    lt_rng_fill_uniform(&r, x->data, 1000, -2, 2);
    x->requires_grad = 1;
    lt_tensor *y = lt_tanh(&g, x), *z = lt_exp(&g, y), *w = lt_mul_scalar(&g, z, 2.0f);
    assert_int_equal(lt_backward(&g, lt_sum(&g, w, LT_AXIS_ALL, 0)), LT_OK);
    assert_null(y->grad);
    assert_null(z->grad);
    assert_non_null(x->grad);
    for (int i = 0; i < 1000; i++) {
        double t = tanh(x->data[i]), want = 2 * exp(t) * (1 - t * t);
        assert_true(fabs(x->grad[i] - want) <= 1e-5 * (1 + fabs(want)));
    }
    lt_graph_free(&g);
}

static void a_long_chain_reuses_gradient_buffers(void **state) {
    (void)state;
    const int64_t n = 100000, ops = 20, buf = n * (int64_t)sizeof(float);
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 0), LT_OK);
    lt_tensor *x = lt_graph_zeros(&g, LT_F32, 1, (int64_t[]){n});
    x->requires_grad = 1;
    lt_tensor *h = x;
    for (int i = 0; i < ops; i++) h = lt_add_scalar(&g, h, 1.0f);
    lt_tensor *loss = lt_sum(&g, h, LT_AXIS_ALL, 0);
    size_t fwd = g.arena.used_total;
    assert_int_equal(lt_backward(&g, loss), LT_OK);
    /* x's gradient and two in flight; one per op without reuse */
    if (g.arena.used_total - fwd > (size_t)(4 * buf))
        fail_msg("backward took %zu bytes for a chain of %lld ops of %lld bytes", g.arena.used_total - fwd,
                 (long long)ops, (long long)buf);
    for (int64_t i = 0; i < n; i++) assert_true(x->grad[i] == 1.0f);
    lt_graph_reset(&g); /* the pool dies with the arena: a second step starts clean */
    assert_null(g.grad_pool);
    lt_graph_free(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leaf_gradients_exact_intermediates_released),
        cmocka_unit_test(a_long_chain_reuses_gradient_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
