/* The masked autoencoder's parts (models/mae_mask.c): masks hide the requested fraction of
 * patches, exactly, uniformly over positions and reproducibly from the seed (and the same
 * under a data-parallel split); the masked loss by hand, with a zero gradient at every
 * visible pixel; norm_pix targets standardized per patch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "models/mae_internal.h"
#include "ops/ops.h"

static void draw(uint64_t seed, int64_t n, int64_t P, int64_t k, float *mask) {
    lt_rng r;
    lt_rng_seed(&r, seed);
    float *s = malloc(sizeof(float) * (size_t)(n * P));
    assert_non_null(s);
    lti_mae_draw_mask(&r, NULL, n, P, k, s, mask);
    free(s);
}

static void masks_cover_the_fraction(void **state) {
    (void)state;
    lti_mae_geom gm;
    assert_int_equal(lti_mae_geom_init(&gm, 3, 32, 32, 4), LT_OK);
    assert_int_equal(gm.gh * gm.gw, 64);
    assert_int_not_equal(lti_mae_geom_init(&gm, 1, 28, 28, 5), LT_OK);
    assert_int_equal(lti_mae_geom_init(&gm, 3, 32, 32, 4), LT_OK);
    const double ratios[] = {0.6, 0.75};
    const int64_t n = 2000, P = 64;
    float *mask = malloc(sizeof(float) * (size_t)(n * P)), *pix = malloc(sizeof(float) * (size_t)(4 * 3 * 32 * 32));
    assert_non_null(mask);
    assert_non_null(pix);
    for (int c = 0; c < 2; c++) {
        const int64_t k = lti_mae_hidden_count(P, ratios[c]);
        assert_int_equal(k, c ? 48 : 38);
        draw(7, n, P, k, mask);
        for (int64_t i = 0; i < n; i++) { /* exactly k hidden patches in every image */
            int64_t h = 0;
            for (int64_t j = 0; j < P; j++) h += mask[i * P + j] == 1.0f;
            assert_int_equal(h, k);
        }
        for (int64_t j = 0; j < P; j++) { /* every position hidden ~ratio of the time (binomial sd 0.011) */
            double f = 0;
            for (int64_t i = 0; i < n; i++) f += mask[i * P + j];
            f /= (double)n;
            assert_true(fabs(f - (double)k / (double)P) < 0.06);
        }
        lti_mae_pixel_mask(&gm, 4, mask, pix); /* the pixel mask hides k/P of the pixels, patch-aligned */
        double hid = 0;
        for (int64_t e = 0; e < 4 * 3 * 1024; e++) hid += pix[e];
        assert_true(fabs(hid / (4 * 3 * 1024) - (double)k / (double)P) < 1e-9);
        for (int64_t i = 0; i < 4; i++)
            for (int64_t ch = 0; ch < 3; ch++)
                for (int64_t y = 0; y < 32; y++)
                    for (int64_t x = 0; x < 32; x++)
                        assert_true(pix[((i * 3 + ch) * 32 + y) * 32 + x] == mask[i * P + (y / 4) * 8 + x / 4]);
    }
    assert_int_equal(lti_mae_hidden_count(49, 0.75), 37);
    assert_int_equal(lti_mae_hidden_count(49, 1.0), 49);
    assert_int_equal(lti_mae_hidden_count(49, 0.001), 1);
    free(mask);
    free(pix);
}

static void masks_reproducible_from_the_seed(void **state) {
    (void)state;
    enum { n = 8, P = 49, k = 37 };
    float a[n * P], b[n * P], c[n * P];
    draw(3, n, P, k, a);
    draw(3, n, P, k, b);
    draw(4, n, P, k, c);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    /* two data-parallel halves draw the rows the whole batch draws, and leave the stream where it does */
    lt_rng whole, r0, r1;
    lt_rng_seed(&whole, 3);
    lt_rng_seed(&r0, 3);
    lt_rng_seed(&r1, 3);
    float s[n * P], h[n * P];
    lti_mae_draw_mask(&whole, NULL, n, P, k, s, a);
    lt_rng_part p0 = {0, n / 2, n}, p1 = {n / 2, n / 2, n};
    lti_mae_draw_mask(&r0, &p0, n / 2, P, k, s, h);
    lti_mae_draw_mask(&r1, &p1, n / 2, P, k, s, h + (n / 2) * P);
    assert_memory_equal(a, h, sizeof a);
    assert_true(r0.counter == whole.counter && r1.counter == whole.counter);
}

/* y (2, 1·4·4) with patch 2 (4 patches an image); the loss by hand and its gradient: zero at
 * every visible pixel, 2(y − t)/hidden at hidden ones. */
static void loss_ignores_visible_patches(void **state) {
    (void)state;
    lti_mae_geom gm;
    assert_int_equal(lti_mae_geom_init(&gm, 1, 4, 4, 2), LT_OK);
    enum { n = 2, D = 16 };
    float yv[n * D], x[n * D], t[n * D], pix[n * D];
    const float mask[n * 4] = {1, 0, 0, 1, 0, 1, 1, 1};
    lt_rng r;
    lt_rng_seed(&r, 5);
    lt_rng_fill_uniform(&r, yv, n * D, -1, 1);
    lt_rng_fill_uniform(&r, x, n * D, 0, 1);
    lti_mae_targets(&gm, n, x, 0, t);
    assert_memory_equal(t, x, sizeof x);
    lti_mae_pixel_mask(&gm, n, mask, pix);
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 0), LT_OK);
    float grad[n * D] = {0};
    lt_tensor y = lt_tensor_wrap(yv, 2, (int64_t[]){n, D});
    y.grad = grad;
    y.requires_grad = 1;
    lt_tensor *loss = lti_mae_masked_mse(&g, &y, t, pix);
    assert_non_null(loss);
    assert_int_equal(lt_backward(&g, loss), LT_OK);
    double sse = 0, hidden = 0;
    for (int64_t e = 0; e < n * D; e++)
        if (pix[e] > 0) sse += ((double)yv[e] - t[e]) * ((double)yv[e] - t[e]), hidden++;
    assert_true(hidden == 5 * 4);
    assert_true(fabs(loss->data[0] - sse / hidden) < 1e-6);
    for (int64_t e = 0; e < n * D; e++) {
        if (pix[e] == 0) assert_true(grad[e] == 0.0f); /* exactly zero */
        else assert_true(fabs(grad[e] - 2 * ((double)yv[e] - t[e]) / hidden) < 1e-6);
    }
    /* changing a visible pixel's reconstruction leaves the loss unchanged */
    lt_graph_reset(&g);
    for (int64_t e = 0; e < n * D; e++)
        if (pix[e] == 0) yv[e] += 10.0f;
    lt_tensor *l2 = lti_mae_masked_mse(&g, &y, t, pix);
    assert_non_null(l2);
    assert_true(fabs(l2->data[0] - sse / hidden) < 1e-6);
    lt_graph_reset(&g); /* a mask hiding nothing is an error */
    float none[n * D] = {0};
    assert_null(lti_mae_masked_mse(&g, &y, t, none));
    assert_int_equal(lt_graph_status(&g), LT_ERR_ARG);
    lt_graph_free(&g);
}

static void norm_pix_targets_standardize_each_patch(void **state) {
    (void)state;
    lti_mae_geom gm;
    assert_int_equal(lti_mae_geom_init(&gm, 3, 8, 8, 4), LT_OK);
    enum { n = 3, D = 3 * 64 };
    float x[n * D], t[n * D];
    lt_rng r;
    lt_rng_seed(&r, 9);
    lt_rng_fill_uniform(&r, x, n * D, 0, 1);
    lti_mae_targets(&gm, n, x, 1, t);
    for (int64_t i = 0; i < n; i++)
        for (int64_t py = 0; py < 2; py++)
            for (int64_t px = 0; px < 2; px++) {
                double s = 0, ss = 0, sx = 0, sxx = 0;
                for (int64_t c = 0; c < 3; c++)
                    for (int64_t y = py * 4; y < py * 4 + 4; y++)
                        for (int64_t xx = px * 4; xx < px * 4 + 4; xx++) {
                            const int64_t o = i * D + c * 64 + y * 8 + xx;
                            s += t[o], ss += (double)t[o] * t[o], sx += x[o], sxx += (double)x[o] * x[o];
                        }
                const double var = (ss - s * s / 48) / 47, xm = sx / 48, xv = (sxx - sx * sx / 48) / 47;
                assert_true(fabs(s / 48) < 1e-5);
                assert_true(fabs(var - xv / (xv + 1e-6)) < 1e-4); /* unit variance up to the 1e-6 */
                const int64_t o = i * D + 64 + py * 32 + px * 4; /* one value: (x - mean) / sd */
                assert_true(fabs(t[o] - (x[o] - xm) / sqrt(xv + 1e-6)) < 1e-4);
            }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(masks_cover_the_fraction),
        cmocka_unit_test(masks_reproducible_from_the_seed),
        cmocka_unit_test(loss_ignores_visible_patches),
        cmocka_unit_test(norm_pix_targets_standardize_each_patch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
