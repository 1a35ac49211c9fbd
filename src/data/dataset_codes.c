/* "tfrecord:PATTERN" sources of code grids (see dataset.h): one tf.Example per image as
 * `latent encode` writes it:
 *   codes          int64 list of h·w codes in raster order (required, each >= 0)
 *   codes/height   int64 h, codes/width int64 w (optional together: without them the
 *                  grid is one row of h·w; with them h·w must equal the list's length)
 *   label          int64 class 0..255 (optional; the split's first record decides)
 * Every record must have the training split's first record's grid. The codes are kept
 * as int64 (dataset.store_tokens); dataset.vocab = 1 + the largest code of any split. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "data/dataset_internal.h"
#include "data/example.h"
#include "data/tfrecord.h"

typedef struct lti_codes {
    lt_dataset *d;
    lt_example ex;
    int64_t *tok;        /* (n, dim) grown as records come */
    size_t cap;          /* int64s in tok */
    uint8_t *y;          /* (n) labels */
    size_t ycap;
    int labels;          /* -1 undecided, 0, 1 */
    int64_t n;
} lti_codes;

static int lti_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *q = lt_realloc(*p, c * elem);
    if (!q) return 0;
    *p = q;
    *cap = c;
    return 1;
}

/* One int64 geometry value, or 0 when absent; -1 when malformed. */
static int64_t lti_geom(const lt_example *ex, const char *key) {
    const lt_ex_feature *f = lt_example_get(ex, key);
    int64_t v = 0;
    if (!f) return 0;
    if (f->kind != LT_EX_INT64 || f->count != 1 || (lt_ex_feature_int64s(f, &v, 1), v < 1)) return -1;
    return v;
}

static lt_status lti_take(lti_codes *L, const lt_tfr_record *rec) {
    lt_dataset *d = L->d;
    lt_status st = lt_example_parse(&L->ex, rec->data, rec->len);
    if (st) return st;
    const lt_ex_feature *f = lt_example_get(&L->ex, "codes");
    if (!f || f->kind != LT_EX_INT64 || f->count < 1)
        return lt_fail(LT_ERR_FORMAT, "feature 'codes': expected a non-empty int64 list, found %s",
                       f ? lt_ex_kind_name(f->kind) : "none");
    int64_t h = lti_geom(&L->ex, "codes/height"), w = lti_geom(&L->ex, "codes/width");
    if (h < 0 || w < 0 || (h == 0) != (w == 0))
        return lt_fail(LT_ERR_FORMAT, "features 'codes/height' and 'codes/width': expected one positive int64 each "
                       "(or neither)");
    if (h == 0) { h = 1; w = f->count; }
    if (h * w != f->count)
        return lt_fail(LT_ERR_FORMAT, "feature 'codes' has %lld values, codes/height x codes/width = %lld x %lld",
                       (long long)f->count, (long long)h, (long long)w);
    if (d->dim == 0) { /* the first training record sets the grid */
        d->dim = f->count;
        d->height = h;
        d->width = w;
        d->channels = 1;
    } else if (h != d->height || w != d->width) {
        return lt_fail(LT_ERR_FORMAT, "code grid %lldx%lld, expected %lldx%lld (the training split's first record)",
                       (long long)h, (long long)w, (long long)d->height, (long long)d->width);
    }
    if (!lti_grow((void **)&L->tok, &L->cap, (size_t)((L->n + 1) * d->dim), sizeof *L->tok))
        return lt_fail(LT_ERR_NOMEM, "code data: out of memory");
    int64_t *row = L->tok + L->n * d->dim;
    lt_ex_feature_int64s(f, row, d->dim);
    for (int64_t j = 0; j < d->dim; j++) {
        if (row[j] < 0 || row[j] >= (int64_t)1 << 24) /* floats carry them exactly below 2^24 */
            return lt_fail(LT_ERR_FORMAT, "feature 'codes' value %lld is %lld, expected 0..%lld", (long long)j,
                           (long long)row[j], ((long long)1 << 24) - 1);
        if (row[j] + 1 > d->vocab) d->vocab = row[j] + 1;
    }
    const lt_ex_feature *lf = lt_example_get(&L->ex, "label");
    if (L->labels < 0) L->labels = lf != NULL;
    int64_t y = 0;
    if (L->labels && (!lf || lf->kind != LT_EX_INT64 || lf->count != 1))
        return lt_fail(LT_ERR_FORMAT, "feature 'label': expected one int64 value (the split's first record has a "
                       "label), found %s", lf ? lt_ex_kind_name(lf->kind) : "none");
    if (!L->labels && lf) return lt_fail(LT_ERR_FORMAT, "feature 'label' present, but the split's first record has none");
    if (L->labels) {
        lt_ex_feature_int64s(lf, &y, 1);
        if (y < 0 || y > 255) return lt_fail(LT_ERR_FORMAT, "feature 'label': expected a class in 0..255, found %lld", (long long)y);
        if (!lti_grow((void **)&L->y, &L->ycap, (size_t)L->n + 1, 1)) return lt_fail(LT_ERR_NOMEM, "code data: out of memory");
        L->y[L->n] = (uint8_t)y;
    }
    L->n++;
    return LT_OK;
}

/* lti_take with the record's place in front of any error. */
static lt_status lti_take_at(void *L, const lt_tfr_record *rec) {
    lt_status st = lti_take(L, rec);
    if (st) lt_fail_context(st, "file %s record %lld offset %lld: ", rec->file, (long long)rec->index, (long long)rec->offset);
    return st;
}

int lti_is_codes(const char *pattern) {
    char spec[4096];
    if (lti_split_pattern(pattern, LT_SPLIT_TRAIN, spec, sizeof spec)) return 0;
    lt_tfr_files files;
    lt_tfr_files_init(&files);
    int yes = 0;
    if (!lt_tfr_files_add(&files, spec) && files.n > 0) {
        lt_tfr_reader *r;
        if (!lt_tfr_reader_open(&r, files.paths[0], NULL)) {
            lt_tfr_record rec;
            int have = 0;
            lt_example ex;
            lt_example_init(&ex);
            if (!lt_tfr_reader_next(r, &rec, &have) && have && !lt_example_parse(&ex, rec.data, rec.len)) {
                const lt_ex_feature *f = lt_example_get(&ex, "codes");
                yes = f && f->kind == LT_EX_INT64;
            }
            lt_example_free(&ex);
            lt_tfr_reader_close(r);
        }
    }
    lt_tfr_files_free(&files);
    lt_error_clear(); /* a probe: the real loader reports what is wrong */
    return yes;
}

lt_status lti_open_codes(const char *source, const char *pattern, int64_t limit, lt_dataset *d) {
    lti_codes L;
    memset(&L, 0, sizeof L);
    L.d = d;
    lt_example_init(&L.ex);
    lt_status st = LT_OK;
    for (int s = 0; s < LT_SPLIT_COUNT && !st; s++) {
        char spec[4096];
        if (lti_reopen_skips(d, (lt_split_id)s)) continue;
        if (lti_split_pattern(pattern, (lt_split_id)s, spec, sizeof spec)) {
            st = lt_fail(LT_ERR_ARG, "data source %s: pattern too long", source);
            break;
        }
        L.n = 0;
        L.labels = -1;
        st = lti_read_records(d, (lt_split_id)s, spec, limit, &L.n, lti_take_at, &L);
        if (!st && L.n == 0) st = lt_fail(LT_ERR_FORMAT, "no records");
        if (st) {
            lt_fail_context(st, "data source %s split %s (%s): ", source, lt_split_name((lt_split_id)s), spec);
            break;
        }
        d->store_tokens[s] = L.tok;
        d->split[s].n = L.n;
        L.tok = NULL;
        L.cap = 0;
        if (L.labels == 1) {
            d->store_labels[s] = (lt_idx){.data = L.y, .ndim = 1, .dims = {L.n}};
            d->split[s].labels = L.y;
            for (int64_t i = 0; i < L.n; i++)
                if (L.y[i] + 1 > d->n_classes) d->n_classes = L.y[i] + 1;
            L.y = NULL;
            L.ycap = 0;
        }
    }
    lt_free(L.tok);
    lt_free(L.y);
    lt_example_free(&L.ex);
    d->binary = 0;
    return st;
}

lt_status lt_codes_write(const char *path, const int64_t *codes, int64_t n, int64_t h, int64_t w,
                         const int64_t *labels) {
    lt_tfr_writer *wr;
    lt_status st = lt_tfr_writer_open(&wr, path, LT_TFR_NONE, -1);
    if (st) return st;
    lt_ex_builder b;
    lt_ex_builder_init(&b);
    for (int64_t i = 0; i < n && !st; i++) {
        const uint8_t *data;
        int64_t len;
        lt_ex_builder_begin(&b, 0);
        lt_ex_builder_int64s(&b, "codes", codes + i * h * w, h * w);
        lt_ex_builder_int64s(&b, "codes/height", &h, 1);
        lt_ex_builder_int64s(&b, "codes/width", &w, 1);
        if (labels) lt_ex_builder_int64s(&b, "label", labels + i, 1);
        st = lt_ex_builder_finish(&b, &data, &len);
        if (!st) st = lt_tfr_writer_write(wr, data, len);
    }
    lt_ex_builder_free(&b);
    if (st) {
        lt_tfr_writer_abort(wr);
        return lt_fail_context(st, "writing codes to %s: ", path);
    }
    return lt_tfr_writer_close(wr);
}
