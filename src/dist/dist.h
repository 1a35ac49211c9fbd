/* Distributions for latent-variable models, written with the ops so that every
 * quantity a model differentiates records on the graph (no ops of their own).
 *
 * Conventions. Parameters are tensors on the caller's graph: a diagonal Normal
 * is (mu, logvar) with logvar = log σ²; Bernoulli and categorical come from
 * logits. The LAST axis is the event axis of a categorical (K classes); all
 * per-example results ("-> (N)") are summed over every axis but the first, so
 * (N,M,K) logits are M independent categoricals per example. Samples drawn
 * here are constants (no gradient) unless the function says "reparameterized"
 * or "relaxed". Randomness comes from the caller's rng, never from the graph's.
 * Results live in the graph's arena (until lt_graph_reset); NULL on error with
 * the graph's sticky status set, as for any op. */
#ifndef LT_DIST_H
#define LT_DIST_H

#include "core/graph.h"
#include "core/rng.h"

/* ---- diagonal Normal N(mu, exp(logvar)) ---- all (N,Z) */
/* A constant sample. */
lt_tensor *lt_normal_sample(lt_graph *g, lt_rng *r, lt_tensor *mu, lt_tensor *logvar);
/* Reparameterized: z = mu + exp(logvar/2)·eps, eps ~ N(0,I); gradients flow to mu and logvar. */
lt_tensor *lt_normal_rsample(lt_graph *g, lt_rng *r, lt_tensor *mu, lt_tensor *logvar);
/* log N(x; mu, exp(logvar)) -> (N). mu and logvar may be NULL: standard normal. */
lt_tensor *lt_normal_log_prob(lt_graph *g, lt_tensor *x, lt_tensor *mu, lt_tensor *logvar);
/* Differential entropy ½Σ(1 + log 2π + logvar) -> (N). */
lt_tensor *lt_normal_entropy(lt_graph *g, lt_tensor *logvar);
/* KL(N(mu,e^lv) || N(0,I)) and KL(N(mu1,e^lv1) || N(mu2,e^lv2)) -> (N), analytic. */
lt_tensor *lt_normal_kl_std(lt_graph *g, lt_tensor *mu, lt_tensor *logvar);
lt_tensor *lt_normal_kl(lt_graph *g, lt_tensor *mu1, lt_tensor *lv1, lt_tensor *mu2, lt_tensor *lv2);

/* ---- Bernoulli(sigmoid(logits)) ---- logits (N,...) */
lt_tensor *lt_bernoulli_sample(lt_graph *g, lt_rng *r, lt_tensor *logits);          /* constant {0,1} */
lt_tensor *lt_bernoulli_log_prob(lt_graph *g, lt_tensor *logits, lt_tensor *x);     /* -> (N); x constant */
lt_tensor *lt_bernoulli_entropy(lt_graph *g, lt_tensor *logits);                    /* -> (N) */
/* KL(Bernoulli(σ(logits)) || Bernoulli(1/2)) -> (N) = Σ (log 2 − H). */
lt_tensor *lt_bernoulli_kl_uniform(lt_graph *g, lt_tensor *logits);
/* Relaxed Bernoulli (binary Concrete, Maddison et al. 2017): σ((logits + log u − log(1−u))/τ),
 * relaxed (gradients flow to logits). */
lt_tensor *lt_relaxed_bernoulli(lt_graph *g, lt_rng *r, lt_tensor *logits, float tau);

/* ---- categorical over the last axis ---- logits (N,...,K) */
/* Gumbel-Max: argmax_k (logits_k + G_k), G ~ Gumbel(0,1), as a constant one-hot of logits' shape. */
lt_tensor *lt_categorical_sample(lt_graph *g, lt_rng *r, lt_tensor *logits);
/* The same draw as class indices: idx (numel/K) with idx[i] in [0,K). Plain memory, no graph. */
void lt_gumbel_max(lt_rng *r, const float *logits, int64_t rows, int64_t k, int64_t *idx);
lt_tensor *lt_categorical_log_prob(lt_graph *g, lt_tensor *logits, lt_tensor *onehot); /* -> (N); onehot constant */
lt_tensor *lt_categorical_entropy(lt_graph *g, lt_tensor *logits);                    /* -> (N) */
/* KL(Cat(softmax(logits)) || uniform over K) -> (N) = Σ_rows (log K − H). */
lt_tensor *lt_categorical_kl_uniform(lt_graph *g, lt_tensor *logits);
/* Gumbel-Softmax / Concrete (Jang et al. 2017; Maddison et al. 2017): softmax((logits + G)/τ),
 * relaxed. With hard != 0 the straight-through version: the value is the one-hot argmax of the
 * relaxed sample (the Gumbel-Max draw), the gradient that of the relaxed sample. */
lt_tensor *lt_gumbel_softmax(lt_graph *g, lt_rng *r, lt_tensor *logits, float tau, int hard);
/* The one-hot argmax of x over the last axis, a constant. */
lt_tensor *lt_onehot_argmax(lt_graph *g, const lt_tensor *x);

#endif
