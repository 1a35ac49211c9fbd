/* Estimators on toys with exact gradients (see compare.h). All draws of one
 * estimator run as one batch: row i of the (draws, P) logits is draw i, and the
 * logits' gradient rows are the per-draw gradient estimates. */
#include "dist/compare.h"

#include <math.h>
#include <string.h>

#include "autograd/backward.h"
#include "core/alloc.h"
#include "dist/dist.h"
#include "ops/ops.h"

const lt_estimator lt_compare_estimators[] = {LT_ESTIMATOR_SCORE, LT_ESTIMATOR_SCORE_MA, LT_ESTIMATOR_ST,
                                              LT_ESTIMATOR_GUMBEL, LT_ESTIMATOR_ST_GUMBEL};
const int lt_compare_n_estimators = (int)(sizeof lt_compare_estimators / sizeof lt_compare_estimators[0]);

static const float lti_theta_b[4] = {-1.0f, 0.0f, 0.5f, 2.0f}; /* Bernoulli toy: P = 4, t = 0.45 */
static const float lti_t_b = 0.45f;
static const float lti_theta_c[4] = {0.5f, -0.5f, 1.0f, 0.0f};  /* categorical toy: K = 4 */
static const float lti_t_c[4] = {0.2f, 0.6f, 0.4f, 0.1f};

void lt_compare_stats(const float *g, int64_t draws, int64_t P, const double *exact, lt_est_stats *out) {
    out->n_params = P;
    out->draws = draws;
    double msq = 0, bsq = 0;
    out->var_sum = 0;
    for (int64_t j = 0; j < P; j++) {
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < draws; i++) {
            s += g[i * P + j];
            s2 += (double)g[i * P + j] * g[i * P + j];
        }
        double m = s / (double)draws, v = draws > 1 ? (s2 - (double)draws * m * m) / (double)(draws - 1) : 0;
        if (j < LT_COMPARE_MAX_P) {
            out->mean[j] = m;
            out->exact[j] = exact ? exact[j] : 0;
        }
        out->var_sum += v > 0 ? v : 0;
        msq += m * m;
        if (exact) bsq += (m - exact[j]) * (m - exact[j]);
    }
    out->snr = out->var_sum > 0 ? sqrt(msq / out->var_sum) : INFINITY;
    out->bias = sqrt(bsq);
    out->bias_se = sqrt(out->var_sum / (double)draws);
}

/* The exact gradient of the toy. */
static void lti_exact(lt_latent_kind kind, double *ex) {
    if (kind == LT_LATENT_BERNOULLI) {
        double a = (1 - lti_t_b) * (1 - lti_t_b) - lti_t_b * lti_t_b;
        for (int j = 0; j < 4; j++) {
            double s = 1 / (1 + exp(-lti_theta_b[j]));
            ex[j] = s * (1 - s) * a;
        }
        return;
    }
    double p[4], a[4], z = 0, pa = 0;
    for (int k = 0; k < 4; k++) z += exp(lti_theta_c[k]);
    for (int k = 0; k < 4; k++) {
        p[k] = exp(lti_theta_c[k]) / z;
        a[k] = (1 - lti_t_c[k]) * (1 - lti_t_c[k]) - lti_t_c[k] * lti_t_c[k];
        pa += p[k] * a[k];
    }
    for (int j = 0; j < 4; j++) ex[j] = p[j] * (a[j] - pa);
}

/* f(z) = Σ_j (z_j − t_j)² per row: z (R,P) -> (R) */
static lt_tensor *lti_toy_f(lt_graph *g, lt_tensor *z, const lt_tensor *t) {
    lt_tensor *d = lt_sub(g, z, (lt_tensor *)t);
    return lt_sum(g, lt_mul(g, d, d), 1, 0);
}

static lt_status lti_one(lt_graph *g, lt_rng *r, lt_estimator e, lt_latent_kind kind, int64_t R, float tau, float *grads) {
    const int64_t P = 4;
    const float *theta = kind == LT_LATENT_BERNOULLI ? lti_theta_b : lti_theta_c;
    lt_graph_reset(g);
    lt_tensor *lg = lt_graph_new(g, LT_F32, 2, (int64_t[]){R, P}); /* (R,P) every row θ */
    lt_tensor *t = lt_graph_new(g, LT_F32, 2, (int64_t[]){1, P});  /* (1,P) targets */
    if (!lg || !t) return lt_graph_status(g);
    for (int64_t i = 0; i < R * P; i++) lg->data[i] = theta[i % P];
    for (int64_t j = 0; j < P; j++) t->data[j] = kind == LT_LATENT_BERNOULLI ? lti_t_b : lti_t_c[j];
    lg->requires_grad = 1;
    /* the moving-average baseline's value after a warm-up: the mean of f over R other draws */
    double base = 0;
    if (e == LT_ESTIMATOR_SCORE_MA) {
        int old = lt_graph_set_grad(g, 0);
        lt_tensor *z0 = kind == LT_LATENT_BERNOULLI ? lt_bernoulli_sample(g, r, lg) : lt_categorical_sample(g, r, lg);
        lt_tensor *f0 = lti_toy_f(g, z0, t);
        lt_graph_set_grad(g, old);
        if (!f0) return lt_graph_status(g);
        lt_ma_baseline ma = {0, 0.0f, 0};
        lt_ma_baseline_update(&ma, f0->data, R);
        base = ma.value;
    }
    lt_latent_draw d;
    lt_status st = lt_latent_draw_sample(g, r, e, kind, lg, tau, &d);
    if (st) return st;
    lt_tensor *f = lti_toy_f(g, d.z, t), *obj; /* (R) */
    if (d.log_q) {
        lt_tensor *b = NULL;
        if (e == LT_ESTIMATOR_SCORE_MA && (b = lt_graph_new(g, LT_F32, 1, (int64_t[]){R})))
            for (int64_t i = 0; i < R; i++) b->data[i] = (float)base;
        obj = lt_score_surrogate(g, f, b, d.log_q);
    } else {
        obj = f;
    }
    if ((st = lt_backward(g, lt_sum(g, obj, LT_AXIS_ALL, 0)))) return st;
    memcpy(grads, lg->grad, sizeof(float) * (size_t)(R * P));
    return LT_OK;
}

lt_status lt_compare_toy(lt_latent_kind kind, int64_t draws, float tau, uint64_t seed, lt_est_stats *out) {
    if (draws < 2) return lt_fail(LT_ERR_ARG, "estimators: %lld draws, need at least 2", (long long)draws);
    lt_graph g;
    lt_status st = lt_graph_init(&g, (size_t)draws * 64);
    if (st) return st;
    float *grads = lt_malloc(sizeof(float) * (size_t)(draws * 4)); /* (draws, P) */
    if (!grads) st = lt_fail(LT_ERR_NOMEM, "estimators: %lld draws", (long long)draws);
    double ex[4];
    lti_exact(kind, ex);
    for (int k = 0; !st && k < lt_compare_n_estimators; k++) {
        lt_rng r;
        lt_rng_seed(&r, seed + (uint64_t)k);
        st = lti_one(&g, &r, lt_compare_estimators[k], kind, draws, tau, grads);
        if (!st) {
            out[k].est = lt_compare_estimators[k];
            lt_compare_stats(grads, draws, 4, ex, &out[k]);
        }
    }
    lt_free(grads);
    lt_graph_free(&g);
    return st;
}
