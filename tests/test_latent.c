/* Distributions, gradient estimators and the latent-variable models: closed
 * forms against Monte-Carlo estimates with fixed seeds and tolerances of a few
 * standard errors (each test draws enough samples that a bug moves the estimate
 * by many standard errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "core/rng.h"
#include "dist/dist.h"
#include "dist/estimator.h"
#include "models/model.h"
#include "ops/ops.h"
#include "optim/optim.h"

static lt_graph G;

static int setup(void **s) { (void)s; return lt_graph_init(&G, 1 << 20) ? -1 : 0; }
static int teardown(void **s) { (void)s; lt_graph_free(&G); return 0; }

static lt_tensor *filled(int nd, const int64_t *shape, float v, int grad) {
    lt_tensor *t = lt_graph_new(&G, LT_F32, nd, shape);
    assert_non_null(t);
    for (int64_t i = 0; i < lt_numel(t); i++) t->data[i] = v;
    t->requires_grad = grad;
    return t;
}

/* E[Σ_j (z_j − c)²] with z ~ N(mu, e^lv): ∂/∂mu = 2(mu − c), ∂/∂lv = e^lv. Each row of the
 * (N,1) parameters carries one sample's gradient; their mean is the estimate. */
static void reparam_quadratic(void **s) {
    (void)s;
    const int64_t N = 20000;
    const float mu0 = 0.7f, lv0 = -0.4f, c = 0.2f;
    lt_rng r;
    lt_rng_seed(&r, 11);
    lt_graph_reset(&G);
    lt_tensor *mu = filled(2, (int64_t[]){N, 1}, mu0, 1), *lv = filled(2, (int64_t[]){N, 1}, lv0, 1);
    lt_tensor *z = lt_normal_rsample(&G, &r, mu, lv);
    lt_tensor *d = lt_add_scalar(&G, z, -c);
    lt_tensor *f = lt_sum(&G, lt_mul(&G, d, d), LT_AXIS_ALL, 0);
    assert_int_equal(lt_backward(&G, f), LT_OK);
    double gm = 0, gm2 = 0, gl = 0, gl2 = 0;
    for (int64_t i = 0; i < N; i++) {
        gm += mu->grad[i]; gm2 += (double)mu->grad[i] * mu->grad[i];
        gl += lv->grad[i]; gl2 += (double)lv->grad[i] * lv->grad[i];
    }
    gm /= N; gl /= N;
    double se_m = sqrt((gm2 / N - gm * gm) / N), se_l = sqrt((gl2 / N - gl * gl) / N);
    assert_true(fabs(gm - 2 * (mu0 - c)) < 4 * se_m);
    assert_true(fabs(gl - exp(lv0)) < 4 * se_l);
    assert_true(se_m < 0.05 && se_l < 0.05); /* the test has power */
}

static void gumbel_max_frequencies(void **s) {
    (void)s;
    const float logits[5] = {0.5f, -1.0f, 2.0f, 0.0f, 1.0f};
    const int64_t N = 50000;
    int64_t idx[1], count[5] = {0};
    lt_rng r;
    lt_rng_seed(&r, 3);
    for (int64_t i = 0; i < N; i++) {
        lt_gumbel_max(&r, logits, 1, 5, idx);
        count[idx[0]]++;
    }
    double zsum = 0, chi2 = 0;
    for (int k = 0; k < 5; k++) zsum += exp(logits[k]);
    for (int k = 0; k < 5; k++) {
        double e = N * exp(logits[k]) / zsum;
        chi2 += (count[k] - e) * (count[k] - e) / e;
    }
    assert_true(chi2 < 18.47); /* chi-square, 4 degrees of freedom, p = 0.001 */
    /* the tensor version draws the same way: a one-hot per row */
    lt_graph_reset(&G);
    lt_tensor *lg = filled(3, (int64_t[]){100, 3, 5}, 0.0f, 0);
    lt_tensor *h = lt_categorical_sample(&G, &r, lg);
    assert_non_null(h);
    for (int64_t row = 0; row < 300; row++) {
        float sum = 0;
        for (int k = 0; k < 5; k++) sum += h->data[row * 5 + k];
        assert_true(sum == 1.0f);
    }
}

static void gumbel_softmax_limits(void **s) {
    (void)s;
    const int64_t N = 1000, K = 6;
    lt_rng r;
    lt_rng_seed(&r, 5);
    lt_graph_reset(&G);
    lt_tensor *lg = lt_graph_new(&G, LT_F32, 2, (int64_t[]){N, K});
    lt_rng_fill_normal(&r, lg->data, N * K, 0.0f, 1.0f);
    lt_tensor *cold = lt_gumbel_softmax(&G, &r, lg, 1e-3f, 0), *hot = lt_gumbel_softmax(&G, &r, lg, 1e4f, 0);
    assert_non_null(cold);
    assert_non_null(hot);
    int64_t near_onehot = 0;
    for (int64_t i = 0; i < N; i++) {
        float mx = 0;
        for (int64_t k = 0; k < K; k++) {
            mx = fmaxf(mx, cold->data[i * K + k]);
            assert_true(fabsf(hot->data[i * K + k] - 1.0f / K) < 2e-3f);
        }
        near_onehot += mx > 0.99f;
    }
    if (near_onehot <= 0.97 * N) printf("near one-hot rows at tau 1e-3: %lld of %lld\n", (long long)near_onehot, (long long)N);
    assert_true(near_onehot > 0.97 * N);
    /* straight-through: one-hot values */
    lt_tensor *st = lt_gumbel_softmax(&G, &r, lg, 1.0f, 1);
    for (int64_t i = 0; i < N * K; i++) assert_true(st->data[i] == 0.0f || st->data[i] == 1.0f);
    /* relaxed Bernoulli: in (0,1), near {0,1} when cold */
    lt_tensor *rb = lt_relaxed_bernoulli(&G, &r, lg, 0.01f);
    int64_t extreme = 0;
    for (int64_t i = 0; i < N * K; i++) extreme += rb->data[i] < 0.01f || rb->data[i] > 0.99f;
    assert_true(extreme > 0.95 * N * K);
}

/* d/dθ E_{z~Bern(σ(θ))}[(z − t)²] = σ'(θ)((1 − t)² − t²): the score-function estimate is
 * unbiased (with and without a constant baseline). */
static void score_function_unbiased(void **s) {
    (void)s;
    const int64_t N = 40000;
    const float theta = 0.3f, t = 0.45f;
    const double sg = 1 / (1 + exp(-theta)), exact = sg * (1 - sg) * ((1 - t) * (1 - t) - t * t);
    for (int use_baseline = 0; use_baseline < 2; use_baseline++) {
        lt_rng r;
        lt_rng_seed(&r, 17 + use_baseline);
        lt_graph_reset(&G);
        lt_tensor *lg = filled(2, (int64_t[]){N, 1}, theta, 1);
        lt_latent_draw d;
        assert_int_equal(lt_latent_draw_sample(&G, &r, LT_ESTIMATOR_SCORE, LT_LATENT_BERNOULLI, lg, 1.0f, &d), LT_OK);
        lt_tensor *zt = lt_add_scalar(&G, lt_reshape(&G, d.hard, 1, (int64_t[]){N}), -t);
        lt_tensor *f = lt_mul(&G, zt, zt); /* (N) */
        lt_tensor *b = use_baseline ? filled(1, (int64_t[]){N}, 0.25f, 0) : NULL;
        lt_tensor *sur = lt_score_surrogate(&G, f, b, d.log_q);
        assert_non_null(sur);
        for (int64_t i = 0; i < N; i++) assert_true(sur->data[i] == 0.0f); /* value 0 */
        assert_int_equal(lt_backward(&G, lt_sum(&G, sur, LT_AXIS_ALL, 0)), LT_OK);
        double m = 0, m2 = 0;
        for (int64_t i = 0; i < N; i++) { m += lg->grad[i]; m2 += (double)lg->grad[i] * lg->grad[i]; }
        m /= N;
        double se = sqrt((m2 / N - m * m) / N);
        assert_true(fabs(m - exact) < 4 * se);
        assert_true(se < fabs(exact) / 3); /* enough samples to see a sign error */
    }
}

static void kl_analytic_vs_monte_carlo(void **s) {
    (void)s;
    const int64_t N = 40000, Z = 3;
    const float mu1[3] = {0.5f, -1.0f, 0.2f}, lv1[3] = {-0.5f, 0.3f, 0.0f}, mu2[3] = {0.1f, 0.0f, -0.3f},
                lv2[3] = {0.2f, -0.2f, 0.4f};
    lt_rng r;
    lt_rng_seed(&r, 23);
    lt_graph_reset(&G);
    lt_tensor *a = lt_graph_new(&G, LT_F32, 2, (int64_t[]){N, Z}), *b = lt_graph_new(&G, LT_F32, 2, (int64_t[]){N, Z});
    lt_tensor *c = lt_graph_new(&G, LT_F32, 2, (int64_t[]){N, Z}), *d = lt_graph_new(&G, LT_F32, 2, (int64_t[]){N, Z});
    for (int64_t i = 0; i < N * Z; i++) {
        a->data[i] = mu1[i % Z]; b->data[i] = lv1[i % Z]; c->data[i] = mu2[i % Z]; d->data[i] = lv2[i % Z];
    }
    lt_tensor *z = lt_normal_sample(&G, &r, a, b);
    lt_tensor *lq = lt_normal_log_prob(&G, z, a, b), *lp0 = lt_normal_log_prob(&G, z, NULL, NULL);
    lt_tensor *lp2 = lt_normal_log_prob(&G, z, c, d);
    lt_tensor *k0 = lt_normal_kl_std(&G, a, b), *k2 = lt_normal_kl(&G, a, b, c, d), *h = lt_normal_entropy(&G, b);
    assert_int_equal(lt_graph_status(&G), LT_OK);
    double m0 = 0, s0 = 0, m2 = 0, s2 = 0, mh = 0, sh = 0;
    for (int64_t i = 0; i < N; i++) {
        double x0 = lq->data[i] - lp0->data[i], x2 = lq->data[i] - lp2->data[i], xh = -lq->data[i];
        m0 += x0; s0 += x0 * x0; m2 += x2; s2 += x2 * x2; mh += xh; sh += xh * xh;
    }
    m0 /= N; m2 /= N; mh /= N;
    assert_true(fabs(m0 - k0->data[0]) < 4 * sqrt((s0 / N - m0 * m0) / N));
    assert_true(fabs(m2 - k2->data[0]) < 4 * sqrt((s2 / N - m2 * m2) / N));
    assert_true(fabs(mh - h->data[0]) < 4 * sqrt((sh / N - mh * mh) / N));
    /* categorical KL to uniform against exact enumeration: Σ q log(q K) */
    lt_tensor *lg = lt_graph_new(&G, LT_F32, 2, (int64_t[]){1, 4});
    const float v[4] = {1.0f, -0.5f, 0.3f, 2.0f};
    memcpy(lg->data, v, sizeof v);
    lt_tensor *kc = lt_categorical_kl_uniform(&G, lg), *lp = lt_log_softmax(&G, lg, -1);
    double e = 0;
    for (int k = 0; k < 4; k++) e += exp(lp->data[k]) * (lp->data[k] + log(4.0));
    assert_true(fabs(kc->data[0] - e) < 1e-5);
    /* Bernoulli: KL to Bernoulli(1/2) by enumeration */
    lt_tensor *kb = lt_bernoulli_kl_uniform(&G, lg);
    double eb = 0;
    for (int k = 0; k < 4; k++) {
        double p = 1 / (1 + exp(-v[k]));
        eb += p * log(2 * p) + (1 - p) * log(2 * (1 - p));
    }
    assert_true(fabs(kb->data[0] - eb) < 1e-4);
}

/* A small VAE trained briefly on 8 fixed 16-pixel patterns: the importance-weighted
 * bound tightens with K (K=1 is the ELBO), by more than the estimates' noise. */
static void iwae_bound_increases(void **s) {
    (void)s;
    const int64_t D = 16, N = 64;
    float x[64 * 16];
    for (int64_t i = 0; i < N; i++)
        for (int64_t d = 0; d < D; d++) x[i * D + d] = (float)(((i % 8) >> (d % 3)) & 1) * (d < 8 ? 1.0f : 0.0f) + (d >= 8 && (i % 8) == d - 8);
    json_t *cfg = json_pack("{s:I, s:I, s:I, s:s}", "dim", (json_int_t)D, "hidden", (json_int_t)32, "latent",
                            (json_int_t)2, "activation", "tanh");
    lt_model *m = NULL;
    assert_int_equal(lt_model_create("vae", cfg, &m), LT_OK);
    json_decref(cfg);
    lt_optim o;
    lt_optim_config oc = lt_optim_config_default(LT_OPTIM_ADAM, 1e-2f);
    assert_int_equal(lt_optim_init(&o, &oc, &m->params), LT_OK);
    lt_batch b = {x, NULL, N, D, NULL};
    lt_rng r;
    lt_rng_seed(&r, 9);
    G.rng = &r;
    for (int step = 0; step < 300; step++) {
        lt_graph_reset(&G);
        lt_params_zero_grad(&m->params);
        lt_tensor *loss;
        assert_int_equal(m->vt->loss(m, &G, &b, &loss), LT_OK);
        assert_int_equal(lt_backward(&G, loss), LT_OK);
        lt_optim_step(&o, &m->params, 1e-2f);
    }
    G.rng = NULL;
    lt_graph_reset(&G);
    double lp[64], mean[3] = {0}, elbo[64], me = 0;
    const int Ks[3] = {1, 10, 200};
    for (int j = 0; j < 3; j++) {
        lt_eval_opts eo = {0, Ks[j]};
        assert_int_equal(m->vt->log_prob(m, &G, &b, &eo, lp), LT_OK);
        for (int64_t i = 0; i < N; i++) mean[j] += lp[i] / N;
    }
    assert_int_equal(m->vt->elbo(m, &G, &b, NULL, elbo), LT_OK);
    for (int64_t i = 0; i < N; i++) me += elbo[i] / N;
    assert_true(mean[1] > mean[0] + 0.1);
    assert_true(mean[2] > mean[1] + 0.05);
    assert_true(fabs(me - mean[0]) < 1.0);   /* the ELBO estimates agree */
    assert_true(mean[2] < 0);                /* a log-probability of binary data */
    lt_optim_free(&o);
    lt_model_destroy(m);
}

/* KL warm-up: with the same noise, the training loss is reconstruction + (t / N)·KL at
 * step t < N, then the plain −ELBO (equal to a model without warm-up); IWAE refuses it. */
static double vae_loss_at(lt_model *m, const lt_batch *b, int64_t step) {
    lt_rng r;
    lt_rng_seed(&r, 12);
    lt_graph_reset(&G);
    G.rng = &r;
    m->vt->on_step(m, step);
    lt_tensor *loss;
    assert_int_equal(m->vt->loss(m, &G, b, &loss), LT_OK);
    G.rng = NULL;
    return loss->data[0];
}

static void vae_kl_warmup(void **s) {
    (void)s;
    float x[8 * 16];
    for (int i = 0; i < 8 * 16; i++) x[i] = (float)((i * 5 + i / 16) % 3 == 0);
    lt_batch b = {x, NULL, 8, 16, NULL};
    lt_model *m[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        json_t *cfg = json_pack("{s:I, s:I, s:I, s:I}", "dim", (json_int_t)16, "hidden", (json_int_t)8, "latent",
                                (json_int_t)3, "kl_warmup", (json_int_t)(k ? 0 : 4));
        assert_int_equal(lt_model_create("vae", cfg, &m[k]), LT_OK);
        json_decref(cfg);
    }
    double l0 = vae_loss_at(m[0], &b, 0), l2 = vae_loss_at(m[0], &b, 2), l4 = vae_loss_at(m[0], &b, 4);
    double l9 = vae_loss_at(m[0], &b, 9), plain = vae_loss_at(m[1], &b, 0);
    double kl = l4 - l0;
    assert_true(kl > 1e-3);                        /* the KL term is there, and weighted */
    assert_true(fabs(l2 - (l0 + 0.5 * kl)) < 1e-4);
    assert_true(l4 == l9 && l4 == plain);          /* after the warm-up: the −ELBO itself */
    double e0[8], e1[8];                           /* evaluation ignores the warm-up */
    m[0]->vt->on_step(m[0], 0);
    assert_int_equal(m[0]->vt->elbo(m[0], &G, &b, NULL, e0), LT_OK);
    assert_int_equal(m[1]->vt->elbo(m[1], &G, &b, NULL, e1), LT_OK);
    for (int i = 0; i < 8; i++) assert_true(e0[i] == e1[i]);
    lt_model_destroy(m[0]);
    lt_model_destroy(m[1]);
    json_t *bad = json_pack("{s:I, s:I, s:I}", "dim", (json_int_t)16, "iw", (json_int_t)5, "kl_warmup", (json_int_t)10);
    lt_model *mb = NULL;
    assert_int_equal(lt_model_create("vae", bad, &mb), LT_ERR_ARG);
    assert_null(mb);
    json_decref(bad);
}

/* gsvae with every discrete estimator: finite loss (the negative ELBO), gradients reach the encoder. */
static void gsvae_estimators_run(void **s) {
    (void)s;
    const char *ests[] = {"gumbel", "st-gumbel", "st", "score", "score-ma", "score-nn"};
    const char *types[] = {"categorical", "bernoulli"};
    float x[8 * 16];
    for (int i = 0; i < 8 * 16; i++) x[i] = (float)((i * 7 + i / 16) % 3 == 0);
    lt_batch b = {x, NULL, 8, 16, NULL};
    lt_rng r;
    lt_rng_seed(&r, 4);
    for (int t = 0; t < 2; t++)
        for (size_t e = 0; e < sizeof ests / sizeof ests[0]; e++) {
            json_t *cfg = json_pack("{s:I, s:I, s:I, s:I, s:s, s:s}", "dim", (json_int_t)16, "hidden", (json_int_t)8,
                                    "latent", (json_int_t)3, "classes", (json_int_t)(t ? 1 : 4), "estimator", ests[e],
                                    "latent_type", types[t]);
            lt_model *m = NULL;
            assert_int_equal(lt_model_create("gsvae", cfg, &m), LT_OK);
            json_decref(cfg);
            lt_graph_reset(&G);
            G.rng = &r;
            lt_params_zero_grad(&m->params);
            lt_tensor *loss;
            m->vt->on_step(m, 0);
            assert_int_equal(m->vt->loss(m, &G, &b, &loss), LT_OK);
            assert_true(isfinite(loss->data[0]) && loss->data[0] > 0);
            assert_int_equal(lt_backward(&G, loss), LT_OK);
            lt_param *w = lt_params_find(&m->params, "encW0");
            double g2 = 0;
            for (int64_t i = 0; i < lt_numel(&w->t); i++) g2 += (double)w->t.grad[i] * w->t.grad[i];
            assert_true(g2 > 0);
            G.rng = NULL;
            lt_model_destroy(m);
        }
    json_t *bad = json_pack("{s:I, s:s}", "dim", (json_int_t)16, "estimator", "pathwise");
    lt_model *m = NULL;
    assert_int_equal(lt_model_create("gsvae", bad, &m), LT_ERR_ARG);
    json_decref(bad);
}

/* latent_grads (for `latent estimators --run`) against the exact gradient of
 * E_q(z|x)[−log p(x|z)] by enumerating every code of a tiny gsvae (3^2 categorical,
 * 2^3 binary): the reference and the score-function estimates are unbiased
 * (every coordinate within 5 standard errors); the relaxations run and are finite. */
static void latent_grads_exact(void **s) {
    (void)s;
    enum { N = 2, D = 16, DRAWS = 4000 };
    float x[N * D];
    for (int i = 0; i < N * D; i++) x[i] = (float)((i * 5 + i / 7) % 3 == 0);
    lt_batch b = {x, NULL, N, D, NULL};
    for (int t = 0; t < 2; t++) {
        const int64_t M = t ? 3 : 2, K = t ? 1 : 3, C = M * K, V = t ? 2 : 3;
        json_t *cfg = json_pack("{s:I, s:I, s:I, s:I, s:s, s:I}", "dim", (json_int_t)D, "hidden", (json_int_t)8,
                                "latent", (json_int_t)M, "classes", (json_int_t)K, "latent_type",
                                t ? "bernoulli" : "categorical", "seed", (json_int_t)3);
        lt_model *m = NULL;
        assert_int_equal(lt_model_create("gsvae", cfg, &m), LT_OK);
        json_decref(cfg);
        float p[N * 6], z[9 * 6], px[9 * D]; /* q's probabilities (N,C); every code (Z,C); p(x|z) (Z,D) */
        double exact[N * 6] = {0};
        int64_t Z = 1;
        for (int64_t j = 0; j < M; j++) Z *= V;
        lt_graph_reset(&G);
        assert_int_equal(m->vt->encode(m, &G, &b, p), LT_OK);
        memset(z, 0, sizeof z);
        for (int64_t c = 0, r = 0; c < Z; c++, r = c)
            for (int64_t j = 0; j < M; j++, r /= V) z[c * C + (t ? j : j * K + r % V)] = t ? (float)(r % V) : 1.0f;
        lt_graph_reset(&G);
        assert_int_equal(m->vt->decode(m, &G, z, Z, px), LT_OK);
        for (int64_t i = 0; i < N; i++)
            for (int64_t c = 0; c < Z; c++) {
                double q = 1, f = 0;
                for (int64_t j = 0; j < M; j++) {
                    if (t) q *= z[c * C + j] > 0 ? p[i * C + j] : 1 - p[i * C + j];
                    else for (int64_t k = 0; k < K; k++) if (z[c * C + j * K + k] > 0) q *= p[i * C + j * K + k];
                }
                for (int64_t d = 0; d < D; d++) {
                    double pd = px[c * D + d];
                    f -= x[i * D + d] > 0 ? log(pd) : log(1 - pd);
                }
                for (int64_t a = 0; a < C; a++) exact[i * C + a] += q * f * (z[c * C + a] - p[i * C + a]);
            }
        static float g[DRAWS * N * 6];
        const lt_estimator ests[] = {LT_ESTIMATOR_COUNT, LT_ESTIMATOR_SCORE, LT_ESTIMATOR_SCORE_MA,
                                     LT_ESTIMATOR_GUMBEL, LT_ESTIMATOR_ST_GUMBEL, LT_ESTIMATOR_ST};
        for (int e = 0; e < 6; e++) {
            lt_rng r;
            lt_rng_seed(&r, 11 + (uint64_t)e);
            assert_int_equal(m->vt->latent_grads(m, &b, ests[e], e == 0, 0.5f, DRAWS, &r, g), LT_OK);
            for (int64_t a = 0; a < N * C; a++) {
                double mu = 0, v = 0;
                for (int d = 0; d < DRAWS; d++) mu += g[d * N * C + a];
                mu /= DRAWS;
                for (int d = 0; d < DRAWS; d++) v += (g[d * N * C + a] - mu) * (g[d * N * C + a] - mu);
                double se = sqrt(v / (DRAWS - 1) / DRAWS);
                assert_true(isfinite(mu) && isfinite(se));
                if (e <= 2) { /* unbiased ones */
                    if (fabs(mu - exact[a]) > 5 * se + 1e-6)
                        fail_msg("type %d estimator %d coordinate %lld: mean %g, exact %g, s.e. %g", t, e,
                                 (long long)a, mu, exact[a], se);
                }
            }
        }
        lt_model_destroy(m);
    }
}

static void tau_schedule(void **s) {
    (void)s;
    lt_tau_schedule sc = {1.0f, 0.5f, 1e-3f, 100};
    assert_true(lt_tau_at(&sc, 0) == 1.0f);
    assert_true(lt_tau_at(&sc, 99) == 1.0f);                        /* held for `every` steps */
    assert_true(fabsf(lt_tau_at(&sc, 150) - expf(-0.1f)) < 1e-6f);  /* t rounded down to 100 */
    assert_true(lt_tau_at(&sc, 100000) == 0.5f);                    /* floor */
    lt_estimator e;
    assert_int_equal(lt_estimator_parse("st-gumbel-softmax", &e), LT_OK);
    assert_int_equal(e, LT_ESTIMATOR_ST_GUMBEL);
    assert_int_equal(lt_estimator_parse("nope", &e), LT_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reparam_quadratic),     cmocka_unit_test(gumbel_max_frequencies),
        cmocka_unit_test(gumbel_softmax_limits), cmocka_unit_test(score_function_unbiased),
        cmocka_unit_test(kl_analytic_vs_monte_carlo), cmocka_unit_test(iwae_bound_increases),
        cmocka_unit_test(gsvae_estimators_run),  cmocka_unit_test(tau_schedule),
        cmocka_unit_test(latent_grads_exact),    cmocka_unit_test(vae_kl_warmup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
