/* Estimator comparison on toys with known exact gradients (for `latent estimators`).
 *
 * Bernoulli toy: P independent z_j ~ Bernoulli(σ(θ_j)), f(z) = Σ_j (z_j − t)²;
 *   ∂E[f]/∂θ_j = σ'(θ_j)·((1 − t)² − t²).
 * Categorical toy: z ~ Cat(softmax(θ)) over K classes (one-hot), f(z) = Σ_k (z_k − t_k)²;
 *   with a_k = (1 − t_k)² − t_k², ∂E[f]/∂θ_j = p_j (a_j − Σ_k p_k a_k).
 * Each estimator's single-sample gradient is drawn `draws` times; the
 * relaxations (gumbel) evaluate f at the relaxed sample, which is their bias. */
#ifndef LT_COMPARE_H
#define LT_COMPARE_H

#include <stdint.h>

#include "core/status.h"
#include "dist/estimator.h"

#define LT_COMPARE_MAX_P 16

typedef struct lt_est_stats {
    lt_estimator est;
    int64_t n_params, draws;
    double mean[LT_COMPARE_MAX_P];   /* mean gradient */
    double exact[LT_COMPARE_MAX_P];  /* the exact gradient (toys) */
    double var_sum;                  /* Σ_j Var(g_j) over the draws */
    double snr;                      /* ||mean|| / sqrt(var_sum) */
    double bias;                     /* ||mean − exact|| */
    double bias_se;                  /* sqrt(var_sum / draws): the bias expected from noise alone */
} lt_est_stats;

/* The estimators run on the toys, in table order. */
extern const lt_estimator lt_compare_estimators[];
extern const int lt_compare_n_estimators;

/* One row of stats per estimator of lt_compare_estimators into out[0..n). */
lt_status lt_compare_toy(lt_latent_kind kind, int64_t draws, float tau, uint64_t seed, lt_est_stats *out);

/* Fills stats from draws of gradients g (draws, P) and the exact gradient (or NULL: bias 0). */
void lt_compare_stats(const float *g, int64_t draws, int64_t P, const double *exact, lt_est_stats *out);

#endif
