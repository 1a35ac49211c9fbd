/* Fréchet distance between Gaussian fits and KID (metrics.h), in double.
 *
 * The matrix square root: c1 = V diag(λ) Vᵀ by dsyevd, c1^½ = V diag(√λ⁺) Vᵀ; then
 * tr((c1^½ c2 c1^½)^½) = Σ √μ⁺ over the eigenvalues μ of the symmetric PSD matrix c1^½ c2 c1^½
 * (a second dsyevd, eigenvalues only). This is pytorch-fid's quantity without its
 * non-symmetric scipy.linalg.sqrtm (and its imaginary parts).
 * OpenBLAS ships LAPACK without a C header here: dsyevd_'s Fortran interface is declared below. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "metrics/metrics.h"

void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
             const int *lwork, int *iwork, const int *liwork, int *info);

/* Eigen-decomposition of the symmetric a (n, n), in place: eigenvectors (vectors != 0, as
 * columns of the column-major result = rows of a row-major one) and eigenvalues w (n). */
static lt_status lti_syevd(double *a, int64_t n, int vectors, double *w) {
    const char jobz = vectors ? 'V' : 'N', uplo = 'U';
    const int nn = (int)n;
    int info = 0, lwork = -1, liwork = -1, iwq = 0;
    double wq = 0;
    dsyevd_(&jobz, &uplo, &nn, a, &nn, w, &wq, &lwork, &iwq, &liwork, &info); /* workspace query */
    if (info) return lt_fail(LT_ERR_NUMERIC, "dsyevd workspace query failed (info %d)", info);
    lwork = (int)wq;
    liwork = iwq;
    double *work = lt_malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
    int *iwork = lt_malloc(sizeof(int) * (size_t)(liwork > 1 ? liwork : 1));
    if (!work || !iwork) {
        lt_free(work);
        lt_free(iwork);
        return lt_fail(LT_ERR_NOMEM, "dsyevd workspace for a %lld x %lld matrix", (long long)n, (long long)n);
    }
    dsyevd_(&jobz, &uplo, &nn, a, &nn, w, work, &lwork, iwork, &liwork, &info);
    lt_free(work);
    lt_free(iwork);
    if (info) return lt_fail(LT_ERR_NUMERIC, "dsyevd did not converge on a %lld x %lld covariance (info %d)",
                             (long long)n, (long long)n, info);
    return LT_OK;
}

lt_status lt_gauss_fit(const float *x, int64_t n, int64_t d, double *mu, double *cov) {
    if (n < 2 || d < 1)
        return lt_fail(LT_ERR_ARG, "a Gaussian fit needs >= 2 rows of >= 1 feature, got %lld of %lld", (long long)n,
                       (long long)d);
    for (int64_t j = 0; j < d; j++) mu[j] = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) mu[j] += x[i * d + j];
    for (int64_t j = 0; j < d; j++) mu[j] /= (double)n;
    const int64_t B = 512; /* centred rows in double, a block at a time, accumulated by dsyrk */
    double *c = lt_malloc(sizeof(double) * (size_t)(B * d));
    if (!c) return lt_fail(LT_ERR_NOMEM, "covariance buffers (%lld features)", (long long)d);
    memset(cov, 0, sizeof(double) * (size_t)(d * d));
    for (int64_t i0 = 0; i0 < n; i0 += B) {
        const int64_t m = n - i0 < B ? n - i0 : B;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < d; j++) c[i * d + j] = x[(i0 + i) * d + j] - mu[j];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)m, 1.0, c, (int)d, 1.0, cov, (int)d);
    }
    lt_free(c);
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = i; j < d; j++) cov[j * d + i] = cov[i * d + j] /= (double)(n - 1);
    return LT_OK;
}

lt_status lt_frechet_distance(const double *mu1, const double *c1, const double *mu2, const double *c2, int64_t d,
                              double *fd) {
    const size_t dd = (size_t)(d * d);
    double *v = lt_malloc(sizeof(double) * dd), *s = lt_malloc(sizeof(double) * dd);
    double *t = lt_malloc(sizeof(double) * dd), *w = lt_malloc(sizeof(double) * (size_t)d);
    lt_status st = LT_OK;
    if (!v || !s || !t || !w) {
        st = lt_fail(LT_ERR_NOMEM, "Fréchet distance buffers (%lld features)", (long long)d);
        goto done;
    }
    memcpy(v, c1, sizeof(double) * dd);
    if ((st = lti_syevd(v, d, 1, w))) goto done;
    /* v's rows are eigenvectors (row-major view of the column-major result): c1^½ = Vᵀ diag(√λ) V */
    for (int64_t i = 0; i < d; i++) {
        const double r = sqrt(w[i] > 0 ? w[i] : 0);
        for (int64_t j = 0; j < d; j++) t[i * d + j] = v[i * d + j] * r;
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)d, 1.0, v, (int)d, t, (int)d, 0.0, s,
                (int)d); /* s = c1^½ */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)d, (int)d, 1.0, s, (int)d, c2, (int)d, 0.0, t,
                (int)d); /* t = c1^½ c2 */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)d, (int)d, 1.0, t, (int)d, s, (int)d, 0.0, v,
                (int)d); /* v = c1^½ c2 c1^½ */
    for (int64_t i = 0; i < d; i++) /* symmetric up to rounding: make it exactly so */
        for (int64_t j = i + 1; j < d; j++) v[i * d + j] = v[j * d + i] = 0.5 * (v[i * d + j] + v[j * d + i]);
    if ((st = lti_syevd(v, d, 0, w))) goto done;
    double tr_sqrt = 0, tr = 0, dm = 0;
    for (int64_t i = 0; i < d; i++) {
        tr_sqrt += sqrt(w[i] > 0 ? w[i] : 0);
        tr += c1[i * d + i] + c2[i * d + i];
        dm += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
    }
    *fd = dm + tr - 2 * tr_sqrt;
    if (!isfinite(*fd)) st = lt_fail(LT_ERR_NUMERIC, "Fréchet distance is not finite (%g)", *fd);
done:
    lt_free(v);
    lt_free(s);
    lt_free(t);
    lt_free(w);
    return st;
}

lt_status lt_frechet_distance_sets(const float *x, int64_t nx, const float *y, int64_t ny, int64_t d, double *fd) {
    const size_t dd = (size_t)(d * d);
    double *m1 = lt_malloc(sizeof(double) * (size_t)d), *m2 = lt_malloc(sizeof(double) * (size_t)d);
    double *c1 = lt_malloc(sizeof(double) * dd), *c2 = lt_malloc(sizeof(double) * dd);
    lt_status st = LT_OK;
    if (!m1 || !m2 || !c1 || !c2) st = lt_fail(LT_ERR_NOMEM, "Gaussian fits of %lld features", (long long)d);
    if (!st && !(st = lt_gauss_fit(x, nx, d, m1, c1)) && !(st = lt_gauss_fit(y, ny, d, m2, c2)))
        st = lt_frechet_distance(m1, c1, m2, c2, d, fd);
    lt_free(m1);
    lt_free(m2);
    lt_free(c1);
    lt_free(c2);
    return st;
}

/* Σ over the entries of k(a_i, b_j) = (a_i·b_j/d + 1)³ for a (ma, d), b (mb, d); with skip_diag
 * the diagonal i = j is left out (a = b). g is an (ma, mb) scratch. */
static double lti_kernel_sum(const float *a, int64_t ma, const float *b, int64_t mb, int64_t d, int skip_diag,
                             float *g) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ma, (int)mb, (int)d, 1.0f / (float)d, a, (int)d, b,
                (int)d, 0.0f, g, (int)mb);
    double s = 0;
    for (int64_t i = 0; i < ma; i++)
        for (int64_t j = 0; j < mb; j++) {
            if (skip_diag && i == j) continue;
            const double t = (double)g[i * mb + j] + 1.0;
            s += t * t * t;
        }
    return s;
}

/* rows idx[0..m) of x (n, d) into out (m, d): a uniform subset without replacement */
static void lti_subset(const float *x, int64_t n, int64_t d, int64_t m, lt_rng *r, int64_t *perm, float *out) {
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = 0; i < m; i++) { /* the first m steps of a Fisher–Yates shuffle */
        const int64_t j = i + (int64_t)lt_rng_below(r, (uint64_t)(n - i)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        memcpy(out + i * d, x + perm[i] * d, sizeof(float) * (size_t)d);
    }
}

/* The unbiased MMD² of a (m, d) against b (m, d); g is an (m, m) scratch. */
static double lti_mmd2(const float *a, const float *b, int64_t m, int64_t d, float *g) {
    const double kxx = lti_kernel_sum(a, m, a, m, d, 1, g), kyy = lti_kernel_sum(b, m, b, m, d, 1, g);
    const double kxy = lti_kernel_sum(a, m, b, m, d, 0, g);
    return (kxx + kyy) / (double)(m * (m - 1)) - 2 * kxy / (double)(m * m);
}

/* Sample standard deviation of v[0..n) about its mean (divisor n − 1; 0 for n < 2). */
static double lti_sd(const double *v, int64_t n, double *mean) {
    double s1 = 0, s2 = 0;
    for (int64_t k = 0; k < n; k++) s1 += v[k];
    *mean = s1 / (double)n;
    for (int64_t k = 0; k < n; k++) s2 += (v[k] - *mean) * (v[k] - *mean);
    return n > 1 ? sqrt(s2 / (double)(n - 1)) : 0;
}

/* Grouped (delete-a-group) jackknife variance of the complete U-statistic MMD²_u over all rows
 * of x (nx, d) and y (ny, d). The rows of each set are shuffled into G groups; deleting group g
 * drops X's and Y's g-th groups together; the G×G block sums of the three kernels give every
 * leave-one-group-out statistic θ_g, and Var = (G − 1)/G · Σ (θ_g − θ̄)². NaN when a set has
 * fewer than 4 rows (G >= 2 groups of >= 2 rows). perm: scratch of max(nx, ny). */
static lt_status lti_jackknife_var(const float *x, int64_t nx, const float *y, int64_t ny, int64_t d, lt_rng *r,
                                   int64_t *perm, double *var) {
    int64_t G = 20;
    if (G > nx / 2) G = nx / 2;
    if (G > ny / 2) G = ny / 2;
    *var = NAN;
    if (G < 2) return LT_OK;
    const int64_t gx = (nx + G - 1) / G, gy = (ny + G - 1) / G, gm = gx > gy ? gx : gy;
    float *px = lt_malloc(sizeof(float) * (size_t)(nx * d)), *py = lt_malloc(sizeof(float) * (size_t)(ny * d));
    float *g = lt_malloc(sizeof(float) * (size_t)(gm * gm));
    double *kxx = lt_malloc(sizeof(double) * (size_t)(3 * G * G)), *kyy = kxx + G * G, *kxy = kyy + G * G;
    lt_status st = LT_OK;
    if (!px || !py || !g || !kxx) {
        st = lt_fail(LT_ERR_NOMEM, "KID standard error (%lld and %lld rows of %lld)", (long long)nx, (long long)ny,
                     (long long)d);
        goto done;
    }
    lt_rng_permutation(r, perm, nx);
    for (int64_t i = 0; i < nx; i++) memcpy(px + i * d, x + perm[i] * d, sizeof(float) * (size_t)d);
    lt_rng_permutation(r, perm, ny);
    for (int64_t i = 0; i < ny; i++) memcpy(py + i * d, y + perm[i] * d, sizeof(float) * (size_t)d);
    /* group k of a set of n rows: rows [k·n/G, (k+1)·n/G) */
#define LTI_LO(n, k) ((k) * (n) / G)
#define LTI_LEN(n, k) (LTI_LO(n, (k) + 1) - LTI_LO(n, k))
    for (int64_t a = 0; a < G; a++)
        for (int64_t b = 0; b < G; b++) {
            kxy[a * G + b] = lti_kernel_sum(px + LTI_LO(nx, a) * d, LTI_LEN(nx, a), py + LTI_LO(ny, b) * d,
                                            LTI_LEN(ny, b), d, 0, g);
            if (b < a) { /* symmetric */
                kxx[a * G + b] = kxx[b * G + a];
                kyy[a * G + b] = kyy[b * G + a];
                continue;
            }
            kxx[a * G + b] = lti_kernel_sum(px + LTI_LO(nx, a) * d, LTI_LEN(nx, a), px + LTI_LO(nx, b) * d,
                                            LTI_LEN(nx, b), d, a == b, g);
            kyy[a * G + b] = lti_kernel_sum(py + LTI_LO(ny, a) * d, LTI_LEN(ny, a), py + LTI_LO(ny, b) * d,
                                            LTI_LEN(ny, b), d, a == b, g);
        }
    double sxx = 0, syy = 0, sxy = 0;
    for (int64_t k = 0; k < G * G; k++) sxx += kxx[k], syy += kyy[k], sxy += kxy[k];
    double th[64], mean = 0; /* G <= 20 */
    for (int64_t a = 0; a < G; a++) {
        double rx = 0, ry = 0, rxy = 0, cxy = 0;
        for (int64_t b = 0; b < G; b++)
            rx += kxx[a * G + b], ry += kyy[a * G + b], rxy += kxy[a * G + b], cxy += kxy[b * G + a];
        const double mx = (double)(nx - LTI_LEN(nx, a)), my = (double)(ny - LTI_LEN(ny, a));
        const double xx = sxx - 2 * rx + kxx[a * G + a], yy = syy - 2 * ry + kyy[a * G + a];
        const double xy = sxy - rxy - cxy + kxy[a * G + a];
        th[a] = xx / (mx * (mx - 1)) + yy / (my * (my - 1)) - 2 * xy / (mx * my);
        mean += th[a] / (double)G;
    }
#undef LTI_LO
#undef LTI_LEN
    double ss = 0;
    for (int64_t a = 0; a < G; a++) ss += (th[a] - mean) * (th[a] - mean);
    *var = (double)(G - 1) / (double)G * ss;
done:
    lt_free(px);
    lt_free(py);
    lt_free(g);
    lt_free(kxx);
    return st;
}

lt_status lt_kid(const float *x, int64_t nx, const float *y, int64_t ny, int64_t d, const lt_kid_opts *o, double *mean,
                 double *sd, double *se) {
    if (nx < 2 || ny < 2 || d < 1)
        return lt_fail(LT_ERR_ARG, "KID needs >= 2 rows in each set, got %lld and %lld", (long long)nx, (long long)ny);
    const int64_t S = o->subsets > 0 ? o->subsets : 100;
    int64_t m = o->subset_size > 0 ? o->subset_size : 1000;
    if (m > nx) m = nx;
    if (m > ny) m = ny;
    float *a = lt_malloc(sizeof(float) * (size_t)(m * d)), *b = lt_malloc(sizeof(float) * (size_t)(m * d));
    float *g = lt_malloc(sizeof(float) * (size_t)(m * m));
    int64_t *perm = lt_malloc(sizeof(int64_t) * (size_t)(nx > ny ? nx : ny));
    double *v = lt_malloc(sizeof(double) * (size_t)S);
    lt_status st = LT_OK;
    if (!a || !b || !g || !perm || !v) {
        st = lt_fail(LT_ERR_NOMEM, "KID buffers (subsets of %lld x %lld)", (long long)m, (long long)d);
        goto done;
    }
    lt_rng r;
    lt_rng_seed(&r, o->seed);
    for (int64_t k = 0; k < S; k++) {
        lti_subset(x, nx, d, m, &r, perm, a);
        lti_subset(y, ny, d, m, &r, perm, b);
        v[k] = lti_mmd2(a, b, m, d, g);
    }
    *sd = lti_sd(v, S, mean);
    if (!isfinite(*mean)) {
        st = lt_fail(LT_ERR_NUMERIC, "KID is not finite (%g)", *mean);
        goto done;
    }
    /* The standard error. Given the rows, the subsets are iid draws whose expectation is the
     * complete U-statistic U_n over all rows, so Var(mean) = Var(U_n) + E[within-data
     * variance]/S: the grouped jackknife's Var(U_n) plus sd²/S. */
    if (se) {
        double vj;
        *se = NAN;
        if (!(st = lti_jackknife_var(x, nx, y, ny, d, &r, perm, &vj)) && isfinite(vj))
            *se = sqrt(vj + (*sd) * (*sd) / (double)S);
    }
done:
    lt_free(a);
    lt_free(b);
    lt_free(g);
    lt_free(perm);
    lt_free(v);
    return st;
}

lt_status lt_sample_distance_sets(const float *x, int64_t nx, const float *y, int64_t ny, int64_t d,
                                  const lt_kid_opts *o, lt_sample_distance *out) {
    memset(out, 0, sizeof *out);
    out->kid_subsets = o->subsets > 0 ? o->subsets : 100;
    out->kid_subset_size = o->subset_size > 0 ? o->subset_size : 1000;
    if (out->kid_subset_size > nx) out->kid_subset_size = nx;
    if (out->kid_subset_size > ny) out->kid_subset_size = ny;
    lt_status st = lt_frechet_distance_sets(x, nx, y, ny, d, &out->fd);
    return st ? st : lt_kid(x, nx, y, ny, d, o, &out->kid, &out->kid_sd, &out->kid_se);
}
