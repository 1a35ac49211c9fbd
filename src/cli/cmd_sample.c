/* latent sample RUN -o grid.png: a PNG grid of samples from a trained run.
 * Token models (gpt): code grids drawn with --temperature/--top-k/--top-p through the KV
 * cache; --codes-out FILE keeps them as a TFRecord of code examples (data/dataset.h's
 * token source: `latent train --data tfrecord:...` or `latent decode` read it); -o decodes
 * them with the stage-one run recorded in the prior's config ("stage1", latent train
 * --stage1 RUN or --codes-of RUN), or the one sample's --stage1 RUN names (a moved or
 * another stage-one run), through its decode capability, which receives the code indices
 * as floats (n, h·w) and must declare code_size h·w. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/sample_flags.h"
#include "core/alloc.h"
#include "core/threads.h"
#include "data/dataset.h"
#include "io/png.h"
#include "train/rundir.h"

static void lti_usage(FILE *f) {
    fprintf(f, "usage: latent sample RUN [-n 64] [--seed S] -o grid.png [--checkpoint best|last|epoch-NNN] [--class C]\n"
               "                  [--threads T]\n"
               "       token models (gpt): [--temperature T (1)] [--top-k K (0 = all)] [--top-p P (1 = all)]\n"
               "                  [--codes-out codes.tfrecord] [--stage1 RUN (decode with RUN, not the recorded stage one)]\n"
               "                  (-o decodes through the stage-one run of train --stage1 or --codes-of)\n");
}

/* The prior's codes (n, D) as images into *img through the decoder of stage-one run `run`,
 * or when NULL of the one the prior's config records. */
static lt_status lti_decode_stage1(const lt_model *m, const char *run, const int64_t *codes, int64_t n, lt_model **s1,
                                   float **img) {
    json_t *p = json_object_get(m->config, "stage1");
    if (!run && !json_is_string(p))
        return lt_fail(LT_ERR_ARG, "the prior records no stage-one run (train it with --stage1 RUN) to decode its codes "
                       "with; give one with --stage1 RUN or write the codes with --codes-out FILE");
    if (!run) run = json_string_value(p);
    lt_status st = lt_checkpoint_open_model(run, "best", s1, NULL);
    if (st) return lt_fail_context(st, "stage-one run %s: ", run);
    const lt_model_vtable *vt = (*s1)->vt;
    if (!vt->decode || !vt->code_size || vt->code_size(*s1) != m->dim)
        return lt_fail(LT_ERR_ARG, "stage-one run %s (model '%s') cannot decode grids of %lld codes", run, vt->name,
                       (long long)m->dim);
    float *z = lt_malloc((size_t)(n * m->dim) * sizeof *z);
    *img = lt_malloc((size_t)(n * (*s1)->dim) * sizeof **img);
    lt_graph g;
    if (!z || !*img || (st = lt_graph_init(&g, (size_t)1 << 20))) {
        lt_free(z);
        return st ? st : lt_fail(LT_ERR_NOMEM, "decode buffers for %lld images", (long long)n);
    }
    for (int64_t i = 0; i < n * m->dim; i++) z[i] = (float)codes[i];
    lt_graph_set_grad(&g, 0);
    st = vt->decode(*s1, &g, z, n, *img);
    lt_graph_free(&g);
    lt_free(z);
    return st;
}

int lt_cmd_sample(int argc, char **argv) {
    static const char *cmd = "sample";
    const char *run = NULL, *out = NULL, *which = "best", *codes_out = NULL, *stage1 = NULL;
    int64_t n = 64, seed = 1, cls = -1, threads = 0;
    lt_cli_sampling smp = LT_CLI_SAMPLING_DEFAULT;
    int r, token_opts = 0; /* --codes-out, --stage1 (the filter counts in smp.given) */
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) { lti_usage(stdout); return 0; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "-n", 1, 1024, &n))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--seed", 0, INT64_MAX, &seed))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--class", 0, 1 << 20, &cls))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--threads", 1, 1024, &threads))) { if (r < 0) return 2; continue; }
        if ((r = lt_cli_sample_flag(cmd, argc, argv, &i, &smp))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--codes-out", &codes_out))) { if (r < 0) return 2; token_opts++; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--stage1", &stage1))) { if (r < 0) return 2; token_opts++; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "-o", &out))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--checkpoint", &which))) { if (r < 0) return 2; continue; }
        if (argv[i][0] == '-' || run) return lt_cli_usage(cmd, "unexpected argument '%s' (see latent sample --help)", argv[i]);
        run = argv[i];
    }
    if (!run) return lt_cli_usage(cmd, "which run? latent sample RUN -o grid.png");
    if (!out && !codes_out) return lt_cli_usage(cmd, "where to? -o grid.png (or --codes-out FILE for a prior over codes)");
    if (stage1 && !out) return lt_cli_usage(cmd, "--stage1 RUN decodes the codes into -o grid.png: give -o");
    if (lt_cli_checkpoint_name(cmd, which)) return 2;
    if (threads > 0) lt_threads_set((int)threads);
    lt_model *m = NULL, *s1 = NULL;
    lt_status st = lt_checkpoint_open_model(run, which, &m, NULL);
    if (st) return lt_cli_error(st);
    const int64_t n_classes = m->n_classes, vocab = m->vocab; /* for the messages after destroy */
    if (cls >= 0 && cls >= n_classes) {
        lt_model_destroy(m);
        return lt_cli_usage(cmd, "--class %lld: the model has %lld classes", (long long)cls, (long long)n_classes);
    }
    if (!m->vt->tokens && (token_opts || smp.given)) {
        const char *name = m->vt->name; /* static: the vtable outlives the model */
        lt_model_destroy(m);
        return lt_cli_usage(cmd, "--temperature, --top-k, --top-p, --codes-out and --stage1 apply to priors over codes (gpt), not "
                                 "to model '%s'", name);
    }
    if (m->vt->tokens && lt_cli_sample_vocab(cmd, &smp, vocab)) {
        lt_model_destroy(m);
        return 2;
    }
    float *x = NULL;                                           /* (n, D) images */
    int64_t *codes = NULL;                                     /* (n, D) a token model's codes */
    int64_t *y = lt_malloc((size_t)n * sizeof *y);             /* (n) */
    lt_graph g;
    int g_ready = 0;
    if (!y) st = lt_fail(LT_ERR_NOMEM, "sample buffers for %lld images", (long long)n);
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) g_ready = 1;
    lt_rng rng;
    lt_rng_seed(&rng, (uint64_t)seed);
    if (!st) {
        for (int64_t i = 0; i < n; i++) y[i] = cls >= 0 ? cls : m->n_classes > 0 ? i % m->n_classes : 0;
        lt_graph_set_grad(&g, 0);
    }
    const lt_model *img_model = m; /* whose geometry the grid has */
    if (!st && m->vt->tokens) {
        lt_sample_opts so = lt_cli_sample_opts(&smp);
        if (!(codes = lt_malloc((size_t)(n * m->dim) * sizeof *codes))) st = lt_fail(LT_ERR_NOMEM, "code buffers");
        if (!st) st = m->vt->sample_codes(m, &g, &rng, n, m->n_classes > 0 ? y : NULL, &so, codes);
        if (!st && codes_out)
            st = lt_codes_write(codes_out, codes, n, m->height, m->width, m->n_classes > 0 ? y : NULL);
        if (!st && out && !(st = lti_decode_stage1(m, stage1, codes, n, &s1, &x))) img_model = s1;
    } else if (!st && !m->vt->sample) {
        st = lt_fail(LT_ERR_ARG, "model '%s' is an encoder: it does not sample", m->vt->name);
    } else if (!st) {
        if (!(x = lt_malloc((size_t)(n * m->dim) * sizeof *x))) st = lt_fail(LT_ERR_NOMEM, "sample buffers");
        if (!st) st = m->vt->sample(m, &g, &rng, n, m->n_classes > 0 ? y : NULL, x);
    }
    int64_t c = img_model->dim / (img_model->height * img_model->width);
    if (!st && out && c != 1 && c != 3)
        st = lt_fail(LT_ERR_ARG, "cannot draw %lld-channel images as PNG", (long long)c);
    int64_t cols = m->n_classes > 0 && cls < 0 ? m->n_classes : 0;
    if (!st && out)
        st = lt_png_write_grid_range(out, x, n, c, img_model->height, img_model->width, cols,
                                     img_model->vt->range == LT_MODEL_RANGE_SIGNED ? -1.0f : 0.0f, 1.0f);
    int code = st ? lt_cli_error(st) : 0;
    if (!st)
        fprintf(stderr, "latent sample: %lld samples of %s from %s/checkpoints/%s.safetensors →%s%s%s%s\n", (long long)n,
                m->vt->name, run, which, out ? " " : "", out ? out : "", codes_out ? " codes " : "",
                codes_out ? codes_out : "");
    if (g_ready) lt_graph_free(&g);
    lt_free(x);
    lt_free(codes);
    lt_free(y);
    lt_model_destroy(s1);
    lt_model_destroy(m);
    return code;
}
