/* Weighted cosine k-NN accuracy (metrics.h): the monitor of InstDisc (Wu et al. 2018) and
 * SimCLR's repositories, k = 200 and T = 0.1 there. Similarities of a block of queries
 * against the whole bank are one sgemm; the k largest of each row are kept in a min-heap. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "metrics/metrics.h"

/* rows of x (n, d) scaled to unit L2 norm into out (a zero row stays zero) */
static void lti_normalize(const float *x, int64_t n, int64_t d, float *out) {
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t j = 0; j < d; j++) s += (double)x[i * d + j] * x[i * d + j];
        const float r = s > 0 ? (float)(1 / sqrt(s)) : 0.0f;
        for (int64_t j = 0; j < d; j++) out[i * d + j] = x[i * d + j] * r;
    }
}

/* min-heap of (sim, index) pairs on sim, size m */
static void lti_sift_down(float *v, int64_t *ix, int64_t m, int64_t i) {
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, s = i;
        if (l < m && v[l] < v[s]) s = l;
        if (r < m && v[r] < v[s]) s = r;
        if (s == i) return;
        float tv = v[i];
        v[i] = v[s];
        v[s] = tv;
        int64_t ti = ix[i];
        ix[i] = ix[s];
        ix[s] = ti;
        i = s;
    }
}

lt_status lt_knn_accuracy(const lt_labelled *bank, const lt_labelled *query, int64_t d, int64_t n_classes, int64_t k,
                          double T, double *acc) {
    *acc = 0;
    if (bank->n < 1 || query->n < 1 || d < 1 || n_classes < 1 || k < 1 || !(T > 0))
        return lt_fail(LT_ERR_ARG, "k-NN: bank %lld, queries %lld, %lld features, %lld classes, k %lld, T %g",
                       (long long)bank->n, (long long)query->n, (long long)d, (long long)n_classes, (long long)k, T);
    for (int64_t i = 0; i < bank->n; i++)
        if (bank->y[i] < 0 || bank->y[i] >= n_classes)
            return lt_fail(LT_ERR_ARG, "k-NN: bank label %lld of example %lld, expected 0..%lld", (long long)bank->y[i],
                           (long long)i, (long long)n_classes - 1);
    if (k > bank->n) k = bank->n;
    const int64_t B = 256, nb = bank->n; /* queries per block */
    float *bn = lt_malloc(sizeof(float) * (size_t)(nb * d)), *qn = lt_malloc(sizeof(float) * (size_t)(B * d));
    float *sim = lt_malloc(sizeof(float) * (size_t)(B * nb)), *hv = lt_malloc(sizeof(float) * (size_t)k);
    int64_t *hi = lt_malloc(sizeof(int64_t) * (size_t)k);
    double *vote = lt_malloc(sizeof(double) * (size_t)n_classes);
    lt_status st = LT_OK;
    if (!bn || !qn || !sim || !hv || !hi || !vote) {
        st = lt_fail(LT_ERR_NOMEM, "k-NN buffers (bank %lld x %lld)", (long long)nb, (long long)d);
        goto done;
    }
    lti_normalize(bank->x, nb, d, bn);
    int64_t right = 0;
    for (int64_t q0 = 0; q0 < query->n; q0 += B) {
        const int64_t m = query->n - q0 < B ? query->n - q0 : B;
        lti_normalize(query->x + q0 * d, m, d, qn);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)nb, (int)d, 1.0f, qn, (int)d, bn, (int)d,
                    0.0f, sim, (int)nb);
        for (int64_t i = 0; i < m; i++) {
            const float *s = sim + i * nb;
            for (int64_t j = 0; j < k; j++) hv[j] = s[j], hi[j] = j;
            for (int64_t j = k / 2 - 1; j >= 0; j--) lti_sift_down(hv, hi, k, j);
            for (int64_t j = k; j < nb; j++)
                if (s[j] > hv[0]) {
                    hv[0] = s[j];
                    hi[0] = j;
                    lti_sift_down(hv, hi, k, 0);
                }
            for (int64_t c = 0; c < n_classes; c++) vote[c] = 0;
            for (int64_t j = 0; j < k; j++) vote[bank->y[hi[j]]] += exp(hv[j] / T);
            int64_t best = 0;
            for (int64_t c = 1; c < n_classes; c++)
                if (vote[c] > vote[best]) best = c;
            right += best == query->y[q0 + i];
        }
    }
    *acc = (double)right / (double)query->n;
done:
    lt_free(bn);
    lt_free(qn);
    lt_free(sim);
    lt_free(hv);
    lt_free(hi);
    lt_free(vote);
    return st;
}
