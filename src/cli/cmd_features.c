/* latent features apply --spec SPEC.json FILE…: the dense rows a feature spec
 * produces from TFRecord files of tf.Examples. Embedding columns show their
 * tables' initial values (TF's default initializer, drawn from --seed). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/alloc.h"
#include "data/example.h"
#include "data/features.h"
#include "data/tfrecord.h"

static void lti_usage(FILE *f) {
    fprintf(f, "usage: latent features apply --spec SPEC.json FILE... [--json] [--limit N] [--seed S] [--batch B]\n"
               "  FILE: a TFRecord file of tf.Examples, a glob, or NAME@N shards (compression detected)\n"
               "  prints one row per record: the spec's columns, sorted by name as TensorFlow's input_layer;\n"
               "  without --json a '#' header line names each column's [offset, offset+width).\n");
}

/* One batch of records: their bytes copied (reader views die at the next read), then parsed. */
typedef struct lti_fbatch {
    uint8_t *bytes;
    size_t cap;
    size_t used;
    int64_t n, max;
    size_t *start;           /* (max + 1) */
    int64_t *index, *offset; /* (max) record number and byte offset, for errors */
    const char **file;       /* (max) owned by the file list */
    lt_example *ex;          /* (max) */
    const lt_example **rows; /* (max) */
} lti_fbatch;

static lt_status lti_fbatch_add(lti_fbatch *fb, const lt_tfr_record *rec, const char *file) {
    if (fb->used + (size_t)rec->len > fb->cap) {
        size_t nc = fb->cap ? fb->cap : 1 << 16;
        while (nc < fb->used + (size_t)rec->len) nc *= 2;
        uint8_t *nb = lt_realloc(fb->bytes, nc);
        if (!nb) return lt_fail(LT_ERR_NOMEM, "out of memory holding a batch of records");
        fb->bytes = nb;
        fb->cap = nc;
    }
    memcpy(fb->bytes + fb->used, rec->data, (size_t)rec->len);
    fb->start[fb->n] = fb->used;
    fb->index[fb->n] = rec->index;
    fb->offset[fb->n] = rec->offset;
    fb->file[fb->n] = file;
    fb->used += (size_t)rec->len;
    fb->start[++fb->n] = fb->used;
    return LT_OK;
}

static void lti_print_rows(const float *out, int64_t n, int64_t width, json_t *jrows) {
    for (int64_t r = 0; r < n; r++) {
        const float *row = out + r * width;
        if (jrows) {
            json_t *a = json_array();
            for (int64_t j = 0; j < width; j++) json_array_append_new(a, json_real(row[j]));
            json_array_append_new(jrows, a);
        } else {
            for (int64_t j = 0; j < width; j++) printf(j ? " %.9g" : "%.9g", row[j]);
            printf("\n");
        }
    }
}

/* Parses, transforms and prints the batch; errors name the file and the record. */
static lt_status lti_flush(lti_fbatch *fb, const lt_features *f, lt_feature_batch *b, float **out, size_t *cap_out,
                           json_t *jrows) {
    for (int64_t r = 0; r < fb->n; r++) {
        lt_status st = lt_example_parse(&fb->ex[r], fb->bytes + fb->start[r], (int64_t)(fb->start[r + 1] - fb->start[r]));
        if (st) return lt_fail_context(st, "%s record %lld offset %lld: ", fb->file[r], (long long)fb->index[r],
                                       (long long)fb->offset[r]);
        fb->rows[r] = &fb->ex[r];
    }
    lt_feature_examples fx = {fb->rows, fb->n, NULL, NULL, NULL, 0, 0, 0};
    lt_status st = lt_features_transform(f, lt_feature_examples_lookup, &fx, fb->n, b);
    lt_feature_examples_free(&fx);
    if (st) {
        int64_t r = b->error_row >= 0 ? b->error_row : 0;
        return lt_fail_context(st, "%s record %lld offset %lld: ", fb->file[r], (long long)fb->index[r],
                               (long long)fb->offset[r]);
    }
    size_t need = sizeof(float) * (size_t)(fb->n * lt_features_width(f));
    if (need > *cap_out) {
        float *o = lt_realloc(*out, need);
        if (!o) return lt_fail(LT_ERR_NOMEM, "out of memory for the output rows");
        *out = o;
        *cap_out = need;
    }
    if ((st = lt_features_dense(f, b, *out))) return st;
    lti_print_rows(*out, fb->n, lt_features_width(f), jrows);
    fb->n = 0;
    fb->used = 0;
    return LT_OK;
}

static int lti_apply(int argc, char **argv) {
    static const char *cmd = "features apply";
    const char *spec = NULL;
    int64_t limit = -1, seed = 0, batch = 256;
    int json = 0, r;
    lt_tfr_files files;
    lt_tfr_files_init(&files);
    lt_status st = LT_OK;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) { lti_usage(stdout); lt_tfr_files_free(&files); return 0; }
        if (lt_arg_flag(argv, i, "--json")) { json = 1; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--spec", &spec)) ||
            (r = lt_arg_i64(cmd, argc, argv, &i, "--limit", 0, INT64_MAX, &limit)) ||
            (r = lt_arg_i64(cmd, argc, argv, &i, "--seed", 0, INT64_MAX, &seed)) ||
            (r = lt_arg_i64(cmd, argc, argv, &i, "--batch", 1, 1 << 20, &batch))) {
            if (r < 0) { lt_tfr_files_free(&files); return 2; }
            continue;
        }
        if (argv[i][0] == '-') {
            lt_tfr_files_free(&files);
            return lt_cli_usage(cmd, "unknown option '%s' (see latent features apply --help)", argv[i]);
        }
        if (!st) st = lt_tfr_files_add(&files, argv[i]);
    }
    if (!spec || (files.n == 0 && !st)) {
        lt_tfr_files_free(&files);
        return lt_cli_usage(cmd, "%s", !spec ? "--spec SPEC.json is required" : "no input FILE given");
    }
    lt_features *f = NULL;
    lt_params params;
    lt_params_init(&params);
    if (!st) st = lt_features_load(spec, &f);
    if (!st) st = lt_features_declare_params(f, &params);
    if (!st) st = lt_params_finalize(&params);
    if (!st) {
        lt_rng rng;
        lt_rng_seed(&rng, (uint64_t)seed);
        lt_features_init_params(f, &rng);
    }
    lti_fbatch fb;
    memset(&fb, 0, sizeof fb);
    fb.max = batch;
    fb.start = lt_calloc((size_t)batch + 1, sizeof(size_t));
    fb.index = lt_calloc((size_t)batch, sizeof(int64_t));
    fb.offset = lt_calloc((size_t)batch, sizeof(int64_t));
    fb.file = lt_calloc((size_t)batch, sizeof(char *));
    fb.ex = lt_calloc((size_t)batch, sizeof(lt_example));
    fb.rows = lt_calloc((size_t)batch, sizeof(lt_example *));
    if (!st && (!fb.start || !fb.index || !fb.offset || !fb.file || !fb.ex || !fb.rows))
        st = lt_fail(LT_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; fb.ex && i < batch; i++) lt_example_init(&fb.ex[i]);
    lt_feature_batch b;
    lt_feature_batch_init(&b);
    float *out = NULL;
    size_t cap_out = 0;
    json_t *jrows = json ? json_array() : NULL;
    int64_t total = 0;
    if (!st && !json) {
        printf("#");
        for (int64_t c = 0; c < lt_features_ncolumns(f); c++) {
            const char *name;
            int64_t off, w;
            lt_features_column(f, c, &name, &off, &w);
            printf(" %s[%lld:%lld]", name, (long long)off, (long long)(off + w));
        }
        printf("\n");
    }
    for (int64_t k = 0; !st && k < files.n && total != limit; k++) {
        lt_tfr_reader *rd = NULL;
        st = lt_tfr_reader_open(&rd, files.paths[k], NULL);
        while (!st && total != limit) {
            lt_tfr_record rec;
            int have = 0;
            if ((st = lt_tfr_reader_next(rd, &rec, &have)) || !have) break;
            if (!(st = lti_fbatch_add(&fb, &rec, files.paths[k])) && fb.n == fb.max)
                st = lti_flush(&fb, f, &b, &out, &cap_out, jrows);
            total++;
        }
        if (!st && fb.n) st = lti_flush(&fb, f, &b, &out, &cap_out, jrows); /* views name this file */
        lt_tfr_reader_close(rd);
    }
    int code = 0;
    if (st) {
        code = lt_cli_error(st);
    } else if (json) {
        json_t *cols = json_array();
        for (int64_t c = 0; c < lt_features_ncolumns(f); c++) {
            const char *name;
            int64_t off, w;
            lt_features_column(f, c, &name, &off, &w);
            json_array_append_new(cols, json_pack("{s:s, s:I, s:I}", "name", name, "offset", (json_int_t)off,
                                                  "width", (json_int_t)w));
        }
        json_t *o = json_pack("{s:o, s:I, s:I, s:O}", "columns", cols, "width", (json_int_t)lt_features_width(f),
                              "examples", (json_int_t)total, "rows", jrows);
        json_dumpf(o, stdout, JSON_REAL_PRECISION(9) | JSON_COMPACT);
        printf("\n");
        json_decref(o);
    }
    json_decref(jrows);
    for (int64_t i = 0; fb.ex && i < batch; i++) lt_example_free(&fb.ex[i]);
    lt_free(fb.bytes); lt_free(fb.start); lt_free(fb.index); lt_free(fb.offset); lt_free(fb.file);
    lt_free(fb.ex); lt_free(fb.rows);
    lt_free(out);
    lt_feature_batch_free(&b);
    lt_features_free(f);
    lt_params_free(&params);
    lt_tfr_files_free(&files);
    return code;
}

int lt_cmd_features(int argc, char **argv) {
    if (argc < 2 || lt_arg_flag(argv, 1, "--help") || lt_arg_flag(argv, 1, "-h")) {
        lti_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "apply")) return lti_apply(argc - 1, argv + 1);
    return lt_cli_usage("features", "unknown subcommand '%s' (apply)", argv[1]);
}
