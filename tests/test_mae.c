/* The masked autoencoder's parts (models/mae_mask.c): masks hide the requested fraction of
 * patches, exactly, uniformly over positions and reproducibly from the seed (and the same
 * under a data-parallel split); the masked loss by hand, with a zero gradient at every
 * visible pixel; norm_pix targets standardized per patch. The model (models/mae.c): its loss
 * reproducible from the trainer's stream and fixed in evaluation, trained down on a small
 * batch, features of the uncorrupted image (no masks: the same on every call), bad configs. */
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
#include "models/model.h"
#include "ops/ops.h"
#include "optim/optim.h"

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

/* a small mae on 3×8×8 images: width 8, 2 stages, 1 block, patch 2 */
static lt_model *small_mae(const char *extra) {
    char js[400];
    snprintf(js, sizeof js, "{\"height\": 8, \"width\": 8, \"channels\": 3, \"enc_width\": 8, \"stages\": 2, "
             "\"blocks\": 1, \"patch\": 2, \"dec_width\": 8, \"seed\": 4%s}", extra);
    json_error_t e;
    json_t *c = json_loads(js, 0, &e);
    assert_non_null(c);
    lt_model *m = NULL;
    lt_status st = lt_model_create("mae", c, &m);
    json_decref(c);
    if (st) print_message("%s\n", lt_error_message());
    assert_int_equal(st, LT_OK);
    return m;
}

/* smooth images (n, 3, 8, 8) in [-1, 1]: a random plane wave per image and channel, so a
 * hidden patch is predictable from its neighbours (random pixels would not be) */
static void images(float *x, int64_t n) {
    lt_rng r;
    lt_rng_seed(&r, 77);
    for (int64_t i = 0; i < n * 3; i++) {
        float w[3];
        lt_rng_fill_uniform(&r, w, 3, -0.8f, 0.8f);
        for (int y = 0; y < 8; y++)
            for (int xx = 0; xx < 8; xx++) x[i * 64 + y * 8 + xx] = sinf(w[0] * (float)y + w[1] * (float)xx + 4 * w[2]);
    }
}

static double loss_once(lt_model *m, lt_graph *g, const float *x, int64_t n) {
    lt_batch b = {x, NULL, n, 192, NULL};
    lt_tensor *loss = NULL;
    assert_int_equal(m->vt->loss(m, g, &b, &loss), LT_OK);
    const double v = loss->data[0];
    lt_graph_reset(g);
    return v;
}

/* the mean masked squared error under the evaluation masks, from log_prob */
static double eval_mse(lt_model *m, lt_graph *g, const float *x, int64_t n, double hidden_per_image) {
    lt_batch b = {x, NULL, n, 192, NULL};
    double lp[16], s = 0;
    assert_int_equal(m->vt->log_prob(m, g, &b, NULL, lp), LT_OK);
    lt_graph_reset(g);
    for (int64_t i = 0; i < n; i++) s += -2 * (lp[i] + 0.5 * hidden_per_image * log(2 * M_PI)) / hidden_per_image;
    return s / (double)n;
}

static void model_loss_reproducible(void **state) {
    (void)state;
    float x[6 * 192];
    images(x, 6);
    lt_model *m = small_mae("");
    assert_string_equal(m->params.items[0]->name, "encoder.conv1.weight");
    assert_non_null(lt_params_find(&m->params, "decoder.up.0.weight"));
    assert_non_null(lt_params_find(&m->params, "decoder.out.weight"));
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 0), LT_OK);
    lt_rng r1, r2;
    lt_rng_seed(&r1, 1);
    lt_rng_seed(&r2, 1);
    g.rng = &r1;
    const double a = loss_once(m, &g, x, 6), a2 = loss_once(m, &g, x, 6);
    g.rng = &r2;
    const double b = loss_once(m, &g, x, 6);
    assert_true(a == b);  /* same stream, same masks, same loss */
    assert_true(a != a2); /* the stream moved on: other masks */
    /* log_prob: the same masks every call, the trainer's stream untouched; per example
     * −½·SSE − ½·M·log 2π with M = 12 hidden patches of 2×2×3 values, so below −M/2·log 2π */
    const lt_rng before = r2;
    double lp1[6], lp2[6];
    lt_batch b6 = {x, NULL, 6, 192, NULL};
    assert_int_equal(m->vt->log_prob(m, &g, &b6, NULL, lp1), LT_OK);
    lt_graph_reset(&g);
    assert_int_equal(m->vt->log_prob(m, &g, &b6, NULL, lp2), LT_OK);
    lt_graph_reset(&g);
    assert_memory_equal(lp1, lp2, sizeof lp1);
    assert_true(r2.counter == before.counter);
    for (int i = 0; i < 6; i++) assert_true(lp1[i] < -0.5 * 144 * log(2 * M_PI));
    g.rng = NULL; /* training without a stream is an error, not a crash */
    lt_batch bt = {x, NULL, 6, 192, NULL};
    lt_tensor *loss;
    assert_int_equal(m->vt->loss(m, &g, &bt, &loss), LT_ERR_ARG);
    lt_graph_reset(&g);
    lt_graph_free(&g);
    lt_model_destroy(m);
}

/* Adam on one batch of 8: the masked loss falls (the model learns), and features() of the
 * uncorrupted images are deterministic, (n, 16), and those of the encoder in eval mode. */
static void model_trains_and_features(void **state) {
    (void)state;
    float x[8 * 192];
    images(x, 8);
    for (int corrupt = 0; corrupt < 2; corrupt++) {
        lt_model *m = small_mae(corrupt ? ", \"corrupt\": \"noise\", \"mask_ratio\": 1" : ", \"norm_pix\": false");
        lt_graph g;
        assert_int_equal(lt_graph_init(&g, 0), LT_OK);
        lt_rng r;
        lt_rng_seed(&r, 2);
        g.rng = &r;
        lt_optim o;
        lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAM, 3e-3f);
        assert_int_equal(lt_optim_init(&o, &oc, &m->params), LT_OK);
        const double hid = corrupt ? 192 : 144, first = eval_mse(m, &g, x, 8, hid);
        for (int step = 0; step < 60; step++) {
            lt_batch b = {x, NULL, 8, 192, NULL};
            lt_tensor *loss;
            lt_params_zero_grad(&m->params);
            assert_int_equal(m->vt->loss(m, &g, &b, &loss), LT_OK);
            assert_int_equal(lt_backward(&g, loss), LT_OK);
            lt_optim_step(&o, &m->params, 3e-3f);
            lt_graph_reset(&g);
        }
        const double last = eval_mse(m, &g, x, 8, hid);
        print_message("mae %s: eval loss %.4f -> %.4f after 60 steps\n", corrupt ? "noise" : "mask", first, last);
        assert_true(last < 0.7 * first);
        assert_int_equal(m->vt->feature_size(m), 16);
        float f1[8 * 16], f2[8 * 16];
        lt_batch b = {x, NULL, 8, 192, NULL};
        assert_int_equal(m->vt->features(m, &g, &b, f1), LT_OK);
        lt_graph_reset(&g);
        assert_int_equal(m->vt->features(m, &g, &b, f2), LT_OK);
        lt_graph_reset(&g);
        assert_memory_equal(f1, f2, sizeof f1);
        double s = 0;
        for (int i = 0; i < 8 * 16; i++) s += fabs(f1[i]);
        assert_true(s > 0);
        lt_optim_free(&o);
        lt_graph_free(&g);
        lt_model_destroy(m);
    }
}

static void model_bad_configs(void **state) {
    (void)state;
    const char *bad[] = {"{\"height\": 8, \"width\": 8, \"patch\": 3}",
                         "{\"height\": 8, \"width\": 8, \"mask_ratio\": 1}",
                         "{\"height\": 8, \"width\": 8, \"corrupt\": \"blur\"}",
                         "{\"height\": 6, \"width\": 6, \"stages\": 3, \"patch\": 2}",
                         "{\"height\": 8, \"width\": 8, \"hidden\": 5}"};
    const char *says[] = {"patch 3", "keep some visible", "corrupt 'blur'", "do not divide by 4", "'hidden'"};
    for (int i = 0; i < 5; i++) {
        json_error_t e;
        json_t *c = json_loads(bad[i], 0, &e);
        lt_model *m = NULL;
        assert_int_equal(lt_model_create("mae", c, &m), LT_ERR_ARG);
        assert_null(m);
        if (!strstr(lt_error_message(), says[i])) print_message("%s\n", lt_error_message());
        assert_non_null(strstr(lt_error_message(), says[i]));
        json_decref(c);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(masks_cover_the_fraction),
        cmocka_unit_test(masks_reproducible_from_the_seed),
        cmocka_unit_test(loss_ignores_visible_patches),
        cmocka_unit_test(norm_pix_targets_standardize_each_patch),
        cmocka_unit_test(model_loss_reproducible),
        cmocka_unit_test(model_trains_and_features),
        cmocka_unit_test(model_bad_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
