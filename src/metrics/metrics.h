/* Numerics of representation probes and feature-space sample metrics (docs/metrics.md).
 * This module sees only feature matrices: float rows (n, d), row-major, and int64 labels;
 * it uses core, BLAS/LAPACK (OpenBLAS) and liblbfgs, nothing above core. train/features.h
 * makes the matrices from models and data; cli/ prints.
 *
 *  - Linear probe: multinomial logistic regression with an L2 penalty on the weights (not
 *    the bias), fitted to convergence by L-BFGS (liblbfgs) on standardized features; the
 *    penalty picked on a validation set from a grid.
 *  - k-NN probe: cosine similarity, the k most similar bank rows vote with weight
 *    exp(sim / T) (InstDisc's and SimCLR's monitor: k = 200, T = 0.1).
 *  - Fréchet distance between Gaussian fits (mean, covariance) of two sets, the matrix square
 *    root through LAPACK's symmetric eigendecomposition (dsyevd), all in double.
 *  - KID: the unbiased MMD² with the polynomial kernel (x·y/d + 1)³ averaged over random
 *    subsets, as clean-fid and torch-fidelity compute it (Bińkowski et al. 2018).
 * Nothing here is owned past a call except what the caller passed in. */
#ifndef LT_METRICS_H
#define LT_METRICS_H

#include <stdint.h>

#include "core/status.h"

/* ---- Standardization ---- */
/* Per-column mean and standard deviation (population; a constant column gets sd 1) of x (n, d). */
void lt_standardize_fit(const float *x, int64_t n, int64_t d, double *mean, double *sd);
/* x[i][j] = (x[i][j] - mean[j]) / sd[j], in place. */
void lt_standardize_apply(float *x, int64_t n, int64_t d, const double *mean, const double *sd);

/* ---- Multinomial logistic regression ---- */
typedef struct lt_logreg_opts {
    double l2;           /* penalty (l2/2)·||W||² added to the mean cross-entropy; bias unpenalized */
    int64_t max_iter;    /* L-BFGS iterations (0 = 1000) */
    double tol;          /* stop when ||g|| <= tol · max(1, ||w||) (0 = 1e-5) */
} lt_logreg_opts;

typedef struct lt_logreg_info {
    int64_t iterations;  /* L-BFGS iterations taken */
    int64_t evaluations; /* loss-and-gradient evaluations */
    double loss;         /* final objective: mean cross-entropy + penalty */
    double grad_norm;    /* its final gradient's Euclidean norm */
    int converged;       /* 1: the gradient test (or no further decrease possible at float
                          * precision, with ||g|| below 100·tol) stopped it; 0: max_iter ran out */
    int lbfgs_status;    /* liblbfgs's return code, for the record */
} lt_logreg_info;

/* Fits w ((d + 1), k): rows 0..d-1 the weights, row d the biases, of logits x·W + b,
 * starting from w's contents (zeros, or a warm start). x (n, d), y (n) in [0, k).
 * LT_ERR_ARG for labels out of range or n, d, k < 1; LT_ERR_NOMEM. */
lt_status lt_logreg_fit(const float *x, const int64_t *y, int64_t n, int64_t d, int64_t k, const lt_logreg_opts *o,
                        double *w, lt_logreg_info *info);
/* The fraction of rows whose arg-max logit is their label (ties: the lowest class). */
lt_status lt_logreg_accuracy(const float *x, const int64_t *y, int64_t n, int64_t d, int64_t k, const double *w,
                             double *acc);

/* A labelled feature matrix, rows (n, d). */
typedef struct lt_labelled {
    const float *x;      /* (n, d) */
    const int64_t *y;    /* (n) in [0, k) */
    int64_t n;
} lt_labelled;

typedef struct lt_linear_probe_result {
    double test_acc, valid_acc, train_acc;
    double l2;           /* the penalty chosen on validation */
    lt_logreg_info info; /* of the chosen fit */
    int64_t fits;        /* penalties tried */
    int all_converged;   /* every fit of the grid converged */
} lt_linear_probe_result;

/* Standardizes all three sets with the training set's statistics (on copies; the inputs are
 * untouched), fits one regression per penalty of l2_grid (largest first, each warm-started
 * from the previous), keeps the one with the best validation accuracy (ties: the larger
 * penalty) and reports its test accuracy. n_grid = 0: the default grid 1e-1 ... 1e-6. */
lt_status lt_linear_probe(const lt_labelled *train, const lt_labelled *valid, const lt_labelled *test, int64_t d,
                          int64_t k, const double *l2_grid, int n_grid, const lt_logreg_opts *o,
                          lt_linear_probe_result *out);

/* ---- k-NN ---- */
/* Weighted k-NN accuracy of queries against a bank: cosine similarity (rows L2-normalized on
 * copies; a zero row stays zero), the min(k, bank n) most similar bank rows vote for their
 * labels with weight exp(sim / T), the class with the largest vote wins (ties: the lowest). */
lt_status lt_knn_accuracy(const lt_labelled *bank, const lt_labelled *query, int64_t d, int64_t n_classes, int64_t k,
                          double T, double *acc);

/* ---- Fréchet distance ---- */
/* Mean mu (d) and unbiased covariance cov (d, d) (divisor n - 1; n >= 2) of x (n, d), in double. */
lt_status lt_gauss_fit(const float *x, int64_t n, int64_t d, double *mu, double *cov);
/* ||mu1 - mu2||² + tr(c1) + tr(c2) - 2 tr((c1^½ c2 c1^½)^½), c1^½ and the last square root
 * through dsyevd (negative eigenvalues of rounding clamped to 0). LT_ERR_NUMERIC if LAPACK fails. */
lt_status lt_frechet_distance(const double *mu1, const double *c1, const double *mu2, const double *c2, int64_t d,
                              double *fd);
/* Both fits and the distance, from two sets of rows. */
lt_status lt_frechet_distance_sets(const float *x, int64_t nx, const float *y, int64_t ny, int64_t d, double *fd);

/* ---- KID ---- */
typedef struct lt_kid_opts {
    int64_t subsets;     /* 0 = 100 */
    int64_t subset_size; /* 0 = 1000; capped at min(nx, ny) */
    uint64_t seed;       /* which rows each subset draws (without replacement) */
} lt_kid_opts;

/* mean: the average over subsets of the unbiased MMD² estimate
 *   mean_{i≠j} k(x_i,x_j) + mean_{i≠j} k(y_i,y_j) − 2 mean_{i,j} k(x_i,y_j),  k(a,b) = (a·b/d + 1)³;
 * sd: its standard deviation over the subsets (torch-fidelity's kid_std: the spread of one
 * subset's estimate, not the error of the mean);
 * se (may be NULL): the standard error of mean, √(Var(U_n) + sd²/S): U_n is the complete
 * U-statistic over all rows (what the subsets average to, given the rows), its variance by a
 * 20-group jackknife; NaN when a set has fewer than 4 rows. nx, ny >= 2. */
lt_status lt_kid(const float *x, int64_t nx, const float *y, int64_t ny, int64_t d, const lt_kid_opts *o, double *mean,
                 double *sd, double *se);

/* ---- Both, as `latent fd` and `latent compare` report them ---- */
typedef struct lt_sample_distance {
    double fd;                 /* Fréchet distance of the two sets' Gaussian fits */
    double kid, kid_sd, kid_se; /* lt_kid's mean, sd over subsets and standard error (NaN: too few rows) */
    int64_t kid_subsets, kid_subset_size; /* as used (the size capped by the sets) */
} lt_sample_distance;

lt_status lt_sample_distance_sets(const float *x, int64_t nx, const float *y, int64_t ny, int64_t d,
                                  const lt_kid_opts *o, lt_sample_distance *out);

#endif
