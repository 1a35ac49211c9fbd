/* The nn modules: parameter and buffer names (PyTorch's state_dict names) and shapes,
 * initialization (PyTorch's reset_parameters distributions), forward shapes, BatchNorm's
 * running statistics, the residual and causal properties, and declaration errors.
 * Values against PyTorch itself: tests/test_nn_torch.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#define NN_FIXTURE_SEED 7
#include "nn_fixture.h"
#include "test_util.h"

/* p holds exactly the names (NULL-terminated), in this order */
static void expect_names(const lt_params *p, const char *const *names) {
    int64_t i = 0;
    for (; names[i]; i++) {
        assert_true(i < p->n);
        assert_string_equal(p->items[i]->name, names[i]);
    }
    assert_int_equal(p->n, i);
}

static void expect_shape(const lt_tensor *t, int ndim, const int64_t *shape) {
    assert_non_null(t);
    assert_int_equal(t->ndim, ndim);
    for (int d = 0; d < ndim; d++) assert_int_equal(t->shape[d], shape[d]);
}

/* every value in [-b, b], not all equal, and the sample variance near b²/3 */
static void expect_uniform(const lt_tensor *t, float b) {
    int64_t n = lt_numel(t);
    double s = 0, ss = 0;
    for (int64_t i = 0; i < n; i++) {
        assert_true(fabsf(t->data[i]) <= b);
        s += t->data[i];
        ss += (double)t->data[i] * t->data[i];
    }
    double var = ss / n - (s / n) * (s / n);
    assert_true(var > 0.5 * b * b / 3 && var < 1.5 * b * b / 3);
}

static lt_tensor *rnd(int ndim, const int64_t *shape) {
    lt_tensor *t = lt_graph_new(&G, LT_F32, ndim, shape);
    assert_non_null(t);
    lt_rng_fill_uniform(&R, t->data, lt_numel(t), -1.0f, 1.0f);
    return t;
}

static void join_builds_dotted_names(void **state) {
    (void)state;
    char p[LT_NN_NAME_MAX];
    assert_int_equal(lt_nn_join(p, "encoder", "blocks.%d", 3), LT_OK);
    assert_string_equal(p, "encoder.blocks.3");
    assert_int_equal(lt_nn_join(p, "", "norm"), LT_OK);
    assert_string_equal(p, "norm");
    assert_int_equal(lt_nn_join(p, NULL, "%d", 0), LT_OK);
    assert_string_equal(p, "0");
    char longp[LT_NN_NAME_MAX];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    assert_int_equal(lt_nn_join(p, longp, "weight"), LT_ERR_ARG);
}

static void linear_names_init_and_forward(void **state) {
    (void)state;
    lt_nn_linear a, b;
    assert_int_equal(lt_nn_linear_declare(&a, &NN, "head.fc", 40, 30, 1), LT_OK);
    assert_int_equal(lt_nn_linear_declare(&b, &NN, "proj", 30, 5, 0), LT_OK);
    assert_int_equal(lt_nn_linear_declare(&b, &NN, "proj", 30, 5, 0), LT_ERR_ARG); /* duplicate name */
    assert_int_equal(lt_nn_linear_declare(&b, &NN, "bad", 0, 5, 0), LT_ERR_ARG);
    assert_int_equal(lt_nn_linear_declare(&b, &NN, "proj2", 30, 5, 0), LT_OK);
    finalize();
    expect_names(&P, (const char *[]){"head.fc.weight", "head.fc.bias", "proj.weight", "proj2.weight", NULL});
    expect_shape(a.weight, 2, (int64_t[]){30, 40});
    expect_shape(a.bias, 1, (int64_t[]){30});
    assert_null(b.bias);
    lt_nn_linear_reset(&a, &R);
    lt_nn_linear_reset(&b, &R);
    expect_uniform(a.weight, 1.0f / sqrtf(40.0f));
    expect_uniform(a.bias, 1.0f / sqrtf(40.0f));
    expect_uniform(b.weight, 1.0f / sqrtf(30.0f));
    /* (2,3,40) -> (2,3,30), row by row equal to the 2-D form */
    lt_tensor *x = rnd(3, (int64_t[]){2, 3, 40});
    lt_tensor *y = lt_nn_linear_forward(&G, &a, x);
    expect_shape(y, 3, (int64_t[]){2, 3, 30});
    lt_tensor *y2 = lt_nn_linear_forward(&G, &a, lt_reshape(&G, x, 2, (int64_t[]){6, 40}));
    assert_memory_equal(y->data, y2->data, sizeof(float) * 180);
    expect_shape(lt_nn_linear_forward(&G, &b, y), 3, (int64_t[]){2, 3, 5});
    assert_int_equal(lt_graph_status(&G), LT_OK);
}

static void conv_names_init_and_shapes(void **state) {
    (void)state;
    lt_nn_conv2d c;
    lt_nn_conv_transpose2d t;
    assert_int_equal(lt_nn_conv2d_declare(&c, &NN, "enc.conv", 3, 8, 4, 2, 1, 1), LT_OK);
    assert_int_equal(lt_nn_conv_transpose2d_declare(&t, &NN, "dec.up", 8, 2, 4, 2, 1, 1), LT_OK);
    assert_int_equal(lt_nn_conv2d_declare(&c, &NN, "x", 3, 8, 3, 0, 1, 1), LT_ERR_ARG); /* stride 0 */
    finalize();
    expect_names(&P, (const char *[]){"enc.conv.weight", "enc.conv.bias", "dec.up.weight", "dec.up.bias", NULL});
    expect_shape(c.weight, 4, (int64_t[]){8, 3, 4, 4});
    expect_shape(t.weight, 4, (int64_t[]){8, 2, 4, 4}); /* torch's (in, out, k, k) */
    lt_nn_conv2d_reset(&c, &R);
    lt_nn_conv_transpose2d_reset(&t, &R);
    expect_uniform(c.weight, 1.0f / sqrtf(3 * 16));
    expect_uniform(c.bias, 1.0f / sqrtf(3 * 16));
    expect_uniform(t.weight, 1.0f / sqrtf(2 * 16)); /* fan_in from the weight's dim 1 */
    lt_tensor *y = lt_nn_conv2d_forward(&G, &c, rnd(4, (int64_t[]){2, 3, 16, 12}));
    expect_shape(y, 4, (int64_t[]){2, 8, 8, 6});
    expect_shape(lt_nn_conv_transpose2d_forward(&G, &t, y), 4, (int64_t[]){2, 2, 16, 12});
}

static void norms_names_and_init(void **state) {
    (void)state;
    lt_nn_norm gn, ln, plain;
    assert_int_equal(lt_nn_group_norm_declare(&gn, &NN, "norm", 2, 6, 1e-6f, 1), LT_OK);
    assert_int_equal(lt_nn_layer_norm_declare(&ln, &NN, "ln_f", 5, 1e-5f, 1), LT_OK);
    assert_int_equal(lt_nn_layer_norm_declare(&plain, &NN, "ln_plain", 5, 1e-5f, 0), LT_OK);
    assert_int_equal(lt_nn_group_norm_declare(&plain, &NN, "bad", 4, 6, 1e-5f, 1), LT_ERR_ARG); /* 6 % 4 */
    finalize();
    expect_names(&P, (const char *[]){"norm.weight", "norm.bias", "ln_f.weight", "ln_f.bias", NULL});
    lt_rng_fill_uniform(&R, P.data, P.total, -1, 1);
    lt_nn_norm_reset(&gn);
    lt_nn_norm_reset(&ln);
    for (int i = 0; i < 6; i++) assert_true(gn.weight->data[i] == 1.0f && gn.bias->data[i] == 0.0f);
    lt_tensor *x = rnd(4, (int64_t[]){2, 6, 3, 3});
    lt_tensor *y = lt_nn_norm_forward(&G, &gn, x), *w = lt_group_norm(&G, x, 2, NULL, NULL, 1e-6f);
    assert_memory_equal(y->data, w->data, sizeof(float) * 108);
    expect_shape(lt_nn_norm_forward(&G, &ln, rnd(3, (int64_t[]){2, 4, 5})), 3, (int64_t[]){2, 4, 5});
    expect_shape(lt_nn_norm_forward(&G, &plain, rnd(2, (int64_t[]){4, 5})), 2, (int64_t[]){4, 5});
    assert_int_equal(lt_graph_status(&G), LT_OK);
    assert_null(lt_nn_norm_forward(&G, &plain, rnd(2, (int64_t[]){5, 4}))); /* width 4, not 5 */
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    lt_graph_reset(&G);
    assert_null(lt_nn_norm_forward(&G, &gn, rnd(4, (int64_t[]){2, 4, 3, 3}))); /* 4 channels, not 6 */
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    lt_graph_reset(&G);
}

/* Train mode: normalized by batch statistics, running stats move by momentum toward the
 * batch mean and unbiased variance, the count goes up; eval mode: running statistics. */
static void batch_norm_running_statistics(void **state) {
    (void)state;
    lt_nn_batch_norm bn;
    assert_int_equal(lt_nn_batch_norm_declare(&bn, &NN, "bn", 3, 1e-5f, 0.1f, 1), LT_OK);
    lt_nn no_buffers = {&P, NULL};
    lt_nn_batch_norm bad;
    assert_int_equal(lt_nn_batch_norm_declare(&bad, &no_buffers, "bn2", 3, 1e-5f, 0.1f, 1), LT_ERR_ARG);
    finalize();
    expect_names(&P, (const char *[]){"bn.weight", "bn.bias", NULL});
    expect_names(&Bf, (const char *[]){"bn.running_mean", "bn.running_var", "bn.num_batches_tracked", NULL});
    assert_int_equal(bn.num_batches_tracked->ndim, 0);
    lt_nn_batch_norm_reset(&bn);
    const int64_t N = 4, C = 3, S = 5;
    lt_tensor *x = rnd(4, (int64_t[]){N, C, 1, S});
    for (int64_t i = 0; i < lt_numel(x); i++) x->data[i] = x->data[i] * 2 + 0.5f; /* mean ≠ 0, var ≠ 1 */
    G.training = 1;
    for (int step = 1; step <= 2; step++) {
        float rm[3], rv[3];
        memcpy(rm, bn.running_mean->data, sizeof rm);
        memcpy(rv, bn.running_var->data, sizeof rv);
        lt_tensor *y = lt_nn_batch_norm_forward(&G, &bn, x);
        assert_non_null(y);
        for (int64_t c = 0; c < C; c++) {
            double s = 0, ss = 0, ys = 0, yss = 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t j = 0; j < S; j++) {
                    double v = x->data[(n * C + c) * S + j], w = y->data[(n * C + c) * S + j];
                    s += v; ss += v * v; ys += w; yss += w * w;
                }
            double m = s / (N * S), uvar = (ss - N * S * m * m) / (N * S - 1);
            assert_true(fabs(ys / (N * S)) < 1e-5 && fabs(yss / (N * S) - 1) < 1e-3);
            assert_float_equal(bn.running_mean->data[c], 0.9 * rm[c] + 0.1 * m, 1e-6);
            assert_float_equal(bn.running_var->data[c], 0.9 * rv[c] + 0.1 * uvar, 1e-5);
        }
        assert_float_equal(bn.num_batches_tracked->data[0], (float)step, 0);
    }
    G.training = 0;
    bn.weight->data[1] = 2.0f;
    bn.bias->data[1] = -1.0f;
    float count = bn.num_batches_tracked->data[0], rm1 = bn.running_mean->data[1];
    lt_tensor *y = lt_nn_batch_norm_forward(&G, &bn, x);
    int64_t i = (1 * C + 1) * S + 2; /* n 1, c 1, j 2 */
    float want = (x->data[i] - rm1) / sqrtf(bn.running_var->data[1] + 1e-5f) * 2.0f - 1.0f;
    assert_float_equal(y->data[i], want, 1e-5);
    assert_true(bn.num_batches_tracked->data[0] == count && bn.running_mean->data[1] == rm1); /* eval: unchanged */
    /* wrong channel count: a shape error, in both modes */
    assert_null(lt_nn_batch_norm_forward(&G, &bn, rnd(2, (int64_t[]){4, 2})));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    lt_graph_reset(&G);
    G.training = 1;
    assert_null(lt_nn_batch_norm_forward(&G, &bn, rnd(2, (int64_t[]){4, 2})));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    G.training = 0;
    lt_graph_reset(&G);
}

static void embedding_names_init_and_forward(void **state) {
    (void)state;
    lt_nn_embedding e;
    assert_int_equal(lt_nn_embedding_declare(&e, &NN, "tok_emb", 500, 16), LT_OK);
    finalize();
    expect_names(&P, (const char *[]){"tok_emb.weight", NULL});
    lt_nn_embedding_reset(&e, &R);
    double s = 0, ss = 0;
    for (int64_t i = 0; i < 8000; i++) { s += e.weight->data[i]; ss += (double)e.weight->data[i] * e.weight->data[i]; }
    assert_true(fabs(s / 8000) < 0.05 && fabs(ss / 8000 - 1) < 0.1); /* N(0, 1) */
    int64_t idx[6] = {0, 499, 3, 3, 7, 1};
    lt_tensor *it = lt_graph_wrap_i64(&G, idx, 2, (int64_t[]){2, 3});
    lt_tensor *y = lt_nn_embedding_forward(&G, &e, it);
    expect_shape(y, 3, (int64_t[]){2, 3, 16});
    assert_memory_equal(y->data + 16, e.weight->data + 499 * 16, sizeof(float) * 16);
}

static void res_blocks_names_and_residual(void **state) {
    (void)state;
    lt_nn_res_block rb;
    lt_nn_resnet_block same, wide;
    char p[LT_NN_NAME_MAX];
    assert_int_equal(lt_nn_join(p, "encoder", "blocks.%d", 0), LT_OK);
    assert_int_equal(lt_nn_res_block_declare(&rb, &NN, p, 8, 4), LT_OK);
    assert_int_equal(lt_nn_resnet_block_declare(&same, &NN, "mid.block_1", 8, 8, 4, 1e-6f, 0.0f), LT_OK);
    assert_int_equal(lt_nn_resnet_block_declare(&wide, &NN, "up.0.block.0", 8, 12, 4, 1e-6f, 0.0f), LT_OK);
    finalize();
    expect_names(&P, (const char *[]){"encoder.blocks.0.conv1.weight", "encoder.blocks.0.conv1.bias",
                                      "encoder.blocks.0.conv2.weight", "encoder.blocks.0.conv2.bias",
                                      "mid.block_1.norm1.weight", "mid.block_1.norm1.bias", "mid.block_1.conv1.weight",
                                      "mid.block_1.conv1.bias", "mid.block_1.norm2.weight", "mid.block_1.norm2.bias",
                                      "mid.block_1.conv2.weight", "mid.block_1.conv2.bias", "up.0.block.0.norm1.weight",
                                      "up.0.block.0.norm1.bias", "up.0.block.0.conv1.weight", "up.0.block.0.conv1.bias",
                                      "up.0.block.0.norm2.weight", "up.0.block.0.norm2.bias", "up.0.block.0.conv2.weight",
                                      "up.0.block.0.conv2.bias", "up.0.block.0.nin_shortcut.weight",
                                      "up.0.block.0.nin_shortcut.bias", NULL});
    expect_shape(rb.conv1.weight, 4, (int64_t[]){4, 8, 3, 3});
    expect_shape(rb.conv2.weight, 4, (int64_t[]){8, 4, 1, 1});
    assert_null(same.nin_shortcut.weight);
    lt_nn_res_block_reset(&rb, &R);
    lt_nn_resnet_block_reset(&same, &R);
    lt_nn_resnet_block_reset(&wide, &R);
    lt_tensor *x = rnd(4, (int64_t[]){2, 8, 6, 6});
    lt_tensor *y = lt_nn_res_block_forward(&G, &rb, x);
    expect_shape(y, 4, (int64_t[]){2, 8, 6, 6});
    expect_shape(lt_nn_resnet_block_forward(&G, &same, x), 4, (int64_t[]){2, 8, 6, 6});
    expect_shape(lt_nn_resnet_block_forward(&G, &wide, x), 4, (int64_t[]){2, 12, 6, 6});
    /* the last conv zeroed: both kinds of block are the identity (no shortcut conv) */
    memset(rb.conv2.weight->data, 0, sizeof(float) * 32);
    memset(rb.conv2.bias->data, 0, sizeof(float) * 8);
    memset(same.conv2.weight->data, 0, sizeof(float) * 8 * 8 * 9);
    memset(same.conv2.bias->data, 0, sizeof(float) * 8);
    assert_memory_equal(lt_nn_res_block_forward(&G, &rb, x)->data, x->data, sizeof(float) * 576);
    assert_memory_equal(lt_nn_resnet_block_forward(&G, &same, x)->data, x->data, sizeof(float) * 576);
    assert_int_equal(lt_graph_status(&G), LT_OK);
}

static void attn_block_names_and_residual(void **state) {
    (void)state;
    lt_nn_attn_block ab;
    assert_int_equal(lt_nn_attn_block_declare(&ab, &NN, "mid.attn_1", 8, 4, 1e-6f), LT_OK);
    finalize();
    expect_names(&P, (const char *[]){"mid.attn_1.norm.weight", "mid.attn_1.norm.bias", "mid.attn_1.q.weight",
                                      "mid.attn_1.q.bias", "mid.attn_1.k.weight", "mid.attn_1.k.bias",
                                      "mid.attn_1.v.weight", "mid.attn_1.v.bias", "mid.attn_1.proj_out.weight",
                                      "mid.attn_1.proj_out.bias", NULL});
    expect_shape(ab.q.weight, 4, (int64_t[]){8, 8, 1, 1});
    lt_nn_attn_block_reset(&ab, &R);
    lt_tensor *x = rnd(4, (int64_t[]){2, 8, 3, 5});
    lt_tensor *y = lt_nn_attn_block_forward(&G, &ab, x);
    expect_shape(y, 4, (int64_t[]){2, 8, 3, 5});
    int differs = 0;
    for (int i = 0; i < 240; i++) differs |= y->data[i] != x->data[i];
    assert_true(differs);
    memset(ab.proj_out.weight->data, 0, sizeof(float) * 64); /* no output projection: the identity */
    memset(ab.proj_out.bias->data, 0, sizeof(float) * 8);
    assert_memory_equal(lt_nn_attn_block_forward(&G, &ab, x)->data, x->data, sizeof(float) * 240);
    assert_null(lt_nn_attn_block_forward(&G, &ab, rnd(3, (int64_t[]){2, 8, 15})));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    lt_graph_reset(&G);
}

static void resample_and_mlp(void **state) {
    (void)state;
    lt_nn_resample down, down3, up;
    lt_nn_mlp mlp;
    assert_int_equal(lt_nn_downsample_declare(&down, &NN, "down.0", 3, 8, 4), LT_OK);
    assert_int_equal(lt_nn_downsample_declare(&down3, &NN, "down.1", 8, 8, 3), LT_OK);
    assert_int_equal(lt_nn_upsample_declare(&up, &NN, "up.0.upsample", 8, 4), LT_OK);
    assert_int_equal(lt_nn_mlp_declare(&mlp, &NN, "projector", (int64_t[]){16, 32, 32, 4}, 3, LT_NN_RELU), LT_OK);
    finalize();
    expect_names(&P, (const char *[]){"down.0.conv.weight", "down.0.conv.bias", "down.1.conv.weight", "down.1.conv.bias",
                                      "up.0.upsample.conv.weight", "up.0.upsample.conv.bias", "projector.0.weight",
                                      "projector.0.bias", "projector.2.weight", "projector.2.bias",
                                      "projector.4.weight", "projector.4.bias", NULL});
    lt_nn_resample_reset(&down, &R);
    lt_nn_resample_reset(&down3, &R);
    lt_nn_resample_reset(&up, &R);
    lt_nn_mlp_reset(&mlp, &R);
    lt_tensor *h = lt_nn_resample_forward(&G, &down, rnd(4, (int64_t[]){2, 3, 16, 16}));
    expect_shape(h, 4, (int64_t[]){2, 8, 8, 8});
    h = lt_nn_resample_forward(&G, &down3, h);
    expect_shape(h, 4, (int64_t[]){2, 8, 4, 4});
    expect_shape(lt_nn_resample_forward(&G, &up, h), 4, (int64_t[]){2, 4, 8, 8});
    lt_tensor *x = rnd(2, (int64_t[]){5, 16});
    lt_tensor *y = lt_nn_mlp_forward(&G, &mlp, x);
    expect_shape(y, 2, (int64_t[]){5, 4});
    lt_tensor *z = lt_nn_linear_forward(&G, &mlp.layer[2],
                                        lt_relu(&G, lt_nn_linear_forward(&G, &mlp.layer[1],
                                                                         lt_relu(&G, lt_nn_linear_forward(&G, &mlp.layer[0], x)))));
    assert_memory_equal(y->data, z->data, sizeof(float) * 20);
}

/* y at position t of a causal layer depends on x at positions <= t only; gradients say so */
static void expect_causal(lt_tensor *(*fwd)(lt_graph *, const void *, lt_tensor *), const void *m, int64_t B,
                          int64_t T, int64_t C, int causal) {
    lt_tensor *x = rnd(3, (int64_t[]){B, T, C});
    x->requires_grad = 1;
    x->grad = lt_graph_zeros(&G, LT_F32, 3, x->shape)->data;
    lt_tensor *y = fwd(&G, m, x);
    expect_shape(y, 3, (int64_t[]){B, T, C});
    int64_t t0 = 2; /* seed: d(Σ y[:, t0, :]) */
    lt_tensor *seed = lt_graph_zeros(&G, LT_F32, 3, y->shape);
    for (int64_t b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++) seed->data[(b * T + t0) * C + c] = 1.0f;
    assert_int_equal(lt_backward_from(&G, y, seed->data), LT_OK);
    double later = 0, earlier = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t c = 0; c < C; c++) {
                double v = fabs(x->grad[(b * T + t) * C + c]);
                if (t > t0) later += v;
                else if (t < t0) earlier += v;
            }
    assert_true(earlier > 0);
    if (causal) assert_true(later == 0);
    else assert_true(later > 0);
}

static lt_tensor *mha_fwd_causal(lt_graph *g, const void *m, lt_tensor *x) { return lt_nn_mha_forward(g, m, x, 1); }
static lt_tensor *mha_fwd_full(lt_graph *g, const void *m, lt_tensor *x) { return lt_nn_mha_forward(g, m, x, 0); }
static lt_tensor *block_fwd(lt_graph *g, const void *m, lt_tensor *x) {
    return lt_nn_transformer_block_forward(g, m, x);
}

static void attention_names_and_causality(void **state) {
    (void)state;
    lt_nn_mha mha;
    lt_nn_transformer_block blk, full;
    assert_int_equal(lt_nn_mha_declare(&mha, &NN, "attn", 12, 3), LT_OK);
    assert_int_equal(lt_nn_mha_declare(&mha, &NN, "bad", 12, 5), LT_ERR_ARG); /* 12 % 5 */
    assert_int_equal(lt_nn_transformer_block_declare(&blk, &NN, "layers.0", 12, 3, 48, 0.0f, 1), LT_OK);
    assert_int_equal(lt_nn_transformer_block_declare(&full, &NN, "layers.1", 12, 2, 24, 0.0f, 0), LT_OK);
    finalize();
    const char *names[] = {"attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight", "attn.out_proj.bias",
                           "layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
                           "layers.0.self_attn.out_proj.weight", "layers.0.self_attn.out_proj.bias",
                           "layers.0.linear1.weight", "layers.0.linear1.bias", "layers.0.linear2.weight",
                           "layers.0.linear2.bias", "layers.0.norm1.weight", "layers.0.norm1.bias",
                           "layers.0.norm2.weight", "layers.0.norm2.bias"};
    for (int i = 0; i < 16; i++) assert_string_equal(P.items[i]->name, names[i]);
    assert_int_equal(P.n, 4 + 12 + 12);
    expect_shape(mha.in_proj_weight, 2, (int64_t[]){36, 12});
    expect_shape(blk.linear1.weight, 2, (int64_t[]){48, 12});
    lt_nn_mha_reset(&mha, &R);
    lt_nn_transformer_block_reset(&blk, &R);
    lt_nn_transformer_block_reset(&full, &R);
    expect_uniform(mha.in_proj_weight, sqrtf(6.0f / 48.0f));
    for (int i = 0; i < 36; i++) assert_true(mha.in_proj_bias->data[i] == 0.0f);
    for (int i = 0; i < 12; i++) assert_true(mha.out_proj.bias->data[i] == 0.0f);
    expect_causal(mha_fwd_causal, &mha, 2, 5, 12, 1);
    lt_graph_reset(&G);
    expect_causal(mha_fwd_full, &mha, 2, 5, 12, 0);
    lt_graph_reset(&G);
    expect_causal(block_fwd, &blk, 2, 6, 12, 1);
    lt_graph_reset(&G);
    expect_causal(block_fwd, &full, 1, 4, 12, 0);
    lt_graph_reset(&G);
    assert_null(lt_nn_mha_forward(&G, &mha, rnd(3, (int64_t[]){2, 5, 8}), 0));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    lt_graph_reset(&G);
}

/* Decoding position by position with a KV cache gives the causal forward's rows. */
static void block_steps_match_causal_forward(void **state) {
    (void)state;
    lt_nn_transformer_block blk[2];
    assert_int_equal(lt_nn_transformer_block_declare(&blk[0], &NN, "h.0", 12, 3, 24, 0.0f, 1), LT_OK);
    assert_int_equal(lt_nn_transformer_block_declare(&blk[1], &NN, "h.1", 12, 3, 24, 0.0f, 1), LT_OK);
    finalize();
    lt_nn_transformer_block_reset(&blk[0], &R);
    lt_nn_transformer_block_reset(&blk[1], &R);
    lt_rng_fill_uniform(&R, blk[1].self_attn.in_proj_bias->data, 36, -0.5f, 0.5f);
    const int64_t B = 2, T = 6, C = 12;
    lt_graph_set_grad(&G, 0);
    lt_tensor *x = rnd(3, (int64_t[]){B, T, C});
    lt_tensor *y = lt_nn_transformer_block_forward(&G, &blk[1], lt_nn_transformer_block_forward(&G, &blk[0], x));
    assert_non_null(y);
    lt_kv_cache cache[2];
    assert_int_equal(lt_kv_cache_init(&cache[0], B, T, C, 3), LT_OK);
    assert_int_equal(lt_kv_cache_init(&cache[1], B, T, C, 3), LT_OK);
    for (int64_t t = 0; t < T; t++) {
        lt_tensor *xt = lt_graph_new(&G, LT_F32, 2, (int64_t[]){B, C});
        for (int64_t b = 0; b < B; b++) memcpy(xt->data + b * C, x->data + (b * T + t) * C, sizeof(float) * C);
        lt_tensor *yt = lt_nn_transformer_block_step(&G, &blk[1], &cache[1],
                                                     lt_nn_transformer_block_step(&G, &blk[0], &cache[0], xt));
        assert_non_null(yt);
        for (int64_t b = 0; b < B; b++)
            for (int64_t c = 0; c < C; c++) assert_float_equal(yt->data[b * C + c], y->data[(b * T + t) * C + c], 1e-5);
    }
    /* a cache of another width is a shape error */
    lt_kv_cache wrong;
    assert_int_equal(lt_kv_cache_init(&wrong, B, T, 24, 3), LT_OK);
    assert_null(lt_nn_mha_step(&G, &blk[0].self_attn, &wrong, rnd(2, (int64_t[]){B, C})));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    lt_kv_cache_free(&wrong);
    lt_kv_cache_free(&cache[0]);
    lt_kv_cache_free(&cache[1]);
    lt_graph_reset(&G);
    lt_graph_set_grad(&G, 1);
}

/* orthogonal init: W Wᵀ = gain² I (wide) or Wᵀ W = gain² I (tall, square), reproducible from
 * the seed, different across seeds; a non-matrix is refused */
static void orthogonal_init_is_orthonormal(void **state) {
    (void)state;
    const int64_t shapes[3][2] = {{3, 7}, {9, 4}, {5, 5}};
    for (int c = 0; c < 3; c++) {
        const int64_t r = shapes[c][0], k = shapes[c][1];
        lt_tensor *w = lt_graph_new(&G, LT_F32, 2, shapes[c]), *w2 = lt_graph_new(&G, LT_F32, 2, shapes[c]);
        assert_non_null(w);
        assert_non_null(w2);
        lt_rng a, b;
        lt_rng_seed(&a, 11);
        lt_rng_seed(&b, 11);
        assert_int_equal(lt_nn_init_orthogonal(&a, w, 2.0f), LT_OK);
        assert_int_equal(lt_nn_init_orthogonal(&b, w2, 2.0f), LT_OK);
        assert_memory_equal(w->data, w2->data, sizeof(float) * (size_t)(r * k));
        assert_true(test_orthonormal_error(w->data, r, k, 4.0) < 1e-4);
        lt_rng_seed(&b, 12);
        assert_int_equal(lt_nn_init_orthogonal(&b, w2, 2.0f), LT_OK);
        assert_memory_not_equal(w->data, w2->data, sizeof(float) * (size_t)(r * k));
    }
    lt_tensor *v = lt_graph_new(&G, LT_F32, 1, (int64_t[]){4});
    assert_int_equal(lt_nn_init_orthogonal(&R, v, 1.0f), LT_ERR_ARG);
    lt_graph_reset(&G);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(join_builds_dotted_names),
        cmocka_unit_test_setup_teardown(linear_names_init_and_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(orthogonal_init_is_orthonormal, setup, teardown),
        cmocka_unit_test_setup_teardown(conv_names_init_and_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(norms_names_and_init, setup, teardown),
        cmocka_unit_test_setup_teardown(batch_norm_running_statistics, setup, teardown),
        cmocka_unit_test_setup_teardown(embedding_names_init_and_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(res_blocks_names_and_residual, setup, teardown),
        cmocka_unit_test_setup_teardown(attn_block_names_and_residual, setup, teardown),
        cmocka_unit_test_setup_teardown(resample_and_mlp, setup, teardown),
        cmocka_unit_test_setup_teardown(attention_names_and_causality, setup, teardown),
        cmocka_unit_test_setup_teardown(block_steps_match_causal_forward, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
