/* The perceptual distance (nn/perceptual.c): 0 for identical images, positive and growing
 * with a perturbation, finite-difference gradients with respect to both images (and to the
 * taps directly), and no gradient into a frozen encoder's parameters. The encoder here is a
 * small stand-in conv stack (smooth activations, so finite differences see no kinks). Then the
 * real thing: a frozen encoder loaded from a run directory (models/frozen_encoder.h) equals
 * the trained model's encoder, stays frozen, and its distance behaves as above, gradchecked
 * through the ResNet; bad runs are errors naming the file and tensor. */
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
#include "models/frozen_encoder.h"
#include "models/model.h"
#include "train/rundir.h"
#include "test_util.h"

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

/* RUN/config.json and RUN/checkpoints/last.safetensors of a small untrained mae whose BatchNorm
 * buffers are moved off their defaults (so that copying them matters); *out the model. */
static void write_run(const char *run, const char *model_config, lt_model **out) {
    json_error_t e;
    json_t *mc = json_loads(model_config, 0, &e);
    assert_non_null(mc);
    lt_model *m = NULL;
    assert_int_equal(lt_model_create("mae", mc, &m), LT_OK);
    lt_rng r;
    lt_rng_seed(&r, 8);
    for (int64_t i = 0; i < m->buffers.n; i++) { /* running means and variances off 0 and 1 */
        lt_param *q = m->buffers.items[i];
        if (strstr(q->name, "running_mean")) lt_rng_fill_uniform(&r, q->t.data, lt_numel(&q->t), -0.1f, 0.1f);
        if (strstr(q->name, "running_var")) lt_rng_fill_uniform(&r, q->t.data, lt_numel(&q->t), 0.5f, 1.5f);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/checkpoints", run);
    assert_int_equal(lt_run_mkdir(path), LT_OK);
    snprintf(path, sizeof path, "%s/checkpoints/last.safetensors", run);
    assert_int_equal(lt_checkpoint_save(path, m, NULL, NULL, NULL), LT_OK);
    json_t *cfg = json_pack("{s:s, s:o}", "model", "mae", "model_config", mc);
    snprintf(path, sizeof path, "%s/config.json", run);
    assert_int_equal(lt_run_write_json(path, cfg), LT_OK);
    json_decref(cfg);
    *out = m;
}

static const char *SMALL = "{\"height\": 8, \"width\": 8, \"channels\": 3, \"enc_width\": 8, \"stages\": 2, "
                           "\"blocks\": 1, \"patch\": 2, \"seed\": 3}";

static lt_frozen_encoder *FE; /* for fe_dist */

static lt_tensor *fe_dist(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    return lt_mul_scalar(g, lt_frozen_encoder_distance(g, FE, in[0], in[1], LT_MODEL_RANGE_SIGNED), 1000.0f);
}

static void frozen_encoder_from_a_run(void **state) {
    (void)state;
    char dir[256];
    assert_int_equal(test_tmpdir(dir, sizeof dir, "perceptual"), 0);
    lt_model *m;
    write_run(dir, SMALL, &m);
    lt_frozen_encoder *fe;
    lt_status st = lt_frozen_encoder_open(dir, &fe);
    if (st) print_message("%s\n", lt_error_message());
    assert_int_equal(st, LT_OK);
    assert_string_equal(fe->model, "mae");
    assert_non_null(strstr(fe->path, "checkpoints/last.safetensors"));
    assert_true(fe->channels == 3 && fe->height == 8 && fe->width == 8 && fe->range == LT_MODEL_RANGE_SIGNED);
    for (int64_t i = 0; i < fe->params.n; i++) assert_int_equal(fe->params.items[i]->t.requires_grad, 0);
    /* its pooled output is the model's features (eval mode), to the bit */
    enum { N = 4, D = 192 };
    float x[N * D], fm[N * 16];
    lt_rng_fill_uniform(&R, x, N * D, -1, 1);
    lt_batch b = {x, NULL, N, D, NULL};
    assert_int_equal(m->vt->features(m, &G, &b, fm), LT_OK);
    lt_graph_reset(&G);
    lt_tensor xt = lt_tensor_wrap(x, 4, (int64_t[]){N, 3, 8, 8});
    lt_tensor *h = lt_nn_resnet_forward(&G, &fe->enc, &xt, NULL);
    assert_non_null(h);
    assert_memory_equal(h->data, fm, sizeof fm);
    lt_graph_reset(&G);
    /* the distance: 0 for identical images, growing with noise, the same from either range */
    float y[N * D], noise[N * D];
    lt_rng_fill_normal(&R, noise, N * D, 0, 1);
    lt_tensor yt = lt_tensor_wrap(y, 4, (int64_t[]){N, 3, 8, 8});
    double prev = -1;
    const float scales[] = {0, 0.02f, 0.1f, 0.5f};
    for (int s = 0; s < 4; s++) {
        for (int64_t e = 0; e < N * D; e++) y[e] = x[e] + scales[s] * noise[e];
        lt_tensor *d = lt_frozen_encoder_distance(&G, fe, &xt, &yt, LT_MODEL_RANGE_SIGNED);
        assert_non_null(d);
        print_message("noise %.2f: d %.4g\n", (double)scales[s], (double)d->data[0]);
        if (s == 0) assert_true(d->data[0] == 0.0f && d->data[N - 1] == 0.0f);
        else assert_true(d->data[0] > prev);
        prev = d->data[0];
        lt_graph_reset(&G);
    }
    float xu[N * D], yu[N * D]; /* the same images in [0, 1] */
    for (int64_t e = 0; e < N * D; e++) xu[e] = (x[e] + 1) / 2, yu[e] = (y[e] + 1) / 2;
    lt_tensor xut = lt_tensor_wrap(xu, 4, (int64_t[]){N, 3, 8, 8}), yut = lt_tensor_wrap(yu, 4, (int64_t[]){N, 3, 8, 8});
    lt_tensor *du = lt_frozen_encoder_distance(&G, fe, &xut, &yut, LT_MODEL_RANGE_UNIT);
    assert_non_null(du);
    assert_true(fabs(du->data[0] - prev) < 1e-5 * prev + 1e-7);
    lt_graph_reset(&G);
    /* gradients: finite differences through the ResNet (ReLU kinks are rare at this step), and
     * nothing into the encoder */
    FE = fe;
    lt_gc_pool p = {0};
    lt_tensor *in[2] = {lt_gc_pool_f32(&p, &R, 4, (int64_t[]){1, 3, 8, 8}, -1, 1, 0),
                        lt_gc_pool_f32(&p, &R, 4, (int64_t[]){1, 3, 8, 8}, -1, 1, 0)};
    lt_gc_result res;
    lt_gc_opts o = {1e-3, 5e-4, 2e-2}; /* float32 differences of ~1e3·d: noise ~1e-4 */
    assert_int_equal(lt_gradcheck(fe_dist, NULL, 2, in, &o, &R, &res), LT_OK);
    print_message("frozen encoder gradcheck: %lld checked, %lld failed, max abs err %.3g%s%s\n", (long long)res.n_checked,
                  (long long)res.n_failed, res.max_abs_err, res.n_failed ? ": " : "", res.worst);
    assert_true(res.n_failed <= res.n_checked / 100); /* at most 1 % of the elements cross a kink */
    float gmax = 0;
    for (int64_t e = 0; e < lt_numel(in[0]); e++) gmax = fmaxf(gmax, fabsf(in[0]->grad[e]));
    print_message("largest gradient %.3g\n", (double)gmax);
    assert_true(gmax > 0.05f);
    for (int64_t e = 0; e < fe->params.total; e++) assert_true(fe->params.grad[e] == 0.0f);
    lt_gc_pool_free(&p);
    lt_frozen_encoder_close(fe);
    lt_model_destroy(m);
    assert_int_equal(test_rmtree(dir), 0);
}

static void frozen_encoder_errors(void **state) {
    (void)state;
    char dir[256], path[600];
    assert_int_equal(test_tmpdir(dir, sizeof dir, "perceptual"), 0);
    lt_frozen_encoder *fe = (lt_frozen_encoder *)1;
    assert_int_equal(lt_frozen_encoder_open(dir, &fe), LT_ERR_ARG); /* no config.json */
    assert_null(fe);
    assert_non_null(strstr(lt_error_message(), "config.json"));
    lt_model *m;
    write_run(dir, SMALL, &m);
    lt_model_destroy(m);
    /* a checkpoint of another width: the first tensor's shape is wrong */
    char other[256];
    assert_int_equal(test_tmpdir(other, sizeof other, "perceptual"), 0);
    write_run(other, "{\"height\": 8, \"width\": 8, \"channels\": 3, \"enc_width\": 16, \"stages\": 2, "
              "\"blocks\": 1, \"patch\": 2}", &m);
    lt_model_destroy(m);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cp %s/checkpoints/last.safetensors %s/checkpoints/best.safetensors", other, dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(lt_frozen_encoder_open(dir, &fe), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "best.safetensors"));
    assert_non_null(strstr(lt_error_message(), "param.encoder.conv1.weight"));
    /* a run of a model without an encoder */
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"model\": \"vae\", \"model_config\": {\"dim\": 4}}", f);
    fclose(f);
    assert_int_equal(lt_frozen_encoder_open(dir, &fe), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "no self-supervised encoder"));
    assert_int_equal(test_rmtree(dir), 0);
    assert_int_equal(test_rmtree(other), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(zero_for_identical_and_growing, setup, teardown),
        cmocka_unit_test_setup_teardown(gradcheck_images, setup, teardown),
        cmocka_unit_test_setup_teardown(gradcheck_taps, setup, teardown),
        cmocka_unit_test_setup_teardown(shapes_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(frozen_encoder_from_a_run, setup, teardown),
        cmocka_unit_test_setup_teardown(frozen_encoder_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
