/* The autoregressive Bernoulli head (nn/made_head.c): logit d depends on x_<d and the
 * context only (perturbation), it does depend on each (else the masks would be too strict),
 * masked weights get no gradient, and sampling replays to the teacher-forced logits; in the
 * VQ-VAE (--decoder made) decode draws from one fixed stream, so only the codes tell two
 * decodes apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#define NN_FIXTURE_SEED 5
#include "nn_fixture.h"
#include "models/model.h"

enum { D = 13, H = 9, CC = 4, N = 3 };

/* a head with every parameter random (reset zeroes Wout, bout and A) */
static void random_head(lt_nn_made_head *m) {
    assert_int_equal(lt_nn_made_head_declare(m, &NN, "ar", D, H, CC), LT_OK);
    finalize();
    lt_nn_made_head_reset(m, &R);
    assert_float_equal(m->A->data[D], 0, 0);
    lt_rng_fill_uniform(&R, P.data, P.total, -1, 1);
}

/* logits (N,D) of x (N,D), c (N,CC), copied out */
static void logits_of(const lt_nn_made_head *m, const float *x, const float *c, float *out) {
    lt_graph_reset(&G);
    lt_tensor *lx = lt_graph_wrap(&G, (float *)x, 2, (int64_t[]){N, D}), *lc = lt_graph_wrap(&G, (float *)c, 2, (int64_t[]){N, CC});
    lt_tensor *y = lt_nn_made_head_forward(&G, m, lx, lc);
    assert_int_equal(lt_graph_status(&G), LT_OK);
    memcpy(out, y->data, sizeof(float) * N * D);
}

static void autoregressive_by_perturbation(void **state) {
    (void)state;
    lt_nn_made_head m;
    random_head(&m);
    float x[N * D], c[N * CC], y0[N * D], x2[N * D], y1[N * D], c2[N * CC];
    for (int i = 0; i < N * D; i++) x[i] = lt_rng_uniform(&R) < 0.5f;
    lt_rng_fill_uniform(&R, c, N * CC, -1, 1);
    logits_of(&m, x, c, y0);
    for (int d = 0; d < D; d++) {
        memcpy(x2, x, sizeof x); /* flip every pixel >= d: logits <= d unchanged */
        for (int n = 0; n < N; n++)
            for (int j = d; j < D; j++) x2[n * D + j] = 1 - x2[n * D + j];
        logits_of(&m, x2, c, y1);
        for (int n = 0; n < N; n++)
            for (int j = 0; j <= d; j++) assert_float_equal(y1[n * D + j], y0[n * D + j], 1e-6);
        if (d == 0) continue;
        memcpy(x2, x, sizeof x); /* flip x_{d-1}: logit d moves (the direct connection alone sees it) */
        for (int n = 0; n < N; n++) x2[n * D + d - 1] = 1 - x2[n * D + d - 1];
        logits_of(&m, x2, c, y1);
        for (int n = 0; n < N; n++) assert_true(fabsf(y1[n * D + d] - y0[n * D + d]) > 1e-4f);
    }
    memcpy(c2, c, sizeof c);
    for (int i = 0; i < N * CC; i++) c2[i] += 0.5f;
    logits_of(&m, x, c2, y1);
    int moved = 0; /* through relu some units may stay off; logit 0 is bout_0 alone (a caller adds its own) */
    for (int n = 0; n < N; n++)
        for (int d = 1; d < D; d++) moved += fabsf(y1[n * D + d] - y0[n * D + d]) > 1e-4f;
    assert_true(moved > N * (D - 1) / 2);
}

/* the gradient of Σ U ⊙ logits reaches exactly the unmasked weights */
static void masked_weights_get_no_gradient(void **state) {
    (void)state;
    lt_nn_made_head m;
    random_head(&m);
    float x[N * D], c[N * CC], U[N * D];
    for (int i = 0; i < N * D; i++) x[i] = lt_rng_uniform(&R) < 0.5f;
    lt_rng_fill_uniform(&R, c, N * CC, -1, 1);
    lt_rng_fill_uniform(&R, U, N * D, -1, 1);
    lt_params_zero_grad(&P);
    G.training = 1;
    lt_graph_reset(&G);
    lt_tensor *y = lt_nn_made_head_forward(&G, &m, lt_graph_wrap(&G, x, 2, (int64_t[]){N, D}),
                                           lt_graph_wrap(&G, c, 2, (int64_t[]){N, CC}));
    assert_int_equal(lt_backward_from(&G, y, U), LT_OK);
    for (int d = 0; d < D; d++)
        for (int j = 0; j < D; j++) {
            const float gA = m.A->grad[d * D + j];
            if (j >= d) assert_float_equal(gA, 0, 0);
        }
    for (int k = 0; k < H; k++) {
        const int64_t deg = 1 + (int64_t)k * (D - 1) / H;
        for (int j = 0; j < D; j++)
            if (j >= deg) assert_float_equal(m.W->grad[k * D + j], 0, 0);
        for (int d = 0; d < D; d++)
            if (deg > d) assert_float_equal(m.Wout->grad[d * H + k], 0, 0);
    }
    int nz = 0; /* the unmasked ones do get gradient (most of them) */
    for (int d = 1; d < D; d++) nz += m.A->grad[d * D] != 0;
    assert_int_equal(nz, D - 1);
}

/* sample's draws, replayed against the teacher-forced logits of the drawn images */
static void sample_replays_to_forward(void **state) {
    (void)state;
    lt_nn_made_head m;
    random_head(&m);
    enum { S = 64 };
    float c[S * CC], base[S * D], xs[S * D];
    lt_rng_fill_uniform(&R, c, S * CC, -2, 2);
    lt_rng_fill_uniform(&R, base, S * D, -1, 1);
    lt_rng r = lt_rng_fork(&R, 7), replay = r;
    lt_graph_reset(&G);
    assert_int_equal(lt_nn_made_head_sample(&G, &m, lt_graph_wrap(&G, c, 2, (int64_t[]){S, CC}), base, &r, S, xs), LT_OK);
    lt_graph_reset(&G);
    lt_tensor *y = lt_nn_made_head_forward(&G, &m, lt_graph_wrap(&G, xs, 2, (int64_t[]){S, D}),
                                           lt_graph_wrap(&G, c, 2, (int64_t[]){S, CC}));
    assert_non_null(y);
    int ones = 0;
    for (int d = 0; d < D; d++)
        for (int i = 0; i < S; i++) {
            const double p = 1 / (1 + exp(-(double)(y->data[i * D + d] + base[i * D + d])));
            const double u = lt_rng_uniform(&replay);
            if (fabs(u - p) < 1e-5) continue; /* too close to call in float */
            assert_float_equal(xs[i * D + d], u < p ? 1.0f : 0.0f, 0);
            ones += xs[i * D + d] == 1.0f;
        }
    assert_true(ones > S * D / 8 && ones < S * D * 7 / 8);
}

/* a tiny binary vqvae with the made decoder: 8×8 images, a 2×2 grid of 4 codes */
static void vqvae_decode_depends_on_codes(void **state) {
    (void)state;
    json_t *cfg = json_pack("{s:i, s:i, s:i, s:b, s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "height", 8, "width", 8,
                            "channels", 1, "binary", 1, "decoder", "made", "ar_hidden", 16, "hidden", 8, "res_hidden", 4,
                            "codes", 4, "code_dim", 2, "seed", 3);
    lt_model *m = NULL;
    assert_int_equal(lt_model_create("vqvae", cfg, &m), LT_OK);
    enum { n = 16 };
    float a[n * 4], b[n * 4], ya[n * 64], ya2[n * 64], yb[n * 64];
    for (int i = 0; i < n * 4; i++) a[i] = 0, b[i] = 3;
    lt_graph_reset(&G);
    assert_int_equal(m->vt->decode(m, &G, a, n, ya), LT_OK);
    lt_graph_reset(&G);
    assert_int_equal(m->vt->decode(m, &G, a, n, ya2), LT_OK);
    lt_graph_reset(&G);
    assert_int_equal(m->vt->decode(m, &G, b, n, yb), LT_OK);
    lt_graph_reset(&G);
    int differ = 0;
    for (int i = 0; i < n * 64; i++) {
        assert_true(ya[i] == 0.0f || ya[i] == 1.0f);
        assert_float_equal(ya[i], ya2[i], 0);
        differ += ya[i] != yb[i];
    }
    assert_true(differ > 0);
    lt_model_destroy(m);
    json_object_set_new(cfg, "binary", json_false()); /* a Bernoulli decoder on grey values: refused */
    assert_int_equal(lt_model_create("vqvae", cfg, &m), LT_ERR_ARG);
    json_object_set_new(cfg, "decoder", json_string("pixelcnn"));
    json_object_set_new(cfg, "binary", json_true());
    assert_int_equal(lt_model_create("vqvae", cfg, &m), LT_ERR_ARG);
    json_decref(cfg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(autoregressive_by_perturbation, setup, teardown),
        cmocka_unit_test_setup_teardown(masked_weights_get_no_gradient, setup, teardown),
        cmocka_unit_test_setup_teardown(sample_replays_to_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(vqvae_decode_depends_on_codes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
