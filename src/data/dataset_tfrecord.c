/* Training data from TFRecord files of tf.Examples through a feature spec
 * ("tfrecord:PATTERN" sources; see dataset.h and docs/tfrecord.md). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "data/dataset.h"
#include "data/dataset_internal.h"
#include "data/example.h"
#include "data/features.h"
#include "data/tfrecord.h"

/* A grow-only byte buffer. */
typedef struct lti_buf {
    uint8_t *p;
    size_t len, cap;
} lti_buf;

static int lti_push(lti_buf *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = lt_realloc(b->p, cap);
        if (!p) return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
    return 1;
}

/* The loader's state for one split. */
typedef struct lti_loader {
    lt_dataset *d;
    const lt_features *f;
    const char *u8key;    /* the decode_raw feature when the bytes are kept, else NULL */
    int64_t limit;
    lt_example ex;
    lt_feature_batch fb;
    lt_feature_examples fe;
    const lt_example *rows[1];
    float *row;           /* (dim) one float row */
    lti_buf x, y;
    int labels;           /* -1: not decided yet (no record), 0 or 1 */
    int64_t n;
    lt_split_id split;    /* the split being loaded */
} lti_loader;

/* Record rec into the split: its row and its label. */
static lt_status lti_take(lti_loader *L, const lt_tfr_record *rec) {
    const int64_t dim = L->d->dim;
    lt_status st = lt_example_parse(&L->ex, rec->data, rec->len);
    const lt_ex_feature *ft;
    int done = 0;
    if (!st && L->u8key && (ft = lt_example_get(&L->ex, L->u8key)) && ft->kind == LT_EX_BYTES && ft->count == 1) {
        lt_ex_bytes v;
        lt_ex_feature_bytes(ft, &v, 1);
        if (v.len == dim) {
            if (!lti_push(&L->x, v.data, (size_t)dim)) return lt_fail(LT_ERR_NOMEM, "tfrecord data: out of memory");
            done = 1;
        }
    }
    if (!st && !done) { /* the general path; for a u8 spec, it reports why the row is not valid */
        st = lt_features_transform(L->f, lt_feature_examples_lookup, &L->fe, 1, &L->fb);
        if (!st) st = lt_features_dense(L->f, &L->fb, L->row);
        if (!st && L->u8key) st = lt_fail(LT_ERR_FORMAT, "feature '%s' is not %lld raw bytes", L->u8key, (long long)dim);
        if (!st && !lti_push(&L->x, L->row, sizeof(float) * (size_t)dim))
            return lt_fail(LT_ERR_NOMEM, "tfrecord data: out of memory");
    }
    if (!st) {
        ft = lt_example_get(&L->ex, "label");
        if (L->labels < 0) L->labels = ft != NULL;
        int64_t y = 0;
        if (L->labels && (!ft || ft->kind != LT_EX_INT64 || ft->count != 1))
            st = lt_fail(LT_ERR_FORMAT, "feature 'label': expected one int64 value (the split's first record has a label), found %s",
                         ft ? lt_ex_kind_name(ft->kind) : "none");
        else if (!L->labels && ft)
            st = lt_fail(LT_ERR_FORMAT, "feature 'label' present, but the split's first record has none");
        else if (L->labels && (lt_ex_feature_int64s(ft, &y, 1), y < 0 || y > 255))
            st = lt_fail(LT_ERR_FORMAT, "feature 'label': expected a class in 0..255, found %lld", (long long)y);
        uint8_t b = (uint8_t)y;
        if (!st && L->labels && !lti_push(&L->y, &b, 1)) return lt_fail(LT_ERR_NOMEM, "tfrecord data: out of memory");
    }
    if (st)
        return lt_fail_context(st, "file %s record %lld offset %lld: ", rec->file, (long long)rec->index,
                               (long long)rec->offset);
    L->n++;
    return LT_OK;
}

int lti_reopen_skips(const lt_dataset *d, lt_split_id s) { return d->reopen_keep && (int)s != d->reopen_split; }

/* The kept records of one file, whose first record is number `base` of the split: through
 * FILE.index (seeks), else reading every record and taking the kept ones. *k: the next kept
 * position (advanced); *nrec: the file's records. */
static lt_status lti_read_kept(const char *path, int64_t base, const int64_t *keep, int64_t nk, int64_t *k,
                               int64_t *nrec, lti_take_fn take, void *ud) {
    char ipath[4200];
    lt_tfr_index idx = {0};
    const int indexed = snprintf(ipath, sizeof ipath, "%s.index", path) < (int)sizeof ipath &&
                        !lt_tfr_index_load(ipath, &idx);
    if (!indexed) lt_error_clear(); /* no index: the pass below */
    lt_tfr_reader *r;
    lt_status st = lt_tfr_reader_open(&r, path, NULL);
    if (st) {
        lt_tfr_index_free(&idx);
        return st;
    }
    int64_t i = 0; /* records of this file read or skipped so far */
    for (int have = 1; !st && (!indexed || (*k < nk && keep[*k] - base < idx.n));) {
        if (indexed) {
            const int64_t j = keep[*k] - base;
            if (j != i && (st = lt_tfr_reader_seek(r, idx.offset[j], j))) break;
            i = j;
        }
        lt_tfr_record rec;
        if (!indexed && *k == nk) break; /* the rest of the set is not needed */
        if ((st = lt_tfr_reader_next(r, &rec, &have)) || !have) break;
        if (*k < nk && keep[*k] == base + i) {
            if ((st = take(ud, &rec))) break;
            ++*k;
        }
        i++;
    }
    *nrec = indexed ? idx.n : i;
    lt_tfr_reader_close(r);
    lt_tfr_index_free(&idx);
    return st;
}

lt_status lti_read_records(const lt_dataset *d, lt_split_id s, const char *spec, int64_t limit, const int64_t *count,
                           lti_take_fn take, void *ud) {
    lt_tfr_files files;
    lt_tfr_files_init(&files);
    lt_status st = lt_tfr_files_add(&files, spec);
    const int kept = d && d->reopen_keep && (int)s == d->reopen_split;
    int64_t base = 0, k = 0;
    for (int64_t i = 0; i < files.n && !st && !(limit > 0 && *count >= limit); i++) {
        if (kept) {
            if (k == d->reopen_n) break;
            int64_t nrec = 0;
            st = lti_read_kept(files.paths[i], base, d->reopen_keep, d->reopen_n, &k, &nrec, take, ud);
            base += nrec;
            continue;
        }
        lt_tfr_reader *r;
        if ((st = lt_tfr_reader_open(&r, files.paths[i], NULL))) break;
        for (;;) {
            lt_tfr_record rec;
            int have;
            if ((st = lt_tfr_reader_next(r, &rec, &have)) || !have) break;
            if ((st = take(ud, &rec))) break;
            if (limit > 0 && *count >= limit) break;
        }
        lt_tfr_reader_close(r);
    }
    if (!st && kept && k < d->reopen_n)
        st = lt_fail(LT_ERR_FORMAT, "%s: example %lld is no longer there (%lld records): the files changed since they "
                     "were opened", spec, (long long)d->reopen_keep[k], (long long)base);
    lt_tfr_files_free(&files);
    return st;
}

/* lti_take, after taking the geometry from the first training record when the
 * spec's shape does not say. */
static lt_status lti_take_peek(void *ud, const lt_tfr_record *rec) {
    lti_loader *L = ud;
    if (L->split == LT_SPLIT_TRAIN && L->n == 0 && L->d->height == 0 && !lt_example_parse(&L->ex, rec->data, rec->len)) {
        const lt_ex_feature *h = lt_example_get(&L->ex, "image/height"), *w = lt_example_get(&L->ex, "image/width");
        int64_t hv = 0, wv = 0;
        if (h && w && lt_ex_feature_int64s(h, &hv, 1) == 1 && lt_ex_feature_int64s(w, &wv, 1) == 1 && hv > 0 &&
            wv > 0 && hv * wv == L->d->dim) {
            L->d->height = hv;
            L->d->width = wv;
        }
    }
    return lti_take(L, rec);
}

static lt_status lti_load_split(lti_loader *L, lt_split_id s, const char *spec) {
    L->split = s;
    lt_status st = lti_read_records(L->d, s, spec, L->limit, &L->n, lti_take_peek, L);
    if (!st && L->n == 0) st = lt_fail(LT_ERR_FORMAT, "no records");
    if (st) return lt_fail_context(st, "data source %s split: ", lt_split_name(s));
    lt_dataset *d = L->d;
    lt_split *sp = &d->split[s];
    sp->n = L->n;
    if (L->u8key) { /* handed over to the dataset, which frees them as IDX data */
        d->store_images[s] = (lt_idx){.data = L->x.p, .ndim = 3, .dims = {L->n, d->height, d->width}};
        sp->images = L->x.p;
    } else {
        d->store_values[s] = (float *)(void *)L->x.p;
        sp->values = d->store_values[s];
    }
    L->x = (lti_buf){0};
    if (L->labels == 1) {
        d->store_labels[s] = (lt_idx){.data = L->y.p, .ndim = 1, .dims = {L->n}};
        sp->labels = L->y.p;
        for (int64_t i = 0; i < L->n; i++)
            if (sp->labels[i] + 1 > d->n_classes) d->n_classes = sp->labels[i] + 1;
    } else {
        lt_free(L->y.p);
    }
    L->y = (lti_buf){0};
    return LT_OK;
}

/* Every value of every split is 0 or 1. */
static int lti_binary(const lt_dataset *d) {
    for (int s = 0; s < LT_SPLIT_COUNT; s++) {
        const lt_split *sp = &d->split[s];
        for (int64_t i = 0, m = sp->n * d->dim; i < m; i++) {
            float v = sp->values ? sp->values[i] : d->lut[sp->images[i]];
            if (v != 0.0f && v != 1.0f) return 0;
        }
    }
    return 1;
}

static lt_status lti_open_tfrecord(const char *source, const char *pattern, const lt_features *f, int64_t limit,
                                   lt_dataset *d) {
    if (lt_features_ntables(f) > 0)
        return lt_fail(LT_ERR_ARG, "data source %s: the feature spec has embedding columns; training data needs "
                       "fixed dense rows (numeric, bucketized and indicator columns)", source);
    lti_loader L = {.d = d, .f = f, .limit = limit};
    d->dim = lt_features_width(f);
    d->channels = 1;
    d->has_lut = lt_features_as_u8(f, &L.u8key, d->lut);
    if (!d->has_lut) L.u8key = NULL;
    if (!lt_features_image_shape(f, &d->height, &d->width)) d->height = d->width = 0;
    lt_example_init(&L.ex);
    lt_feature_batch_init(&L.fb);
    L.rows[0] = &L.ex;
    L.fe.rows = L.rows;
    L.fe.n = 1;
    L.row = lt_malloc(sizeof(float) * (size_t)d->dim);
    lt_status st = L.row ? LT_OK : lt_fail(LT_ERR_NOMEM, "tfrecord data: out of memory");
    const char *at = strstr(pattern, "{split}");
    for (int s = 0; s < LT_SPLIT_COUNT && !st; s++) {
        char spec[4096];
        const char *name = lt_split_name((lt_split_id)s);
        int len = at ? snprintf(spec, sizeof spec, "%.*s%s%s", (int)(at - pattern), pattern, name, at + 7)
                     : snprintf(spec, sizeof spec, "%s-%s-*", pattern, name);
        if (len < 0 || (size_t)len >= sizeof spec) {
            st = lt_fail(LT_ERR_ARG, "data source %s: pattern too long", source);
            break;
        }
        L.n = 0;
        L.labels = -1;
        if (lti_reopen_skips(d, (lt_split_id)s)) continue;
        st = lti_load_split(&L, (lt_split_id)s, spec);
        if (st && !at)
            st = lt_fail_context(st, "%s (tfrecord:PREFIX reads PREFIX-train-*, PREFIX-valid-*, PREFIX-test-*; "
                                 "or write {split} in the pattern): ", source);
        else if (st)
            st = lt_fail_context(st, "%s: ", source);
        if (!st && s == LT_SPLIT_TRAIN && d->height == 0) { /* no 2-d shape, no image/height and image/width */
            d->height = 1;
            d->width = d->dim;
        }
    }
    lt_free(L.row);
    lt_free(L.x.p);
    lt_free(L.y.p);
    lt_example_free(&L.ex);
    lt_feature_batch_free(&L.fb);
    lt_feature_examples_free(&L.fe);
    if (!st) d->binary = lti_binary(d);
    return st;
}

/* A tfrecord: source into out, whose reopen fields are set (or zero). */
static lt_status lti_open_records(const char *source, const char *features, int64_t limit, lt_dataset *out) {
    if (!source[9]) return lt_fail(LT_ERR_ARG, "data source %s: expected tfrecord:PREFIX or tfrecord:PATTERN", source);
    if (!features) { /* code grids, or the built-in TF-Slim image convention */
        lt_status st = lti_is_codes(source + 9) ? lti_open_codes(source, source + 9, limit, out)
                                                : lti_open_tfimage(source, source + 9, limit, out);
        if (st) lt_dataset_free(out);
        return st;
    }
    lt_features *f;
    lt_status st = lt_features_load(features, &f);
    if (st) return st;
    st = lti_open_tfrecord(source, source + 9, f, limit, out);
    lt_features_free(f);
    if (st) lt_dataset_free(out);
    return st;
}

/* What lt_dataset_hold reopens: the source and spec, copied. */
static lt_status lti_remember(lt_dataset *d, const char *source, const char *features) {
    if (!(d->src_source = lt_malloc(strlen(source) + 1)) ||
        (features && !(d->src_features = lt_malloc(strlen(features) + 1))))
        return lt_fail(LT_ERR_NOMEM, "data source name");
    strcpy(d->src_source, source);
    if (features) strcpy(d->src_features, features);
    return LT_OK;
}

lt_status lt_dataset_open_source(const char *source, const char *features, int64_t limit, lt_dataset *out) {
    if (strncmp(source, "tfrecord:", 9)) {
        if (features)
            return lt_fail(LT_ERR_ARG, "--features %s: a feature spec applies only to tfrecord: sources, not %s", features,
                           source);
        return lt_dataset_open(source, limit, out);
    }
    memset(out, 0, sizeof *out);
    lt_status st = lti_open_records(source, features, limit, out);
    if (!st && (st = lti_remember(out, source, features))) lt_dataset_free(out);
    return st;
}

lt_status lti_reopen_records(const lt_dataset *d, lt_split_id s, const int64_t *keep, int64_t n, lt_dataset *out) {
    memset(out, 0, sizeof *out);
    out->reopen_keep = keep;
    out->reopen_n = n;
    out->reopen_split = (int)s;
    return lti_open_records(d->src_source, d->src_features, 0, out);
}
