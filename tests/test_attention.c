/* lt_attention against a naive double-precision reference (causal and not, several
 * row blocks, the parallel path), the same bits at 1 and 2 threads, and the KV-cache
 * decoding path: a sequence decoded token by token through lt_attention_step equals
 * lt_attention(causal) on the whole sequence; a full cache and a wrong shape are errors.
 * Also the transformer's fused residual, lt_linear_add, against lt_add(res, lt_linear(...)),
 * and layer norm's gamma/beta gradients (per-thread sums) against a double reference, at
 * sizes that take the parallel paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <omp.h>
#include <string.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "core/rng.h"
#include "ops/ops.h"

#include "graph_fixture.h"

/* qkv (B,T,3C) uniform in [-2,2] */
static lt_tensor *rand_qkv(uint64_t seed, int64_t B, int64_t T, int64_t C) {
    lt_tensor *t = lt_graph_new(&G, LT_F32, 3, (int64_t[]){B, T, 3 * C});
    assert_non_null(t);
    lt_rng r;
    lt_rng_seed(&r, seed);
    lt_rng_fill_uniform(&r, t->data, lt_numel(t), -2.0f, 2.0f);
    return t;
}

/* y (B,T,C) from the definition, in double */
static double ref_max_err(const lt_tensor *qkv, const lt_tensor *y, int H, int causal) {
    int64_t B = qkv->shape[0], T = qkv->shape[1], C = qkv->shape[2] / 3, Dh = C / H;
    double worst = 0, s[256]; /* T <= 256 */
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < T; i++) {
                const float *q = qkv->data + (b * T + i) * 3 * C + h * Dh;
                int64_t n = causal ? i + 1 : T;
                double mx = -INFINITY, sum = 0;
                for (int64_t j = 0; j < n; j++) {
                    const float *k = qkv->data + (b * T + j) * 3 * C + C + h * Dh;
                    s[j] = 0;
                    for (int64_t d = 0; d < Dh; d++) s[j] += (double)q[d] * k[d];
                    s[j] /= sqrt((double)Dh);
                    mx = s[j] > mx ? s[j] : mx;
                }
                for (int64_t j = 0; j < n; j++) sum += s[j] = exp(s[j] - mx);
                for (int64_t d = 0; d < Dh; d++) {
                    double o = 0;
                    for (int64_t j = 0; j < n; j++) o += s[j] / sum * qkv->data[(b * T + j) * 3 * C + 2 * C + h * Dh + d];
                    double e = fabs(o - y->data[(b * T + i) * C + h * Dh + d]);
                    worst = e > worst ? e : worst;
                }
            }
    return worst;
}

static void forward_matches_definition(void **state) {
    (void)state;
    /* (B, T, C, heads, causal): one block; 2 blocks + a partial one; the parallel path */
    const int64_t cases[][5] = {{2, 5, 6, 2, 0}, {2, 5, 6, 3, 1}, {1, 130, 8, 2, 1}, {4, 70, 16, 2, 0}, {4, 70, 16, 2, 1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int64_t *k = cases[c];
        lt_tensor *qkv = rand_qkv(10 + c, k[0], k[1], k[2]);
        lt_tensor *y = lt_attention(&G, qkv, (int)k[3], (int)k[4]);
        assert_non_null(y);
        assert_int_equal(y->ndim, 3);
        assert_int_equal(y->shape[2], k[2]);
        double e = ref_max_err(qkv, y, (int)k[3], (int)k[4]);
        if (e > 1e-5) fail_msg("case %zu: max abs error %g against the definition", c, e);
        lt_graph_reset(&G);
    }
}

static void same_bits_at_one_and_two_threads(void **state) {
    (void)state;
    int saved = omp_get_max_threads();
    float out[2][4 * 70 * 16], grad[2][4 * 70 * 48];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run + 1);
        lt_tensor *qkv = rand_qkv(3, 4, 70, 16);
        qkv->requires_grad = 1;
        lt_tensor *y = lt_attention(&G, qkv, 2, 1);
        assert_non_null(y);
        float *seed = lt_graph_alloc(&G, sizeof(float) * lt_numel(y));
        for (int64_t i = 0; i < lt_numel(y); i++) seed[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
        assert_int_equal(lt_backward_from(&G, y, seed), LT_OK);
        memcpy(out[run], y->data, sizeof out[run]);
        memcpy(grad[run], qkv->grad, sizeof grad[run]);
        lt_graph_reset(&G);
    }
    omp_set_num_threads(saved);
    assert_memory_equal(out[0], out[1], sizeof out[0]);
    assert_memory_equal(grad[0], grad[1], sizeof grad[0]);
}

static void bad_shapes_fail(void **state) {
    (void)state;
    lt_tensor *qkv = rand_qkv(1, 2, 4, 6); /* C = 6 */
    assert_null(lt_attention(&G, qkv, 4, 0));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    lt_graph_reset(&G);
    lt_tensor *flat = lt_graph_new(&G, LT_F32, 2, (int64_t[]){4, 9});
    assert_null(lt_attention(&G, flat, 1, 0));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    lt_graph_reset(&G);
}

/* Two layers' caches as a sampler uses them: per token, each layer's step. */
static void kv_cache_decoding_equals_whole_sequence(void **state) {
    (void)state;
    const int64_t B = 3, T = 70, C = 12;
    const int H = 3;
    lt_kv_cache cache;
    assert_int_equal(lt_kv_cache_init(&cache, B, T, C, H), LT_OK);
    for (int seq = 0; seq < 2; seq++) { /* the second sequence reuses the cache after a reset */
        lt_tensor *qkv = rand_qkv(40 + seq, B, T, C);
        lt_tensor *full = lt_attention(&G, qkv, H, 1);
        assert_non_null(full);
        lt_kv_cache_reset(&cache);
        double worst = 0;
        for (int64_t t = 0; t < T; t++) {
            lt_tensor *step = lt_graph_new(&G, LT_F32, 2, (int64_t[]){B, 3 * C});
            assert_non_null(step);
            for (int64_t b = 0; b < B; b++)
                memcpy(step->data + b * 3 * C, qkv->data + (b * T + t) * 3 * C, sizeof(float) * 3 * C);
            lt_tensor *o = lt_attention_step(&G, &cache, step);
            assert_non_null(o);
            assert_int_equal(cache.len, t + 1);
            for (int64_t b = 0; b < B; b++)
                for (int64_t c = 0; c < C; c++) {
                    double e = fabs(o->data[b * C + c] - full->data[(b * T + t) * C + c]);
                    worst = e > worst ? e : worst;
                }
        }
        if (worst > 1e-5) fail_msg("sequence %d: decoded output differs from lt_attention by %g", seq, worst);
        /* full: one more step is refused */
        lt_tensor *extra = lt_graph_zeros(&G, LT_F32, 2, (int64_t[]){B, 3 * C});
        assert_null(lt_attention_step(&G, &cache, extra));
        assert_int_equal(lt_graph_status(&G), LT_ERR_ARG);
        lt_graph_reset(&G);
    }
    lt_kv_cache_reset(&cache);
    lt_tensor *wrong = lt_graph_zeros(&G, LT_F32, 2, (int64_t[]){B, C});
    assert_null(lt_attention_step(&G, &cache, wrong));
    assert_int_equal(lt_graph_status(&G), LT_ERR_SHAPE);
    assert_int_equal(cache.len, 0);
    lt_graph_reset(&G);
    lt_kv_cache_free(&cache);
    assert_int_equal(lt_kv_cache_init(&cache, B, T, 10, 3), LT_ERR_ARG); /* 10 not divisible by 3 */
}

/* a leaf (rows, cols), or (cols) when rows is 0, uniform in [-1,1], that requires a gradient */
static lt_tensor *leaf(uint64_t seed, int64_t rows, int64_t cols) {
    lt_tensor *t = rows ? lt_graph_new(&G, LT_F32, 2, (int64_t[]){rows, cols}) : lt_graph_new(&G, LT_F32, 1, &cols);
    assert_non_null(t);
    lt_rng r;
    lt_rng_seed(&r, seed);
    lt_rng_fill_uniform(&r, t->data, lt_numel(t), -1.0f, 1.0f);
    t->requires_grad = 1;
    return t;
}

static void linear_add_equals_add_of_linear(void **state) {
    (void)state;
    const int64_t N = 1000, I = 64, O = 130; /* N·O above the parallel threshold */
    float *grads[2][4];
    lt_tensor *y[2];
    for (int fused = 0; fused < 2; fused++) {
        lt_tensor *x = leaf(1, N, I), *w = leaf(2, O, I), *b = leaf(3, 0, O);
        lt_tensor *r = leaf(4, N, O);
        y[fused] = fused ? lt_linear_add(&G, x, w, b, r) : lt_add(&G, r, lt_linear(&G, x, w, b));
        assert_non_null(y[fused]);
        assert_int_equal(lt_backward_from(&G, y[fused], r->data), LT_OK);
        lt_tensor *in[4] = {x, w, b, r};
        for (int i = 0; i < 4; i++) grads[fused][i] = in[i]->grad;
    }
    const int64_t n[4] = {N * I, O * I, O, N * O};
    for (int64_t i = 0; i < N * O; i++) assert_float_equal(y[0]->data[i], y[1]->data[i], 1e-5);
    for (int k = 0; k < 4; k++) {
        assert_non_null(grads[0][k]);
        assert_non_null(grads[1][k]);
        for (int64_t i = 0; i < n[k]; i++)
            assert_float_equal(grads[0][k][i], grads[1][k][i], 1e-4 * (1 + fabsf(grads[0][k][i])));
    }
    lt_graph_reset(&G);
}

static void layer_norm_affine_gradients_parallel(void **state) {
    (void)state;
    const int64_t R = 2000, C = 64; /* R·C above the parallel threshold */
    lt_tensor *x = leaf(5, R, C), *ga = leaf(6, 0, C), *be = leaf(7, 0, C), *dy = leaf(8, R, C);
    lt_tensor *y = lt_layer_norm(&G, x, ga, be, 1e-5f);
    assert_non_null(y);
    assert_int_equal(lt_backward_from(&G, y, dy->data), LT_OK);
    double dg[64] = {0}, db[64] = {0};
    for (int64_t r = 0; r < R; r++) {
        const float *xr = x->data + r * C;
        double m = 0, v = 0;
        for (int64_t c = 0; c < C; c++) m += xr[c] / (double)C;
        for (int64_t c = 0; c < C; c++) v += (xr[c] - m) * (xr[c] - m) / (double)C;
        for (int64_t c = 0; c < C; c++) {
            double xh = (xr[c] - m) / sqrt(v + 1e-5);
            assert_float_equal(y->data[r * C + c], xh * ga->data[c] + be->data[c], 1e-5);
            dg[c] += dy->data[r * C + c] * xh;
            db[c] += dy->data[r * C + c];
        }
    }
    for (int64_t c = 0; c < C; c++) {
        assert_float_equal(ga->grad[c], dg[c], 1e-3);
        assert_float_equal(be->grad[c], db[c], 1e-3);
    }
    lt_graph_reset(&G);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forward_matches_definition),
        cmocka_unit_test(same_bits_at_one_and_two_threads),
        cmocka_unit_test(bad_shapes_fail),
        cmocka_unit_test(kv_cache_decoding_equals_whole_sequence),
        cmocka_unit_test(linear_add_equals_add_of_linear),
        cmocka_unit_test(layer_norm_affine_gradients_parallel),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
