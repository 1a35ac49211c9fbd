/* latent estimators: each gradient estimator's mean, variance, signal-to-noise
 * ratio and bias on toys with exact gradients (dist/compare.h), as a table on
 * stdout and a bar plot (PNG): per toy a row of two panels, left the variance
 * summed over parameters (log scale, the panel's range printed), right the bias
 * ||mean − exact|| (linear, 0 to the largest); bars in table order. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/alloc.h"
#include "dist/compare.h"
#include "io/png.h"

enum { LTI_BAR = 24, LTI_GAP = 8, LTI_PH = 160, LTI_PAD = 10 };

static const float lti_colors[][3] = {{0.85f, 0.3f, 0.25f}, {0.95f, 0.6f, 0.2f}, {0.3f, 0.6f, 0.9f},
                                      {0.3f, 0.75f, 0.35f}, {0.6f, 0.4f, 0.8f}, {0.5f, 0.5f, 0.5f}};

/* One panel: values v[0..n) as bars with heights frac[i] in [0,1]; image (3,H,W), panel origin x0,y0. */
static void lti_panel(float *img, int64_t H, int64_t W, int64_t x0, int64_t y0, const double *frac, int n) {
    int64_t pw = n * (LTI_BAR + LTI_GAP) + LTI_GAP;
    for (int64_t y = y0; y < y0 + LTI_PH; y++) /* light frame background */
        for (int64_t x = x0; x < x0 + pw; x++)
            for (int c = 0; c < 3; c++) img[(c * H + y) * W + x] = 0.95f;
    for (int i = 0; i < n; i++) {
        int64_t h = (int64_t)(frac[i] * (LTI_PH - 4) + 0.5);
        if (h < 1) h = 1;
        int64_t bx = x0 + LTI_GAP + i * (LTI_BAR + LTI_GAP);
        for (int64_t y = y0 + LTI_PH - h; y < y0 + LTI_PH; y++)
            for (int64_t x = bx; x < bx + LTI_BAR; x++)
                for (int c = 0; c < 3; c++) img[(c * H + y) * W + x] = lti_colors[i % 6][c];
    }
}

static void lti_table(const char *title, const lt_est_stats *s, int n, double tau) {
    printf("%s (tau %.3g for the relaxations; %lld draws each)\n", title, tau, (long long)s[0].draws);
    printf("  exact gradient:");
    for (int64_t j = 0; j < s[0].n_params; j++) printf(" %+.5f", s[0].exact[j]);
    printf("\n  %-10s %-40s %12s %10s %10s %10s\n", "estimator", "mean gradient", "var (sum)", "SNR", "bias", "bias s.e.");
    for (int k = 0; k < n; k++) {
        char mean[128] = "";
        for (int64_t j = 0; j < s[k].n_params && j < 4; j++)
            snprintf(mean + strlen(mean), sizeof mean - strlen(mean), "%+.5f ", s[k].mean[j]);
        printf("  %-10s %-40s %12.5g %10.4g %10.4g %10.4g%s\n", lt_estimator_name(s[k].est), mean, s[k].var_sum,
               s[k].snr, s[k].bias, s[k].bias_se, s[k].bias > 4 * s[k].bias_se ? "  biased" : "");
    }
    printf("\n");
}

int lt_cmd_estimators(int argc, char **argv) {
    static const char *cmd = "estimators";
    const char *out = NULL;
    int64_t draws = 20000, seed = 1;
    double tau = 0.5;
    int r;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) {
            printf("usage: latent estimators [--draws N] [--tau X] [--seed S] [-o plot.png]\n"
                   "  gradient of E[f(z)] on a Bernoulli and a categorical toy with exact gradients,\n"
                   "  N single-sample estimates per estimator: mean, variance, SNR, bias\n");
            return 0;
        }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--draws", 2, 10000000, &draws))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--seed", 0, INT64_MAX, &seed))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_f64(cmd, argc, argv, &i, "--tau", &tau))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "-o", &out))) { if (r < 0) return 2; continue; }
        return lt_cli_usage(cmd, "unexpected argument '%s' (see latent estimators --help)", argv[i]);
    }
    if (!(tau > 0 && tau < 1e6)) return lt_cli_usage(cmd, "--tau %g: expected a positive temperature", tau);
    const int n = lt_compare_n_estimators;
    lt_est_stats s[2][8];
    static const char *titles[2] = {"Bernoulli toy: E[sum_j (z_j - 0.45)^2], z_j ~ Bernoulli(sigmoid(theta_j))",
                                    "categorical toy: E[sum_k (z_k - t_k)^2], z ~ Cat(softmax(theta)), K = 4"};
    for (int t = 0; t < 2; t++) {
        lt_status st = lt_compare_toy(t ? LT_LATENT_CATEGORICAL : LT_LATENT_BERNOULLI, draws, (float)tau,
                                      (uint64_t)seed, s[t]);
        if (st) return lt_cli_error(st);
        lti_table(titles[t], s[t], n, tau);
    }
    if (!out) return 0;
    const int64_t pw = n * (LTI_BAR + LTI_GAP) + LTI_GAP, W = 2 * pw + 3 * LTI_PAD, H = 2 * LTI_PH + 3 * LTI_PAD;
    float *img = lt_malloc(sizeof(float) * (size_t)(3 * H * W)); /* (3,H,W) white */
    if (!img) return lt_cli_error(lt_fail(LT_ERR_NOMEM, "plot buffer"));
    for (int64_t i = 0; i < 3 * H * W; i++) img[i] = 1.0f;
    for (int t = 0; t < 2; t++) {
        double fv[8], fb[8], lo = INFINITY, hi = -INFINITY, bmax = 0;
        for (int k = 0; k < n; k++) {
            double lv = log10(s[t][k].var_sum + 1e-30);
            lo = fmin(lo, lv);
            hi = fmax(hi, lv);
            bmax = fmax(bmax, s[t][k].bias);
        }
        lo -= 0.5; /* the smallest variance still shows a bar */
        for (int k = 0; k < n; k++) {
            fv[k] = hi > lo ? (log10(s[t][k].var_sum + 1e-30) - lo) / (hi - lo) : 1;
            fb[k] = bmax > 0 ? s[t][k].bias / bmax : 0;
        }
        int64_t y0 = LTI_PAD + t * (LTI_PH + LTI_PAD);
        lti_panel(img, H, W, LTI_PAD, y0, fv, n);
        lti_panel(img, H, W, 2 * LTI_PAD + pw, y0, fb, n);
        printf("plot row %d: variance panel log10 range %.2f..%.2f, bias panel 0..%.4g\n", t + 1, lo, hi, bmax);
    }
    printf("plot bars, left to right:");
    for (int k = 0; k < n; k++) printf(" %s", lt_estimator_name(s[0][k].est));
    printf("\n");
    fflush(stdout);
    lt_status st = lt_png_write_grid(out, img, 1, 3, H, W, 1);
    lt_free(img);
    if (st) return lt_cli_error(st);
    fprintf(stderr, "latent estimators: plot → %s\n", out);
    return 0;
}
