/* latent encode RUN --split S -o codes.tfrecord and latent decode RUN codes.tfrecord -o grid.png:
 * the discrete code grids of a model with code_grid (vqvae) as TFRecord files of tf.Examples,
 *   codes         int64 list of h·w code indices, row-major
 *   codes/height  int64 h
 *   codes/width   int64 w
 *   label         int64, when the split has labels
 * one record per image in the split's order, so a prior trains from plain TFRecord files
 * (`--data tfrecord:PREFIX` with files PREFIX-train-*, ...: encode with -o PREFIX-train
 * --shards N) and other tools can read them. Without --shards the file is OUT itself. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/run_data.h"
#include "core/alloc.h"
#include "core/threads.h"
#include "data/dataset.h"
#include "data/example.h"
#include "data/tfrecord.h"
#include "io/png.h"
#include "train/rundir.h"

/* The model of RUN's checkpoint, which must have discrete codes. */
static lt_status lti_codes_model(const char *run, const char *which, lt_model **m, int64_t *h, int64_t *w, int64_t *K) {
    lt_status st = lt_checkpoint_open_model(run, which, m, NULL);
    if (!st && !(*m)->vt->code_grid)
        st = lt_fail(LT_ERR_ARG, "model '%s' of %s has no discrete codes (encode/decode take a vqvae run)",
                     (*m)->vt->name, run);
    if (!st) st = (*m)->vt->code_grid(*m, h, w, K);
    return st;
}

/* The split's images in batches of B through encode, into shards of records. */
static lt_status lti_encode(const char *run, const char *which, lt_split_id split, const char *out, int64_t shards,
                            lt_tfr_compression comp, int64_t B, int64_t *written) {
    lt_model *m = NULL;
    lt_dataset data;
    lt_batch_opts bo;
    int have_data = 0, g_ready = 0;
    int64_t h = 0, w = 0, K = 0;
    lt_graph g;
    lt_ex_builder eb;
    lt_ex_builder_init(&eb);
    lt_status st = lti_codes_model(run, which, &m, &h, &w, &K);
    if (!st && !(st = lt_cli_run_data(run, m, &data, &bo))) have_data = 1;
    const lt_split *sp = have_data ? &data.split[split] : NULL;
    if (!st && sp->n < 1) st = lt_fail(LT_ERR_ARG, "split '%s' of %s's data has no images", lt_split_name(split), run);
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) g_ready = 1;
    const int64_t hw = h * w;
    float *x = st ? NULL : lt_malloc(sizeof(float) * (size_t)(B * m->dim)); /* (B, D) */
    float *z = st ? NULL : lt_malloc(sizeof(float) * (size_t)(B * hw));     /* (B, h·w) */
    int64_t *c = st ? NULL : lt_malloc(sizeof(int64_t) * (size_t)hw);       /* (h·w) */
    int64_t *idx = st ? NULL : lt_malloc(sizeof(int64_t) * (size_t)B), *y = st ? NULL : lt_malloc(sizeof(int64_t) * (size_t)B);
    if (!st && (!x || !z || !c || !idx || !y)) st = lt_fail(LT_ERR_NOMEM, "encode buffers for batch %lld", (long long)B);
    char name[4200];
    const int64_t nfiles = shards > 0 ? shards : 1; /* shards 0: the one file OUT itself */
    for (int64_t k = 0; !st && k < nfiles; k++) {
        int64_t lo, hi;
        lt_tfr_split(sp->n, k, nfiles, &lo, &hi);
        if (shards == 0) snprintf(name, sizeof name, "%s", out);
        else lt_tfr_shard_name(name, sizeof name, out, k, shards);
        lt_tfr_writer *wr;
        if ((st = lt_tfr_writer_open(&wr, name, comp, -1))) break;
        for (int64_t s0 = lo; !st && s0 < hi; s0 += B) {
            const int64_t n = hi - s0 < B ? hi - s0 : B;
            for (int64_t i = 0; i < n; i++) idx[i] = s0 + i;
            lt_dataset_batch_opts(&data, split, idx, n, &bo, x, y);
            lt_batch b = {x, NULL, n, m->dim, NULL};
            st = m->vt->encode(m, &g, &b, z);
            lt_graph_reset(&g);
            for (int64_t i = 0; !st && i < n; i++) {
                const uint8_t *rec;
                int64_t len;
                for (int64_t j = 0; j < hw; j++) c[j] = (int64_t)z[i * hw + j];
                lt_ex_builder_begin(&eb, 0);
                if (!(st = lt_ex_builder_int64s(&eb, "codes", c, hw)) && !(st = lt_ex_builder_int64s(&eb, "codes/height", &h, 1)) &&
                    !(st = lt_ex_builder_int64s(&eb, "codes/width", &w, 1)) &&
                    !(st = sp->labels ? lt_ex_builder_int64s(&eb, "label", &y[i], 1) : LT_OK) &&
                    !(st = lt_ex_builder_finish(&eb, &rec, &len)))
                    st = lt_tfr_writer_write(wr, rec, len);
            }
        }
        if (st) lt_tfr_writer_abort(wr);
        else st = lt_tfr_writer_close(wr);
    }
    if (!st) *written = sp->n;
    lt_free(x);
    lt_free(z);
    lt_free(c);
    lt_free(idx);
    lt_free(y);
    lt_ex_builder_free(&eb);
    if (g_ready) lt_graph_free(&g);
    if (have_data) lt_dataset_free(&data);
    lt_model_destroy(m);
    return st;
}

int lt_cmd_encode(int argc, char **argv) {
    static const char *cmd = "encode";
    static const char *usage =
        "usage: latent encode RUN -o CODES.tfrecord [--split train|valid|test] [--shards N] [--compression none|gzip|zlib]\n"
        "                     [--batch B] [--checkpoint best|last|epoch-NNN] [--threads T]\n"
        "  every image of the split (test) as a tf.Example: 'codes' (int64 list of h*w), 'codes/height',\n"
        "  'codes/width', 'label'; --shards N writes CODES-00000-of-0000N ... (without it: CODES itself)\n"
        "  for a prior's --data tfrecord:PREFIX: -o PREFIX-train --shards N (and -valid, -test)\n";
    const char *run = NULL, *out = NULL, *split_s = "test", *which = "best", *comp_s = "none";
    int64_t shards = 0, batch = 100, threads = 0; /* shards 0: no --shards, write OUT itself */
    int r;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) { printf("%s", usage); return 0; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "-o", &out))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--split", &split_s))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--checkpoint", &which))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--compression", &comp_s))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--shards", 1, 99999, &shards))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--batch", 1, 100000, &batch))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--threads", 1, 1024, &threads))) { if (r < 0) return 2; continue; }
        if (argv[i][0] == '-' || run) return lt_cli_usage(cmd, "unexpected argument '%s' (see latent encode --help)", argv[i]);
        run = argv[i];
    }
    if (!run) return lt_cli_usage(cmd, "which run? latent encode RUN -o codes.tfrecord");
    if (!out) return lt_cli_usage(cmd, "where to? -o codes.tfrecord");
    int split = lt_split_parse(split_s);
    if (split < 0) return lt_cli_usage(cmd, "--split %s: expected train, valid or test", split_s);
    if (lt_cli_checkpoint_name(cmd, which)) return 2;
    lt_tfr_compression comp;
    if (lt_tfr_compression_parse(comp_s, &comp) || comp == LT_TFR_AUTO)
        return lt_cli_usage(cmd, "--compression %s: expected none, gzip or zlib", comp_s);
    if (threads > 0) lt_threads_set((int)threads);
    int64_t n = 0;
    lt_status st = lti_encode(run, which, (lt_split_id)split, out, shards, comp, batch, &n);
    if (st) return lt_cli_error(st);
    fprintf(stderr, "latent encode: %lld images of %s -> %s%s\n", (long long)n, split_s, out,
            shards > 0 ? "-*-of-*" : "");
    return 0;
}

/* The first n records of FILES (path, glob or NAME@N) as code grids (n, h·w) floats. */
static lt_status lti_read_codes(const char *spec, int64_t h, int64_t w, int64_t n, float *z, int64_t *got) {
    lt_tfr_files files;
    lt_tfr_files_init(&files);
    lt_example ex;
    lt_example_init(&ex);
    const int64_t hw = h * w;
    int64_t *c = lt_malloc(sizeof(int64_t) * (size_t)hw); /* (h·w) */
    lt_status st = c ? lt_tfr_files_add(&files, spec) : lt_fail(LT_ERR_NOMEM, "code buffer");
    *got = 0;
    for (int64_t f = 0; !st && f < files.n && *got < n; f++) {
        lt_tfr_reader *rd;
        if ((st = lt_tfr_reader_open(&rd, files.paths[f], NULL))) break;
        lt_tfr_record rec;
        int have = 1;
        while (!st && *got < n && !(st = lt_tfr_reader_next(rd, &rec, &have)) && have) {
            if ((st = lt_example_parse(&ex, rec.data, rec.len))) {
                st = lt_fail_context(st, "%s record %lld (offset %lld): ", rec.file, (long long)rec.index, (long long)rec.offset);
                break;
            }
            const lt_ex_feature *fc = lt_example_get(&ex, "codes"), *fh = lt_example_get(&ex, "codes/height"),
                                *fw = lt_example_get(&ex, "codes/width");
            int64_t rh = -1, rw = -1, k = fc ? fc->count : -1;
            if (fc && k == hw && lt_ex_feature_int64s(fc, c, hw) != hw) k = -1; /* not int64 */
            if (fh) lt_ex_feature_int64s(fh, &rh, 1);
            if (fw) lt_ex_feature_int64s(fw, &rw, 1);
            if (!fc || !fh || !fw || k < 0) {
                st = lt_fail(LT_ERR_FORMAT, "%s record %lld (offset %lld): expected int64 features 'codes', 'codes/height' "
                             "and 'codes/width'", rec.file, (long long)rec.index, (long long)rec.offset);
            } else if (rh != h || rw != w || k != hw) {
                st = lt_fail(LT_ERR_ARG, "%s record %lld (offset %lld): a %lldx%lld grid of %lld codes, the model "
                             "decodes %lldx%lld grids", rec.file, (long long)rec.index, (long long)rec.offset,
                             (long long)rh, (long long)rw, (long long)k, (long long)h, (long long)w);
            } else {
                for (int64_t j = 0; j < hw; j++) z[*got * hw + j] = (float)c[j];
                ++*got;
            }
        }
        lt_tfr_reader_close(rd);
    }
    if (!st && *got == 0) st = lt_fail(LT_ERR_ARG, "%s: no records", spec);
    lt_free(c);
    lt_example_free(&ex);
    lt_tfr_files_free(&files);
    return st;
}

int lt_cmd_decode(int argc, char **argv) {
    static const char *cmd = "decode";
    static const char *usage =
        "usage: latent decode RUN CODES.tfrecord -o grid.png [-n 32] [--checkpoint best|last|epoch-NNN] [--threads T]\n"
        "  the first n code grids of CODES (a path, glob or NAME@N; as latent encode writes them) decoded, 8 a row\n";
    const char *run = NULL, *codes = NULL, *out = NULL, *which = "best";
    int64_t n = 32, threads = 0;
    int r;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) { printf("%s", usage); return 0; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "-o", &out))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--checkpoint", &which))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "-n", 1, 1024, &n))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--threads", 1, 1024, &threads))) { if (r < 0) return 2; continue; }
        if (argv[i][0] == '-' || codes) return lt_cli_usage(cmd, "unexpected argument '%s' (see latent decode --help)", argv[i]);
        if (run) codes = argv[i];
        else run = argv[i];
    }
    if (!run || !codes) return lt_cli_usage(cmd, "which run and codes? latent decode RUN codes.tfrecord -o grid.png");
    if (!out) return lt_cli_usage(cmd, "where to? -o grid.png");
    if (lt_cli_checkpoint_name(cmd, which)) return 2;
    if (threads > 0) lt_threads_set((int)threads);
    lt_model *m = NULL;
    int64_t h = 0, w = 0, K = 0, got = 0;
    float *z = NULL, *img = NULL;
    lt_graph g;
    int g_ready = 0;
    lt_status st = lti_codes_model(run, which, &m, &h, &w, &K);
    if (!st) {
        z = lt_malloc(sizeof(float) * (size_t)(n * h * w)); /* (n, h·w) */
        img = lt_malloc(sizeof(float) * (size_t)(n * m->dim)); /* (n, D) */
        if (!z || !img) st = lt_fail(LT_ERR_NOMEM, "decode buffers");
    }
    if (!st) st = lti_read_codes(codes, h, w, n, z, &got);
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) g_ready = 1;
    if (!st) st = m->vt->decode(m, &g, z, got, img);
    if (!st && m->channels != 1 && m->channels != 3)
        st = lt_fail(LT_ERR_ARG, "cannot draw %lld-channel images as PNG", (long long)m->channels);
    if (!st)
        st = lt_png_write_grid_range(out, img, got, m->channels, m->height, m->width, 8,
                                     m->vt->range == LT_MODEL_RANGE_SIGNED ? -1.0f : 0.0f, 1.0f);
    if (!st) fprintf(stderr, "latent decode: %lld images -> %s\n", (long long)got, out);
    if (g_ready) lt_graph_free(&g);
    lt_free(z);
    lt_free(img);
    lt_model_destroy(m);
    return st ? lt_cli_error(st) : 0;
}
