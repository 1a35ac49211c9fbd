/* For the discrete-code autoencoders (vqvae, vqgan) only: their validation metrics over a
 * split. mse, psnr and normalized_mse are over pixels in [0, 1] (a model of range [-1, 1]
 * passes scale 0.5: its differences are halved); usage, dead_codes and perplexity exp(H)
 * of the code histogram; commitment and codebook_loss are unweighted means per element. */
#ifndef LTI_VQ_STATS_H
#define LTI_VQ_STATS_H

#include <stdint.h>

#include "core/status.h"

typedef struct lti_vq_stats {
    int64_t K;
    int64_t *hist;           /* (K), owned */
    double sse, sx, sxx, npix, com, cb, nelem;
} lti_vq_stats;

lt_status lti_vq_stats_init(lti_vq_stats *s, int64_t K);
void lti_vq_stats_free(lti_vq_stats *s);
void lti_vq_stats_begin(lti_vq_stats *s);
/* n pixels of the data x and reconstruction y (model range; scale maps a difference to [0,1]
 * units), M codes (each in [0, K)), the batch's unweighted commitment and codebook means over
 * M·D elements. */
void lti_vq_stats_add(lti_vq_stats *s, const float *x, const float *y, int64_t n, double scale, const int64_t *codes,
                      int64_t M, int64_t D, double commitment, double codebook);
/* The accumulators as doubles for an all-reduce over ranks (metrics_export/import of
 * model.h): the histogram's counts (exact below 2^53), then the seven sums; K + 7 values.
 * export returns the count and writes them when acc holds that many. */
int64_t lti_vq_stats_export(const lti_vq_stats *s, double *acc, int64_t max);
void lti_vq_stats_import(lti_vq_stats *s, const double *acc, int64_t n);
int lti_vq_stats_end(const lti_vq_stats *s, const char **names, double *values, int max);

#endif
