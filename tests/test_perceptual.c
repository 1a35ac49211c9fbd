/* The perceptual distance (nn/perceptual.c): 0 for identical images, positive and growing
 * with a perturbation, finite-difference gradients with respect to both images (and to the
 * taps directly), and no gradient into a frozen encoder's parameters. The encoder here is a
 * small stand-in conv stack (smooth activations, so finite differences see no kinks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#define NN_FIXTURE_SEED 23
#include "nn_fixture.h"
#include "autograd/gradcheck.h"
#include "nn/perceptual.h"

typedef struct standin {
    lt_nn_conv2d c1, c2;
} standin;

static standin S;

/* frozen: its parameters require no gradient */
static void standin_make(void) {
    assert_int_equal(lt_nn_conv2d_declare(&S.c1, &NN, "c1", 3, 8, 3, 1, 1, 1), LT_OK);
    assert_int_equal(lt_nn_conv2d_declare(&S.c2, &NN, "c2", 8, 16, 3, 2, 1, 1), LT_OK);
    finalize();
    lt_nn_conv2d_reset(&S.c1, &R);
    lt_nn_conv2d_reset(&S.c2, &R);
    for (int64_t i = 0; i < P.n; i++) P.items[i]->t.requires_grad = 0;
}

static int standin_taps(lt_graph *g, lt_tensor *x, lt_tensor **taps) {
    taps[0] = lt_tanh(g, lt_nn_conv2d_forward(g, &S.c1, x));
    taps[1] = lt_tanh(g, lt_nn_conv2d_forward(g, &S.c2, taps[0]));
    return 2;
}

/* d(x, y) through the stand-in, ×100 so the gradients are O(1) against gradcheck's atol */
static lt_tensor *dist_images(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    lt_tensor *tx[2], *ty[2];
    standin_taps(g, in[0], tx);
    standin_taps(g, in[1], ty);
    return lt_mul_scalar(g, lt_nn_perceptual_taps(g, 2, tx, ty), 100.0f);
}

static lt_tensor *dist_taps(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    lt_tensor *fx[2] = {in[0], in[2]}, *fy[2] = {in[1], in[3]};
    return lt_mul_scalar(g, lt_nn_perceptual_taps(g, 2, fx, fy), 100.0f);
}

static double dist1(lt_tensor *x, lt_tensor *y, int64_t i) {
    lt_graph_reset(&G);
    lt_tensor *in[2] = {x, y};
    lt_tensor *d = dist_images(&G, in, NULL);
    assert_non_null(d);
    return d->data[i] / 100.0;
}

static void zero_for_identical_and_growing(void **state) {
    (void)state;
    standin_make();
    enum { N = 3, D = 3 * 8 * 8 };
    float xv[N * D], yv[N * D], noise[N * D];
    lt_rng_fill_uniform(&R, xv, N * D, -1, 1);
    lt_rng_fill_normal(&R, noise, N * D, 0, 1);
    lt_tensor x = lt_tensor_wrap(xv, 4, (int64_t[]){N, 3, 8, 8}), y = lt_tensor_wrap(yv, 4, (int64_t[]){N, 3, 8, 8});
    memcpy(yv, xv, sizeof xv);
    for (int64_t i = 0; i < N; i++) assert_true(dist1(&x, &y, i) == 0.0);
    double prev[N] = {0, 0, 0};
    const float scales[] = {0.01f, 0.03f, 0.1f, 0.3f, 1.0f};
    for (int s = 0; s < 5; s++) {
        for (int64_t e = 0; e < N * D; e++) yv[e] = xv[e] + scales[s] * noise[e];
        for (int64_t i = 0; i < N; i++) {
            const double d = dist1(&x, &y, i);
            assert_true(d > prev[i]);
            prev[i] = d;
        }
    }
    assert_true(prev[0] < 4.0 / 8); /* at most 4/C of the smallest tap */
    /* symmetric, and each example's distance is its own */
    for (int64_t i = 0; i < N; i++) assert_true(fabs(dist1(&x, &y, i) - dist1(&y, &x, i)) < 1e-7);
}

static void gradcheck_images(void **state) {
    (void)state;
    standin_make();
    lt_gc_pool p = {0};
    lt_tensor *in[2] = {lt_gc_pool_f32(&p, &R, 4, (int64_t[]){2, 3, 6, 6}, -1, 1, 0),
                        lt_gc_pool_f32(&p, &R, 4, (int64_t[]){2, 3, 6, 6}, -1, 1, 0)};
    assert_non_null(in[0]);
    assert_non_null(in[1]);
    lt_gc_result res;
    assert_int_equal(lt_gradcheck(dist_images, NULL, 2, in, NULL, &R, &res), LT_OK);
    if (res.n_failed) print_message("%s\n", res.worst);
    assert_int_equal(res.n_failed, 0);
    assert_int_equal(res.n_checked, 2 * 2 * 3 * 36);
    float gmax = 0; /* the check is not vacuous: the gradients are far above its atol */
    for (int k = 0; k < 2; k++)
        for (int64_t e = 0; e < lt_numel(in[k]); e++) gmax = fmaxf(gmax, fabsf(in[k]->grad[e]));
    assert_true(gmax > 0.05f);
    for (int64_t e = 0; e < P.total; e++) assert_true(P.grad[e] == 0.0f); /* nothing into the frozen encoder */
    lt_gc_pool_free(&p);
}

static void gradcheck_taps(void **state) {
    (void)state;
    lt_gc_pool p = {0};
    const int64_t s1[4] = {2, 5, 3, 3}, s2[4] = {2, 7, 2, 1};
    lt_tensor *in[4] = {lt_gc_pool_f32(&p, &R, 4, s1, -1, 1, 0), lt_gc_pool_f32(&p, &R, 4, s1, -1, 1, 0),
                        lt_gc_pool_f32(&p, &R, 4, s2, -1, 1, 0), lt_gc_pool_f32(&p, &R, 4, s2, -1, 1, 0)};
    lt_gc_result res;
    assert_int_equal(lt_gradcheck(dist_taps, NULL, 4, in, NULL, &R, &res), LT_OK);
    if (res.n_failed) print_message("%s\n", res.worst);
    assert_int_equal(res.n_failed, 0);
    assert_int_equal(res.n_checked, 2 * (2 * 5 * 9) + 2 * (2 * 7 * 2));
    lt_gc_pool_free(&p);
}

/* mismatched taps are a shape error naming the tap */
static void shapes_checked(void **state) {
    (void)state;
    lt_tensor *a = lt_graph_zeros(&G, LT_F32, 4, (int64_t[]){2, 3, 4, 4});
    lt_tensor *b = lt_graph_zeros(&G, LT_F32, 4, (int64_t[]){2, 3, 4, 2});
    lt_tensor *fx[1] = {a}, *fy[1] = {b};
    assert_null(lt_nn_perceptual_taps(&G, 1, fx, fy));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    assert_non_null(strstr(lt_error_message(), "tap 0"));
    lt_graph_reset(&G);
    assert_null(lt_nn_perceptual_taps(&G, 0, fx, fy));
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(zero_for_identical_and_growing, setup, teardown),
        cmocka_unit_test_setup_teardown(gradcheck_images, setup, teardown),
        cmocka_unit_test_setup_teardown(gradcheck_taps, setup, teardown),
        cmocka_unit_test_setup_teardown(shapes_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
