/* The autoregressive Bernoulli heads, the conditioned MADE (nn/made_head.c) and the
 * conditioned NADE (nn/nade_head.c), each: logit d depends on x_<d and the context only
 * (perturbation) and does depend on each (else the masks would be too strict); the context
 * weights' gradient agrees with finite differences (NADE's W, V, b and a_0 are the op
 * lt_nade's, gradchecked in cases_nade.c); sampling replays to the teacher-forced logits; in
 * the VQ-VAE (--decoder made, nade) decode draws from one fixed stream, so only the codes tell
 * two decodes apart. MADE's masked weights get no gradient. The frozen trunk's memo
 * (models/vq_trunk.c, --trunk-from) returns what was stored for each image. */
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
#include "models/vq_trunk.h"

enum { D = 13, H = 9, CC = 4, N = 3 };

typedef struct ar_head {
    lt_nn_made_head made;
    lt_nn_nade_head nade;
} ar_head;

/* both heads with every parameter random (made's reset zeroes Wout, bout and A; nade's
 * leaves b and c zero) */
static void random_heads(ar_head *h) {
    assert_int_equal(lt_nn_made_head_declare(&h->made, &NN, "made", D, H, CC), LT_OK);
    assert_int_equal(lt_nn_nade_head_declare(&h->nade, &NN, "nade", D, H, CC), LT_OK);
    finalize();
    lt_nn_made_head_reset(&h->made, &R);
    lt_nn_nade_head_reset(&h->nade, &R);
    assert_float_equal(h->made.A->data[D], 0, 0);
    assert_float_equal(h->nade.c->data[0], 0, 0);
    assert_true(fabsf(h->nade.W->data[0]) < 0.1f && h->nade.W->data[0] != 0.0f);
    lt_rng_fill_uniform(&R, P.data, P.total, -1, 1);
}

static lt_tensor *head_forward(const ar_head *h, int nade, lt_tensor *x, lt_tensor *c) {
    return nade ? lt_nn_nade_head_forward(&G, &h->nade, x, c) : lt_nn_made_head_forward(&G, &h->made, x, c);
}

/* logits (N,D) of x (N,D), c (N,CC), copied out */
static void logits_of(const ar_head *h, int nade, const float *x, const float *c, float *out) {
    lt_graph_reset(&G);
    lt_tensor *lx = lt_graph_wrap(&G, (float *)x, 2, (int64_t[]){N, D}), *lc = lt_graph_wrap(&G, (float *)c, 2, (int64_t[]){N, CC});
    lt_tensor *y = head_forward(h, nade, lx, lc);
    assert_int_equal(lt_graph_status(&G), LT_OK);
    memcpy(out, y->data, sizeof(float) * N * D);
}

/* random x (N,D) binary, c (N,CC), U (N,D); the gradients of Σ U ⊙ logits into the params */
static void backward_random(const ar_head *h, int nade, float *x, float *c, float *U) {
    for (int i = 0; i < N * D; i++) x[i] = lt_rng_uniform(&R) < 0.5f;
    lt_rng_fill_uniform(&R, c, N * CC, -1, 1);
    lt_rng_fill_uniform(&R, U, N * D, -1, 1);
    lt_params_zero_grad(&P);
    G.training = 1;
    lt_graph_reset(&G);
    lt_tensor *y = head_forward(h, nade, lt_graph_wrap(&G, x, 2, (int64_t[]){N, D}), lt_graph_wrap(&G, c, 2, (int64_t[]){N, CC}));
    assert_int_equal(lt_backward_from(&G, y, U), LT_OK);
}

static void autoregressive_by_perturbation(void **state) {
    (void)state;
    ar_head h;
    random_heads(&h);
    for (int nade = 0; nade < 2; nade++) {
        float x[N * D], c[N * CC], y0[N * D], x2[N * D], y1[N * D], c2[N * CC];
        for (int i = 0; i < N * D; i++) x[i] = lt_rng_uniform(&R) < 0.5f;
        lt_rng_fill_uniform(&R, c, N * CC, -1, 1);
        logits_of(&h, nade, x, c, y0);
        for (int d = 0; d < D; d++) {
            memcpy(x2, x, sizeof x); /* flip every pixel >= d: logits <= d unchanged */
            for (int n = 0; n < N; n++)
                for (int j = d; j < D; j++) x2[n * D + j] = 1 - x2[n * D + j];
            logits_of(&h, nade, x2, c, y1);
            for (int n = 0; n < N; n++)
                for (int j = 0; j <= d; j++) assert_float_equal(y1[n * D + j], y0[n * D + j], 1e-6);
            if (d == 0) continue;
            memcpy(x2, x, sizeof x); /* flip x_{d-1}: logit d moves (made: the direct connection alone sees it) */
            for (int n = 0; n < N; n++) x2[n * D + d - 1] = 1 - x2[n * D + d - 1];
            logits_of(&h, nade, x2, c, y1);
            for (int n = 0; n < N; n++) assert_true(fabsf(y1[n * D + d] - y0[n * D + d]) > 1e-5f);
        }
        memcpy(c2, c, sizeof c);
        for (int i = 0; i < N * CC; i++) c2[i] += 0.5f;
        logits_of(&h, nade, x, c2, y1);
        /* made: through relu some units may stay off, and logit 0 is bout_0 alone (a caller adds
         * its own); nade: the context sets a_0, so it moves every logit, the first pixel's too */
        int moved = 0;
        for (int n = 0; n < N; n++)
            for (int d = nade ? 0 : 1; d < D; d++) moved += fabsf(y1[n * D + d] - y0[n * D + d]) > 1e-5f;
        if (nade) assert_int_equal(moved, N * D);
        else assert_true(moved > N * (D - 1) / 2);
    }
}

/* Σ U ⊙ logits, in double */
static double weighted(const ar_head *h, int nade, const float *x, const float *c, const float *U) {
    float y[N * D];
    logits_of(h, nade, x, c, y);
    double s = 0;
    for (int i = 0; i < N * D; i++) s += (double)U[i] * y[i];
    return s;
}

/* the context weights' gradient (made: Wc and b through relu; nade: Wc and c through a_0 into
 * lt_nade) by central differences */
static void context_gradient_matches_differences(void **state) {
    (void)state;
    ar_head h;
    random_heads(&h);
    for (int nade = 0; nade < 2; nade++) {
        float x[N * D], c[N * CC], U[N * D];
        backward_random(&h, nade, x, c, U);
        lt_tensor *ps[] = {nade ? h.nade.Wc : h.made.Wc, nade ? h.nade.c : h.made.b};
        const float eps = 1e-2f;
        int64_t total = 0, off = 0;
        for (int t = 0; t < 2; t++)
            for (int64_t j = 0; j < lt_numel(ps[t]); j++, total++) {
                float *w = ps[t]->data + j, keep = *w;
                *w = keep + eps;
                const double up = weighted(&h, nade, x, c, U);
                *w = keep - eps;
                const double down = weighted(&h, nade, x, c, U);
                *w = keep;
                const double num = (up - down) / (2 * eps), ana = ps[t]->grad[j];
                off += !(fabs(num - ana) < 2e-3 * (1 + fabs(ana)));
            }
        /* nade is smooth: every one agrees; made's relu has a kink where a unit's
         * pre-activation crosses 0 within eps, so a few may not */
        if (nade) assert_int_equal(off, 0);
        else assert_true(off * 10 <= total);
    }
}

/* the gradient of Σ U ⊙ logits reaches exactly the unmasked weights */
static void masked_weights_get_no_gradient(void **state) {
    (void)state;
    ar_head h;
    random_heads(&h);
    const lt_nn_made_head m = h.made;
    float x[N * D], c[N * CC], U[N * D];
    backward_random(&h, 0, x, c, U);
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

/* sample's draws, replayed against the teacher-forced logits of the drawn images (made draws
 * pixel-major, sample-minor; nade sample-major, pixel-minor) */
static void sample_replays_to_forward(void **state) {
    (void)state;
    ar_head h;
    random_heads(&h);
    enum { S = 64 };
    for (int nade = 0; nade < 2; nade++) {
        float c[S * CC], base[S * D], xs[S * D], u[S * D];
        lt_rng_fill_uniform(&R, c, S * CC, -2, 2);
        lt_rng_fill_uniform(&R, base, S * D, -1, 1);
        lt_rng r = lt_rng_fork(&R, 7), replay = r;
        for (int k = 0; k < S * D; k++) u[k] = lt_rng_uniform(&replay);
        lt_graph_reset(&G);
        lt_tensor *lc = lt_graph_wrap(&G, c, 2, (int64_t[]){S, CC});
        assert_int_equal(nade ? lt_nn_nade_head_sample(&G, &h.nade, lc, base, &r, S, xs)
                              : lt_nn_made_head_sample(&G, &h.made, lc, base, &r, S, xs), LT_OK);
        lt_graph_reset(&G);
        lt_tensor *y = head_forward(&h, nade, lt_graph_wrap(&G, xs, 2, (int64_t[]){S, D}), lt_graph_wrap(&G, c, 2, (int64_t[]){S, CC}));
        assert_non_null(y);
        int ones = 0;
        for (int i = 0; i < S; i++)
            for (int d = 0; d < D; d++) {
                const double p = 1 / (1 + exp(-(double)(y->data[i * D + d] + base[i * D + d])));
                const double ui = u[nade ? i * D + d : d * S + i];
                if (fabs(ui - p) < 1e-5) continue; /* too close to call in float */
                assert_float_equal(xs[i * D + d], ui < p ? 1.0f : 0.0f, 0);
                ones += xs[i * D + d] == 1.0f;
            }
        assert_true(ones > S * D / 8 && ones < S * D * 7 / 8);
    }
}

/* a tiny binary vqvae with the made (or nade) decoder: 8×8 images, a 2×2 grid of 4 codes */
static void decode_depends_on_codes(const char *decoder) {
    json_t *cfg = json_pack("{s:i, s:i, s:i, s:b, s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "height", 8, "width", 8,
                            "channels", 1, "binary", 1, "decoder", decoder, "ar_hidden", 16, "hidden", 8, "res_hidden", 4,
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

static void vqvae_decode_depends_on_codes(void **state) {
    (void)state;
    decode_depends_on_codes("made");
    decode_depends_on_codes("nade");
}

/* the frozen trunk's memo: every image added is found with its own outputs, through the
 * table's growth; an image added again keeps its first entry; an unseen image is not found */
static void trunk_memo_finds_what_it_holds(void **state) {
    (void)state;
    enum { DIM = 20, HW = 3, M = 3000, U = 2500 }; /* images 2500.. repeat images 0.. */
    lti_vq_memo memo;
    lti_vq_memo_init(&memo, DIM, HW);
    static float x[M][DIM];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < DIM; j++) x[i][j] = (float)(((i % U) >> j) & 1);
    for (int i = 0; i < M; i++) {
        float lg[DIM];
        int64_t codes[HW] = {i, i + 1, i + 2};
        for (int j = 0; j < DIM; j++) lg[j] = (float)(i * DIM + j);
        assert_int_equal(lti_vq_memo_find(&memo, x[i]) >= 0, i >= U);
        assert_int_equal(lti_vq_memo_add(&memo, x[i], lg, codes, (float)i), LT_OK);
        assert_int_equal(memo.n, i < U ? i + 1 : U);
    }
    for (int i = 0; i < M; i++) {
        const int64_t e = lti_vq_memo_find(&memo, x[i]), first = i % U;
        assert_true(e >= 0);
        assert_float_equal(memo.commit[e], (float)first, 0);
        assert_int_equal(memo.codes[e * HW + 2], first + 2);
        assert_float_equal(memo.logits[e * DIM + DIM - 1], (float)(first * DIM + DIM - 1), 0);
    }
    float unseen[DIM];
    for (int j = 0; j < DIM; j++) unseen[j] = 1.0f; /* 2^20 - 1: not among 0..2499 */
    assert_int_equal(lti_vq_memo_find(&memo, unseen), -1);
    lti_vq_memo_free(&memo);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(autoregressive_by_perturbation, setup, teardown),
        cmocka_unit_test_setup_teardown(masked_weights_get_no_gradient, setup, teardown),
        cmocka_unit_test_setup_teardown(context_gradient_matches_differences, setup, teardown),
        cmocka_unit_test_setup_teardown(sample_replays_to_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(vqvae_decode_depends_on_codes, setup, teardown),
        cmocka_unit_test(trunk_memo_finds_what_it_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
