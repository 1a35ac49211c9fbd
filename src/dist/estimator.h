/* Gradient estimators for objectives L = E_{z~q(z)}[f(z)] and the Gumbel
 * temperature schedule. Used by the latent-variable models (config key
 * "estimator", CLI --estimator) and by `latent estimators`.
 *
 *   pathwise     reparameterization z = g(ε, θ) (continuous latents only)
 *   score        REINFORCE: ∇θ log q(z)·f(z), no baseline
 *   score-ma     REINFORCE with a moving-average baseline b: (f − b)·∇ log q
 *   score-nn     REINFORCE with the moving average plus an input-dependent
 *                learned baseline b(x) (a small MLP the model owns, trained on
 *                its own loss (b(x) − (f − b_ma))²: NVIL's control variate)
 *   st           straight-through: a hard sample forward, the gradient of the
 *                probabilities (softmax or sigmoid of the logits) backward
 *   gumbel       Gumbel-Softmax / binary Concrete relaxation at temperature τ
 *   st-gumbel    straight-through Gumbel-Softmax: one-hot forward, relaxed gradient
 *
 * All surrogates keep the loss VALUE unchanged (they add terms whose value is
 * zero and whose gradient is the estimator's), so a model's reported loss stays
 * the negative ELBO whatever the estimator. */
#ifndef LT_ESTIMATOR_H
#define LT_ESTIMATOR_H

#include <stdint.h>

#include "core/graph.h"
#include "core/rng.h"
#include "core/status.h"

typedef enum lt_estimator {
    LT_ESTIMATOR_PATHWISE = 0,
    LT_ESTIMATOR_SCORE,
    LT_ESTIMATOR_SCORE_MA,
    LT_ESTIMATOR_SCORE_NN,
    LT_ESTIMATOR_ST,
    LT_ESTIMATOR_GUMBEL,
    LT_ESTIMATOR_ST_GUMBEL,
    LT_ESTIMATOR_COUNT
} lt_estimator;

/* "pathwise" (alias "reparam"), "score" ("reinforce"), "score-ma", "score-nn", "st",
 * "gumbel" ("gumbel-softmax"), "st-gumbel" ("st-gumbel-softmax"); else LT_ERR_ARG. */
lt_status lt_estimator_parse(const char *s, lt_estimator *out);
const char *lt_estimator_name(lt_estimator e);
static inline int lt_estimator_is_score(lt_estimator e) {
    return e == LT_ESTIMATOR_SCORE || e == LT_ESTIMATOR_SCORE_MA || e == LT_ESTIMATOR_SCORE_NN;
}

/* τ(t) = max(τ_min, τ0·exp(−r·t')) with t' = t rounded down to a multiple of `every`
 * (the temperature changes every `every` steps; every <= 1: every step). */
typedef struct lt_tau_schedule {
    float tau0, tau_min, rate;
    int64_t every;
} lt_tau_schedule;
float lt_tau_at(const lt_tau_schedule *s, int64_t step);

typedef enum lt_latent_kind { LT_LATENT_CATEGORICAL = 0, LT_LATENT_BERNOULLI } lt_latent_kind;

/* One draw of a discrete latent for estimator e. */
typedef struct lt_latent_draw {
    lt_tensor *z;      /* what the decoder sees (logits' shape) */
    lt_tensor *hard;   /* the discrete sample (constant), NULL for the relaxed estimator */
    lt_tensor *log_q;  /* (N) log q(hard), with gradient: score-function estimators only */
} lt_latent_draw;
/* logits (N,...,K) for categoricals over the last axis, (N,...) for Bernoullis.
 * LT_ESTIMATOR_PATHWISE is LT_ERR_ARG here (discrete latents have no reparameterization). */
lt_status lt_latent_draw_sample(lt_graph *g, lt_rng *r, lt_estimator e, lt_latent_kind kind, lt_tensor *logits,
                                float tau, lt_latent_draw *out);

/* The score-function term: value 0, gradient (f − b)·∇ log_q with f and b held constant.
 * f, log_q (N); b (N) or NULL. -> (N) */
lt_tensor *lt_score_surrogate(lt_graph *g, lt_tensor *f, lt_tensor *b, lt_tensor *log_q);
/* A term with value 0 and gradient ∇ t: t − stop_gradient(t). */
lt_tensor *lt_zero_value(lt_graph *g, lt_tensor *t);

/* A moving average of the learning signal: b ← m·b + (1−m)·mean(f); the first update sets it. */
typedef struct lt_ma_baseline {
    double value;
    float momentum;
    int started;
} lt_ma_baseline;
void lt_ma_baseline_update(lt_ma_baseline *b, const float *f, int64_t n);
/* The same update from the batch's sum of f and its count n (> 0): data-parallel training sums
 * them over the processes first, so the baseline follows the whole batch's mean. */
void lt_ma_baseline_push(lt_ma_baseline *b, double sum, double n);

#endif
