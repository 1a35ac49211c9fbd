/* Self-supervised pieces: NT-Xent's value and gradient against a NumPy computation; the
 * augmentations' statistics, shapes and reproducibility from the seed; the views batch
 * layout; the simclr model's loss, gradients and features. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "data/augment.h"
#include "models/model.h"
#include "ops/ops.h"
#include "train/views.h"

#include "graph_fixture.h"

/* z (4,3), tau 0.5: per-row losses and the gradient of their mean, computed in float64 with
 * NumPy (the formula written out row by row; the gradient by central differences, h 1e-6). */
static void nt_xent_numpy(void **state) {
    (void)state;
    lt_graph_reset(&G);
    static const float z0[12] = {1.0f, 0.0f, 0.5f, 0.2f, -1.0f, 0.3f, 0.8f, 0.4f, 0.1f, -0.3f, -0.7f, 1.2f};
    static const double want[4] = {0.47126572, 0.50148513, 0.19704197, 0.42566403};
    static const double dwant[12] = {-0.1214985,  -0.41270402, 0.242997,   0.40178783, 0.04212086,  -0.12745568,
                                     0.00517184, -0.01297156, 0.01051151, 0.10355918, 0.19184477, 0.13779924};
    lt_tensor *z = lt_graph_new(&G, LT_F32, 2, (int64_t[]){4, 3});
    assert_non_null(z);
    memcpy(z->data, z0, sizeof z0);
    z->requires_grad = 1;
    lt_tensor *l = lt_nt_xent(&G, z, 0.5f);
    assert_non_null(l);
    assert_int_equal(l->ndim, 1);
    assert_int_equal(l->shape[0], 4);
    for (int i = 0; i < 4; i++) assert_true(fabs(l->data[i] - want[i]) < 1e-5);
    lt_tensor *m = lt_mean(&G, l, LT_AXIS_ALL, 0);
    assert_int_equal(lt_backward(&G, m), LT_OK);
    for (int i = 0; i < 12; i++) assert_true(fabs(z->grad[i] - dwant[i]) < 1e-5);
    /* invariance to each row's scale (the rows are normalized) */
    lt_graph_reset(&G);
    lt_tensor *z2 = lt_graph_new(&G, LT_F32, 2, (int64_t[]){4, 3});
    for (int i = 0; i < 12; i++) z2->data[i] = z0[i] * (float)(1 + i / 3);
    lt_tensor *l2 = lt_nt_xent(&G, z2, 0.5f);
    for (int i = 0; i < 4; i++) assert_true(fabs(l2->data[i] - want[i]) < 1e-5);
    /* bad shapes and temperatures */
    lt_graph_reset(&G);
    assert_null(lt_nt_xent(&G, lt_graph_new(&G, LT_F32, 2, (int64_t[]){3, 3}), 0.5f));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    lt_graph_reset(&G);
    assert_null(lt_nt_xent(&G, lt_graph_new(&G, LT_F32, 2, (int64_t[]){4, 3}), 0.0f));
    assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
    lt_graph_reset(&G);
}

/* ---- augmentations ---- */

/* A smooth colour test image (3,H,W) with texture. */
static void test_image(uint8_t *img, int64_t C, int64_t H, int64_t W) {
    for (int64_t c = 0; c < C; c++)
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++)
                img[(c * H + y) * W + x] = (uint8_t)(40 + (c * 50 + y * 5 + x * 3 + ((x ^ y) & 7) * 9) % 180);
}

static void rrc_box_stats(void **state) {
    (void)state;
    lt_rng r;
    lt_rng_seed(&r, 3);
    const int64_t H = 32, W = 32;
    double area = 0, logr = 0;
    const int n = 4000;
    for (int t = 0; t < n; t++) {
        int64_t b[4];
        lt_aug_rrc_box(&r, H, W, 0.2f, 1.0f, 0.75f, 4.0f / 3.0f, b);
        assert_true(b[0] >= 0 && b[1] >= 0 && b[2] >= 1 && b[3] >= 1 && b[0] + b[2] <= H && b[1] + b[3] <= W);
        const double a = (double)(b[2] * b[3]) / (double)(H * W), ratio = (double)b[3] / (double)b[2];
        assert_true(a >= 0.15 && a <= 1.0);             /* scale 0.2 up to rounding */
        assert_true(ratio > 0.6 && ratio < 1.6);         /* 3/4..4/3 up to rounding */
        area += a;
        logr += log(ratio);
    }
    /* accepted areas are U(0.2, 1) less the large ones that do not fit at extreme ratios */
    assert_true(area / n > 0.5 && area / n < 0.62);
    assert_true(fabs(logr / n) < 0.02); /* ratio symmetric in log */
}

static void resize_and_colour(void **state) {
    (void)state;
    enum { C = 3, H = 16, W = 12, D = C * H * W };
    uint8_t img[D], out[D], ref[D];
    test_image(img, C, H, W);
    /* the whole box is the identity; a constant image stays constant under any box */
    lt_aug_resize_box(img, C, H, W, (int64_t[]){0, 0, H, W}, out);
    assert_memory_equal(img, out, D);
    uint8_t flat[D];
    memset(flat, 77, D);
    lt_aug_resize_box(flat, C, H, W, (int64_t[]){3, 2, 5, 7}, out);
    for (int k = 0; k < D; k++) assert_int_equal(out[k], 77);
    /* a 1-pixel-high box repeats that row, interpolating along x */
    lt_aug_resize_box(img, C, H, W, (int64_t[]){4, 0, 1, W}, out);
    for (int y = 0; y < H; y++) assert_memory_equal(out + y * W, img + 4 * W, W);
    /* factor 1 is the identity for every colour op; hue 0 up to HSV rounding */
    memcpy(ref, img, D);
    lt_aug_brightness(ref, C, H, W, 1.0f);
    lt_aug_contrast(ref, C, H, W, 1.0f);
    lt_aug_saturation(ref, C, H, W, 1.0f);
    assert_memory_equal(ref, img, D);
    lt_aug_hue(ref, C, H, W, 0.0f);
    for (int k = 0; k < D; k++) assert_true(abs((int)ref[k] - (int)img[k]) <= 1);
    /* brightness halves; contrast 0 is the grey mean everywhere; saturation 0 and greyscale
     * make the channels equal; a hue turn of 1/3 rotates R→G→B */
    memcpy(ref, img, D);
    lt_aug_brightness(ref, C, H, W, 0.5f);
    for (int k = 0; k < D; k++) assert_true(abs((int)ref[k] - (int)floorf(img[k] * 0.5f + 0.5f)) <= 0);
    memcpy(ref, img, D);
    lt_aug_contrast(ref, C, H, W, 0.0f);
    for (int k = 1; k < D; k++) assert_int_equal(ref[k], ref[0]);
    memcpy(ref, img, D);
    lt_aug_saturation(ref, C, H, W, 0.0f);
    for (int k = 0; k < H * W; k++) assert_true(ref[k] == ref[H * W + k] && ref[k] == ref[2 * H * W + k]);
    memcpy(out, img, D);
    lt_aug_greyscale(out, C, H, W);
    assert_memory_equal(out, ref, D); /* saturation 0 is greyscale */
    memcpy(ref, img, D);
    lt_aug_hue(ref, C, H, W, 1.0f / 3.0f);
    for (int k = 0; k < H * W; k++) {
        assert_true(abs((int)ref[H * W + k] - (int)img[k]) <= 2);          /* G ← R */
        assert_true(abs((int)ref[2 * H * W + k] - (int)img[H * W + k]) <= 2); /* B ← G */
    }
    /* grey images: saturation, hue and greyscale do nothing */
    memcpy(ref, img, H * W);
    lt_aug_saturation(ref, 1, H, W, 0.0f);
    lt_aug_hue(ref, 1, H, W, 0.3f);
    lt_aug_greyscale(ref, 1, H, W);
    assert_memory_equal(ref, img, H * W);
}

static void blur_and_noise(void **state) {
    (void)state;
    enum { H = 28, W = 28, D = H * W };
    uint8_t img[D], b[D];
    float tmp[D];
    lt_rng r;
    lt_rng_seed(&r, 5);
    assert_int_equal(lt_aug_blur_kernel(28, 28), 3);
    assert_int_equal(lt_aug_blur_kernel(96, 96), 9);
    /* a constant image stays; a tiny sigma is the identity; a large one lowers the variance */
    memset(img, 90, D);
    lt_aug_blur(img, 1, H, W, 3, 2.0f, tmp);
    for (int k = 0; k < D; k++) assert_int_equal(img[k], 90);
    for (int k = 0; k < D; k++) img[k] = (uint8_t)(lt_rng_u32(&r) & 255);
    memcpy(b, img, D);
    lt_aug_blur(b, 1, H, W, 3, 0.1f, tmp);
    assert_memory_equal(b, img, D);
    lt_aug_blur(b, 1, H, W, 3, 2.0f, tmp);
    double v0 = 0, v1 = 0, m0 = 0, m1 = 0;
    for (int k = 0; k < D; k++) m0 += img[k], m1 += b[k];
    m0 /= D, m1 /= D;
    for (int k = 0; k < D; k++) v0 += (img[k] - m0) * (img[k] - m0), v1 += (b[k] - m1) * (b[k] - m1);
    assert_true(fabs(m0 - m1) < 2.0);
    assert_true(v1 < 0.3 * v0); /* 3×3 kernel near uniform: variance / ~9·(correlation) */
    /* noise: mean 0 and the std asked for, on a mid-grey image (no clipping) */
    memset(img, 128, D);
    lt_aug_noise(img, D, 0.05f, &r);
    double s = 0, ss = 0;
    for (int k = 0; k < D; k++) s += img[k] - 128.0, ss += (img[k] - 128.0) * (img[k] - 128.0);
    const double mean = s / D, sd = sqrt(ss / D - mean * mean);
    assert_true(fabs(mean) < 1.0);
    assert_true(fabs(sd - 0.05 * 255) < 1.0);
}

/* A dataset in memory: n grey or colour images with labels. */
static void mem_dataset(lt_dataset *d, uint8_t *pix, uint8_t *lab, int64_t n, int64_t C, int64_t H, int64_t W) {
    memset(d, 0, sizeof *d);
    d->height = H, d->width = W, d->channels = C, d->dim = C * H * W, d->n_classes = 10;
    for (int64_t i = 0; i < n; i++) {
        test_image(pix + i * d->dim, C, H, W);
        pix[i * d->dim] = (uint8_t)i;
        lab[i] = (uint8_t)(i % 10);
    }
    for (int s = 0; s < LT_SPLIT_COUNT; s++) d->split[s] = (lt_split){pix, lab, n, NULL, NULL};
}

static void pipeline_reproducible(void **state) {
    (void)state;
    enum { N = 40, C = 3, H = 16, W = 16, D = C * H * W };
    static uint8_t pix[N * D], lab[N];
    lt_dataset d;
    mem_dataset(&d, pix, lab, N, C, H, W);
    lt_augment a;
    assert_int_equal(lt_augment_parse("simclr", &a), LT_OK);
    assert_int_equal(lt_augment_check(&a, &d, "mem"), LT_OK);
    uint8_t x1[D], x2[D], x3[D];
    int changed_by_jitter = 0, grey = 0;
    for (int64_t i = 0; i < N; i++) {
        lt_augment_bytes_row(&a, pix + i * D, C, H, W, 7, 2, 0, i, x1);
        lt_augment_bytes_row(&a, pix + i * D, C, H, W, 7, 2, 0, i, x2);
        assert_memory_equal(x1, x2, D);                              /* same seed, epoch, view, index */
        lt_augment_bytes_row(&a, pix + i * D, C, H, W, 7, 2, 1, i, x3);
        assert_true(memcmp(x1, x3, D) != 0);                         /* the other view differs */
        lt_augment_bytes_row(&a, pix + i * D, C, H, W, 7, 3, 0, i, x3);
        assert_true(memcmp(x1, x3, D) != 0);                         /* so does the next epoch */
        int eq = 1;
        for (int k = 0; k < H * W; k++) eq &= x1[k] == x1[H * W + k] && x1[k] == x1[2 * H * W + k];
        grey += eq;
    }
    /* jitter alone: applied with probability 0.8 */
    lt_augment j = {.jitter = 1.0f};
    for (int64_t i = 0; i < 400; i++) {
        lt_augment_bytes_row(&j, pix, C, H, W, 11, 0, 0, i, x1);
        changed_by_jitter += memcmp(x1, pix, D) != 0;
    }
    assert_true(changed_by_jitter > 290 && changed_by_jitter < 350); /* 320 ± 3.5 sd */
    assert_true(grey >= 1 && grey <= 20);                              /* p 0.2 of 40 (test image is colour) */
    /* the views batch: shapes, labels, view 0 = the one-view batch, rows v·n + i */
    const int64_t idx[4] = {5, 1, 9, 3};
    static float xv[2 * 4 * D], x0[4 * D];
    int64_t y[4];
    lt_batch_opts bo = {LT_BINARIZE_NONE, 7, 2, LT_RANGE_UNIT, &a};
    lt_views_batch(&d, LT_SPLIT_TRAIN, idx, 4, &bo, 2, 0, xv, y);
    lt_dataset_batch_opts(&d, LT_SPLIT_TRAIN, idx, 4, &bo, x0, NULL);
    assert_memory_equal(xv, x0, sizeof x0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(y[i], lab[idx[i]]);
        lt_augment_bytes_row(&a, pix + idx[i] * D, C, H, W, 7, 2, 1, idx[i], x1);
        for (int k = 0; k < D; k++) assert_true(xv[(4 + i) * D + k] == x1[k] * (1.0f / 255.0f));
    }
    /* evaluation splits are left alone unless asked */
    lt_views_batch(&d, LT_SPLIT_VALID, idx, 4, &bo, 2, 0, xv, y);
    for (int k = 0; k < D; k++) assert_true(xv[k] == pix[5 * D + k] * (1.0f / 255.0f) && xv[4 * D + k] == xv[k]);
    /* parse: names round-trip; bad items are refused */
    char name[128];
    lt_augment_name(&a, name, sizeof name);
    assert_string_equal(name, "flip,rrc:0.08,jitter:0.5,grey:0.2");
    assert_int_equal(lt_augment_parse("simclr-grey,noise:0.1,rrc:0.3", &a), LT_OK);
    lt_augment_name(&a, name, sizeof name);
    assert_string_equal(name, "flip,rrc:0.3,jitter:0.5,blur:0.5,noise:0.1");
    const char *bad[] = {"rrc:0", "rrc:2", "jitter:-1", "noise", "flip,simclr", "blur:0.5,blur:0.2", "grey:x"};
    for (int i = 0; i < 7; i++) assert_int_equal(lt_augment_parse(bad[i], &a), LT_ERR_ARG);
    /* a float source cannot take the byte steps */
    lt_augment_parse("rrc", &a);
    d.split[LT_SPLIT_TEST].images = NULL;
    assert_int_equal(lt_augment_check(&a, &d, "mem"), LT_ERR_ARG);
}

/* simclr on 8×8 grey images: the loss of 2 views of 6 examples is finite and
 * near log(2n−1) at initialization, every parameter gets a gradient, features have the
 * encoder's width, and identical views give a lower loss than unrelated rows. */
static void simclr_model(void **state) {
    (void)state;
    json_t *cfg = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "height", 8, "width", 8, "dim", 64, "seed", 1,
                            "enc_width", 8, "enc_stages", 2, "enc_blocks", 1, "proj_dim", 16);
    lt_model *m = NULL;
    assert_int_equal(lt_model_create("simclr", cfg, &m), LT_OK);
    json_decref(cfg);
    assert_int_equal(m->vt->views, 2);
    assert_int_equal(m->vt->feature_size(m), 16);
    enum { N = 6, D = 64 };
    static float x[2 * N * D];
    lt_rng r;
    lt_rng_seed(&r, 9);
    lt_rng_fill_uniform(&r, x, N * D, 0, 1);
    lt_graph_reset(&G);
    G.training = 1;
    lt_batch b = {x, NULL, 2 * N, D, NULL};
    lt_tensor *loss = NULL;
    /* unrelated rows as the two views: near log(2n − 1), chance */
    lt_rng_fill_uniform(&r, x + N * D, N * D, 0, 1);
    assert_int_equal(m->vt->loss(m, &G, &b, &loss), LT_OK);
    const float chance = loss->data[0];
    assert_true(fabsf(chance - logf(2 * N - 1)) < 0.5f);
    lt_params_zero_grad(&m->params);
    assert_int_equal(lt_backward(&G, loss), LT_OK);
    for (int64_t i = 0; i < m->params.n; i++) {
        const lt_tensor *t = &m->params.items[i]->t;
        double s = 0;
        for (int64_t k = 0; k < lt_numel(t); k++) s += fabsf(t->grad[k]);
        assert_true(s > 0);
    }
    lt_graph_reset(&G);
    /* identical views: the positives are the most similar rows, the loss is lower */
    memcpy(x + N * D, x, sizeof(float) * N * D);
    assert_int_equal(m->vt->loss(m, &G, &b, &loss), LT_OK);
    assert_true(loss->data[0] < chance - 0.05f); /* at initialization all features are alike: 2.39 → 2.25 */
    lt_graph_reset(&G);
    G.training = 0;
    /* features: (n, 16), deterministic, no tape */
    float f1[N * 16], f2[N * 16];
    lt_batch fb = {x, NULL, N, D, NULL};
    assert_int_equal(m->vt->features(m, &G, &fb, f1), LT_OK);
    lt_graph_reset(&G);
    assert_int_equal(m->vt->features(m, &G, &fb, f2), LT_OK);
    assert_memory_equal(f1, f2, sizeof f1);
    lt_graph_reset(&G);
    /* the validation loss over views: whole batches only, the same views every call */
    {
        enum { NV = 40 };
        static uint8_t pix[NV * D], lab[NV];
        lt_dataset d;
        mem_dataset(&d, pix, lab, NV, 1, 8, 8);
        lt_augment a;
        assert_int_equal(lt_augment_parse("simclr-grey", &a), LT_OK);
        lt_eval_data ed = {&d, LT_SPLIT_VALID, LT_BINARIZE_NONE, 3, 16};
        lt_eval_result r1, r2;
        assert_int_equal(lt_evaluate_views_loss(m, &G, &ed, &a, &r1), LT_OK);
        assert_int_equal(lt_evaluate_views_loss(m, &G, &ed, &a, &r2), LT_OK);
        assert_int_equal(r1.examples, 32);
        assert_true(r1.nll_nats > 0 && r1.nll_nats < logf(31) + 0.5f && r1.nll_stderr > 0);
        assert_true(r1.nll_nats == r2.nll_nats);
        assert_int_equal(G.training, 0);
    }
    /* an odd number of rows is refused */
    lt_batch odd = {x, NULL, 5, D, NULL};
    assert_int_equal(m->vt->loss(m, &G, &odd, &loss), LT_ERR_ARG);
    lt_graph_reset(&G);
    lt_model_destroy(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nt_xent_numpy),  cmocka_unit_test(rrc_box_stats),       cmocka_unit_test(resize_and_colour),
        cmocka_unit_test(blur_and_noise), cmocka_unit_test(pipeline_reproducible), cmocka_unit_test(simclr_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
