/* The adversarial nn pieces (nn/gan.c): the GAN losses and their gradients against hand
 * computations, the adaptive weight λ against the ratio of two gradient norms computed by
 * hand on a tiny network, the PatchGAN's layout, the divergence guard. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define NN_FIXTURE_SEED 11
#include "nn_fixture.h"

/* A leaf of G with the given values (gradients wanted). */
static lt_tensor *leaf(const float *v, int64_t n) {
    lt_tensor *t = lt_graph_new(&G, LT_F32, 1, (int64_t[]){n});
    memcpy(t->data, v, sizeof(float) * (size_t)n);
    t->requires_grad = 1;
    return t;
}

static void hinge_loss_and_gradient_by_hand(void **state) {
    (void)state;
    const float r[4] = {0.5f, -2.0f, 1.5f, 0.9f}, f[4] = {-1.5f, 0.2f, -0.5f, 3.0f};
    lt_tensor *real = leaf(r, 4), *fake = leaf(f, 4);
    lt_tensor *d = lt_nn_gan_d_loss(&G, LT_NN_GAN_HINGE, real, fake);
    assert_int_equal(lt_backward(&G, d), LT_OK);
    /* ½(mean relu(1 − r) + mean relu(1 + f)) = ½((0.5 + 3 + 0 + 0.1)/4 + (0 + 1.2 + 0.5 + 4)/4) */
    const double want = 0.5 * ((0.5 + 3 + 0 + 0.1) / 4 + (0 + 1.2 + 0.5 + 4) / 4);
    assert_true(fabs(d->data[0] - want) < 1e-6);
    const float gr[4] = {-0.125f, -0.125f, 0, -0.125f}, gf[4] = {0, 0.125f, 0.125f, 0.125f}; /* ±½·¼ where active */
    for (int i = 0; i < 4; i++) {
        assert_true(fabsf(real->grad[i] - gr[i]) < 1e-7f);
        assert_true(fabsf(fake->grad[i] - gf[i]) < 1e-7f);
    }
    lt_graph_reset(&G);
    fake = leaf(f, 4);
    lt_tensor *g = lt_nn_gan_g_loss(&G, LT_NN_GAN_HINGE, fake); /* −mean f = −0.3, gradient −¼ */
    assert_int_equal(lt_backward(&G, g), LT_OK);
    assert_true(fabs(g->data[0] + 0.3) < 1e-6);
    for (int i = 0; i < 4; i++) assert_true(fabsf(fake->grad[i] + 0.25f) < 1e-7f);
    lt_graph_reset(&G);
}

static double sigm(double x) { return 1 / (1 + exp(-x)); }

static void non_saturating_loss_and_gradient_by_hand(void **state) {
    (void)state;
    const float r[3] = {0.3f, -1.0f, 2.0f}, f[3] = {-0.7f, 0.4f, 1.1f};
    lt_tensor *real = leaf(r, 3), *fake = leaf(f, 3);
    lt_tensor *d = lt_nn_gan_d_loss(&G, LT_NN_GAN_NON_SATURATING, real, fake);
    assert_int_equal(lt_backward(&G, d), LT_OK);
    double want = 0;
    for (int i = 0; i < 3; i++) want += 0.5 / 3 * (log1p(exp(-r[i])) + log1p(exp(f[i])));
    assert_true(fabs(d->data[0] - want) < 1e-6);
    for (int i = 0; i < 3; i++) { /* d softplus(−r)/dr = −σ(−r); d softplus(f)/df = σ(f) */
        assert_true(fabs(real->grad[i] + 0.5 / 3 * sigm(-r[i])) < 1e-7);
        assert_true(fabs(fake->grad[i] - 0.5 / 3 * sigm(f[i])) < 1e-7);
    }
    lt_graph_reset(&G);
    fake = leaf(f, 3);
    lt_tensor *g = lt_nn_gan_g_loss(&G, LT_NN_GAN_NON_SATURATING, fake);
    assert_int_equal(lt_backward(&G, g), LT_OK);
    want = 0;
    for (int i = 0; i < 3; i++) want += log1p(exp(-f[i])) / 3;
    assert_true(fabs(g->data[0] - want) < 1e-6);
    for (int i = 0; i < 3; i++) assert_true(fabs(fake->grad[i] + sigm(-f[i]) / 3) < 1e-7);
    lt_graph_reset(&G);
}

static double sqnorm(const lt_tensor *t) {
    double s = 0;
    for (int64_t i = 0; i < lt_numel(t); i++) s += (double)t->grad[i] * t->grad[i];
    return s;
}

/* y = last(h) with last a 3×3 conv 3→2; L_rec = mean|x − y|; L_gan = −mean disc(y), disc a
 * 3×3 conv 2→1. By hand: each loss back-propagated alone into the parameters, the norms
 * of last.weight's gradient; λ = 0.8 · ‖∇L_rec‖ / (‖∇L_gan‖ + 1e-4). */
static void adaptive_weight_is_the_ratio_of_gradient_norms(void **state) {
    (void)state;
    lt_nn_conv2d last, disc;
    assert_int_equal(lt_nn_conv2d_declare(&last, &NN, "last", 3, 2, 3, 1, 1, 1), LT_OK);
    assert_int_equal(lt_nn_conv2d_declare(&disc, &NN, "disc", 2, 1, 3, 1, 1, 1), LT_OK);
    finalize();
    lt_nn_conv2d_reset(&last, &R);
    lt_nn_conv2d_reset(&disc, &R);
    float h[2 * 3 * 4 * 4], x[2 * 2 * 4 * 4];
    lt_rng_fill_normal(&R, h, 96, 0, 1);
    lt_rng_fill_normal(&R, x, 64, 0, 1);
    const int64_t hs[4] = {2, 3, 4, 4}, xs[4] = {2, 2, 4, 4};
    double norm[2];
    for (int k = 0; k < 2; k++) { /* by hand: the loss alone, its gradient at last.weight */
        lt_params_zero_grad(&P);
        lt_tensor *y = lt_nn_conv2d_forward(&G, &last, lt_graph_wrap(&G, h, 4, hs));
        lt_tensor *L = k == 0 ? lt_mean(&G, lt_abs(&G, lt_sub(&G, lt_graph_wrap(&G, x, 4, xs), y)), LT_AXIS_ALL, 0)
                              : lt_neg(&G, lt_mean(&G, lt_nn_conv2d_forward(&G, &disc, y), LT_AXIS_ALL, 0));
        assert_int_equal(lt_backward(&G, L), LT_OK);
        norm[k] = sqrt(sqnorm(last.weight));
        lt_graph_reset(&G);
    }
    const double want = 0.8 * (norm[0] / (norm[1] + 1e-4));
    /* the model's way: the gradients at y of each loss, then the probe */
    lt_tensor *y = lt_nn_conv2d_forward(&G, &last, lt_graph_wrap(&G, h, 4, hs));
    lt_tensor *yl = lt_graph_new(&G, LT_F32, 4, xs);
    memcpy(yl->data, y->data, sizeof x);
    yl->requires_grad = 1;
    lt_tensor *Lr = lt_mean(&G, lt_abs(&G, lt_sub(&G, lt_graph_wrap(&G, x, 4, xs), yl)), LT_AXIS_ALL, 0);
    assert_int_equal(lt_backward(&G, Lr), LT_OK);
    float d_rec[64];
    memcpy(d_rec, yl->grad, sizeof d_rec);
    memset(yl->grad, 0, sizeof d_rec);
    lt_tensor *Lg = lt_neg(&G, lt_mean(&G, lt_nn_conv2d_forward(&G, &disc, yl), LT_AXIS_ALL, 0));
    assert_int_equal(lt_backward(&G, Lg), LT_OK);
    lt_params_zero_grad(&P);
    double nr, ng;
    const double lambda = lt_nn_adaptive_weight(&G, &last, lt_graph_wrap(&G, h, 4, hs), d_rec, yl->grad, 0.8, &nr, &ng);
    printf("norms by hand %.7g %.7g, probe %.7g %.7g; lambda %.7g (by hand %.7g)\n", norm[0], norm[1], nr, ng, lambda, want);
    assert_true(fabs(nr - norm[0]) <= 1e-5 * norm[0]);
    assert_true(fabs(ng - norm[1]) <= 1e-5 * norm[1]);
    assert_true(fabs(lambda - want) <= 1e-5 * want);
    assert_true(sqnorm(last.weight) == 0); /* the model's gradients were not touched */
    /* the clamp: a GAN loss whose gradient vanishes gives 1e4 · disc_weight */
    float zero[64] = {0};
    assert_true(lt_nn_adaptive_weight(&G, &last, lt_graph_wrap(&G, h, 4, hs), d_rec, zero, 0.8, NULL, NULL) ==
                (norm[0] / 1e-4 > 1e4 ? 1e4 * 0.8 : 0.8 * norm[0] / 1e-4));
    lt_graph_reset(&G);
}

static void patchgan_layout(void **state) {
    (void)state;
    lt_nn_patchgan d;
    assert_int_equal(lt_nn_patchgan_layers(32, 32), 2);
    assert_int_equal(lt_nn_patchgan_layers(64, 64), 3);
    assert_int_equal(lt_nn_patchgan_declare(&d, &NN, "loss.discriminator", 3, 8, 2), LT_OK);
    finalize();
    lt_nn_patchgan_reset(&d, &R);
    /* torch.nn.Sequential indices: convs 0, 2, 5, 8; BatchNorms 3, 6; the middle convs without bias */
    assert_non_null(lt_params_find(&P, "loss.discriminator.main.0.bias"));
    assert_non_null(lt_params_find(&P, "loss.discriminator.main.2.weight"));
    assert_null(lt_params_find(&P, "loss.discriminator.main.2.bias"));
    assert_non_null(lt_params_find(&P, "loss.discriminator.main.6.weight"));
    assert_non_null(lt_params_find(&Bf, "loss.discriminator.main.3.running_mean"));
    assert_non_null(lt_params_find(&P, "loss.discriminator.main.8.bias"));
    assert_int_equal(lt_params_find(&P, "loss.discriminator.main.5.weight")->t.shape[0], 32); /* 8·min(2², 8) */
    float x[2 * 3 * 32 * 32];
    lt_rng_fill_uniform(&R, x, 2 * 3 * 32 * 32, -1, 1);
    G.training = 1;
    lt_tensor *y = lt_nn_patchgan_forward(&G, &d, lt_graph_wrap(&G, x, 4, (int64_t[]){2, 3, 32, 32}));
    G.training = 0;
    assert_non_null(y); /* 32 → 16 → 8 (stride 2) → 7 (stride 1) → 6: one logit per 6×6 patch */
    assert_true(y->shape[0] == 2 && y->shape[1] == 1 && y->shape[2] == 6 && y->shape[3] == 6);
    assert_true(lt_params_find(&Bf, "loss.discriminator.main.3.num_batches_tracked")->t.data[0] == 1.0f);
    lt_graph_reset(&G);
}

static void guard_fires_on_pinned_loss_and_clamped_weight(void **state) {
    (void)state;
    lt_nn_gan_guard gd;
    lt_nn_gan_guard_init(&gd, 5);
    for (int i = 0; i < 20; i++) assert_null(lt_nn_gan_guard_update(&gd, 1.0 + 0.01 * (i % 3), 10)); /* moving */
    for (int i = 0; i < 20; i++) assert_null(lt_nn_gan_guard_update(&gd, NAN, 10)); /* D not running */
    const char *msg = NULL;
    int k = 0;
    while (!msg && k < 100) msg = lt_nn_gan_guard_update(&gd, 0.0, 10), k++;
    assert_int_equal(k, 5);
    assert_non_null(strstr(msg, "discriminator loss pinned at 0"));
    lt_nn_gan_guard_init(&gd, 4);
    msg = NULL;
    for (k = 0; !msg && k < 100; k++) msg = lt_nn_gan_guard_update(&gd, k % 2 ? 0.5 : 0.7, k < 3 ? 5 : 1e4);
    assert_int_equal(k, 3 + 4);
    assert_non_null(strstr(msg, "clamp"));
    lt_nn_gan_guard_init(&gd, 0); /* off */
    for (k = 0; k < 50; k++) assert_null(lt_nn_gan_guard_update(&gd, 0.0, 1e4));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hinge_loss_and_gradient_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(non_saturating_loss_and_gradient_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(adaptive_weight_is_the_ratio_of_gradient_norms, setup, teardown),
        cmocka_unit_test_setup_teardown(patchgan_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(guard_fires_on_pinned_loss_and_clamped_weight, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
