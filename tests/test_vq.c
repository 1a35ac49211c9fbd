/* The vector quantizer (nn/quantize.c) against hand computations: the straight-through
 * gradient, where the codebook and commitment terms send their gradients (2-code toy),
 * one EMA update, a dead code restarted, k-means on separable clusters, eval mode
 * leaving the codebook alone, lookup equal to the quantized values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#define NN_FIXTURE_SEED 11
#include "nn_fixture.h"

/* z (1,D,1,W) from rows x (W,D): z[0,d,0,w] = x[w][d] */
static void fill_grid(lt_tensor *z, const float *x, int64_t W, int64_t D) {
    for (int64_t w = 0; w < W; w++)
        for (int64_t d = 0; d < D; d++) z->data[d * W + w] = x[w * D + d];
}

/* Two codes e0 = (0,0), e1 = (1,1); encodings x0 = (0.2,-0.1) -> 0, x1 = (0.7,0.9) -> 1.
 * S = Σ z_q ⊙ U + codebook + β·commitment, means over M·D = 4 elements:
 *   dS/dz_e = U + β·2(x − e)/4       (straight-through plus commitment: the encoder's term)
 *   dS/de_k = Σ_{i→k} 2(e_k − x_i)/4 (codebook term only, no β). */
static void plain_gradients_two_codes(void **state) {
    (void)state;
    lt_nn_vq q;
    lt_nn_vq_opts o = lt_nn_vq_opts_default();
    assert_int_equal(lt_nn_vq_declare(&q, &NN, "quantizer", 2, 2, &o), LT_OK);
    lt_tensor *ze = lt_params_add(&P, "z_e", 4, (int64_t[]){1, 2, 1, 2});
    assert_non_null(ze);
    finalize();
    assert_string_equal(P.items[0]->name, "quantizer.embedding.weight");
    const float e[4] = {0, 0, 1, 1}, x[4] = {0.2f, -0.1f, 0.7f, 0.9f}, U[4] = {0.5f, -1.0f, 2.0f, 0.25f};
    memcpy(q.embedding->data, e, sizeof e);
    fill_grid(ze, x, 2, 2);
    lt_params_zero_grad(&P);
    G.training = 1;
    lt_nn_vq_out out;
    assert_int_equal(lt_nn_vq_forward(&G, &q, ze, &out), LT_OK);
    assert_int_equal(out.codes->idata[0], 0);
    assert_int_equal(out.codes->idata[1], 1);
    for (int w = 0; w < 2; w++) /* z_q holds the codes' values in (N,D,H,W) */
        for (int d = 0; d < 2; d++) assert_float_equal(out.z_q->data[d * 2 + w], e[w * 2 + d], 0);
    double cb = 0;
    for (int i = 0; i < 4; i++) cb += (double)(x[i] - e[i]) * (x[i] - e[i]);
    assert_float_equal(out.codebook->data[0], cb / 4, 1e-6);
    assert_float_equal(out.commitment->data[0], cb / 4, 1e-6);
    assert_float_equal(out.loss->data[0], 1.25 * cb / 4, 1e-6);
    lt_tensor *u = lt_graph_wrap(&G, (float *)U, 4, (int64_t[]){1, 2, 1, 2});
    lt_tensor *S = lt_add(&G, lt_sum(&G, lt_mul(&G, out.z_q, u), LT_AXIS_ALL, 0), out.loss);
    assert_int_equal(lt_backward(&G, S), LT_OK);
    for (int w = 0; w < 2; w++)
        for (int d = 0; d < 2; d++) {
            const int i = w * 2 + d; /* row w, component d */
            assert_float_equal(ze->grad[d * 2 + w], U[d * 2 + w] + 0.25f * 2 * (x[i] - e[i]) / 4, 1e-6);
            assert_float_equal(q.embedding->grad[i], 2 * (e[i] - x[i]) / 4, 1e-6);
        }
    lt_graph_reset(&G);
}

/* Two EMA steps on K = 3, D = 1 by hand (zero-debiased accumulators; code 2 never chosen
 * goes to 0); the codebook is a buffer with no gradient and the loss is β·commitment alone. */
static void ema_update_by_hand(void **state) {
    (void)state;
    lt_nn_vq q;
    lt_nn_vq_opts o = lt_nn_vq_opts_default();
    o.ema = 1;
    assert_int_equal(lt_nn_vq_declare(&q, &NN, NULL, 3, 1, &o), LT_OK);
    lt_tensor *ze = lt_params_add(&P, "z_e", 4, (int64_t[]){1, 1, 1, 3});
    finalize();
    assert_int_equal(P.n, 1); /* only z_e: the codebook is a buffer */
    assert_string_equal(Bf.items[0]->name, "embedding.weight");
    assert_string_equal(Bf.items[1]->name, "cluster_size");
    assert_string_equal(Bf.items[2]->name, "embed_avg");
    assert_string_equal(Bf.items[3]->name, "ema_steps");
    lt_nn_vq_reset(&q, &R);
    for (int k = 0; k < 3; k++) assert_float_equal(q.cluster_size->data[k] + q.embed_avg->data[k], 0, 0);
    q.embedding->data[0] = 0.0f;
    q.embedding->data[1] = 2.0f;
    q.embedding->data[2] = 9.0f;
    const float x[3] = {0.4f, 0.6f, 1.5f}; /* -> 0, 0, 1 */
    memcpy(ze->data, x, sizeof x);
    G.training = 1;
    lt_nn_vq_out out;
    const double d = 0.99, eps = 1e-5;
    double cs[3] = {0, 0, 0}, ea[3] = {0, 0, 0}, e[3] = {0, 2, 9};
    for (int t = 1; t <= 2; t++) {
        if (t == 2) lt_graph_reset(&G);
        assert_int_equal(lt_nn_vq_forward(&G, &q, ze, &out), LT_OK);
        const int64_t a[3] = {0, 0, 1}; /* both steps: e0 stays nearest to 0.4, 0.6 and e1 to 1.5 */
        for (int k = 0; k < 3; k++) cs[k] *= d, ea[k] *= d;
        for (int i = 0; i < 3; i++) cs[a[i]] += 1 - d, ea[a[i]] += (1 - d) * x[i];
        const double b = 1 - pow(d, t);
        double n = (cs[0] + cs[1] + cs[2]) / b;
        for (int k = 0; k < 3; k++) {
            assert_float_equal(q.cluster_size->data[k], cs[k], 1e-6);
            assert_float_equal(q.embed_avg->data[k], ea[k], 1e-6);
            double c = (cs[k] / b + eps) / (n + 3 * eps) * n;
            e[k] = ea[k] / b / c;
            assert_float_equal(q.embedding->data[k], e[k], 1e-5);
        }
        if (t == 1) { /* debiased: the means of the assigned encodings, 0 for the unused code */
            assert_float_equal(q.embedding->data[0], 0.5, 1e-4);
            assert_float_equal(q.embedding->data[1], 1.5, 1e-4);
            assert_float_equal(q.embedding->data[2], 0.0, 0);
        }
    }
    assert_float_equal(q.ema_steps->data[0], 2, 0);
    /* the losses of step 2 were computed with step 1's codes (0.5, 1.5) */
    double com = (0.1 * 0.1 + 0.1 * 0.1 + 0) / 3;
    assert_float_equal(out.commitment->data[0], com, 1e-5);
    assert_float_equal(out.loss->data[0], 0.25 * com, 1e-5);
    lt_params_zero_grad(&P);
    assert_int_equal(lt_backward(&G, out.loss), LT_OK);
    assert_float_equal(ze->grad[0], 0.25 * 2 * (0.4 - 0.5) / 3, 1e-5);
    assert_float_equal(ze->grad[1], 0.25 * 2 * (0.6 - 0.5) / 3, 1e-5);
    assert_float_equal(ze->grad[2], 0.0, 1e-5);
    lt_graph_reset(&G);
    /* eval mode: the same forward moves nothing */
    float before[3] = {q.embedding->data[0], q.embedding->data[1], q.embedding->data[2]};
    G.training = 0;
    assert_int_equal(lt_nn_vq_forward(&G, &q, ze, &out), LT_OK);
    assert_memory_equal(before, q.embedding->data, sizeof before);
    lt_graph_reset(&G);
}

/* Codes 0..2 sit on the data, code 3 far away and never chosen: its usage
 * 0.99·1 + 0 < 1 after one step, so it becomes one of the batch's encodings. */
static void unused_code_is_restarted(void **state) {
    (void)state;
    lt_nn_vq q;
    lt_nn_vq_opts o = lt_nn_vq_opts_default();
    o.restart_threshold = 1.0f;
    assert_int_equal(lt_nn_vq_declare(&q, &NN, NULL, 4, 2, &o), LT_OK);
    lt_tensor *ze = lt_params_add(&P, "z_e", 4, (int64_t[]){1, 2, 1, 6});
    finalize();
    assert_string_equal(Bf.items[0]->name, "usage");
    lt_nn_vq_reset(&q, &R);
    const float e[8] = {0, 0, 1, 0, 0, 1, 100, 100};
    const float x[12] = {0.1f, 0, 0.9f, 0.1f, 0, 1.1f, 0.2f, 0.1f, 1, -0.1f, -0.1f, 0.8f};
    memcpy(q.embedding->data, e, sizeof e);
    fill_grid(ze, x, 6, 2);
    G.training = 1;
    lt_nn_vq_out out;
    assert_int_equal(lt_nn_vq_forward(&G, &q, ze, &out), LT_OK);
    assert_int_equal(out.restarted, 1);
    assert_memory_equal(q.embedding->data, e, 6 * sizeof(float)); /* used codes stay */
    int found = 0;
    for (int i = 0; i < 6; i++)
        found |= q.embedding->data[6] == x[2 * i] && q.embedding->data[7] == x[2 * i + 1];
    assert_true(found);
    assert_float_equal(q.usage->data[3], 1.0, 0);
    assert_float_equal(q.usage->data[0], 0.99 + 0.01 * 2, 1e-6);
    lt_graph_reset(&G);
}

/* Three separated clusters of 40 points: k-means on the first training batch puts one code
 * on each centre (within the noise), and only once. */
static void kmeans_finds_separable_clusters(void **state) {
    (void)state;
    lt_nn_vq q;
    lt_nn_vq_opts o = lt_nn_vq_opts_default();
    o.kmeans = 1;
    o.ema = 1;
    assert_int_equal(lt_nn_vq_declare(&q, &NN, NULL, 3, 2, &o), LT_OK);
    const int64_t W = 120;
    lt_tensor *ze = lt_params_add(&P, "z_e", 4, (int64_t[]){1, 2, 1, W});
    finalize();
    lt_nn_vq_reset(&q, &R);
    const float c[3][2] = {{0, 0}, {10, 0}, {0, 10}};
    float x[240];
    lt_rng nr;
    lt_rng_seed(&nr, 3);
    lt_rng_fill_uniform(&nr, x, 240, -0.5f, 0.5f);
    for (int i = 0; i < W; i++) {
        x[2 * i] += c[i % 3][0];
        x[2 * i + 1] += c[i % 3][1];
    }
    fill_grid(ze, x, W, 2);
    G.training = 1;
    lt_nn_vq_out out;
    assert_int_equal(lt_nn_vq_forward(&G, &q, ze, &out), LT_OK);
    assert_float_equal(q.initialized->data[0], 1, 0);
    int hit[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 3; j++) {
            float dx = q.embedding->data[2 * k] - c[j][0], dy = q.embedding->data[2 * k + 1] - c[j][1];
            if (dx * dx + dy * dy < 0.25f * 0.25f) hit[j]++;
        }
    assert_int_equal(hit[0] + hit[1] + hit[2], 3);
    assert_true(hit[0] == 1 && hit[1] == 1 && hit[2] == 1);
    for (int i = 0; i < W; i++) assert_int_equal(out.codes->idata[i], out.codes->idata[i % 3]);
    lt_graph_reset(&G);
    /* a second batch far away is not re-clustered */
    for (int i = 0; i < 2 * W; i++) ze->data[i] += 50;
    assert_int_equal(lt_nn_vq_forward(&G, &q, ze, &out), LT_OK);
    assert_true(fabsf(q.embedding->data[0]) < 20 && fabsf(q.embedding->data[1]) < 20);
    lt_graph_reset(&G);
}

/* lookup(codes) equals z_q's values; bad codes fail. */
static void lookup_matches_forward(void **state) {
    (void)state;
    lt_nn_vq q;
    assert_int_equal(lt_nn_vq_declare(&q, &NN, "vq", 5, 3, NULL), LT_OK);
    lt_tensor *ze = lt_params_add(&P, "z_e", 4, (int64_t[]){2, 3, 2, 2});
    finalize();
    lt_nn_vq_reset(&q, &R);
    lt_rng_fill_uniform(&R, ze->data, lt_numel(ze), -0.3f, 0.3f);
    lt_nn_vq_out out;
    G.training = 0;
    assert_int_equal(lt_nn_vq_forward(&G, &q, ze, &out), LT_OK);
    lt_tensor *e = lt_nn_vq_lookup(&G, &q, out.codes);
    assert_non_null(e);
    assert_int_equal(lt_numel(e), lt_numel(out.z_q));
    assert_memory_equal(e->data, out.z_q->data, sizeof(float) * (size_t)lt_numel(e));
    int64_t bad[8] = {0, 1, 2, 3, 4, 5, 0, 0};
    lt_tensor *b = lt_graph_wrap_i64(&G, bad, 3, (int64_t[]){2, 2, 2});
    assert_null(lt_nn_vq_lookup(&G, &q, b));
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
    lt_graph_reset(&G);
    lt_nn_vq q2;
    assert_int_equal(lt_nn_vq_declare(&q2, &NN, "bad", 1, 3, NULL), LT_ERR_ARG); /* K < 2 */
}

/* Cosine codes: x = (10, 1) is nearer to (8, 8) in distance but to (0.1, 0) in angle; z_q is
 * that code normalized, and the commitment is measured between unit vectors. */
static void cosine_codes_by_angle(void **state) {
    (void)state;
    lt_nn_vq q, e;
    lt_nn_vq_opts o = lt_nn_vq_opts_default();
    assert_int_equal(lt_nn_vq_declare(&e, &NN, "euclid", 2, 2, &o), LT_OK);
    o.cosine = 1;
    assert_int_equal(lt_nn_vq_declare(&q, &NN, "cosine", 2, 2, &o), LT_OK);
    lt_tensor *ze = lt_params_add(&P, "z_e", 4, (int64_t[]){1, 2, 1, 1});
    finalize();
    const float cb[4] = {0.1f, 0, 8, 8};
    memcpy(q.embedding->data, cb, sizeof cb);
    memcpy(e.embedding->data, cb, sizeof cb);
    ze->data[0] = 10;
    ze->data[1] = 1;
    lt_nn_vq_out out;
    assert_int_equal(lt_nn_vq_forward(&G, &e, ze, &out), LT_OK);
    assert_int_equal(out.codes->idata[0], 1);
    assert_int_equal(lt_nn_vq_forward(&G, &q, ze, &out), LT_OK);
    assert_int_equal(out.codes->idata[0], 0);
    assert_float_equal(out.z_q->data[0], 1, 1e-6);
    assert_float_equal(out.z_q->data[1], 0, 1e-6);
    const double nx = sqrt(101.0), ux = 10 / nx, uy = 1 / nx;
    assert_float_equal(out.commitment->data[0], ((ux - 1) * (ux - 1) + uy * uy) / 2, 1e-6);
    lt_tensor *lk = lt_nn_vq_lookup(&G, &q, out.codes);
    assert_non_null(lk);
    assert_float_equal(lk->data[0], 1, 1e-6);
    lt_graph_reset(&G);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(plain_gradients_two_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(ema_update_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(unused_code_is_restarted, setup, teardown),
        cmocka_unit_test_setup_teardown(kmeans_finds_separable_clusters, setup, teardown),
        cmocka_unit_test_setup_teardown(lookup_matches_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(cosine_codes_by_angle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
