/* The probe and sample-metric numerics (src/metrics): logistic regression against an
 * independent Newton solve in double, the linear probe on a separable toy, weighted k-NN on
 * hand-checkable toys, Gaussian fits, the Fréchet distance against closed forms, KID against a
 * direct double loop, its unbiasedness on equal distributions and the calibration of its
 * standard error. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rng.h"
#include "metrics/metrics.h"

/* ---- logistic regression ---- */

/* Reference: Newton's method on the same objective (mean CE + l2/2 ||W||², bias free), dense
 * Hessian in double, solved by Gaussian elimination with partial pivoting. p = (d+1)·k
 * parameters in the layout of lt_logreg_fit. */
static void newton_logreg(const float *x, const int64_t *y, int n, int d, int k, double l2, double *w) {
    const int p = (d + 1) * k;
    double *g = calloc((size_t)p, sizeof *g), *H = calloc((size_t)(p * p), sizeof *H), *pr = calloc((size_t)k, sizeof *pr);
    double *xi = calloc((size_t)(d + 1), sizeof *xi);
    memset(w, 0, sizeof(double) * (size_t)p);
    for (int it = 0; it < 50; it++) {
        memset(g, 0, sizeof(double) * (size_t)p);
        memset(H, 0, sizeof(double) * (size_t)(p * p));
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) xi[j] = x[i * d + j];
            xi[d] = 1;
            double mx = -1e300, s = 0;
            for (int c = 0; c < k; c++) {
                pr[c] = 0;
                for (int j = 0; j <= d; j++) pr[c] += xi[j] * w[j * k + c];
                mx = pr[c] > mx ? pr[c] : mx;
            }
            for (int c = 0; c < k; c++) s += (pr[c] = exp(pr[c] - mx));
            for (int c = 0; c < k; c++) pr[c] /= s;
            for (int j = 0; j <= d; j++)
                for (int c = 0; c < k; c++) {
                    g[j * k + c] += xi[j] * (pr[c] - (c == y[i])) / n;
                    for (int j2 = 0; j2 <= d; j2++)
                        for (int c2 = 0; c2 < k; c2++)
                            H[(j * k + c) * p + j2 * k + c2] += xi[j] * xi[j2] * pr[c] * ((c == c2) - pr[c2]) / n;
                }
        }
        for (int q = 0; q < d * k; q++) g[q] += l2 * w[q], H[q * p + q] += l2;
        for (int q = d * k; q < p; q++) H[q * p + q] += 1e-12; /* the softmax's shift direction */
        /* solve H·step = g */
        for (int c = 0; c < p; c++) {
            int piv = c;
            for (int r = c + 1; r < p; r++)
                if (fabs(H[r * p + c]) > fabs(H[piv * p + c])) piv = r;
            for (int j = 0; j < p; j++) {
                double t = H[c * p + j];
                H[c * p + j] = H[piv * p + j];
                H[piv * p + j] = t;
            }
            double t = g[c];
            g[c] = g[piv];
            g[piv] = t;
            for (int r = c + 1; r < p; r++) {
                const double f = H[r * p + c] / H[c * p + c];
                for (int j = c; j < p; j++) H[r * p + j] -= f * H[c * p + j];
                g[r] -= f * g[c];
            }
        }
        for (int c = p - 1; c >= 0; c--) {
            for (int j = c + 1; j < p; j++) g[c] -= H[c * p + j] * g[j];
            g[c] /= H[c * p + c];
        }
        for (int q = 0; q < p; q++) w[q] -= g[q];
    }
    free(g), free(H), free(pr), free(xi);
}

/* n points of k Gaussian blobs in d dimensions (overlapping: a non-trivial optimum) */
static void blobs(lt_rng *r, int n, int d, int k, double spread, float *x, int64_t *y) {
    for (int i = 0; i < n; i++) {
        y[i] = i % k;
        for (int j = 0; j < d; j++) x[i * d + j] = (float)(spread * ((j % k) == y[i]) + (double)lt_rng_uniform(r) * 2 - 1);
    }
}

static void logreg_matches_newton(void **state) {
    (void)state;
    enum { N = 300, D = 4, K = 3 };
    float x[N * D];
    int64_t y[N];
    lt_rng r;
    lt_rng_seed(&r, 5);
    blobs(&r, N, D, K, 1.0, x, y);
    double w[(D + 1) * K] = {0}, ref[(D + 1) * K];
    const double l2 = 0.01;
    lt_logreg_opts o = {l2, 1000, 1e-7};
    lt_logreg_info info;
    assert_int_equal(lt_logreg_fit(x, y, N, D, K, &o, w, &info), LT_OK);
    assert_true(info.converged);
    newton_logreg(x, y, N, D, K, l2, ref);
    /* the bias is defined up to a common shift across classes: compare centred biases */
    double mb = 0, mr = 0;
    for (int c = 0; c < K; c++) mb += w[D * K + c] / K, mr += ref[D * K + c] / K;
    for (int q = 0; q < (D + 1) * K; q++) {
        const double a = q >= D * K ? w[q] - mb : w[q], b = q >= D * K ? ref[q] - mr : ref[q];
        assert_true(fabs(a - b) < 1e-4);
    }
    /* the weights' sum over classes is 0 at the optimum of a penalized softmax */
    for (int j = 0; j < D; j++) assert_true(fabs(w[j * K] + w[j * K + 1] + w[j * K + 2]) < 1e-4);
}

static void linear_probe_separable_toy(void **state) {
    (void)state;
    enum { N = 400, D = 6, K = 4 };
    static float x[3][N * D];
    static int64_t y[3][N];
    lt_rng r;
    lt_rng_seed(&r, 11);
    for (int s = 0; s < 3; s++) blobs(&r, N, D, K, 3.0, x[s], y[s]); /* blobs 3 apart, noise ±1: separable */
    lt_labelled tr = {x[0], y[0], N}, va = {x[1], y[1], N}, te = {x[2], y[2], N};
    lt_linear_probe_result res;
    lt_logreg_opts o = {0, 0, 0};
    assert_int_equal(lt_linear_probe(&tr, &va, &te, D, K, NULL, 0, &o, &res), LT_OK);
    assert_true(res.test_acc == 1.0);
    assert_true(res.train_acc == 1.0);
    assert_true(res.all_converged);
    assert_int_equal(res.fits, 6);
    /* bad labels: exit-2 class errors, nothing fitted */
    int64_t bad[N];
    memcpy(bad, y[1], sizeof bad);
    bad[7] = K;
    lt_labelled vb = {x[1], bad, N};
    assert_int_equal(lt_linear_probe(&tr, &vb, &te, D, K, NULL, 0, &o, &res), LT_ERR_ARG);
}

static void standardize_columns(void **state) {
    (void)state;
    float x[] = {1, 5, 3, 5, 5, 5}; /* (3, 2): column 1 constant */
    double m[2], s[2];
    lt_standardize_fit(x, 3, 2, m, s);
    assert_true(fabs(m[0] - 3) < 1e-12 && fabs(m[1] - 5) < 1e-12);
    assert_true(fabs(s[0] - sqrt(8.0 / 3)) < 1e-12 && s[1] == 1);
    lt_standardize_apply(x, 3, 2, m, s);
    assert_true(fabsf(x[0] + x[4]) < 1e-6 && x[1] == 0 && x[2] == 0);
}

/* ---- k-NN ---- */

static void knn_weighted_vote(void **state) {
    (void)state;
    /* bank: one row right on the query (class 0), two orthogonal rows (class 1) */
    float bank[] = {1, 0, 0, 1, 0, 1};
    int64_t by[] = {0, 1, 1};
    float q[] = {2, 0}; /* cosine: scale does not matter */
    int64_t qy0[] = {0}, qy1[] = {1};
    lt_labelled B = {bank, by, 3}, Q0 = {q, qy0, 1}, Q1 = {q, qy1, 1};
    double acc;
    /* T = 0.1: exp(10) beats 2·exp(0); unweighted majority (huge T) would pick class 1 */
    assert_int_equal(lt_knn_accuracy(&B, &Q0, 2, 2, 3, 0.1, &acc), LT_OK);
    assert_true(acc == 1.0);
    assert_int_equal(lt_knn_accuracy(&B, &Q1, 2, 2, 3, 1e6, &acc), LT_OK);
    assert_true(acc == 1.0);
    /* k larger than the bank is the whole bank; k = 1 is the nearest neighbour */
    assert_int_equal(lt_knn_accuracy(&B, &Q0, 2, 2, 500, 0.1, &acc), LT_OK);
    assert_true(acc == 1.0);
    assert_int_equal(lt_knn_accuracy(&B, &Q1, 2, 2, 1, 1e6, &acc), LT_OK);
    assert_true(acc == 0.0);
}

static void knn_clusters(void **state) {
    (void)state;
    enum { N = 600, D = 8, K = 3 };
    static float xb[N * D], xq[N * D];
    static int64_t yb[N], yq[N];
    lt_rng r;
    lt_rng_seed(&r, 3);
    blobs(&r, N, D, K, 4.0, xb, yb);
    blobs(&r, N, D, K, 4.0, xq, yq);
    lt_labelled B = {xb, yb, N}, Q = {xq, yq, N};
    double acc;
    assert_int_equal(lt_knn_accuracy(&B, &Q, D, K, 200, 0.1, &acc), LT_OK);
    assert_true(acc == 1.0);
    for (int i = 0; i < N; i++) yb[i] = (yb[i] + 1) % K; /* labels rotated: every vote wrong */
    assert_int_equal(lt_knn_accuracy(&B, &Q, D, K, 200, 0.1, &acc), LT_OK);
    assert_true(acc == 0.0);
}

/* ---- Fréchet distance ---- */

static void gauss_fit_small(void **state) {
    (void)state;
    float x[] = {0, 0, 2, 2, 4, -2}; /* (3, 2) */
    double mu[2], c[4];
    assert_int_equal(lt_gauss_fit(x, 3, 2, mu, c), LT_OK);
    assert_true(fabs(mu[0] - 2) < 1e-12 && fabs(mu[1]) < 1e-12);
    /* centred: (-2,0),(0,2),(2,-2); /(n-1) */
    assert_true(fabs(c[0] - 4) < 1e-12 && fabs(c[3] - 4) < 1e-12 && fabs(c[1] + 2) < 1e-12 && c[1] == c[2]);
    assert_int_equal(lt_gauss_fit(x, 1, 2, mu, c), LT_ERR_ARG);
}

static void fd_closed_forms(void **state) {
    (void)state;
    /* 2x2, non-commuting: tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)), M = c1^½ c2 c1^½,
     * tr M = tr(c1 c2), det M = det c1 det c2 */
    const double c1[] = {2, 0.5, 0.5, 1}, c2[] = {1, -0.3, -0.3, 3}, m1[] = {0, 1}, m2[] = {2, -1};
    const double trc = c1[0] * c2[0] + c1[1] * c2[2] + c1[2] * c2[1] + c1[3] * c2[3];
    const double det = (c1[0] * c1[3] - c1[1] * c1[2]) * (c2[0] * c2[3] - c2[1] * c2[2]);
    const double want = 4 + 4 + (c1[0] + c1[3] + c2[0] + c2[3]) - 2 * sqrt(trc + 2 * sqrt(det));
    double fd;
    assert_int_equal(lt_frechet_distance(m1, c1, m2, c2, 2, &fd), LT_OK);
    assert_true(fabs(fd - want) < 1e-10);
    assert_int_equal(lt_frechet_distance(m1, c1, m1, c1, 2, &fd), LT_OK);
    assert_true(fabs(fd) < 1e-12);
}

static void fd_of_sets(void **state) {
    (void)state;
    enum { N = 20000, D = 4 };
    static float x[N * D], y[N * D];
    lt_rng r;
    lt_rng_seed(&r, 9);
    /* x ~ N(0, diag(1,4,1,1)), y ~ N((1,0,0,0), diag(1,1,9,1)): FD = 1 + (2-1)² + (1-3)² = 6 */
    const float sx[] = {1, 2, 1, 1}, sy[] = {1, 1, 3, 1}, my[] = {1, 0, 0, 0};
    lt_rng_fill_normal(&r, x, N * D, 0, 1);
    lt_rng_fill_normal(&r, y, N * D, 0, 1);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) x[i * D + j] *= sx[j], y[i * D + j] = y[i * D + j] * sy[j] + my[j];
    double fd;
    assert_int_equal(lt_frechet_distance_sets(x, N, x, N, D, &fd), LT_OK);
    assert_true(fabs(fd) < 1e-9);
    assert_int_equal(lt_frechet_distance_sets(x, N, y, N, D, &fd), LT_OK);
    /* sampling error of the fits: a few percent at n = 20000 */
    assert_true(fabs(fd - 6) < 0.25);
}

/* ---- KID ---- */

static double poly(const float *a, const float *b, int d) {
    double s = 0;
    for (int j = 0; j < d; j++) s += (double)a[j] * b[j];
    const double t = s / d + 1;
    return t * t * t;
}

static void kid_matches_direct(void **state) {
    (void)state;
    enum { N = 40, D = 3 };
    float x[N * D], y[N * D];
    lt_rng r;
    lt_rng_seed(&r, 2);
    lt_rng_fill_normal(&r, x, N * D, 0, 1);
    lt_rng_fill_normal(&r, y, N * D, 0.5f, 1);
    double xx = 0, yy = 0, xy = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            if (i != j) xx += poly(x + i * D, x + j * D, D), yy += poly(y + i * D, y + j * D, D);
            xy += poly(x + i * D, y + j * D, D);
        }
    const double want = (xx + yy) / (N * (N - 1.0)) - 2 * xy / ((double)N * N);
    /* one subset of every row: a permutation, and the estimate is permutation invariant */
    lt_kid_opts o = {1, N, 1};
    double m, sd, se;
    assert_int_equal(lt_kid(x, N, y, N, D, &o, &m, &sd, &se), LT_OK);
    assert_true(fabs(m - want) < 1e-5 * fabs(want));
    assert_true(sd == 0);
    /* the subset is every row, so the only error left is U_n's own (the jackknife's) */
    assert_true(isfinite(se) && se > 0);
    double m4, sd4, se4;
    assert_int_equal(lt_kid(x, 3, y, 3, D, &o, &m4, &sd4, &se4), LT_OK);
    assert_true(isnan(se4)); /* 3 rows: too few for two jackknife groups of 2 */
}

static void kid_unbiased_on_equal_distributions(void **state) {
    (void)state;
    enum { N = 300, D = 5, R = 40 };
    static float x[N * D], y[N * D];
    lt_rng r;
    lt_rng_seed(&r, 17);
    double s = 0, ss = 0, biased = 0;
    for (int k = 0; k < R; k++) {
        lt_rng_fill_normal(&r, x, N * D, 0, 1);
        lt_rng_fill_normal(&r, y, N * D, 0, 1);
        lt_kid_opts o = {5, 100, (uint64_t)k};
        double m, sd;
        assert_int_equal(lt_kid(x, N, y, N, D, &o, &m, &sd, NULL), LT_OK);
        s += m, ss += m * m;
        /* the diagonal terms a biased V-statistic would keep, Σ k(x_i,x_i)/m² + Σ k(y_i,y_i)/m² for a
         * subset of m = 100 rows: what makes it positive in expectation */
        double dx = 0, dy = 0;
        for (int i = 0; i < 100; i++) dx += poly(x + i * D, x + i * D, D), dy += poly(y + i * D, y + i * D, D);
        biased += (dx + dy) / (100.0 * 100.0);
    }
    const double mean = s / R, se = sqrt((ss / R - mean * mean) / (R - 1));
    print_message("KID on equal distributions: mean %.3g, standard error %.3g over %d repeats\n", mean, se, R);
    assert_true(fabs(mean) < 3 * se);
    /* that bias would be far outside the unbiased estimate's spread */
    assert_true(biased / R > 10 * se);
    /* different distributions: clearly positive */
    for (int i = 0; i < N * D; i++) y[i] += 0.5f;
    lt_kid_opts o = {10, 100, 1};
    double m, sd;
    assert_int_equal(lt_kid(x, N, y, N, D, &o, &m, &sd, NULL), LT_OK);
    assert_true(m > 10 * se && m > 3 * sd / sqrt(10.0));
}

/* The reported standard error is what it claims: over repeated draws of the two sets, the
 * KID means scatter by about the standard error each run reports (and by far less than the
 * per-subset sd, which is not an error of the mean). Equal and shifted distributions. */
static void kid_standard_error_is_calibrated(void **state) {
    (void)state;
    enum { N = 1000, D = 5, R = 60 };
    static float x[N * D], y[N * D];
    const float shifts[2] = {0.0f, 0.3f};
    for (int c = 0; c < 2; c++) {
        lt_rng r;
        lt_rng_seed(&r, 23 + (uint64_t)c);
        double s = 0, ss = 0, se2 = 0, sd2 = 0;
        for (int k = 0; k < R; k++) {
            lt_rng_fill_normal(&r, x, N * D, 0, 1);
            lt_rng_fill_normal(&r, y, N * D, shifts[c], 1);
            lt_kid_opts o = {100, 100, (uint64_t)k}; /* 10 disjoint subsets of 100 */
            double m, sd, se;
            assert_int_equal(lt_kid(x, N, y, N, D, &o, &m, &sd, &se), LT_OK);
            assert_true(isfinite(se) && se > 0);
            s += m, ss += m * m, se2 += se * se, sd2 += sd * sd;
        }
        const double mean = s / R, spread = sqrt((ss / R - mean * mean) * R / (R - 1));
        const double rms_se = sqrt(se2 / R), rms_sd = sqrt(sd2 / R);
        print_message("KID shift %.1f: sd of the means over %d draws %.3g, reported standard error %.3g, "
                      "per-subset sd %.3g\n",
                      shifts[c], R, spread, rms_se, rms_sd);
        assert_true(rms_se > 0.6 * spread && rms_se < 1.8 * spread);
        assert_true(rms_sd > 2 * spread);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(logreg_matches_newton),      cmocka_unit_test(linear_probe_separable_toy),
        cmocka_unit_test(standardize_columns),        cmocka_unit_test(knn_weighted_vote),
        cmocka_unit_test(knn_clusters),               cmocka_unit_test(gauss_fit_small),
        cmocka_unit_test(fd_closed_forms),            cmocka_unit_test(fd_of_sets),
        cmocka_unit_test(kid_matches_direct),         cmocka_unit_test(kid_unbiased_on_equal_distributions),
        cmocka_unit_test(kid_standard_error_is_calibrated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
