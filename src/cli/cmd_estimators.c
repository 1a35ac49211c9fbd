/* latent estimators: each gradient estimator's mean, variance, signal-to-noise
 * ratio and bias on toys with exact gradients (dist/compare.h) and, with --run,
 * on a trained latent-variable model on real images (the model's latent_grads:
 * gradients with respect to the encoder's logits, bias measured against the
 * model's unbiased low-variance reference estimate), as tables on stdout and a
 * bar plot (PNG): a legend naming the bars' colors, then per study a title and two
 * panels, left the variance summed over parameters (log scale, its range in the
 * panel's header), right the bias ||mean − exact|| (linear, 0 to the largest); bars
 * in table order. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/run_data.h"
#include "core/alloc.h"
#include "core/threads.h"
#include "data/dataset.h"
#include "dist/compare.h"
#include "io/png.h"
#include "io/text.h"

enum { LTI_BAR = 24, LTI_GAP = 8, LTI_PH = 160, LTI_PAD = 10, LTI_LINE = 14 /* a line of text */ };

static const float lti_ink[3] = {0.1f, 0.1f, 0.1f};

static const float lti_colors[][3] = {{0.85f, 0.3f, 0.25f}, {0.95f, 0.6f, 0.2f}, {0.3f, 0.6f, 0.9f},
                                      {0.3f, 0.75f, 0.35f}, {0.6f, 0.4f, 0.8f}, {0.5f, 0.5f, 0.5f}};

/* Fills the rectangle [x0, x1) x [y0, y1) of img (3,H,W) with rgb. */
static void lti_rect(float *img, int64_t H, int64_t W, int64_t x0, int64_t y0, int64_t x1, int64_t y1, const float *rgb) {
    for (int c = 0; c < 3; c++)
        for (int64_t y = y0; y < y1; y++)
            for (int64_t x = x0; x < x1; x++) img[(c * H + y) * W + x] = rgb[c];
}

/* One panel: values v[0..n) as bars with heights frac[i] in [0,1]; image (3,H,W), panel origin x0,y0. */
static void lti_panel(float *img, int64_t H, int64_t W, int64_t x0, int64_t y0, const double *frac, int n) {
    int64_t pw = n * (LTI_BAR + LTI_GAP) + LTI_GAP;
    lti_rect(img, H, W, x0, y0, x0 + pw, y0 + LTI_PH, (const float[3]){0.95f, 0.95f, 0.95f}); /* light frame */
    for (int i = 0; i < n; i++) {
        int64_t h = (int64_t)(frac[i] * (LTI_PH - 4) + 0.5);
        if (h < 1) h = 1;
        int64_t bx = x0 + LTI_GAP + i * (LTI_BAR + LTI_GAP);
        lti_rect(img, H, W, bx, y0 + LTI_PH - h, bx + LTI_BAR, y0 + LTI_PH, lti_colors[i % 6]);
    }
}

/* The legend (a color square and a name per estimator) from (x0, y0), wrapped at width
 * W − x0; draws only with img. Returns its number of lines. */
static int64_t lti_legend(float *img, int64_t H, int64_t W, int64_t x0, int64_t y0, const lt_est_stats *s, int n) {
    int64_t x = x0, lines = 1;
    for (int k = 0; k < n; k++) {
        const char *name = lt_estimator_name(s[k].est);
        int64_t w = 14 + lt_text_width(name, 1);
        if (x > x0 && x + w > W - x0) { x = x0; lines++; }
        int64_t y = y0 + (lines - 1) * LTI_LINE;
        if (img) {
            lti_rect(img, H, W, x, y + 1, x + 8, y + 9, lti_colors[k % 6]);
            lt_text_draw(img, 3, H, W, x + 12, y, 1, lti_ink, name);
        }
        x += w + 12;
    }
    return lines;
}

/* Draws s at (x, y), cut short with ".." where it would pass width w. */
static void lti_label(float *img, int64_t H, int64_t W, int64_t x, int64_t y, int64_t w, const char *s) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    size_t n = strlen(buf);
    while (n > 2 && lt_text_width(buf, 1) > w) {
        n--;
        buf[n - 2] = buf[n - 1] = '.';
        buf[n] = 0;
    }
    lt_text_draw(img, 3, H, W, x, y, 1, lti_ink, buf);
}

static void lti_table(const char *title, const lt_est_stats *s, int n, double tau, const char *exact_name) {
    printf("%s (tau %.3g for the relaxations; %lld draws each)\n", title, tau, (long long)s[0].draws);
    const int64_t P = s[0].n_params, shown = P < 4 ? P : 4;
    printf("  %s%s:", exact_name, P > shown ? " (first 4 of its coordinates)" : "");
    for (int64_t j = 0; j < shown; j++) printf(" %+.5f", s[0].exact[j]);
    printf("\n  %-10s %-40s %12s %10s %10s %10s\n", "estimator", P > shown ? "mean gradient (first 4)" : "mean gradient",
           "var (sum)", "SNR", "bias", "bias s.e.");
    for (int k = 0; k < n; k++) {
        char mean[128] = "";
        for (int64_t j = 0; j < shown; j++)
            snprintf(mean + strlen(mean), sizeof mean - strlen(mean), "%+.5f ", s[k].mean[j]);
        printf("  %-10s %-40s %12.5g %10.4g %10.4g %10.4g%s\n", lt_estimator_name(s[k].est), mean, s[k].var_sum,
               s[k].snr, s[k].bias, s[k].bias_se, s[k].bias > 4 * s[k].bias_se ? "  biased" : "");
    }
    printf("\n");
}

typedef struct lti_run_opts {
    const char *run, *which, *split;
    int64_t examples, draws, ref_draws;
    double tau; /* <= 0: the model's temperature at the checkpoint */
    uint64_t seed;
} lti_run_opts;

/* The study on a trained run: stats per estimator into s[0..n), *tau_used the temperature. */
static lt_status lti_run_study(const lti_run_opts *o, lt_est_stats *s, double *tau_used, int64_t *n_params) {
    lt_model *m = NULL;
    float *x = NULL, *g = NULL, *ref = NULL;
    lt_status st = lt_cli_open_run(o->run, o->which, o->split, o->examples, &m, &x);
    if (!st && !m->vt->latent_grads)
        st = lt_fail(LT_ERR_ARG, "model '%s' has no discrete latent to study (use a gsvae run)", m->vt->name);
    const int64_t P = st ? 0 : o->examples * m->vt->code_size(m);
    if (!st) {
        g = lt_malloc(sizeof(float) * (size_t)(o->draws * P));       /* (draws, P) */
        ref = lt_malloc(sizeof(float) * (size_t)(o->ref_draws * P)); /* (ref_draws, P) */
        if (!g || !ref) st = lt_fail(LT_ERR_NOMEM, "estimators: %lld gradients of %lld numbers",
                                     (long long)(o->draws + o->ref_draws), (long long)P);
    }
    double *exact = st ? NULL : lt_malloc(sizeof(double) * (size_t)P);
    if (!st && !exact) st = lt_fail(LT_ERR_NOMEM, "estimators: reference of %lld numbers", (long long)P);
    lt_batch b = {x, NULL, o->examples, m ? m->dim : 0, NULL};
    lt_est_stats rs;
    lt_rng r;
    lt_rng_seed(&r, o->seed + 1000);
    if (!st) st = m->vt->latent_grads(m, &b, LT_ESTIMATOR_COUNT, 1, 0, o->ref_draws, &r, ref);
    if (!st) {
        lt_compare_stats(ref, o->ref_draws, P, NULL, &rs);
        for (int64_t j = 0; j < P; j++) {
            double a = 0;
            for (int64_t i = 0; i < o->ref_draws; i++) a += ref[i * P + j];
            exact[j] = a / (double)o->ref_draws;
        }
        /* the checkpoint's temperature; a model trained without a relaxation has none: 0.5 */
        const double mt = m->vt->temperature ? m->vt->temperature(m) : NAN;
        *tau_used = o->tau > 0 ? o->tau : mt == mt ? mt : 0.5;
        *n_params = P;
    }
    for (int k = 0; !st && k < lt_compare_n_estimators; k++) {
        lt_rng_seed(&r, o->seed + (uint64_t)k);
        st = m->vt->latent_grads(m, &b, lt_compare_estimators[k], 0, (float)*tau_used, o->draws, &r, g);
        if (st) break;
        s[k].est = lt_compare_estimators[k];
        lt_compare_stats(g, o->draws, P, exact, &s[k]);
        /* the reference is itself a mean of draws: its noise adds to the bias expected from noise */
        s[k].bias_se = sqrt(s[k].bias_se * s[k].bias_se + rs.var_sum / (double)o->ref_draws);
    }
    lt_free(exact);
    lt_free(g);
    lt_free(ref);
    lt_free(x);
    lt_model_destroy(m);
    return st;
}

int lt_cmd_estimators(int argc, char **argv) {
    static const char *cmd = "estimators";
    const char *out = NULL;
    int64_t draws = 0, seed = 1, threads = 0;
    double tau = 0;
    lti_run_opts ro = {NULL, "best", "test", 8, 0, 200, 0, 0};
    int r;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) {
            printf("usage: latent estimators [--draws N] [--tau X] [--seed S] [-o plot.png]\n"
                   "                         [--run RUN [--checkpoint best|last|epoch-NNN] [--split test] [--examples 8]\n"
                   "                          [--ref-draws 200] [--threads T]]\n"
                   "  gradient of E[f(z)] on a Bernoulli and a categorical toy with exact gradients,\n"
                   "  N single-sample estimates per estimator (20000): mean, variance, SNR, bias.\n"
                   "  --run: also on a trained gsvae, the gradient of E_q(z|x)[-log p(x|z)] with respect to\n"
                   "  the encoder's logits for the first --examples images, N draws (1000) per estimator;\n"
                   "  bias against the mean of --ref-draws local-expectation estimates (unbiased).\n"
                   "  --tau: temperature of the relaxations (toys 0.5; run: the checkpoint's, else 0.5)\n");
            return 0;
        }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--draws", 2, 10000000, &draws))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--seed", 0, INT64_MAX, &seed))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_f64(cmd, argc, argv, &i, "--tau", &tau))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "-o", &out))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--run", &ro.run))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--checkpoint", &ro.which))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--split", &ro.split))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--examples", 1, 4096, &ro.examples))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--ref-draws", 2, 1000000, &ro.ref_draws))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--threads", 1, 1024, &threads))) { if (r < 0) return 2; continue; }
        return lt_cli_usage(cmd, "unexpected argument '%s' (see latent estimators --help)", argv[i]);
    }
    if (tau != 0 && !(tau > 0 && tau < 1e6)) return lt_cli_usage(cmd, "--tau %g: expected a positive temperature", tau);
    if (lt_cli_checkpoint_name(cmd, ro.which)) return 2;
    if (lt_split_parse(ro.split) < 0) return lt_cli_usage(cmd, "--split %s: expected train, valid or test", ro.split);
    if (threads > 0) lt_threads_set((int)threads);
    const int n = lt_compare_n_estimators;
    int rows = ro.run ? 3 : 2;
    lt_est_stats s[3][8];
    double taus[3] = {tau > 0 ? tau : 0.5, tau > 0 ? tau : 0.5, 0};
    static const char *titles[2] = {"Bernoulli toy: E[sum_j (z_j - 0.45)^2], z_j ~ Bernoulli(sigmoid(theta_j))",
                                    "categorical toy: E[sum_k (z_k - t_k)^2], z ~ Cat(softmax(theta)), K = 4"};
    for (int t = 0; t < 2; t++) {
        lt_status st = lt_compare_toy(t ? LT_LATENT_CATEGORICAL : LT_LATENT_BERNOULLI, draws ? draws : 20000,
                                      (float)taus[t], (uint64_t)seed, s[t]);
        if (st) return lt_cli_error(st);
        lti_table(titles[t], s[t], n, taus[t], "exact gradient");
    }
    if (ro.run) {
        ro.draws = draws ? draws : 1000;
        ro.tau = tau;
        ro.seed = (uint64_t)seed;
        int64_t P = 0;
        lt_status st = lti_run_study(&ro, s[2], &taus[2], &P);
        if (st) return lt_cli_error(st);
        char title[4400];
        snprintf(title, sizeof title,
                 "run %s (%s checkpoint): d/d(encoder logits) of E_q(z|x)[-log p(x|z)], %lld %s images, %lld numbers",
                 ro.run, ro.which, (long long)ro.examples, ro.split, (long long)P);
        char ref[64];
        snprintf(ref, sizeof ref, "reference (%lld local-expectation draws)", (long long)ro.ref_draws);
        lti_table(title, s[2], n, taus[2], ref);
    }
    if (!out) return 0;
    const int64_t pw = n * (LTI_BAR + LTI_GAP) + LTI_GAP, W = 2 * pw + 3 * LTI_PAD;
    const int64_t legend = lti_legend(NULL, 0, W, LTI_PAD, LTI_PAD, s[0], n), top = LTI_PAD + legend * LTI_LINE + 4;
    const int64_t row_h = 2 * LTI_LINE + LTI_PH + LTI_PAD, H = top + rows * row_h;
    float *img = lt_malloc(sizeof(float) * (size_t)(3 * H * W)); /* (3,H,W) white */
    if (!img) return lt_cli_error(lt_fail(LT_ERR_NOMEM, "plot buffer"));
    for (int64_t i = 0; i < 3 * H * W; i++) img[i] = 1.0f;
    lti_legend(img, H, W, LTI_PAD, LTI_PAD, s[0], n);
    for (int t = 0; t < rows; t++) {
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
        int64_t y0 = top + t * row_h;
        char label[256];
        if (t < 2)
            snprintf(label, sizeof label, "%s toy (tau %.3g)", t ? "categorical" : "Bernoulli", taus[t]);
        else
            snprintf(label, sizeof label, "%s checkpoint, %lld %s images (tau %.3g): %s", ro.which, (long long)ro.examples,
                     ro.split, taus[t], ro.run);
        lti_label(img, H, W, LTI_PAD, y0, W - 2 * LTI_PAD, label);
        snprintf(label, sizeof label, "variance, log10 %.1f..%.1f", lo, hi);
        lti_label(img, H, W, LTI_PAD, y0 + LTI_LINE, pw, label);
        snprintf(label, sizeof label, "bias, 0..%.3g", bmax);
        lti_label(img, H, W, 2 * LTI_PAD + pw, y0 + LTI_LINE, pw, label);
        lti_panel(img, H, W, LTI_PAD, y0 + 2 * LTI_LINE, fv, n);
        lti_panel(img, H, W, 2 * LTI_PAD + pw, y0 + 2 * LTI_LINE, fb, n);
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
