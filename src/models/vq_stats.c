/* Validation metrics of the discrete-code autoencoders (see vq_stats.h). */
#include "models/vq_stats.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

lt_status lti_vq_stats_init(lti_vq_stats *s, int64_t K) {
    memset(s, 0, sizeof *s);
    s->K = K;
    if (!(s->hist = lt_calloc((size_t)K, sizeof *s->hist))) return lt_fail(LT_ERR_NOMEM, "code histogram of %lld codes", (long long)K);
    return LT_OK;
}

void lti_vq_stats_free(lti_vq_stats *s) {
    lt_free(s->hist);
    s->hist = NULL;
}

void lti_vq_stats_begin(lti_vq_stats *s) {
    memset(s->hist, 0, sizeof(int64_t) * (size_t)s->K);
    s->sse = s->sx = s->sxx = s->npix = s->com = s->cb = s->nelem = 0;
}

void lti_vq_stats_add(lti_vq_stats *s, const float *x, const float *y, int64_t n, double scale, const int64_t *codes,
                      int64_t M, int64_t D, double commitment, double codebook) {
    for (int64_t i = 0; i < n; i++) {
        const double d = ((double)y[i] - x[i]) * scale, xi = (double)x[i] * scale;
        s->sse += d * d;
        s->sx += xi;
        s->sxx += xi * xi;
    }
    s->npix += (double)n;
    for (int64_t i = 0; i < M; i++) s->hist[codes[i]]++;
    s->com += commitment * (double)(M * D);
    s->cb += codebook * (double)(M * D);
    s->nelem += (double)(M * D);
}

int lti_vq_stats_end(const lti_vq_stats *s, const char **names, double *values, int max) {
    static const char *const keys[] = {"mse", "psnr", "normalized_mse", "usage", "dead_codes", "perplexity",
                                       "commitment", "codebook_loss"};
    int64_t used = 0, total = 0;
    for (int64_t k = 0; k < s->K; k++) used += s->hist[k] > 0, total += s->hist[k];
    double H = 0;
    for (int64_t k = 0; k < s->K; k++)
        if (s->hist[k] > 0) {
            const double p = (double)s->hist[k] / (double)total;
            H -= p * log(p);
        }
    const double np = s->npix > 0 ? s->npix : 1, mse = s->sse / np, mu = s->sx / np, var = s->sxx / np - mu * mu;
    const double vals[] = {mse, 10 * log10(1 / mse), var > 0 ? mse / var : NAN, (double)used / (double)s->K,
                           (double)(s->K - used), exp(H), s->nelem > 0 ? s->com / s->nelem : NAN,
                           s->nelem > 0 ? s->cb / s->nelem : NAN};
    int n = 0;
    for (; n < (int)(sizeof keys / sizeof keys[0]) && n < max; n++) {
        names[n] = keys[n];
        values[n] = vals[n];
    }
    return n;
}

int64_t lti_vq_stats_export(const lti_vq_stats *s, double *acc, int64_t max) {
    const int64_t n = s->K + 7;
    if (!acc || max < n) return n;
    for (int64_t k = 0; k < s->K; k++) acc[k] = (double)s->hist[k];
    const double sums[7] = {s->sse, s->sx, s->sxx, s->npix, s->com, s->cb, s->nelem};
    for (int i = 0; i < 7; i++) acc[s->K + i] = sums[i];
    return n;
}

void lti_vq_stats_import(lti_vq_stats *s, const double *acc, int64_t n) {
    if (n != s->K + 7) return;
    for (int64_t k = 0; k < s->K; k++) s->hist[k] = (int64_t)acc[k];
    const double *u = acc + s->K;
    s->sse = u[0], s->sx = u[1], s->sxx = u[2], s->npix = u[3], s->com = u[4], s->cb = u[5], s->nelem = u[6];
}
