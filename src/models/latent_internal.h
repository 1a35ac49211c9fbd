/* For the latent-variable models (vae.c, gsvae.c) only: an MLP made of
 * parameters of the model, string/real config readers, and the importance-
 * weighted accumulation both models' log_prob share. */
#ifndef LTI_MODELS_LATENT_H
#define LTI_MODELS_LATENT_H

#include "models/internal.h"

#define LTI_MLP_MAX 8

typedef enum lti_act { LTI_ACT_RELU = 0, LTI_ACT_SOFTPLUS, LTI_ACT_TANH } lti_act;

/* Linear layers sizes[0] -> sizes[1] -> ... -> sizes[n]; activation between them
 * (not after the last). Weights "<prefix>W<l>" (out,in), biases "<prefix>b<l>" (out),
 * owned by m->params. */
typedef struct lti_mlp {
    int n;
    lti_act act;
    lt_tensor *W[LTI_MLP_MAX], *b[LTI_MLP_MAX];
} lti_mlp;

/* Declares the parameters (before lt_params_finalize). */
lt_status lti_mlp_declare(lt_model *m, lti_mlp *mlp, const char *prefix, const int64_t *sizes, int n, lti_act act);
/* PyTorch nn.Linear's initialization U(±1/sqrt(fan_in)) for weights and biases (after finalize). */
void lti_mlp_init(lt_model *m, lti_mlp *mlp);
/* x (N, sizes[0]) -> (N, sizes[n]) */
lt_tensor *lti_mlp_forward(lt_graph *g, const lti_mlp *mlp, lt_tensor *x);

/* "activation": relu | softplus | tanh. */
lt_status lti_cfg_act(const lt_model *m, lti_act def, lti_act *out);
/* A string option (borrowed from m->config) or def. */
lt_status lti_cfg_str(const lt_model *m, const char *key, const char *def, const char **out);
/* A real option in [lo, hi] or def. */
lt_status lti_cfg_real(const lt_model *m, const char *key, double def, double lo, double hi, double *out);

/* K copies of t (N,...) stacked on axis 0: (K·N, ...), copy k in rows k·N..; recorded
 * (gradients sum over the copies). */
lt_tensor *lti_tile(lt_graph *g, lt_tensor *t, int64_t K);

/* out[i] = log (1/K Σ_k exp(lw[k*n + i])) and, when mean != NULL, mean[i] = 1/K Σ_k lw[k*n + i]. lw (K, n) */
void lti_log_mean_exp(const double *lw, int64_t K, int64_t n, double *out, double *mean);

#endif
