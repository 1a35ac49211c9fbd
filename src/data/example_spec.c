/* Parse specs (TensorFlow's parse_example): each spec item becomes one column of a
 * batch, dense for fixed-length features and values + row splits for variable-length
 * ones. A row is added whole or not at all: on an error the ragged columns are rolled
 * back to where the row started. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "data/example.h"
#include "data/example_wire.h"

static int64_t lti_elem_size(const lt_ex_spec_item *it) {
    if (it->raw) return 1;
    return it->dtype == LT_EX_FLOAT ? (int64_t)sizeof(float) : (int64_t)sizeof(int64_t);
}

static lt_status lti_check_item(const lt_ex_spec_item *it, int64_t *width) {
    const char *key = it->key ? it->key : "(null)";
    if (!it->key || !it->key[0]) return lt_fail(LT_ERR_ARG, "parse spec: a feature without a name");
    if (it->dtype != LT_EX_BYTES && it->dtype != LT_EX_FLOAT && it->dtype != LT_EX_INT64)
        return lt_fail(LT_ERR_ARG, "parse spec feature '%s': dtype must be bytes, float or int64", key);
    if (it->raw && (!it->fixed || it->dtype != LT_EX_BYTES))
        return lt_fail(LT_ERR_ARG, "parse spec feature '%s': raw decoding needs a fixed-length bytes feature", key);
    *width = 1;
    if (!it->fixed) return LT_OK;
    if (it->ndim < 0 || it->ndim > 4)
        return lt_fail(LT_ERR_ARG, "parse spec feature '%s': %d dims (at most 4)", key, it->ndim);
    for (int d = 0; d < it->ndim; d++) {
        if (it->shape[d] < 0)
            return lt_fail(LT_ERR_ARG, "parse spec feature '%s': dim %d is %lld (fixed shapes only)", key, d,
                           (long long)it->shape[d]);
        *width *= it->shape[d];
    }
    if (it->default_value && it->default_count != 1 && it->default_count != *width)
        return lt_fail(LT_ERR_ARG, "parse spec feature '%s': default has %lld values, expected 1 or %lld", key,
                       (long long)it->default_count, (long long)*width);
    return LT_OK;
}

lt_status lt_ex_batch_init(lt_ex_batch *b, const lt_ex_spec_item *items, int64_t nitems, int64_t max_rows) {
    memset(b, 0, sizeof *b);
    if (max_rows < 1) return lt_fail(LT_ERR_ARG, "parse spec: a batch needs at least one row");
    b->items = items;
    b->nitems = nitems;
    b->max_rows = max_rows;
    if (!(b->cols = lt_calloc((size_t)(nitems ? nitems : 1), sizeof *b->cols)))
        return lt_fail(LT_ERR_NOMEM, "no memory for a batch");
    for (int64_t i = 0; i < nitems; i++) {
        const lt_ex_spec_item *it = &items[i];
        lt_ex_column *c = &b->cols[i];
        c->keylen = it->key ? (int64_t)strlen(it->key) : 0;
        c->hint = -1;
        lt_status st = lti_check_item(it, &c->width);
        for (int64_t j = 0; !st && j < i; j++)
            if (!strcmp(items[j].key, it->key)) st = lt_fail(LT_ERR_ARG, "parse spec: feature '%s' listed twice", it->key);
        int bytes = it->dtype == LT_EX_BYTES && !it->raw;
        if (!st && it->fixed && !bytes && !(c->dense = lt_malloc((size_t)(max_rows * c->width * lti_elem_size(it)))))
            st = lt_fail(LT_ERR_NOMEM, "no memory for a (%lld, %lld) column", (long long)max_rows, (long long)c->width);
        if (!st && !it->fixed && !(c->splits = lt_calloc((size_t)max_rows + 1, sizeof *c->splits)))
            st = lt_fail(LT_ERR_NOMEM, "no memory for row splits");
        if (!st && bytes && !(c->offsets = lt_calloc(1, sizeof *c->offsets)))
            st = lt_fail(LT_ERR_NOMEM, "no memory");
        if (st) { lt_ex_batch_free(b); return st; }
    }
    return LT_OK;
}

void lt_ex_batch_clear(lt_ex_batch *b) {
    b->rows = 0;
    for (int64_t i = 0; i < b->nitems; i++) b->cols[i].nvalues = 0;
}

void lt_ex_batch_free(lt_ex_batch *b) {
    for (int64_t i = 0; b->cols && i < b->nitems; i++) {
        lt_ex_column *c = &b->cols[i];
        lt_free(c->dense);
        lt_free(c->values);
        lt_free(c->splits);
        lt_free(c->bytes);
        lt_free(c->offsets);
    }
    lt_free(b->cols);
    memset(b, 0, sizeof *b);
}

/* Room for n more values (numeric) or strings totalling nbytes (BYTES). */
static lt_status lti_grow(lt_ex_column *c, const lt_ex_spec_item *it, int64_t n, int64_t nbytes) {
    int bytes = it->dtype == LT_EX_BYTES;
    if (c->nvalues + n > c->cap_values) {
        int64_t ncap = c->cap_values ? c->cap_values : 64;
        while (ncap < c->nvalues + n) ncap *= 2;
        void *p = bytes ? lt_realloc(c->offsets, (size_t)(ncap + 1) * sizeof(int64_t))
                        : lt_realloc(c->values, (size_t)ncap * (size_t)lti_elem_size(it));
        if (!p) return lt_fail(LT_ERR_NOMEM, "no memory for %lld values of feature '%s'", (long long)ncap, it->key);
        if (bytes) c->offsets = p;
        else c->values = p;
        c->cap_values = ncap;
    }
    int64_t used = bytes && c->nvalues ? c->offsets[c->nvalues] : 0;
    if (bytes && used + nbytes > c->cap_bytes) {
        int64_t ncap = c->cap_bytes ? c->cap_bytes : 1024;
        while (ncap < used + nbytes) ncap *= 2;
        uint8_t *p = lt_realloc(c->bytes, (size_t)ncap);
        if (!p) return lt_fail(LT_ERR_NOMEM, "no memory for %lld bytes of feature '%s'", (long long)ncap, it->key);
        c->bytes = p;
        c->cap_bytes = ncap;
    }
    return LT_OK;
}

static lt_status lti_put_strings(lt_ex_column *c, const lt_ex_spec_item *it, const lt_ex_feature *f,
                                 const lt_ex_bytes *dflt, int64_t ndflt, int64_t width) {
    int64_t total = 0, n = f ? f->count : width;
    lt_ex_iter iter;
    lt_ex_bytes v;
    if (f) {
        lt_ex_iter_init(&iter, f);
        while (lt_ex_iter_bytes(&iter, &v)) total += v.len;
    } else {
        for (int64_t i = 0; i < width; i++) total += dflt[ndflt == 1 ? 0 : i].len;
    }
    lt_status st = lti_grow(c, it, n, total);
    if (st) return st;
    if (f) lt_ex_iter_init(&iter, f);
    for (int64_t i = 0; i < n; i++) {
        if (f) lt_ex_iter_bytes(&iter, &v);
        else v = dflt[ndflt == 1 ? 0 : i];
        int64_t o = c->offsets[c->nvalues];
        if (v.len) memcpy(c->bytes + o, v.data, (size_t)v.len);
        c->offsets[++c->nvalues] = o + v.len;
    }
    return LT_OK;
}

static void lti_shape_str(const lt_ex_spec_item *it, char *buf, size_t cap) {
    int k = snprintf(buf, cap, "[");
    for (int d = 0; d < it->ndim; d++) k += snprintf(buf + k, cap - (size_t)k, d ? ",%lld" : "%lld", (long long)it->shape[d]);
    snprintf(buf + k, cap - (size_t)k, "]");
}

/* One item of one row. */
static lt_status lti_add_item(lt_ex_batch *b, int64_t i, const lt_example *ex) {
    const lt_ex_spec_item *it = &b->items[i];
    lt_ex_column *c = &b->cols[i];
    /* records usually list their features in one order: try last row's entry first */
    const lt_ex_map *m = &ex->features;
    const lt_ex_entry *e = c->hint >= 0 && c->hint < m->n ? &m->entries[c->hint] : NULL;
    if (!e || e->key.len != c->keylen || !lti_bytes_eq(e->key.data, it->key, c->keylen)) {
        e = lt_ex_map_find(m, it->key, c->keylen);
        c->hint = e ? e - m->entries : -1;
    }
    const lt_ex_feature *f = e ? &e->feature : NULL;
    int64_t row = b->rows, w = c->width;
    if (f && f->kind == LT_EX_NONE) f = NULL; /* a Feature with no list set counts as absent */
    if (f && f->kind != it->dtype)
        return lt_fail(LT_ERR_FORMAT, "feature '%s': wrong type: expected %s, found %s", it->key,
                       lt_ex_kind_name(it->dtype), lt_ex_kind_name(f->kind));
    if (!it->fixed) { /* ragged: values appended, splits close the row */
        if (f && it->dtype != LT_EX_BYTES) {
            lt_status st = lti_grow(c, it, f->count, 0);
            if (st) return st;
            if (it->dtype == LT_EX_FLOAT) lt_ex_feature_floats(f, (float *)c->values + c->nvalues, f->count);
            else lt_ex_feature_int64s(f, (int64_t *)c->values + c->nvalues, f->count);
            c->nvalues += f->count;
        } else if (f) {
            lt_status st = lti_put_strings(c, it, f, NULL, 0, 0);
            if (st) return st;
        }
        c->splits[row + 1] = c->nvalues;
        return LT_OK;
    }
    char shape[96]; /* built only on the error paths below: snprintf (or even clearing it) per row is costly */
    if (!f && !it->default_value && (lti_shape_str(it, shape, sizeof shape), 1))
        return lt_fail(LT_ERR_FORMAT, "feature '%s': required feature is missing (fixed-length %s %s, no default)",
                       it->key, lt_ex_kind_name(it->dtype), shape);
    if (it->raw) {
        uint8_t *dst = (uint8_t *)c->dense + row * w;
        if (!f) {
            const uint8_t *d = it->default_value;
            for (int64_t k = 0; k < w; k++) dst[k] = d[it->default_count == 1 ? 0 : k];
            return LT_OK;
        }
        lt_ex_bytes v;
        if (f->count != 1 && (lti_shape_str(it, shape, sizeof shape), 1))
            return lt_fail(LT_ERR_FORMAT, "feature '%s': wrong length: expected 1 bytes value of %lld bytes (shape %s), "
                           "found %lld values", it->key, (long long)w, shape, (long long)f->count);
        if (f->one) v = (lt_ex_bytes){f->one, f->one_len}; /* the parse's single-piece view: no call */
        else lt_ex_feature_bytes(f, &v, 1);
        if (v.len != w && (lti_shape_str(it, shape, sizeof shape), 1))
            return lt_fail(LT_ERR_FORMAT, "feature '%s': wrong length: expected %lld bytes (shape %s), found %lld",
                           it->key, (long long)w, shape, (long long)v.len);
        memcpy(dst, v.data, (size_t)w);
        return LT_OK;
    }
    if (f && f->count != w && (lti_shape_str(it, shape, sizeof shape), 1))
        return lt_fail(LT_ERR_FORMAT, "feature '%s': wrong length: expected %lld values (shape %s), found %lld",
                       it->key, (long long)w, shape, (long long)f->count);
    if (it->dtype == LT_EX_BYTES) return lti_put_strings(c, it, f, it->default_value, it->default_count, w);
    int64_t es = lti_elem_size(it);
    uint8_t *dst = (uint8_t *)c->dense + row * w * es;
    if (f && f->one && it->dtype == LT_EX_INT64) { /* one packed chunk of w varints, validated by the parse */
        const uint8_t *q = f->one, *qe = q + f->one_len;
        uint64_t x = 0;
        for (int64_t k = 0; k < w; k++) lti_pb_varint(&q, qe, &x), ((int64_t *)dst)[k] = (int64_t)x;
    } else if (f && f->one) memcpy(dst, f->one, (size_t)w * 4); /* one packed chunk of w floats */
    else if (f && it->dtype == LT_EX_FLOAT) lt_ex_feature_floats(f, (float *)dst, w);
    else if (f) lt_ex_feature_int64s(f, (int64_t *)dst, w);
    else
        for (int64_t k = 0; k < w; k++)
            memcpy(dst + k * es, (const uint8_t *)it->default_value + (it->default_count == 1 ? 0 : k) * es, (size_t)es);
    return LT_OK;
}

lt_status lt_ex_batch_add(lt_ex_batch *b, const lt_example *ex, const char *file, int64_t record) {
    if (b->rows == b->max_rows)
        return lt_fail(LT_ERR_ARG, "%s%s record %lld: the batch is full (%lld rows)", file ? "file " : "",
                       file ? file : "", (long long)record, (long long)b->max_rows);
    for (int64_t i = 0; i < b->nitems; i++) {
        lt_status st = lti_add_item(b, i, ex);
        if (st) {
            for (int64_t j = 0; j <= i; j++) { /* roll the row back */
                lt_ex_column *c = &b->cols[j];
                if (c->splits) c->nvalues = c->splits[b->rows];
                else if (c->offsets) c->nvalues = b->rows * c->width;
            }
            return lt_fail_context(st, "%s%s%srecord %lld ", file ? "file " : "", file ? file : "", file ? " " : "",
                                   (long long)record);
        }
    }
    b->rows++;
    return LT_OK;
}
