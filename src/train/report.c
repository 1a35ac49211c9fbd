/* The HTML run report (see report.h): runs are read into lti_run, then the page
 * is appended to one growable string and written in one atomic write. */
#include "train/report.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "train/rundir.h"

/* ---- a growable string ---- */

typedef struct lti_sb {
    char *p;
    size_t n, cap;
    int nomem;
} lti_sb;

static void lti_put(lti_sb *b, const char *s, size_t n) {
    if (b->nomem) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n + 1) cap *= 2;
        char *q = lt_realloc(b->p, cap);
        if (!q) { b->nomem = 1; return; }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

#define LTI_LIT(b, s) lti_put(b, s, sizeof s - 1) /* a string literal */

static void lti_printf(lti_sb *b, const char *fmt, ...) LT_PRINTF(2, 3);
static void lti_printf(lti_sb *b, const char *fmt, ...) {
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k < sizeof small) { lti_put(b, small, (size_t)k); return; }
    char *big = lt_malloc((size_t)k + 1);
    if (!big) { b->nomem = 1; return; }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    lti_put(b, big, (size_t)k);
    lt_free(big);
}

/* Text as HTML (also safe inside attribute values and SVG text). */
static void lti_esc(lti_sb *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': LTI_LIT(b, "&lt;"); break;
        case '>': LTI_LIT(b, "&gt;"); break;
        case '&': LTI_LIT(b, "&amp;"); break;
        case '"': LTI_LIT(b, "&quot;"); break;
        case '\'': LTI_LIT(b, "&#39;"); break;
        default: lti_put(b, s, 1);
        }
    }
}

static void lti_base64(lti_sb *b, const uint8_t *p, size_t n) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {A[v >> 18 & 63], A[v >> 12 & 63], i + 1 < n ? A[v >> 6 & 63] : '=', i + 2 < n ? A[v & 63] : '='};
        lti_put(b, q, 4);
    }
}

/* ---- runs ---- */

typedef struct lti_run {
    const char *dir;
    char name[256];        /* the directory's last component */
    json_t *cfg;           /* config.json */
    json_t *metrics;       /* array of metrics.jsonl objects, in file order */
    json_t *eval;          /* eval.json or NULL */
    char sample[4200];     /* latest samples/epoch-NNN.png, or "" */
    int64_t sample_epoch;
} lti_run;

/* Whole file into memory (NUL-terminated); *out NULL when it does not exist. */
static lt_status lti_slurp(const char *path, char **out, size_t *len) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? LT_OK : lt_fail(LT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    long n = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
    char *p = n >= 0 ? lt_malloc((size_t)n + 1) : NULL;
    if (!p || fseek(f, 0, SEEK_SET) || fread(p, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        lt_free(p);
        return lt_fail(n < 0 || p ? LT_ERR_IO : LT_ERR_NOMEM, "cannot read %s", path);
    }
    fclose(f);
    p[n] = 0;
    *out = p;
    if (len) *len = (size_t)n;
    return LT_OK;
}

static lt_status lti_load_run(lti_run *r) {
    char path[4200];
    struct stat sb;
    if (stat(r->dir, &sb)) return lt_fail(LT_ERR_ARG, "%s: not a run directory (%s)", r->dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return lt_fail(LT_ERR_ARG, "%s: not a run directory (not a directory)", r->dir);
    snprintf(path, sizeof path, "%s/config.json", r->dir);
    if (stat(path, &sb)) return lt_fail(LT_ERR_ARG, "%s: not a run directory (no config.json)", r->dir);
    lt_status st = lt_run_read_json(path, &r->cfg);
    if (st) return st;
    if (!json_is_string(json_object_get(r->cfg, "model")))
        return lt_fail(LT_ERR_FORMAT, "%s: expected a string 'model'", path);
    size_t end = strlen(r->dir);
    while (end > 1 && r->dir[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && r->dir[start - 1] != '/') start--;
    snprintf(r->name, sizeof r->name, "%.*s", (int)(end - start), r->dir + start);

    snprintf(path, sizeof path, "%s/metrics.jsonl", r->dir);
    char *text;
    if ((st = lti_slurp(path, &text, NULL))) return st;
    r->metrics = json_array();
    int line = 0;
    for (char *p = text; p && *p; line++) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0) {
            json_error_t err;
            json_t *o = json_loadb(p, len, 0, &err);
            if (!o || !json_is_object(o) || !json_is_integer(json_object_get(o, "epoch"))) {
                json_decref(o);
                lt_free(text);
                return lt_fail(LT_ERR_FORMAT, "%s line %d: expected a JSON object with an integer 'epoch'%s%s", path,
                               line + 1, o ? "" : ": ", o ? "" : err.text);
            }
            json_array_append_new(r->metrics, o);
        }
        p = nl ? nl + 1 : NULL;
    }
    lt_free(text);

    snprintf(path, sizeof path, "%s/eval.json", r->dir);
    if (!stat(path, &sb) && (st = lt_run_read_json(path, &r->eval))) return st;

    snprintf(path, sizeof path, "%s/samples", r->dir);
    DIR *d = opendir(path);
    r->sample_epoch = -1;
    for (struct dirent *e; d && (e = readdir(d));) {
        long long k;
        int used = 0;
        if (sscanf(e->d_name, "epoch-%lld.png%n", &k, &used) == 1 && used > 0 && !e->d_name[used] && k > r->sample_epoch) {
            r->sample_epoch = k;
            snprintf(r->sample, sizeof r->sample, "%s/%s", path, e->d_name);
        }
    }
    if (d) closedir(d);
    return LT_OK;
}

static void lti_free_run(lti_run *r) {
    json_decref(r->cfg);
    json_decref(r->metrics);
    json_decref(r->eval);
}

/* ---- charts ---- */

static const char *const lti_colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define LTI_NCOLORS ((int64_t)(sizeof lti_colors / sizeof lti_colors[0]))

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about `ticks` intervals over span. */
static double lti_nice_step(double span, int ticks) {
    double raw = span / ticks, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static double lti_metric(const json_t *o, const char *key, int *ok) {
    json_t *v = json_object_get(o, key);
    *ok = json_is_number(v) && isfinite(json_number_value(v));
    return *ok ? json_number_value(v) : 0;
}

enum { LTI_W = 760, LTI_H = 330, LTI_L = 70, LTI_R = 600, LTI_T = 20, LTI_B = 280 }; /* plot box */

/* Whether any run's metrics.jsonl has a finite value for key. */
static int lti_any_metric(const lti_run *runs, int64_t n, const char *key) {
    for (int64_t r = 0; r < n; r++)
        for (size_t i = 0; i < json_array_size(runs[r].metrics); i++) {
            int ok;
            lti_metric(json_array_get(runs[r].metrics, i), key, &ok);
            if (ok) return 1;
        }
    return 0;
}

static void lti_chart(lti_sb *b, const lti_run *runs, int64_t n, const char *key, const char *label, int id) {
    double ymin = HUGE_VAL, ymax = -HUGE_VAL, xmax = 1;
    for (int64_t r = 0; r < n; r++)
        for (size_t i = 0; i < json_array_size(runs[r].metrics); i++) {
            const json_t *o = json_array_get(runs[r].metrics, i);
            int ok;
            double y = lti_metric(o, key, &ok), x = (double)json_integer_value(json_object_get(o, "epoch"));
            if (!ok) continue;
            ymin = fmin(ymin, y);
            ymax = fmax(ymax, y);
            xmax = fmax(xmax, x);
        }
    lti_printf(b, "<figure class=\"chart\" id=\"chart-%d\"><figcaption>", id);
    lti_esc(b, label);
    lti_printf(b, "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                  "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", LTI_W, LTI_H, LTI_W, LTI_H);
    lti_esc(b, label);
    lti_printf(b, " by epoch\">\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", LTI_W, LTI_H);
    if (ymin > ymax) { /* no finite values in any run */
        lti_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#666\">no data yet</text></svg></figure>\n",
                   (LTI_L + LTI_R) / 2, (LTI_T + LTI_B) / 2);
        return;
    }
    if (ymax - ymin < 1e-9 * fmax(1, fabs(ymax))) { ymin -= fmax(0.5, fabs(ymin) * 0.05); ymax += fmax(0.5, fabs(ymax) * 0.05); }
    const double ystep = lti_nice_step(ymax - ymin, 5);
    const double y0 = floor(ymin / ystep) * ystep, y1 = ceil(ymax / ystep) * ystep;
    const double xstep = xmax <= 10 ? 1 : lti_nice_step(xmax, 8);
    const double x0 = 0, x1 = ceil(xmax / xstep) * xstep;
#define LTI_PX(x) (LTI_L + ((x) - x0) / (x1 - x0) * (LTI_R - LTI_L))
#define LTI_PY(y) (LTI_B - ((y) - y0) / (y1 - y0) * (LTI_B - LTI_T))
    /* grid, ticks and tick labels */
    const int ydig = ystep >= 1 ? 0 : (int)ceil(-log10(ystep) - 1e-9);
    for (double y = y0; y <= y1 + ystep * 1e-6; y += ystep)
        lti_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
                      "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
                      "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.*f</text>\n",
                   LTI_L, LTI_R, LTI_PY(y), LTI_PY(y), LTI_L - 5, LTI_L, LTI_PY(y), LTI_PY(y), LTI_L - 8,
                   LTI_PY(y) + 4, ydig, y);
    for (double x = x0; x <= x1 + xstep * 1e-6; x += xstep)
        lti_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#333\"/>"
                      "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">%.0f</text>\n",
                   LTI_PX(x), LTI_PX(x), LTI_B, LTI_B + 5, LTI_PX(x), LTI_B + 18, x);
    lti_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n", LTI_L, LTI_T,
               LTI_R - LTI_L, LTI_B - LTI_T);
    lti_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">epoch</text>\n", (LTI_L + LTI_R) / 2,
               LTI_H - 12);
    lti_printf(b, "<text x=\"16\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 16 %d)\">",
               (LTI_T + LTI_B) / 2, (LTI_T + LTI_B) / 2);
    lti_esc(b, label);
    LTI_LIT(b, "</text>\n");
    /* one series per run, and its legend entry */
    for (int64_t r = 0; r < n; r++) {
        const char *col = lti_colors[r % LTI_NCOLORS];
        lti_printf(b, "<g class=\"series\" stroke=\"%s\" fill=\"%s\"><polyline fill=\"none\" stroke-width=\"2\" points=\"", col,
                   col);
        for (size_t i = 0; i < json_array_size(runs[r].metrics); i++) {
            const json_t *o = json_array_get(runs[r].metrics, i);
            int ok;
            double y = lti_metric(o, key, &ok), x = (double)json_integer_value(json_object_get(o, "epoch"));
            if (ok) lti_printf(b, "%.1f,%.1f ", LTI_PX(x), LTI_PY(y));
        }
        LTI_LIT(b, "\"/>");
        for (size_t i = 0; i < json_array_size(runs[r].metrics); i++) {
            const json_t *o = json_array_get(runs[r].metrics, i);
            int ok;
            double y = lti_metric(o, key, &ok), x = (double)json_integer_value(json_object_get(o, "epoch"));
            if (ok) lti_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>epoch %.0f: %.4f</title></circle>", LTI_PX(x),
                               LTI_PY(y), x, y);
        }
        const int ly = LTI_T + 10 + (int)r * 18;
        lti_printf(b, "</g>\n<g class=\"legend\"><line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
                      "<text x=\"%d\" y=\"%d\" font-size=\"12\">", LTI_R + 14, LTI_R + 38, ly, ly, col, LTI_R + 44, ly + 4);
        lti_esc(b, runs[r].name);
        LTI_LIT(b, "</text></g>\n");
    }
#undef LTI_PX
#undef LTI_PY
    LTI_LIT(b, "</svg></figure>\n");
}

/* ---- the table ---- */

static void lti_fmt_secs(char *buf, size_t cap, double s) {
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh %02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, cap, "%ldm %02lds", t / 60, t % 60);
    else snprintf(buf, cap, "%.1fs", s);
}

/* The model's own settings: model_config without the data geometry and seed. */
static void lti_model_settings(lti_sb *b, const json_t *mc) {
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach((json_t *)mc, k, v) {
        if (!strcmp(k, "height") || !strcmp(k, "width") || !strcmp(k, "dim") || !strcmp(k, "seed")) continue;
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s) continue;
        if (!first) LTI_LIT(b, ", ");
        first = 0;
        lti_esc(b, k);
        LTI_LIT(b, "=");
        lti_esc(b, s);
        free(s); /* jansson allocates with malloc */
    }
    if (first) LTI_LIT(b, "&mdash;");
}

static void lti_row(lti_sb *b, const lti_run *r, int64_t i) {
    const json_t *c = r->cfg;
    const size_t ne = json_array_size(r->metrics);
    double secs = 0, best = HUGE_VAL;
    int64_t best_epoch = 0, done = 0;
    for (size_t k = 0; k < ne; k++) {
        const json_t *o = json_array_get(r->metrics, k);
        int ok;
        double v = lti_metric(o, "valid_nll", &ok);
        int64_t e = (int64_t)json_integer_value(json_object_get(o, "epoch"));
        if (ok && v < best) { best = v; best_epoch = e; }
        secs += lti_metric(o, "seconds", &ok);
        if (e > done) done = e;
    }
    lti_printf(b, "<tr class=\"run\" id=\"run-%lld\"><td><span class=\"swatch\" style=\"background:%s\"></span>",
               (long long)i, lti_colors[i % LTI_NCOLORS]);
    lti_esc(b, r->name);
    LTI_LIT(b, "</td><td>");
    lti_esc(b, json_string_value(json_object_get(c, "model")));
    LTI_LIT(b, "</td><td>");
    lti_model_settings(b, json_object_get(c, "model_config"));
    const char *opt = json_string_value(json_object_get(c, "optimizer")), *sched = json_string_value(json_object_get(c, "schedule"));
    LTI_LIT(b, "</td><td>");
    lti_esc(b, opt ? opt : "?");
    if (sched && strcmp(sched, "constant")) {
        LTI_LIT(b, ", ");
        lti_esc(b, sched);
    }
    int ok;
    double lr = lti_metric(c, "lr", &ok), batch = lti_metric(c, "batch", &ok), planned = lti_metric(c, "epochs", &ok);
    char t[64];
    lti_fmt_secs(t, sizeof t, secs);
    lti_printf(b, "</td><td>%g</td><td>%.0f</td><td>%lld / %.0f</td><td>%s</td>", lr, batch, (long long)done, planned, t);
    if (best < HUGE_VAL) lti_printf(b, "<td class=\"num\">%.3f <small>(epoch %lld)</small></td>", best, (long long)best_epoch);
    else LTI_LIT(b, "<td>&mdash;</td>");
    const json_t *te = r->eval ? json_object_get(r->eval, "test") : NULL;
    double tn = te ? lti_metric(te, "nll_nats", &ok) : 0;
    if (te && ok) {
        double se = lti_metric(te, "nll_stderr", &ok);
        lti_printf(b, "<td class=\"num\">%.3f", tn);
        if (ok) lti_printf(b, " &plusmn; %.3f", se);
        LTI_LIT(b, "</td>");
    } else {
        LTI_LIT(b, "<td>not evaluated</td>");
    }
    LTI_LIT(b, "</tr>\n");
}

/* ---- the page ---- */

static lt_status lti_samples(lti_sb *b, const lti_run *r, int64_t i) {
    lti_printf(b, "<figure class=\"samples\" id=\"samples-%lld\"><figcaption>", (long long)i);
    lti_esc(b, r->name);
    if (!r->sample[0]) {
        LTI_LIT(b, "</figcaption><p>no samples</p></figure>\n");
        return LT_OK;
    }
    char *png;
    size_t n;
    lt_status st = lti_slurp(r->sample, &png, &n);
    if (st) return st;
    if (!png) return lt_fail(LT_ERR_IO, "cannot read %s", r->sample);
    lti_printf(b, " &middot; epoch %lld</figcaption><img alt=\"samples of ", (long long)r->sample_epoch);
    lti_esc(b, r->name);
    LTI_LIT(b, "\" src=\"data:image/png;base64,");
    lti_base64(b, (const uint8_t *)png, n);
    LTI_LIT(b, "\"></figure>\n");
    lt_free(png);
    return LT_OK;
}

static const char lti_css[] =
    "body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fff}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:28px}"
    "table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}"
    "th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".swatch{display:inline-block;width:10px;height:10px;margin-right:6px}"
    "figure{display:inline-block;margin:8px 16px 8px 0;vertical-align:top}figcaption{font-size:13px;margin-bottom:4px}"
    ".samples img{image-rendering:pixelated;width:240px;border:1px solid #ccc}";

lt_status lt_report_write(const char *const *dirs, int64_t n, const char *out_path, const char *title) {
    if (n < 1) return lt_fail(LT_ERR_ARG, "no run directories given");
    lti_run *runs = lt_calloc((size_t)n, sizeof *runs);
    if (!runs) return lt_fail(LT_ERR_NOMEM, "report of %lld runs", (long long)n);
    lt_status st = LT_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        runs[i].dir = dirs[i];
        st = lti_load_run(&runs[i]);
    }
    lti_sb b = {0};
    if (!title) title = "latent runs";
    if (!st) {
        LTI_LIT(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
        lti_esc(&b, title);
        lti_printf(&b, "</title><style>%s</style></head>\n<body>\n<h1>", lti_css);
        lti_esc(&b, title);
        lti_printf(&b, "</h1>\n<h2>Runs</h2>\n<table id=\"runs\"><thead><tr><th>run</th><th>model</th><th>model settings</th>"
                       "<th>optimizer</th><th>lr</th><th>batch</th><th>epochs</th><th>time</th>"
                       "<th>best valid NLL (nats)</th><th>test NLL (nats)</th></tr></thead>\n<tbody>\n");
        for (int64_t i = 0; i < n; i++) lti_row(&b, &runs[i], i);
        LTI_LIT(&b, "</tbody></table>\n<h2>Curves</h2>\n");
        lti_chart(&b, runs, n, "train_loss", "training loss (nats/example)", 0);
        lti_chart(&b, runs, n, "valid_nll", "validation NLL (nats)", 1);
        lti_chart(&b, runs, n, "valid_bits_per_dim", "validation bits/dim", 2);
        /* the models' own metrics (vqvae's codebook health), when a run logged them */
        static const char *const extra[][2] = {{"valid_mse", "validation MSE (pixels in [0,1])"},
                                               {"valid_usage", "codebook usage (fraction of codes, validation)"},
                                               {"valid_perplexity", "code perplexity (validation)"}};
        for (int k = 0; k < 3; k++)
            if (lti_any_metric(runs, n, extra[k][0])) lti_chart(&b, runs, n, extra[k][0], extra[k][1], 3 + k);
        LTI_LIT(&b, "<h2>Latest samples</h2>\n");
        for (int64_t i = 0; i < n && !st; i++) st = lti_samples(&b, &runs[i], i);
        LTI_LIT(&b, "</body></html>\n");
    }
    if (!st && b.nomem) st = lt_fail(LT_ERR_NOMEM, "building %s", out_path);
    if (!st) st = lt_run_write_file(out_path, b.p, b.n);
    lt_free(b.p);
    for (int64_t i = 0; i < n; i++) lti_free_run(&runs[i]);
    lt_free(runs);
    return st;
}
