/* Drawing one token from a model's logits: temperature, top-k and nucleus (top-p)
 * filtering (Holtzman et al. 2019), applied in that order, as e.g. HF transformers does. */
#ifndef LT_SAMPLING_H
#define LT_SAMPLING_H

#include <stdint.h>

#include "core/rng.h"
#include "core/status.h"

/* softmax(logits / temperature) restricted to the top_k most likely entries (0 or >= K:
 * all), then to the smallest set of most likely entries whose probability reaches top_p
 * of what is left (>= 1: all), renormalized. Ties rank by index (lower first). */
typedef struct lt_sample_opts {
    float temperature;   /* > 0; 1 = the model's distribution */
    int64_t top_k;
    float top_p;         /* in (0, 1] */
} lt_sample_opts;

typedef struct lt_sample_rank {
    double p;
    int64_t i;
} lt_sample_rank;

/* LT_ERR_ARG (message set) unless temperature > 0, top_k >= 0 and 0 < top_p <= 1. */
lt_status lt_sample_opts_check(const lt_sample_opts *o);
/* The filtered distribution of logits (K) into probs (K) (zeros outside the kept set);
 * scratch (K). o NULL: temperature 1, no filter. */
void lt_sample_probs(const float *logits, int64_t K, const lt_sample_opts *o, lt_sample_rank *scratch, double *probs);
/* One draw from lt_sample_probs's distribution. */
int64_t lt_sample_token(lt_rng *r, const float *logits, int64_t K, const lt_sample_opts *o, lt_sample_rank *scratch,
                        double *probs);

#endif
