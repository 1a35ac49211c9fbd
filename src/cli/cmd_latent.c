/* latent reconstruct RUN -o grid.png and latent interpolate RUN -o grid.png:
 * pictures of a latent-variable model's code, through the model interface's
 * encode/decode entries (vae, gsvae). Inputs are the first test images (the
 * run's data, binarized as in training). */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/run_data.h"
#include "core/alloc.h"
#include "core/threads.h"
#include "data/dataset.h"
#include "io/png.h"
#include "train/features.h"

typedef struct lti_latent_args {
    const char *run, *out, *which, *split;
    int64_t n, steps, threads;
} lti_latent_args;

static int lti_parse(const char *cmd, int argc, char **argv, lti_latent_args *a, const char *usage) {
    int r;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) { printf("%s", usage); return 0; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "-n", 1, 1024, &a->n))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--steps", 1, 64, &a->steps))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--threads", 1, 1024, &a->threads))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "-o", &a->out))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--checkpoint", &a->which))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--split", &a->split))) { if (r < 0) return 2; continue; }
        if (argv[i][0] == '-' || a->run) return lt_cli_usage(cmd, "unexpected argument '%s' (see latent %s --help)", argv[i], cmd);
        a->run = argv[i];
    }
    if (!a->run) return lt_cli_usage(cmd, "which run? latent %s RUN -o grid.png", cmd);
    if (!a->out) return lt_cli_usage(cmd, "where to? -o grid.png");
    if (lt_cli_checkpoint_name(cmd, a->which)) return 2;
    if (lt_split_parse(a->split) < 0) return lt_cli_usage(cmd, "--split %s: expected train, valid or test", a->split);
    if (a->threads > 0) lt_threads_set((int)a->threads);
    return -1; /* go on */
}

/* The model and the first n images of the split, for a model with a latent code. */
static lt_status lti_open(const lti_latent_args *a, int64_t n, lt_model **m, float **x) {
    lt_status st = lt_cli_open_run(a->run, a->which, a->split, n, m, x);
    if (!st && (!(*m)->vt->encode || !(*m)->vt->decode || !(*m)->vt->code_size))
        st = lt_fail(LT_ERR_ARG, "model '%s' has no latent code to encode and decode (use a vae or gsvae run)",
                     (*m)->vt->name);
    return st;
}

/* img: n images in m's range, or in [0, 1] when unit */
static int lti_finish(lt_status st, lt_model *m, const char *out, int64_t n, int64_t cols, const float *img, int unit) {
    int64_t c = m ? m->dim / (m->height * m->width) : 1;
    if (!st && c != 1 && c != 3) st = lt_fail(LT_ERR_ARG, "cannot draw %lld-channel images as PNG", (long long)c);
    if (!st) st = lt_png_write_grid_range(out, img, n, c, m->height, m->width, cols,
                                          !unit && m->vt->range == LT_MODEL_RANGE_SIGNED ? -1.0f : 0.0f, 1.0f);
    if (!st) fprintf(stderr, "latent: %lld images → %s\n", (long long)n, out);
    return st ? lt_cli_error(st) : 0;
}

int lt_cmd_reconstruct(int argc, char **argv) {
    static const char *usage = "usage: latent reconstruct RUN -o grid.png [-n 32] [--split test] [--checkpoint best|last|epoch-NNN]\n"
                               "  each input image beside its reconstruction p(x|z = mean of q(z|x)), 8 pairs a row\n";
    lti_latent_args a = {NULL, NULL, "best", "test", 32, 10, 0};
    int r = lti_parse("reconstruct", argc, argv, &a, usage);
    if (r >= 0) return r;
    lt_model *m = NULL;
    float *x = NULL, *rec = NULL, *grid = NULL;
    lt_graph g;
    int g_ready = 0;
    lt_status st = lti_open(&a, a.n, &m, &x);
    const int64_t n = a.n, D = m ? m->dim : 0;
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) g_ready = 1;
    if (!st) {
        rec = lt_malloc(sizeof(float) * (size_t)(n * D));  /* (n, D) in [0, 1] */
        grid = lt_malloc(sizeof(float) * (size_t)(2 * n * D)); /* (2n, D) in [0, 1]: input, reconstruction, ... */
        if (!rec || !grid) st = lt_fail(LT_ERR_NOMEM, "reconstruction buffers");
    }
    if (!st) st = lt_reconstruct_images(m, &g, x, n, n, rec); /* all n in one batch */
    if (!st)
        for (int64_t i = 0; i < n; i++) {
            lt_images_to_unit(m, x + i * D, D, grid + (2 * i) * D);
            memcpy(grid + (2 * i + 1) * D, rec + i * D, sizeof(float) * (size_t)D);
        }
    int code_rc = lti_finish(st, m, a.out, 2 * n, 16, grid, 1);
    if (g_ready) lt_graph_free(&g);
    lt_free(rec);
    lt_free(grid);
    lt_free(x);
    lt_model_destroy(m);
    return code_rc;
}

int lt_cmd_interpolate(int argc, char **argv) {
    static const char *usage = "usage: latent interpolate RUN -o grid.png [-n 8] [--steps 10] [--split test] [--checkpoint best|last|epoch-NNN]\n"
                               "  n rows: test images 2i and 2i+1 at the ends, decodings of steps points on the line\n"
                               "  between their latent means between them\n";
    lti_latent_args a = {NULL, NULL, "best", "test", 8, 10, 0};
    int r = lti_parse("interpolate", argc, argv, &a, usage);
    if (r >= 0) return r;
    lt_model *m = NULL;
    float *x = NULL, *code = NULL, *line = NULL, *dec = NULL, *grid = NULL;
    lt_graph g;
    int g_ready = 0;
    const int64_t n = a.n, S = a.steps, W = S + 2;
    lt_status st = lti_open(&a, 2 * n, &m, &x);
    if (!st && m->vt->code_grid) /* code indices have no line between them */
        st = lt_fail(LT_ERR_ARG, "model '%s' has discrete codes: nothing to interpolate (try latent reconstruct)",
                     m->vt->name);
    const int64_t D = m ? m->dim : 0, C = m && !st ? m->vt->code_size(m) : 0;
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) g_ready = 1;
    if (!st) {
        code = lt_malloc(sizeof(float) * (size_t)(2 * n * C)); /* (2n, C) */
        line = lt_malloc(sizeof(float) * (size_t)(n * S * C)); /* (n·S, C) */
        dec = lt_malloc(sizeof(float) * (size_t)(n * S * D));  /* (n·S, D) */
        grid = lt_malloc(sizeof(float) * (size_t)(n * W * D)); /* (n·W, D) */
        if (!code || !line || !dec || !grid) st = lt_fail(LT_ERR_NOMEM, "interpolation buffers");
    }
    lt_batch b = {x, NULL, 2 * n, D, NULL};
    if (!st) st = m->vt->encode(m, &g, &b, code);
    if (!st) {
        for (int64_t i = 0; i < n; i++)
            for (int64_t s = 0; s < S; s++) {
                float t = S > 1 ? (float)s / (float)(S - 1) : 0.5f;
                const float *za = code + 2 * i * C, *zb = za + C;
                for (int64_t j = 0; j < C; j++) line[(i * S + s) * C + j] = (1 - t) * za[j] + t * zb[j];
            }
        lt_graph_reset(&g);
        st = m->vt->decode(m, &g, line, n * S, dec);
    }
    if (!st)
        for (int64_t i = 0; i < n; i++) {
            memcpy(grid + (i * W) * D, x + 2 * i * D, sizeof(float) * (size_t)D);
            memcpy(grid + (i * W + 1) * D, dec + i * S * D, sizeof(float) * (size_t)(S * D));
            memcpy(grid + (i * W + W - 1) * D, x + (2 * i + 1) * D, sizeof(float) * (size_t)D);
        }
    int rc = lti_finish(st, m, a.out, n * W, W, grid, 0);
    if (g_ready) lt_graph_free(&g);
    lt_free(code);
    lt_free(line);
    lt_free(dec);
    lt_free(grid);
    lt_free(x);
    lt_model_destroy(m);
    return rc;
}
