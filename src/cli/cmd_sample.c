/* latent sample RUN -o grid.png: a PNG grid of samples from a trained run. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/alloc.h"
#include "core/threads.h"
#include "io/png.h"
#include "train/rundir.h"

static void lti_usage(FILE *f) {
    fprintf(f, "usage: latent sample RUN [-n 64] [--seed S] -o grid.png [--checkpoint best|last|epoch-NNN] [--class C]\n"
               "                  [--threads T]\n");
}

int lt_cmd_sample(int argc, char **argv) {
    static const char *cmd = "sample";
    const char *run = NULL, *out = NULL, *which = "best";
    int64_t n = 64, seed = 1, cls = -1, threads = 0;
    int r;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) { lti_usage(stdout); return 0; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "-n", 1, 1024, &n))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--seed", 0, INT64_MAX, &seed))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--class", 0, 1 << 20, &cls))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--threads", 1, 1024, &threads))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "-o", &out))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--checkpoint", &which))) { if (r < 0) return 2; continue; }
        if (argv[i][0] == '-' || run) return lt_cli_usage(cmd, "unexpected argument '%s' (see latent sample --help)", argv[i]);
        run = argv[i];
    }
    if (!run) return lt_cli_usage(cmd, "which run? latent sample RUN -o grid.png");
    if (!out) return lt_cli_usage(cmd, "where to? -o grid.png");
    if (lt_cli_checkpoint_name(cmd, which)) return 2;
    if (threads > 0) lt_threads_set((int)threads);
    lt_model *m = NULL;
    lt_status st = lt_checkpoint_open_model(run, which, &m, NULL);
    if (st) return lt_cli_error(st);
    if (cls >= 0 && cls >= m->n_classes) {
        lt_model_destroy(m);
        return lt_cli_usage(cmd, "--class %lld: the model has %lld classes", (long long)cls, (long long)m->n_classes);
    }
    float *x = lt_malloc((size_t)(n * m->dim) * sizeof *x);    /* (n, D) */
    int64_t *y = lt_malloc((size_t)n * sizeof *y);              /* (n) */
    lt_graph g;
    int g_ready = 0;
    if (!x || !y) st = lt_fail(LT_ERR_NOMEM, "sample buffers for %lld images", (long long)n);
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) g_ready = 1;
    if (!st) {
        for (int64_t i = 0; i < n; i++) y[i] = cls >= 0 ? cls : m->n_classes > 0 ? i % m->n_classes : 0;
        lt_rng rng;
        lt_rng_seed(&rng, (uint64_t)seed);
        lt_graph_set_grad(&g, 0);
        st = m->vt->sample(m, &g, &rng, n, m->n_classes > 0 ? y : NULL, x);
    }
    int64_t c = m->dim / (m->height * m->width);
    if (!st && c != 1 && c != 3)
        st = lt_fail(LT_ERR_ARG, "cannot draw %lld-channel images as PNG", (long long)c);
    int64_t cols = m->n_classes > 0 && cls < 0 ? m->n_classes : 0;
    if (!st) st = lt_png_write_grid_range(out, x, n, c, m->height, m->width, cols,
                                          m->vt->range == LT_MODEL_RANGE_SIGNED ? -1.0f : 0.0f, 1.0f);
    int code = st ? lt_cli_error(st) : 0;
    if (!st) fprintf(stderr, "latent sample: %lld samples of %s from %s/checkpoints/%s.safetensors → %s\n", (long long)n,
                     m->vt->name, run, which, out);
    if (g_ready) lt_graph_free(&g);
    lt_free(x);
    lt_free(y);
    lt_model_destroy(m);
    return code;
}
