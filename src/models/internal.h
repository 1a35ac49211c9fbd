/* For model implementations only: config readers, label one-hots and the
 * pieces every autoregressive model shares (per-example Bernoulli
 * log-likelihood from logits). */
#ifndef LTI_MODELS_INTERNAL_H
#define LTI_MODELS_INTERNAL_H

#include "models/model.h"

/* Config readers: a missing key gives `def`; a wrong type or range is LT_ERR_ARG
 * naming the model and key. */
lt_status lti_cfg_int(const lt_model *m, const char *key, int64_t def, int64_t lo, int64_t hi, int64_t *out);
lt_status lti_cfg_bool(const lt_model *m, const char *key, int def, int *out);
/* "hidden": an integer, an array of integers or a string "500,500"; each in
 * [1, 1<<20]. Fills sizes[0..*n) (at most max); missing key -> def (one layer). */
lt_status lti_cfg_hidden(const lt_model *m, int64_t def, int64_t *sizes, int max, int *n);

/* Checks that a batch fits the model: dim, and labels in [0, n_classes) when the
 * model is class-conditional (labels required). */
lt_status lti_check_batch(const lt_model *m, const lt_batch *b);
/* The labels of b as a one-hot (n, n_classes) constant tensor on g. */
lt_tensor *lti_onehot(lt_graph *g, const lt_model *m, const int64_t *labels, int64_t n);
/* The batch's pixels as a constant (n, dim) tensor on g (no copy). */
lt_tensor *lti_batch_x(lt_graph *g, const lt_batch *b);

/* Mean over the batch of Σ_d BCE(logits, x): the training loss in nats. logits (n,D), x (n,D) */
lt_tensor *lti_bernoulli_nll_mean(lt_graph *g, lt_tensor *logits, lt_tensor *x);
/* out[i] = -Σ_d BCE(logits_i, x_i) = log p(x_i) in nats, from no-grad logits (n,D). */
lt_status lti_bernoulli_log_prob(lt_graph *g, lt_tensor *logits, lt_tensor *x, double *out);

/* The loss and log_prob of a model whose pixels are independent Bernoullis given
 * logits(m, g, x, labels) (n,D) computed in one pass (FVSBN, NADE): loss is
 * lti_bernoulli_nll_mean, log_prob lti_bernoulli_log_prob of logits taken without grad. */
typedef lt_tensor *(*lti_logits_fn)(lt_model *m, lt_graph *g, lt_tensor *x, const int64_t *labels);
lt_status lti_logits_loss(lt_model *m, lt_graph *g, const lt_batch *b, lti_logits_fn logits, lt_tensor **loss);
lt_status lti_logits_log_prob(lt_model *m, lt_graph *g, const lt_batch *b, lti_logits_fn logits, double *out);

/* MADE's logits (n,D) of x (n,D) under mask k (made.c; tests use it to check the
 * autoregressive property by gradients). */
lt_tensor *lti_made_logits(lt_model *m, lt_graph *g, lt_tensor *x, const int64_t *labels, int64_t k);
/* Multiply-adds per example of mask k's products (layers and direct connections): *dense
 * of the dense masked products, *done of what made multiplies (the staircases' blocks),
 * *nonzero of the mask's non-zero entries. For bench/bench_made_flops.c. */
lt_status lti_made_macs(lt_model *m, int64_t k, int64_t *dense, int64_t *done, int64_t *nonzero);

/* The GPT's logits (n, T, K) of p(c_t | c_<t, y) for codes (n, T), in one causal forward
 * pass (gpt.c), and the same token by token through the KV cache (what sampling runs)
 * into out (n, T, K); tests check that the two agree. */
lt_tensor *lti_gpt_logits(lt_model *m, lt_graph *g, const int64_t *codes, const int64_t *labels, int64_t n);
lt_status lti_gpt_cached_logits(lt_model *m, lt_graph *g, const int64_t *codes, const int64_t *labels, int64_t n,
                                float *out);

#endif
