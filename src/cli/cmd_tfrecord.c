/* latent tfrecord convert | cat | index | verify | encode
 *
 * cat prints protobuf text format (map keys sorted, as Google's text_format does) or,
 * with --json, one object per line in protobuf's canonical JSON mapping (int64 values
 * as strings, bytes as base64), so json_format.Parse rebuilds the very message. */
#define _DEFAULT_SOURCE /* getline */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "data/dataset.h"
#include "data/example.h"
#include "data/image_folder.h"
#include "data/tfrecord.h"

static int lti_usage_all(FILE *f) {
    fprintf(f, "usage: latent tfrecord convert --from DIR --to PREFIX [--shards N] [--compression none|gzip|zlib]\n"
               "                                          (DIR: IDX files, or an image folder DIR/train/<class>/,\n"
               "                                          DIR/test/<class>/ written as TF-Slim image examples)\n"
               "       latent tfrecord cat FILE... [--limit N] [--json] [--sequence] [--skip-corrupt N]\n"
               "       latent tfrecord index FILE...      (writes FILE.index: offset length per record)\n"
               "       latent tfrecord encode IN.jsonl OUT [--compression C] [--sequence]\n"
               "                                          (protobuf JSON, one message a line, to records)\n"
               "       latent tfrecord verify FILE...     (every CRC error with its offset; exit 1 if any)\n"
               "FILE may be a path, a glob, or NAME@N for the shards NAME-00000-of-0000N...\n");
    return f == stdout ? 0 : 2;
}

static int lti_parse_int(const char *cmd, const char *opt, const char *s, int64_t lo, int64_t *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo) return lt_cli_usage(cmd, "%s needs an integer >= %lld, got '%s'", opt, (long long)lo, s);
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------ convert */

static lt_status lti_write_split(const lt_dataset *d, lt_split_id s, const char *prefix, int64_t shards,
                                 lt_tfr_compression comp, int64_t *written) {
    const lt_split *sp = &d->split[s];
    lt_ex_builder b;
    lt_ex_builder_init(&b);
    lt_status st = LT_OK;
    char base[4096], name[4200];
    snprintf(base, sizeof base, "%s-%s", prefix, lt_split_name(s));
    for (int64_t k = 0; k < shards && !st; k++) {
        int64_t lo, hi;
        lt_tfr_split(sp->n, k, shards, &lo, &hi);
        lt_tfr_shard_name(name, sizeof name, base, k, shards);
        lt_tfr_writer *w;
        if ((st = lt_tfr_writer_open(&w, name, comp, -1))) break;
        for (int64_t i = lo; i < hi && !st; i++) {
            const uint8_t *data;
            int64_t len, h = d->height, wd = d->width;
            lt_ex_bytes raw = {sp->images + i * d->dim, d->dim};
            lt_ex_builder_begin(&b, 0);
            lt_ex_builder_bytes(&b, "image/raw", &raw, 1);
            lt_ex_builder_int64s(&b, "image/height", &h, 1);
            lt_ex_builder_int64s(&b, "image/width", &wd, 1);
            if (sp->labels) {
                int64_t y = sp->labels[i];
                lt_ex_builder_int64s(&b, "label", &y, 1);
            }
            if (!(st = lt_ex_builder_finish(&b, &data, &len))) st = lt_tfr_writer_write(w, data, len);
        }
        if (st) lt_tfr_writer_abort(w);
        else st = lt_tfr_writer_close(w);
    }
    lt_ex_builder_free(&b);
    *written = sp->n;
    return st;
}

static int lti_convert(int argc, char **argv) {
    const char *from = NULL, *to = NULL;
    int64_t shards = 1;
    lt_tfr_compression comp = LT_TFR_NONE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--from") && i + 1 < argc) from = argv[++i];
        else if (!strcmp(argv[i], "--to") && i + 1 < argc) to = argv[++i];
        else if (!strcmp(argv[i], "--shards") && i + 1 < argc) {
            if (lti_parse_int("tfrecord convert", "--shards", argv[++i], 1, &shards)) return 2;
        } else if (!strcmp(argv[i], "--compression") && i + 1 < argc) {
            if (lt_tfr_compression_parse(argv[++i], &comp) || comp == LT_TFR_AUTO)
                return lt_cli_usage("tfrecord convert", "--compression must be none, gzip or zlib, got '%s'", argv[i]);
        } else return lt_cli_usage("tfrecord convert", "unknown option '%s'", argv[i]);
    }
    if (!from || !to) return lt_cli_usage("tfrecord convert", "--from DIR and --to PREFIX are required");
    if (shards > 99999) return lt_cli_usage("tfrecord convert", "--shards must be at most 99999");
    if (lt_image_folder_is(from)) {
        lt_image_convert_report rep;
        lt_status st = lt_image_folder_to_tfrecord(from, to, shards, comp, &rep);
        if (st) return lt_cli_error(st);
        for (int s = 0; s < LT_SPLIT_COUNT; s++)
            if (rep.n[s])
                fprintf(stderr, "%s: %lld images (%lldx%lldx%lld, labels) -> %s-%s-*-of-%05lld\n",
                        lt_split_name((lt_split_id)s), (long long)rep.n[s], (long long)rep.height, (long long)rep.width,
                        (long long)rep.channels, to, lt_split_name((lt_split_id)s), (long long)shards);
        fprintf(stderr, "%lld classes -> %s\n", (long long)rep.n_classes, rep.labels);
        return 0;
    }
    lt_dataset d;
    lt_status st = lt_dataset_open(from, 0, &d);
    if (st) return lt_cli_error(st);
    for (int s = 0; s < LT_SPLIT_COUNT && !st; s++) {
        int64_t n;
        if (!d.split[s].n) continue;
        if ((st = lti_write_split(&d, (lt_split_id)s, to, shards, comp, &n))) break;
        fprintf(stderr, "%s: %lld examples (%lldx%lld%s) -> %s-%s-*-of-%05lld\n", lt_split_name((lt_split_id)s),
                (long long)n, (long long)d.height, (long long)d.width, d.split[s].labels ? ", labels" : "", to,
                lt_split_name((lt_split_id)s), (long long)shards);
    }
    lt_dataset_free(&d);
    return st ? lt_cli_error(st) : 0;
}

/* ------------------------------------------------------------------ printing */

/* Python's repr of a float32: the shortest %g that reads back to the same float. */
static void lti_float_str(float v, char *buf, size_t cap, int json) {
    if (isnan(v)) { snprintf(buf, cap, json ? "\"NaN\"" : "nan"); return; }
    if (isinf(v)) { snprintf(buf, cap, json ? "\"%sInfinity\"" : "%sinf", v < 0 ? "-" : ""); return; }
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, cap, "%.*g", p, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    if (fabs(strtod(buf, NULL)) > FLT_MAX) snprintf(buf, cap, "%.17g", (double)v); /* readers reject > FLT_MAX */
    if (!json && !strpbrk(buf, ".en")) strncat(buf, ".0", cap - strlen(buf) - 1);
}

static void lti_json_str(FILE *o, const uint8_t *s, int64_t n) {
    fputc('"', o);
    for (int64_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\') fprintf(o, "\\%c", c);
        else if (c < 0x20) fprintf(o, "\\u%04x", c);
        else fputc(c, o);
    }
    fputc('"', o);
}

static void lti_base64(FILE *o, const uint8_t *s, int64_t n) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', o);
    for (int64_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        fputc(t[v >> 18], o);
        fputc(t[(v >> 12) & 63], o);
        fputc(i + 1 < n ? t[(v >> 6) & 63] : '=', o);
        fputc(i + 2 < n ? t[v & 63] : '=', o);
    }
    fputc('"', o);
}

/* Text format string: printable ASCII as is, the rest as octal escapes (as Python's). */
static void lti_text_str(FILE *o, const uint8_t *s, int64_t n) {
    fputc('"', o);
    for (int64_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '\n') fputs("\\n", o);
        else if (c == '\r') fputs("\\r", o);
        else if (c == '\t') fputs("\\t", o);
        else if (c == '"' || c == '\'' || c == '\\') fprintf(o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f) fprintf(o, "\\%03o", c);
        else fputc(c, o);
    }
    fputc('"', o);
}

static const char *lti_list_name(lt_ex_kind k, int json) {
    static const char *text[] = {"", "bytes_list", "float_list", "int64_list"};
    static const char *js[] = {"", "bytesList", "floatList", "int64List"};
    return json ? js[k] : text[k];
}

static void lti_indent(FILE *o, int d) { fprintf(o, "%*s", 2 * d, ""); }

static void lti_print_feature(FILE *o, const lt_ex_feature *f, int json, int d) {
    lt_ex_iter it;
    lt_ex_iter_init(&it, f);
    char num[64];
    if (f->kind == LT_EX_NONE) { if (json) fputs("{}", o); return; }
    if (json) {
        fprintf(o, "{\"%s\": {", lti_list_name(f->kind, 1));
        if (f->count) fputs("\"value\": [", o);
    } else {
        lti_indent(o, d);
        fprintf(o, "%s {\n", lti_list_name(f->kind, 0));
    }
    for (int64_t i = 0; i < f->count; i++) {
        if (json && i) fputs(", ", o);
        if (!json) { lti_indent(o, d + 1); fputs("value: ", o); }
        if (f->kind == LT_EX_FLOAT) {
            float v;
            lt_ex_iter_float(&it, &v);
            lti_float_str(v, num, sizeof num, json);
            fputs(num, o);
        } else if (f->kind == LT_EX_INT64) {
            int64_t v;
            lt_ex_iter_int64(&it, &v);
            fprintf(o, json ? "\"%" PRId64 "\"" : "%" PRId64, v);
        } else {
            lt_ex_bytes v;
            lt_ex_iter_bytes(&it, &v);
            if (json) lti_base64(o, v.data, v.len);
            else lti_text_str(o, v.data, v.len);
        }
        if (!json) fputc('\n', o);
    }
    if (json) fputs(f->count ? "]}}" : "}}", o);
    else { lti_indent(o, d); fputs("}\n", o); }
}

static int lti_key_cmp(const void *a, const void *b) {
    const lt_ex_entry *x = *(const lt_ex_entry *const *)a, *y = *(const lt_ex_entry *const *)b;
    int64_t m = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = memcmp(x->key.data, y->key.data, (size_t)m);
    return c ? c : (x->key.len > y->key.len) - (x->key.len < y->key.len);
}

/* A Features or FeatureLists map; name is "feature" or "feature_list". */
static void lti_print_map(FILE *o, const lt_ex_map *m, int lists, int json, int d) {
    const lt_ex_entry **e = lt_malloc((size_t)(m->n ? m->n : 1) * sizeof *e);
    if (!e) return;
    for (int64_t i = 0; i < m->n; i++) e[i] = &m->entries[i];
    qsort(e, (size_t)m->n, sizeof *e, lti_key_cmp);
    if (json) fprintf(o, "{\"%s\": {", lists ? "featureList" : "feature");
    for (int64_t i = 0; i < m->n; i++) {
        if (json) {
            if (i) fputs(", ", o);
            lti_json_str(o, e[i]->key.data, e[i]->key.len);
            fputs(": ", o);
        } else {
            lti_indent(o, d);
            fprintf(o, "%s {\n", lists ? "feature_list" : "feature");
            lti_indent(o, d + 1);
            fputs("key: ", o);
            lti_text_str(o, e[i]->key.data, e[i]->key.len);
            fputc('\n', o);
            lti_indent(o, d + 1);
            fputs("value {\n", o);
        }
        if (!lists) lti_print_feature(o, &e[i]->feature, json, d + 2);
        else {
            lt_ex_flist_iter it;
            lt_ex_feature f;
            lt_ex_flist_iter_init(&it, &e[i]->list);
            if (json) fputs(e[i]->list.count ? "{\"feature\": [" : "{", o);
            for (int64_t k = 0; lt_ex_flist_next(&it, &f); k++) {
                if (json) {
                    if (k) fputs(", ", o);
                    lti_print_feature(o, &f, 1, 0);
                } else {
                    lti_indent(o, d + 2);
                    fputs("feature {\n", o);
                    lti_print_feature(o, &f, 0, d + 3);
                    lti_indent(o, d + 2);
                    fputs("}\n", o);
                }
            }
            if (json) fputs(e[i]->list.count ? "]}" : "}", o);
        }
        if (!json) {
            lti_indent(o, d + 1);
            fputs("}\n", o);
            lti_indent(o, d);
            fputs("}\n", o);
        }
    }
    if (json) fputs("}}", o);
    lt_free(e);
}

/* One record: Example {features} or SequenceExample {context, feature_lists}. */
static void lti_print_record(FILE *o, const lt_ex_map *a, const lt_ex_map *b, int json) {
    const char *an = b ? "context" : "features";
    if (json) {
        fputc('{', o);
        if (a->n) { fprintf(o, "\"%s\": ", an); lti_print_map(o, a, 0, 1, 0); }
        if (b && b->n) { fputs(a->n ? ", \"featureLists\": " : "\"featureLists\": ", o); lti_print_map(o, b, 1, 1, 0); }
        fputs("}\n", o);
        return;
    }
    if (a->n) { fprintf(o, "%s {\n", an); lti_print_map(o, a, 0, 0, 1); fputs("}\n", o); }
    if (b && b->n) { fputs("feature_lists {\n", o); lti_print_map(o, b, 1, 0, 1); fputs("}\n", o); }
}

/* ------------------------------------------------------------------ cat / index / verify */

typedef struct lti_args {
    lt_tfr_files files;
    int64_t limit, skip;
    int json, sequence;
    lt_tfr_compression comp;
} lti_args;

static void lti_report_skip(void *ud, const lt_tfr_problem *p) {
    int64_t *n = ud;
    (*n)++;
    fprintf(stderr, "latent: skipped: %s\n", p->message);
}

static int lti_files_args(const char *cmd, int argc, char **argv, lti_args *a) {
    memset(a, 0, sizeof *a);
    a->limit = -1;
    a->comp = LT_TFR_AUTO;
    lt_tfr_files_init(&a->files);
    for (int i = 1; i < argc; i++) {
        int bad = 0;
        if (!strcmp(argv[i], "--limit") && i + 1 < argc) bad = lti_parse_int(cmd, "--limit", argv[++i], 0, &a->limit);
        else if (!strcmp(argv[i], "--skip-corrupt") && i + 1 < argc)
            bad = lti_parse_int(cmd, "--skip-corrupt", argv[++i], 0, &a->skip);
        else if (!strcmp(argv[i], "--json")) a->json = 1;
        else if (!strcmp(argv[i], "--sequence")) a->sequence = 1;
        else if (!strcmp(argv[i], "--compression") && i + 1 < argc) {
            if (lt_tfr_compression_parse(argv[++i], &a->comp)) bad = lt_cli_usage(cmd, "%s", lt_error_message());
        } else if (argv[i][0] == '-' && argv[i][1]) bad = lt_cli_usage(cmd, "unknown option '%s'", argv[i]);
        else {
            lt_status st = lt_tfr_files_add(&a->files, argv[i]);
            if (st) bad = lt_cli_error(st);
        }
        if (bad) { lt_tfr_files_free(&a->files); return bad; }
    }
    if (a->files.n == 0) return lt_cli_usage(cmd, "no input files");
    return 0;
}

static int lti_cat(int argc, char **argv) {
    lti_args a;
    int rc = lti_files_args("tfrecord cat", argc, argv, &a);
    if (rc) return rc;
    lt_example ex;
    lt_seqex sx;
    lt_example_init(&ex);
    lt_seqex_init(&sx);
    lt_status st = LT_OK;
    int64_t printed = 0, skipped = 0;
    for (int64_t fi = 0; fi < a.files.n && !st && printed != a.limit; fi++) {
        lt_tfr_options o;
        lt_tfr_options_default(&o);
        o.compression = a.comp;
        o.skip_corrupt = a.skip > skipped ? a.skip - skipped : 0;
        o.on_skip = lti_report_skip;
        o.ud = &skipped;
        lt_tfr_reader *r;
        if ((st = lt_tfr_reader_open(&r, a.files.paths[fi], &o))) break;
        while (printed != a.limit) {
            lt_tfr_record rec;
            int have;
            if ((st = lt_tfr_reader_next(r, &rec, &have)) || !have) break;
            st = a.sequence ? lt_seqex_parse(&sx, rec.data, rec.len) : lt_example_parse(&ex, rec.data, rec.len);
            if (st) {
                lt_fail_context(st, "file %s record %lld offset %lld: not a %s: ", rec.file, (long long)rec.index,
                                (long long)rec.offset, a.sequence ? "SequenceExample" : "tf.Example");
                break;
            }
            if (!a.json) printf("# %s record %lld offset %lld\n", rec.file, (long long)rec.index, (long long)rec.offset);
            if (a.sequence) lti_print_record(stdout, &sx.context, &sx.lists, a.json);
            else lti_print_record(stdout, &ex.features, NULL, a.json);
            printed++;
        }
        lt_tfr_reader_close(r);
    }
    lt_example_free(&ex);
    lt_seqex_free(&sx);
    lt_tfr_files_free(&a.files);
    if (fflush(stdout) != 0) return 1;
    return st ? lt_cli_error(st) : 0;
}

static int lti_index(int argc, char **argv) {
    lti_args a;
    int rc = lti_files_args("tfrecord index", argc, argv, &a);
    if (rc) return rc;
    lt_status st = LT_OK;
    for (int64_t fi = 0; fi < a.files.n && !st; fi++) {
        lt_tfr_options o;
        lt_tfr_options_default(&o);
        o.compression = a.comp;
        lt_tfr_index idx;
        char ipath[4200];
        snprintf(ipath, sizeof ipath, "%s.index", a.files.paths[fi]);
        if ((st = lt_tfr_index_build(a.files.paths[fi], &o, &idx))) break;
        st = lt_tfr_index_save(&idx, ipath);
        if (!st) printf("%s: %lld records -> %s\n", a.files.paths[fi], (long long)idx.n, ipath);
        lt_tfr_index_free(&idx);
    }
    lt_tfr_files_free(&a.files);
    return st ? lt_cli_error(st) : 0;
}

static void lti_verify_problem(void *ud, const lt_tfr_problem *p) {
    int64_t *n = ud;
    (*n)++;
    printf("  error: %s\n", p->message);
}

static int lti_verify(int argc, char **argv) {
    lti_args a;
    int rc = lti_files_args("tfrecord verify", argc, argv, &a);
    if (rc) return rc;
    int64_t total_err = 0;
    for (int64_t fi = 0; fi < a.files.n; fi++) {
        int64_t errors = 0, records = 0, bytes = 0;
        lt_tfr_options o;
        lt_tfr_options_default(&o);
        o.compression = a.comp;
        o.skip_corrupt = INT64_MAX; /* report every bad record, keep going */
        o.on_skip = lti_verify_problem;
        o.ud = &errors;
        lt_tfr_reader *r;
        const char *path = a.files.paths[fi];
        lt_status st = lt_tfr_reader_open(&r, path, &o);
        if (st) {
            lt_tfr_files_free(&a.files);
            return lt_cli_error(st);
        }
        printf("%s (%s)\n", path, lt_tfr_compression_name(lt_tfr_reader_compression(r)));
        for (;;) {
            lt_tfr_record rec;
            int have;
            if ((st = lt_tfr_reader_next(r, &rec, &have))) { /* e.g. a corrupt compressed stream */
                printf("  error: %s\n", lt_error_message());
                errors++;
                break;
            }
            if (!have) break;
            records++;
            bytes += rec.len;
        }
        printf("  %lld good records, %lld data bytes, %lld stream bytes, %lld errors\n", (long long)records,
               (long long)bytes, (long long)lt_tfr_reader_offset(r), (long long)errors);
        lt_tfr_reader_close(r);
        total_err += errors;
    }
    lt_tfr_files_free(&a.files);
    if (total_err) fprintf(stderr, "latent tfrecord verify: %lld errors\n", (long long)total_err);
    return total_err ? 1 : 0;
}


/* ------------------------------------------------------------------ encode (JSON lines to records) */

static int lti_b64_val(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Standard or URL-safe base64, padding optional; returns the length or -1. */
static int64_t lti_b64_decode(const char *s, uint8_t *out) {
    int64_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int v = lti_b64_val((unsigned char)*s);
        if (v < 0) return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) { bits -= 8; out[n++] = (uint8_t)(acc >> bits); }
    }
    return n;
}

static json_t *lti_jget(json_t *o, const char *camel, const char *snake) {
    json_t *v = json_object_get(o, camel);
    return v ? v : json_object_get(o, snake);
}

/* One Feature object ({} or {"floatList": {"value": [...]}} ...) into the builder. */
static lt_status lti_json_feature(lt_ex_builder *b, const char *key, json_t *f) {
    static const char *camel[] = {"", "bytesList", "floatList", "int64List"};
    static const char *snake[] = {"", "bytes_list", "float_list", "int64_list"};
    if (!json_is_object(f)) return lt_fail(LT_ERR_FORMAT, "a Feature must be a JSON object");
    for (int k = 1; k <= 3; k++) {
        json_t *list = lti_jget(f, camel[k], snake[k]);
        if (!list) continue;
        json_t *vals = json_object_get(list, "value");
        size_t n = vals ? json_array_size(vals) : 0;
        void *buf = lt_malloc((n ? n : 1) * (k == 1 ? sizeof(lt_ex_bytes) : 8));
        uint8_t *blob = NULL;
        size_t blob_len = 0;
        for (size_t i = 0; k == 1 && i < n; i++) blob_len += json_string_length(json_array_get(vals, i));
        if (!buf || (k == 1 && !(blob = lt_malloc(blob_len + 1)))) {
            lt_free(buf);
            return lt_fail(LT_ERR_NOMEM, "no memory");
        }
        lt_status st = LT_OK;
        size_t used = 0;
        for (size_t i = 0; i < n && !st; i++) {
            json_t *v = json_array_get(vals, i);
            if (k == 1) {
                int64_t len = json_is_string(v) ? lti_b64_decode(json_string_value(v), blob + used) : -1;
                if (len < 0) st = lt_fail(LT_ERR_FORMAT, "feature '%s': bytes value %zu is not base64", key, i);
                else { ((lt_ex_bytes *)buf)[i] = (lt_ex_bytes){blob + used, len}; used += (size_t)len; }
            } else if (k == 2) {
                const char *s = json_string_value(v);
                float x = json_is_number(v) ? (float)json_number_value(v)
                          : s && !strcmp(s, "NaN") ? NAN : s && !strcmp(s, "Infinity") ? INFINITY
                          : s && !strcmp(s, "-Infinity") ? -INFINITY : s ? strtof(s, NULL) : 0;
                if (!json_is_number(v) && !s) st = lt_fail(LT_ERR_FORMAT, "feature '%s': float value %zu is not a number", key, i);
                ((float *)buf)[i] = x;
            } else {
                const char *s = json_string_value(v);
                if (json_is_integer(v)) ((int64_t *)buf)[i] = json_integer_value(v);
                else if (s) ((int64_t *)buf)[i] = strtoll(s, NULL, 10);
                else st = lt_fail(LT_ERR_FORMAT, "feature '%s': int64 value %zu is not an integer", key, i);
            }
        }
        if (!st) {
            if (k == 1) st = lt_ex_builder_bytes(b, key, buf, (int64_t)n);
            else if (k == 2) st = lt_ex_builder_floats(b, key, buf, (int64_t)n);
            else st = lt_ex_builder_int64s(b, key, buf, (int64_t)n);
        }
        lt_free(buf);
        lt_free(blob);
        return st;
    }
    return lt_fail(LT_ERR_FORMAT, "feature '%s': a Feature without a list is not supported by encode", key);
}

static lt_status lti_json_features(lt_ex_builder *b, json_t *feats) {
    json_t *map = feats ? json_object_get(feats, "feature") : NULL;
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v) {
        lt_status st = lti_json_feature(b, key, v);
        if (st) return st;
    }
    return LT_OK;
}

static lt_status lti_json_message(lt_ex_builder *b, json_t *m, int sequence) {
    lt_ex_builder_begin(b, sequence);
    lt_status st = lti_json_features(b, json_object_get(m, sequence ? "context" : "features"));
    json_t *fl = sequence ? lti_jget(m, "featureLists", "feature_lists") : NULL;
    json_t *map = fl ? lti_jget(fl, "featureList", "feature_list") : NULL;
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v) {
        if (st || (st = lt_ex_builder_list_begin(b, key))) break;
        json_t *steps = json_object_get(v, "feature");
        for (size_t i = 0; i < json_array_size(steps) && !st; i++)
            st = lti_json_feature(b, key, json_array_get(steps, i));
        if (!st) st = lt_ex_builder_list_end(b);
    }
    return st;
}

static int lti_encode(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    int sequence = 0;
    lt_tfr_compression comp = LT_TFR_NONE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sequence")) sequence = 1;
        else if (!strcmp(argv[i], "--compression") && i + 1 < argc) {
            if (lt_tfr_compression_parse(argv[++i], &comp) || comp == LT_TFR_AUTO)
                return lt_cli_usage("tfrecord encode", "--compression must be none, gzip or zlib, got '%s'", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1]) return lt_cli_usage("tfrecord encode", "unknown option '%s'", argv[i]);
        else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else return lt_cli_usage("tfrecord encode", "unexpected argument '%s'", argv[i]);
    }
    if (!in || !out) return lt_cli_usage("tfrecord encode", "IN.jsonl and OUT are required");
    FILE *f = strcmp(in, "-") ? fopen(in, "r") : stdin;
    if (!f) { fprintf(stderr, "latent: file %s: cannot open\n", in); return 2; }
    lt_tfr_writer *w;
    lt_status st = lt_tfr_writer_open(&w, out, comp, -1);
    lt_ex_builder b;
    lt_ex_builder_init(&b);
    char *line = NULL;
    size_t cap = 0;
    int64_t lineno = 0;
    while (!st && getline(&line, &cap, f) > 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == strlen(line)) continue;
        json_error_t jerr;
        json_t *m = json_loads(line, 0, &jerr);
        if (!m) st = lt_fail(LT_ERR_FORMAT, "file %s line %lld: bad JSON: %s", in, (long long)lineno, jerr.text);
        else if ((st = lti_json_message(&b, m, sequence)))
            lt_fail_context(st, "file %s line %lld: ", in, (long long)lineno);
        const uint8_t *data;
        int64_t len;
        if (!st && !(st = lt_ex_builder_finish(&b, &data, &len))) st = lt_tfr_writer_write(w, data, len);
        json_decref(m);
    }
    free(line);
    if (f != stdin) fclose(f);
    lt_ex_builder_free(&b);
    if (w) {
        if (st) lt_tfr_writer_abort(w);
        else st = lt_tfr_writer_close(w);
    }
    return st ? lt_cli_error(st) : 0;
}

int lt_cmd_tfrecord(int argc, char **argv) {
    if (argc < 2) return lti_usage_all(stderr);
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) return lti_usage_all(stdout);
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help")) return lti_usage_all(stdout);
    if (!strcmp(sub, "convert")) return lti_convert(argc - 1, argv + 1);
    if (!strcmp(sub, "cat")) return lti_cat(argc - 1, argv + 1);
    if (!strcmp(sub, "index")) return lti_index(argc - 1, argv + 1);
    if (!strcmp(sub, "verify")) return lti_verify(argc - 1, argv + 1);
    if (!strcmp(sub, "encode")) return lti_encode(argc - 1, argv + 1);
    fprintf(stderr, "latent tfrecord: unknown subcommand '%s'\n", sub);
    return lti_usage_all(stderr);
}
