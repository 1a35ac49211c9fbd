/* The transformer prior (models/gpt.c) and the sampling filters (dist/sampling.c):
 * parameter names, the KV-cache path against the full forward, causality by
 * perturbation, loss vs log_prob, the filters (top-k 1 = argmax, top-k K with top-p 1 =
 * the model's distribution, temperature -> 0 = argmax, nucleus by hand), seeded
 * sampling, a toy code distribution of known entropy learned, class conditioning, and
 * the code source round trip (lt_codes_write -> tfrecord: source). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "core/alloc.h"
#include "data/dataset.h"
#include "dist/sampling.h"
#include "models/internal.h"
#include "optim/optim.h"

static lt_model *make(const char *cfg) {
    json_error_t err;
    json_t *j = json_loads(cfg, 0, &err);
    assert_non_null(j);
    lt_model *m = NULL;
    lt_status st = lt_model_create("gpt", j, &m);
    if (st) fprintf(stderr, "create gpt %s: %s\n", cfg, lt_error_message());
    assert_int_equal(st, LT_OK);
    json_decref(j);
    return m;
}

static void names_and_shapes(void **state) {
    (void)state;
    lt_model *m = make("{\"vocab\": 8, \"height\": 2, \"width\": 3, \"layers\": 2, \"heads\": 2, \"d_model\": 16}");
    struct { const char *name; int64_t a, b; } want[] = {
        {"tok_emb.weight", 9, 16}, {"pos_emb.weight", 6, 16}, {"blocks.1.self_attn.in_proj_weight", 48, 16},
        {"blocks.0.linear1.weight", 64, 16}, {"ln_f.weight", 16, 0}, {"head.weight", 8, 16}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        lt_param *p = lt_params_find(&m->params, want[i].name);
        assert_non_null(p);
        assert_int_equal(p->t.shape[0], want[i].a);
        if (want[i].b) assert_int_equal(p->t.shape[1], want[i].b);
    }
    assert_int_equal(m->vocab, 8);
    lt_model_destroy(m);
    /* tied: no head; class-conditional: one class token per class */
    m = make("{\"vocab\": 8, \"dim\": 5, \"layers\": 1, \"heads\": 1, \"d_model\": 8, \"tie\": true, \"n_classes\": 3}");
    assert_null(lt_params_find(&m->params, "head.weight"));
    assert_int_equal(lt_params_find(&m->params, "tok_emb.weight")->t.shape[0], 11);
    lt_model_destroy(m);
    const char *bad[] = {"{\"dim\": 4}", "{\"vocab\": 8, \"dim\": 4, \"d_model\": 10, \"heads\": 4}",
                         "{\"vocab\": 8, \"dim\": 4, \"dropout\": 1.5}", "{\"vocab\": 8, \"dim\": 4, \"stage1\": 3}",
                         "{\"vocab\": 8, \"dim\": 4, \"hidden\": 3}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        assert_int_equal(lt_model_create("gpt", j, &m), LT_ERR_ARG);
        json_decref(j);
    }
}

static void random_codes(int64_t *c, int64_t n, int64_t K, uint64_t seed) {
    lt_rng r;
    lt_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) c[i] = (int64_t)lt_rng_below(&r, (uint64_t)K);
}

/* The KV-cache path (what sampling runs) gives the full forward's logits. */
static void cache_matches_full_forward(void **state) {
    (void)state;
    const char *cfgs[] = {"{\"vocab\": 11, \"height\": 3, \"width\": 4, \"layers\": 3, \"heads\": 4, \"d_model\": 32}",
                          "{\"vocab\": 7, \"dim\": 9, \"layers\": 2, \"heads\": 2, \"d_model\": 16, \"tie\": true, "
                          "\"n_classes\": 3}"};
    for (int k = 0; k < 2; k++) {
        lt_model *m = make(cfgs[k]);
        lt_rng r;
        lt_rng_seed(&r, 5 + k);
        for (int64_t i = 0; i < m->params.total; i++) m->params.data[i] += 0.1f * (lt_rng_uniform(&r) - 0.5f);
        const int64_t n = 5, T = m->dim, K = m->vocab;
        int64_t codes[5 * 12], labels[5] = {0, 1, 2, 1, 0};
        random_codes(codes, n * T, K, 9);
        const int64_t *y = m->n_classes ? labels : NULL;
        lt_graph g;
        assert_int_equal(lt_graph_init(&g, 1 << 20), LT_OK);
        lt_graph_set_grad(&g, 0);
        lt_tensor *full = lti_gpt_logits(m, &g, codes, y, n);
        assert_int_equal(lt_graph_status(&g), LT_OK);
        float *cached = malloc((size_t)(n * T * K) * sizeof *cached);
        assert_int_equal(lti_gpt_cached_logits(m, &g, codes, y, n, cached), LT_OK);
        double worst = 0;
        for (int64_t i = 0; i < n * T * K; i++) worst = fmax(worst, fabs(full->data[i] - cached[i]));
        fprintf(stderr, "gpt %d: KV cache vs full forward, max |diff| %.2e\n", k, worst);
        assert_true(worst < 1e-4);
        free(cached);
        lt_graph_free(&g);
        lt_model_destroy(m);
    }
}

/* Changing code t changes no logits at positions <= t (they predict c_0..c_t from c_<t),
 * and does change some later one. */
static void causal_by_perturbation(void **state) {
    (void)state;
    lt_model *m = make("{\"vocab\": 6, \"dim\": 7, \"layers\": 2, \"heads\": 2, \"d_model\": 16}");
    const int64_t T = 7, K = 6;
    int64_t a[7], b[7];
    random_codes(a, T, K, 3);
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 1 << 20), LT_OK);
    lt_graph_set_grad(&g, 0);
    for (int64_t t = 0; t < T; t++) {
        memcpy(b, a, sizeof a);
        b[t] = (a[t] + 1) % K;
        lt_tensor *la = lti_gpt_logits(m, &g, a, NULL, 1), *lb = lti_gpt_logits(m, &g, b, NULL, 1);
        assert_non_null(la);
        assert_non_null(lb);
        double later = 0;
        for (int64_t s = 0; s < T; s++)
            for (int64_t k = 0; k < K; k++) {
                float d = fabsf(la->data[s * K + k] - lb->data[s * K + k]);
                if (s <= t) assert_true(d == 0.0f);
                else later = fmax(later, d);
            }
        if (t < T - 1) assert_true(later > 1e-6);
        lt_graph_reset(&g);
    }
    lt_graph_free(&g);
    lt_model_destroy(m);
}

/* loss = mean of -log_prob; out-of-range codes and missing tokens are refused. */
static void loss_is_mean_nll(void **state) {
    (void)state;
    lt_model *m = make("{\"vocab\": 5, \"dim\": 6, \"layers\": 1, \"heads\": 2, \"d_model\": 8}");
    int64_t codes[4 * 6];
    random_codes(codes, 24, 5, 4);
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 1 << 20), LT_OK);
    lt_batch b = {NULL, NULL, 4, 6, codes};
    double lp[4], sum = 0;
    assert_int_equal(m->vt->log_prob(m, &g, &b, NULL, lp), LT_OK);
    lt_graph_reset(&g);
    for (int i = 0; i < 4; i++) sum -= lp[i];
    lt_tensor *loss;
    assert_int_equal(m->vt->loss(m, &g, &b, &loss), LT_OK);
    assert_true(fabs(loss->data[0] - sum / 4) < 1e-4);
    lt_graph_reset(&g);
    /* a batch with only x (the codes as floats) reads the same codes; a non-integer is refused */
    float x[24];
    double lpx[4];
    for (int i = 0; i < 24; i++) x[i] = (float)codes[i];
    lt_batch bx = {x, NULL, 4, 6, NULL};
    assert_int_equal(m->vt->log_prob(m, &g, &bx, NULL, lpx), LT_OK);
    lt_graph_reset(&g);
    for (int i = 0; i < 4; i++) assert_true(lpx[i] == lp[i]);
    x[3] = 1.5f;
    assert_int_equal(m->vt->log_prob(m, &g, &bx, NULL, lpx), LT_ERR_ARG);
    lt_graph_reset(&g);
    codes[7] = 5;
    assert_int_equal(m->vt->log_prob(m, &g, &b, NULL, lp), LT_ERR_ARG);
    b.tokens = NULL; /* and no x */
    assert_int_equal(m->vt->log_prob(m, &g, &b, NULL, lp), LT_ERR_ARG);
    b.dim = 5;
    assert_int_equal(m->vt->log_prob(m, &g, &b, NULL, lp), LT_ERR_SHAPE);
    lt_graph_free(&g);
    lt_model_destroy(m);
}

static void filter_probabilities(void **state) {
    (void)state;
    const float logits[5] = {0.3f, 2.0f, -1.0f, 1.2f, 0.0f};
    double p[5], soft[5], tot = 0;
    lt_sample_rank rank[5];
    for (int i = 0; i < 5; i++) tot += soft[i] = exp(logits[i]);
    for (int i = 0; i < 5; i++) soft[i] /= tot;
    /* top-k = K and top-p = 1: the softmax itself */
    lt_sample_probs(logits, 5, &(lt_sample_opts){1.0f, 5, 1.0f}, rank, p);
    for (int i = 0; i < 5; i++) assert_true(fabs(p[i] - soft[i]) < 1e-12);
    /* top-k 1: all mass on the argmax */
    lt_sample_probs(logits, 5, &(lt_sample_opts){1.0f, 1, 1.0f}, rank, p);
    for (int i = 0; i < 5; i++) assert_true(p[i] == (i == 1 ? 1.0 : 0.0));
    /* top-k 3: the three largest, renormalized */
    lt_sample_probs(logits, 5, &(lt_sample_opts){1.0f, 3, 1.0f}, rank, p);
    double k3 = soft[1] + soft[3] + soft[0];
    assert_true(fabs(p[1] - soft[1] / k3) < 1e-12 && fabs(p[0] - soft[0] / k3) < 1e-12 && p[2] == 0 && p[4] == 0);
    /* top-p: the shortest prefix with mass >= p (soft = .13 .49 .03 .22 .11 sorted 1,3,0,4,2) */
    lt_sample_probs(logits, 5, &(lt_sample_opts){1.0f, 0, 0.6f}, rank, p);
    assert_true(fabs(p[1] - soft[1] / (soft[1] + soft[3])) < 1e-12 && p[0] == 0 && p[4] == 0);
    lt_sample_probs(logits, 5, &(lt_sample_opts){1.0f, 0, 0.1f}, rank, p); /* at least one */
    assert_true(p[1] == 1.0);
    /* temperature: sharper below 1, argmax as it goes to 0 */
    lt_sample_probs(logits, 5, &(lt_sample_opts){0.5f, 0, 1.0f}, rank, p);
    assert_true(p[1] > soft[1] && p[2] < soft[2]);
    lt_sample_probs(logits, 5, &(lt_sample_opts){1e-3f, 0, 1.0f}, rank, p);
    assert_true(p[1] > 1 - 1e-12);
    lt_sample_probs(logits, 5, &(lt_sample_opts){4.0f, 0, 1.0f}, rank, p);
    assert_true(p[1] < soft[1] && p[2] > soft[2]);
    /* ties rank by index */
    const float tie[3] = {1.0f, 1.0f, 0.0f};
    lt_sample_probs(tie, 3, &(lt_sample_opts){1.0f, 1, 1.0f}, rank, p);
    assert_true(p[0] == 1.0);
    const lt_sample_opts bad[] = {{0.0f, 0, 1.0f}, {-1.0f, 0, 1.0f}, {NAN, 0, 1.0f}, {1.0f, -1, 1.0f},
                                  {1.0f, 0, 0.0f}, {1.0f, 0, 1.5f}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(lt_sample_opts_check(&bad[i]), LT_ERR_ARG);
}

/* Draws follow the filtered distribution: chi-square of 40000 draws (5 cells, 4 dof;
 * 20.5 is the 0.9996 quantile), unfiltered and with top-k 3; top-k 1 always the argmax. */
static void filter_draws(void **state) {
    (void)state;
    const float logits[5] = {0.3f, 2.0f, -1.0f, 1.2f, 0.0f};
    const lt_sample_opts opts[2] = {{1.0f, 5, 1.0f}, {1.0f, 3, 1.0f}};
    double p[5];
    lt_sample_rank rank[5];
    lt_rng r;
    lt_rng_seed(&r, 77);
    for (int k = 0; k < 2; k++) {
        int64_t count[5] = {0};
        const int N = 40000;
        for (int i = 0; i < N; i++) count[lt_sample_token(&r, logits, 5, &opts[k], rank, p)]++;
        lt_sample_probs(logits, 5, &opts[k], rank, p);
        double chi = 0;
        for (int i = 0; i < 5; i++) {
            if (p[i] == 0) { assert_int_equal(count[i], 0); continue; }
            chi += (count[i] - N * p[i]) * (count[i] - N * p[i]) / (N * p[i]);
        }
        fprintf(stderr, "draws with top-k %lld: chi-square %.2f\n", (long long)opts[k].top_k, chi);
        assert_true(chi < 20.5);
    }
    for (int i = 0; i < 1000; i++)
        assert_int_equal(lt_sample_token(&r, logits, 5, &(lt_sample_opts){1.0f, 1, 1.0f}, rank, p), 1);
}

/* top-k 1 sampling is greedy decoding: deterministic, and each code the argmax of the
 * cached logits given the codes before it; a seed repeats its samples. */
static void greedy_and_seeded_sampling(void **state) {
    (void)state;
    lt_model *m = make("{\"vocab\": 9, \"dim\": 6, \"layers\": 2, \"heads\": 2, \"d_model\": 16}");
    lt_rng r;
    lt_rng_seed(&r, 1);
    for (int64_t i = 0; i < m->params.total; i++) m->params.data[i] += 0.3f * (lt_rng_uniform(&r) - 0.5f);
    const int64_t n = 4, T = 6, K = 9;
    int64_t a[24], b[24];
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 1 << 20), LT_OK);
    lt_rng_seed(&r, 1);
    assert_int_equal(m->vt->sample_codes(m, &g, &r, n, NULL, &(lt_sample_opts){1.0f, 1, 1.0f}, a), LT_OK);
    lt_rng_seed(&r, 2);
    assert_int_equal(m->vt->sample_codes(m, &g, &r, n, NULL, &(lt_sample_opts){0.7f, 1, 0.5f}, b), LT_OK);
    assert_memory_equal(a, b, sizeof a);
    float lg[24 * 9];
    assert_int_equal(lti_gpt_cached_logits(m, &g, a, NULL, n, lg), LT_OK);
    for (int64_t i = 0; i < n * T; i++) {
        int64_t best = 0;
        for (int64_t k = 1; k < K; k++) best = lg[i * K + k] > lg[i * K + best] ? k : best;
        assert_int_equal(a[i], best);
    }
    for (int rep = 0; rep < 2; rep++) {
        lt_rng_seed(&r, 33);
        assert_int_equal(m->vt->sample_codes(m, &g, &r, n, NULL, NULL, rep ? b : a), LT_OK);
    }
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(m->vt->sample_codes(m, &g, &r, n, NULL, &(lt_sample_opts){0.0f, 0, 1.0f}, a), LT_ERR_ARG);
    lt_graph_free(&g);
    lt_model_destroy(m);
}

/* codes_tool's toy distribution in memory: c_0 = 4y + uniform(0..3), then +1+y mod K. */
static void toy(int64_t *c, int64_t *y, int64_t n, int64_t T, int64_t K, lt_rng *r) {
    for (int64_t i = 0; i < n; i++) {
        y[i] = i % 2;
        c[i * T] = 4 * y[i] + (int64_t)lt_rng_below(r, 4);
        for (int64_t t = 1; t < T; t++) c[i * T + t] = (c[i * T + t - 1] + 1 + y[i]) % K;
    }
}

/* A class-conditional prior learns the toy distribution's entropy (ln 4 per grid given
 * the class) with AdamW, warm-up and cosine decay and clipping, and its samples follow
 * the class: class 0 starts in 0..3 and steps by 1, class 1 starts in 4..7 and steps by 2. */
static void learns_toy_entropy(void **state) {
    (void)state;
    lt_model *m = make("{\"vocab\": 8, \"dim\": 4, \"layers\": 1, \"heads\": 2, \"d_model\": 32, \"n_classes\": 2}");
    const int64_t B = 32, T = 4, K = 8, steps = 200;
    int64_t c[32 * 4], y[32];
    lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAMW, 2e-2f);
    oc.weight_decay = 0.01f;
    lt_optim o;
    assert_int_equal(lt_optim_init(&o, &oc, &m->params), LT_OK);
    lt_schedule s;
    assert_int_equal(lt_schedule_parse("cosine:0.001,warmup:10", 2e-2f, &s), LT_OK);
    s.total_steps = steps;
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 1 << 20), LT_OK);
    lt_rng r, dr;
    lt_rng_seed(&r, 11);
    lt_rng_seed(&dr, 12);
    g.rng = &dr;
    for (int64_t k = 0; k < steps; k++) {
        toy(c, y, B, T, K, &r);
        lt_tensor *loss;
        lt_params_zero_grad(&m->params);
        assert_int_equal(m->vt->loss(m, &g, &(lt_batch){NULL, y, B, T, c}, &loss), LT_OK);
        assert_int_equal(lt_backward(&g, loss), LT_OK);
        lt_clip_grad_norm(&m->params, 1.0);
        lt_optim_step(&o, &m->params, lt_schedule_lr(&s, k));
        lt_graph_reset(&g);
    }
    toy(c, y, B, T, K, &r);
    double lp[32], nll = 0;
    assert_int_equal(m->vt->log_prob(m, &g, &(lt_batch){NULL, y, B, T, c}, NULL, lp), LT_OK);
    for (int i = 0; i < B; i++) nll -= lp[i] / B;
    fprintf(stderr, "toy prior after %lld steps: NLL %.4f nats per grid, entropy ln 4 = %.4f\n", (long long)steps, nll,
            log(4.0));
    assert_true(nll > log(4.0) - 0.05 && nll < log(4.0) + 0.05);
    int64_t lab[64], out[64 * 4], ok = 0;
    for (int i = 0; i < 64; i++) lab[i] = i % 2;
    assert_int_equal(m->vt->sample_codes(m, &g, &r, 64, lab, NULL, out), LT_OK);
    for (int i = 0; i < 64; i++) {
        int good = out[i * T] / 4 == lab[i];
        for (int64_t t = 1; t < T; t++) good &= out[i * T + t] == (out[i * T + t - 1] + 1 + lab[i]) % K;
        ok += good;
    }
    fprintf(stderr, "conditional samples that follow their class's rule: %lld of 64\n", (long long)ok);
    assert_true(ok >= 60);
    lt_graph_free(&g);
    lt_optim_free(&o);
    lt_model_destroy(m);
}

/* lt_codes_write -> a tfrecord: source of code grids: geometry, vocab, labels, tokens. */
static void code_source_round_trip(void **state) {
    (void)state;
    char dir[] = "/tmp/lt_gpt_XXXXXX";
    assert_non_null(mkdtemp(dir));
    int64_t c[3 * 6] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 40}, y[3] = {2, 0, 1};
    const char *split[3] = {"train", "valid", "test"};
    char path[256], src[256];
    for (int s = 0; s < 3; s++) {
        snprintf(path, sizeof path, "%s/c-%s-0.tfrecord", dir, split[s]);
        assert_int_equal(lt_codes_write(path, c, 3 - s, 2, 3, y), LT_OK);
    }
    snprintf(src, sizeof src, "tfrecord:%s/c", dir);
    lt_dataset d;
    assert_int_equal(lt_dataset_open_source(src, NULL, 0, &d), LT_OK);
    assert_int_equal(d.vocab, 41);
    assert_int_equal(d.height, 2);
    assert_int_equal(d.width, 3);
    assert_int_equal(d.dim, 6);
    assert_int_equal(d.n_classes, 3);
    assert_int_equal(d.split[LT_SPLIT_TEST].n, 1);
    int64_t idx[2] = {2, 0}, tok[12], lab[2];
    float x[12];
    lt_dataset_tokens(&d, LT_SPLIT_TRAIN, idx, 2, tok);
    assert_memory_equal(tok, c + 12, 6 * sizeof *tok);
    assert_memory_equal(tok + 6, c, 6 * sizeof *tok);
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, idx, 2, LT_BINARIZE_NONE, 0, 0, x, lab);
    assert_true(x[5] == 40.0f && lab[0] == 1 && lab[1] == 2);
    lt_dataset_free(&d);
    for (int s = 0; s < 3; s++) {
        snprintf(path, sizeof path, "%s/c-%s-0.tfrecord", dir, split[s]);
        unlink(path);
    }
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_shapes),           cmocka_unit_test(cache_matches_full_forward),
        cmocka_unit_test(causal_by_perturbation),     cmocka_unit_test(loss_is_mean_nll),
        cmocka_unit_test(filter_probabilities),       cmocka_unit_test(filter_draws),
        cmocka_unit_test(greedy_and_seeded_sampling), cmocka_unit_test(learns_toy_entropy),
        cmocka_unit_test(code_source_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
