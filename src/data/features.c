/* Feature columns applied to a batch: ids per categorical node, then dense rows
 * and embedding bags (semantics in features.h; spec parsing in features_spec.c). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "data/features_internal.h"
#include "data/fingerprint.h"

/* ---- accessors ---- */

int64_t lt_features_width(const lt_features *f) { return f->width; }

int lt_features_as_u8(const lt_features *f, const char **key, float lut[256]) {
    if (f->ncols != 1 || f->cols[0].kind != LTI_COL_NUMERIC) return 0;
    const lti_numeric *n = &f->cols[0].num;
    if (!n->raw_u8 || n->def) return 0;
    for (int64_t i = 1; n->norm != LTI_NORM_NONE && i < n->size; i++) /* one normalizer for every element */
        if (memcmp(&n->norm_a[i], &n->norm_a[0], sizeof(float)) || memcmp(&n->norm_b[i], &n->norm_b[0], sizeof(float)))
            return 0;
    for (int k = 0; k < 256; k++) { /* the expressions of lti_numeric_values, so the values are identical */
        float x = (float)k;
        if (n->norm == LTI_NORM_ZSCORE) x = (x - n->norm_a[0]) / n->norm_b[0];
        else if (n->norm == LTI_NORM_MINMAX) x = (x - n->norm_a[0]) / (n->norm_b[0] - n->norm_a[0]);
        lut[k] = x;
    }
    *key = n->key;
    return 1;
}

int lt_features_image_shape(const lt_features *f, int64_t *height, int64_t *width) {
    if (f->ncols != 1 || f->cols[0].kind != LTI_COL_NUMERIC) return 0;
    const lti_numeric *n = &f->cols[0].num;
    if (n->ndim == 2 || (n->ndim == 3 && n->shape[2] == 1)) {
        *height = n->shape[0];
        *width = n->shape[1];
        return 1;
    }
    return 0;
}
int64_t lt_features_ncolumns(const lt_features *f) { return f->ncols; }
int64_t lt_features_ntables(const lt_features *f) { return f->ntables; }
lt_tensor *lt_features_table(const lt_features *f, int64_t t) { return t >= 0 && t < f->ntables ? f->tables[t].t : NULL; }

void lt_features_column(const lt_features *f, int64_t i, const char **name, int64_t *offset, int64_t *width) {
    if (name) *name = f->cols[i].name;
    if (offset) *offset = f->cols[i].offset;
    if (width) *width = f->cols[i].width;
}

lt_status lt_features_declare_params(lt_features *f, lt_params *p) {
    for (int64_t i = 0; i < f->ntables; i++) {
        lti_table *t = &f->tables[i];
        t->t = lt_params_add(p, t->name, 2, (int64_t[]){t->rows, t->dim}); /* (rows, dim) */
        if (!t->t) return lt_fail_context(LT_ERR_ARG, "declaring feature embedding tables: ");
    }
    return LT_OK;
}

/* TF's embedding_column default: truncated_normal(0, 1/sqrt(dim)), |x| <= 2·stddev. */
void lt_features_init_params(const lt_features *f, lt_rng *rng) {
    for (int64_t i = 0; i < f->ntables; i++) {
        const lti_table *t = &f->tables[i];
        if (!t->t || !t->t->data) continue;
        float sd = 1.0f / sqrtf((float)t->dim), x;
        for (int64_t j = 0; j < t->rows * t->dim; j++) {
            do lt_rng_fill_normal(rng, &x, 1, 0.0f, sd);
            while (fabsf(x) > 2.0f * sd);
            t->t->data[j] = x;
        }
    }
}

/* ---- batches ---- */

void lt_feature_batch_init(lt_feature_batch *b) {
    memset(b, 0, sizeof *b);
    b->error_row = -1;
}

static void lti_batch_free_parts(lt_feature_batch *b) {
    for (int64_t i = 0; i < b->nbags; i++) {
        lt_feature_bag *g = &b->bags[i];
        lt_free(g->ids); lt_free(g->w); lt_free(g->start); lt_free(g->flat_ids); lt_free(g->flat_w);
    }
    lt_free(b->bags);
    for (int64_t i = 0; i < b->nscratch; i++) { lt_free(b->scratch[i].id); lt_free(b->scratch[i].w); }
    lt_free(b->scratch);
    b->bags = NULL; b->scratch = NULL;
    b->nbags = b->nscratch = 0;
}

void lt_feature_batch_free(lt_feature_batch *b) {
    lti_batch_free_parts(b);
    lt_free(b->dense);
    memset(b, 0, sizeof *b);
}

/* Grows *p to hold n elements of size el (grow-only, so steady state allocates nothing). */
static int lti_reserve(void **p, size_t *cap, size_t n, size_t el) {
    if (n <= *cap) return 1;
    size_t nc = *cap ? *cap : 64;
    while (nc < n) nc *= 2;
    void *q = lt_realloc(*p, nc * el);
    if (!q) return 0;
    *p = q;
    *cap = nc;
    return 1;
}

/* Grows a pair of parallel arrays (ids, weights) to n entries, together. */
static int lti_reserve_iw(int64_t **id, float **w, size_t *cap, size_t n) {
    if (n <= *cap && *id && *w) return 1;
    size_t nc = *cap ? *cap : 16;
    while (nc < n) nc *= 2;
    int64_t *ni = lt_realloc(*id, sizeof(int64_t) * nc);
    if (ni) *id = ni;
    float *nw = ni ? lt_realloc(*w, sizeof(float) * nc) : NULL;
    if (!nw) return 0;
    *w = nw;
    *cap = nc;
    return 1;
}

static int lti_fs_reserve(lti_fscratch *s, int64_t n) {
    size_t cap = (size_t)s->cap;
    int ok = lti_reserve_iw(&s->id, &s->w, &cap, (size_t)n);
    s->cap = (int64_t)cap;
    return ok;
}

/* ---- one row ---- */

typedef struct lti_row {
    const lt_features *f;
    lt_feature_lookup lookup;
    void *ud;
    int64_t row;
    const char *col;      /* output column being computed, for errors */
    lt_feature_batch *b;
} lti_row;

static lt_status lti_rowfail(const lti_row *r, lt_status code, const char *fmt, ...) LT_PRINTF(3, 4);
static lt_status lti_rowfail(const lti_row *r, lt_status code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lt_fail(code, "row %lld: column '%s': %s", (long long)r->row, r->col, msg);
}

static lt_status lti_nomem_row(const lti_row *r) { return lti_rowfail(r, LT_ERR_NOMEM, "out of memory"); }

static const char *lti_kind_name(lt_ex_kind k) {
    return k == LT_EX_BYTES ? "a bytes list" : k == LT_EX_FLOAT ? "a float list" : "an int64 list";
}

static lt_status lti_get(const lti_row *r, const char *key, lt_fvalues *v) {
    memset(v, 0, sizeof *v);
    lt_status st = r->lookup(r->ud, r->row, key, v);
    if (st) return lt_fail_context(st, "row %lld: column '%s': ", (long long)r->row, r->col);
    if (v->kind == LT_EX_NONE) v->n = 0;
    return LT_OK;
}

/* The numeric values (size) of n after defaults and the normalizer. */
static lt_status lti_numeric_values(const lti_row *r, const lti_numeric *n, float *out) {
    lt_fvalues v;
    lt_status st = lti_get(r, n->key, &v);
    if (st) return st;
    if (v.n == 0) { /* absent or empty: TF's FixedLenFeature takes the default */
        if (!n->def) return lti_rowfail(r, LT_ERR_FORMAT, "required feature '%s' is missing (no default_value)", n->key);
        memcpy(out, n->def, sizeof(float) * (size_t)n->size);
    } else if (n->raw_u8) { /* decode_raw uint8: exactly one string of size bytes */
        if (v.kind != LT_EX_BYTES)
            return lti_rowfail(r, LT_ERR_FORMAT, "feature '%s' is %s, expected one bytes value (decode_raw uint8)", n->key,
                               lti_kind_name(v.kind));
        if (v.n != 1 || v.b[0].len != n->size)
            return lti_rowfail(r, LT_ERR_FORMAT, "feature '%s' has %lld bytes values of %lld bytes, expected 1 of %lld "
                               "(decode_raw uint8)", n->key, (long long)v.n, (long long)v.b[0].len, (long long)n->size);
        for (int64_t i = 0; i < n->size; i++) out[i] = (float)v.b[0].data[i];
    } else if (v.kind == LT_EX_BYTES) {
        return lti_rowfail(r, LT_ERR_FORMAT, "feature '%s' is a bytes list, expected float or int64 values", n->key);
    } else if (v.n != n->size) {
        char shape[128] = "";
        for (int i = 0; i < n->ndim; i++) {
            size_t u = strlen(shape);
            snprintf(shape + u, sizeof shape - u, "%s%lld", i ? ", " : "", (long long)n->shape[i]);
        }
        return lti_rowfail(r, LT_ERR_FORMAT, "feature '%s' has %lld values, expected %lld (shape [%s])", n->key,
                           (long long)v.n, (long long)n->size, shape);
    } else {
        for (int64_t i = 0; i < n->size; i++) out[i] = v.kind == LT_EX_FLOAT ? v.f[i] : (float)v.i[i];
    }
    if (n->norm == LTI_NORM_ZSCORE)
        for (int64_t i = 0; i < n->size; i++) out[i] = (out[i] - n->norm_a[i]) / n->norm_b[i];
    else if (n->norm == LTI_NORM_MINMAX)
        for (int64_t i = 0; i < n->size; i++) out[i] = (out[i] - n->norm_a[i]) / (n->norm_b[i] - n->norm_a[i]);
    return LT_OK;
}

/* Number of boundaries <= x: TF's Bucketize (upper_bound). */
static int64_t lti_bucket(const float *b, int64_t nb, float x) {
    int64_t lo = 0, hi = nb;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (x < b[mid]) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* Fingerprint64 of an integer's decimal string (TF's as_string then hash). */
static uint64_t lti_fp_int(int64_t v) {
    char s[24];
    int len = snprintf(s, sizeof s, "%lld", (long long)v);
    return lt_fingerprint64(s, (size_t)len);
}

static lt_status lti_cat_ids(const lti_row *r, const lti_cat *c);

static lt_status lti_cross_ids(const lti_row *r, const lti_cat *c, lti_fscratch *out) {
    int64_t total = 1, pos[LTI_FEAT_MAX_CROSS_INPUTS];
    for (int64_t k = 0; k < c->ninputs; k++) {
        const lti_cat *in = c->inputs[k];
        lti_fscratch *s = &r->b->scratch[in->slot];
        if (in->kind == LTI_CAT_RAW) { /* v = Fingerprint64(string) or the integer's 64 bits */
            lt_fvalues v;
            lt_status st = lti_get(r, in->key, &v);
            if (st) return st;
            if (v.kind == LT_EX_FLOAT)
                return lti_rowfail(r, LT_ERR_FORMAT, "crossed feature '%s' is a float list; crossing needs strings or "
                                   "int64 values", in->key);
            if (!lti_fs_reserve(s, v.n)) return lti_nomem_row(r);
            for (int64_t i = 0; i < v.n; i++)
                s->id[i] = v.kind == LT_EX_INT64 ? v.i[i] : (int64_t)lt_fingerprint64(v.b[i].data, (size_t)v.b[i].len);
            s->n = v.n;
        } else {
            lt_status st = lti_cat_ids(r, in);
            if (st) return st;
        }
        total *= s->n;
        if (total > LTI_FEAT_MAX_CROSS)
            return lti_rowfail(r, LT_ERR_FORMAT, "crossed column '%s' would produce more than %lld ids in one row",
                               c->name, (long long)LTI_FEAT_MAX_CROSS);
        pos[k] = 0;
    }
    if (!lti_fs_reserve(out, total)) return lti_nomem_row(r);
    for (int64_t j = 0; j < total; j++) { /* cartesian product, last input fastest (TF's ProductIterator) */
        uint64_t h = c->hash_key;
        for (int64_t k = 0; k < c->ninputs; k++)
            h = lt_fingerprint_cat64(h, (uint64_t)r->b->scratch[c->inputs[k]->slot].id[pos[k]]);
        out->id[j] = (int64_t)(h % (uint64_t)c->num_buckets);
        out->w[j] = 1.0f;
        for (int64_t k = c->ninputs - 1; k >= 0; k--) {
            if (++pos[k] < r->b->scratch[c->inputs[k]->slot].n) break;
            pos[k] = 0;
        }
    }
    out->n = total;
    return LT_OK;
}

/* ids (and weights) of categorical node c for the row, into its scratch slot. */
static lt_status lti_cat_ids(const lti_row *r, const lti_cat *c) {
    lti_fscratch *s = &r->b->scratch[c->slot];
    lt_fvalues v;
    lt_status st;
    s->n = 0;
    switch (c->kind) {
    case LTI_CAT_BUCKETIZED:
        if (!lti_fs_reserve(s, c->num.size)) return lti_nomem_row(r);
        if ((st = lti_numeric_values(r, &c->num, s->w))) return st;
        for (int64_t j = 0; j < c->num.size; j++) {
            s->id[j] = j * (c->nbounds + 1) + lti_bucket(c->bounds, c->nbounds, s->w[j]);
            s->w[j] = 1.0f;
        }
        s->n = c->num.size;
        return LT_OK;
    case LTI_CAT_CROSSED:
        return lti_cross_ids(r, c, s);
    case LTI_CAT_WEIGHTED: {
        if ((st = lti_cat_ids(r, c->base))) return st;
        const lti_fscratch *bs = &r->b->scratch[c->base->slot];
        if ((st = lti_get(r, c->weight_key, &v))) return st;
        if (v.kind == LT_EX_BYTES)
            return lti_rowfail(r, LT_ERR_FORMAT, "weight feature '%s' is a bytes list, expected float values", c->weight_key);
        if (v.n != bs->n)
            return lti_rowfail(r, LT_ERR_FORMAT, "weight feature '%s' has %lld values but '%s' has %lld ids",
                               c->weight_key, (long long)v.n, c->base->name, (long long)bs->n);
        if (!lti_fs_reserve(s, bs->n)) return lti_nomem_row(r);
        for (int64_t j = 0; j < bs->n; j++) {
            s->id[j] = bs->id[j];
            s->w[j] = v.kind == LT_EX_FLOAT ? v.f[j] : (float)v.i[j];
        }
        s->n = bs->n;
        return LT_OK;
    }
    default:
        break;
    }
    /* identity, vocabulary, hash: one feature */
    if ((st = lti_get(r, c->key, &v))) return st;
    if (v.kind == LT_EX_FLOAT)
        return lti_rowfail(r, LT_ERR_FORMAT, "feature '%s' is a float list; categorical columns need %s", c->key,
                           c->kind == LTI_CAT_IDENTITY || (c->kind == LTI_CAT_VOCAB && c->vocab_int) ? "int64 values"
                           : c->kind == LTI_CAT_VOCAB ? "strings" : "strings or int64 values");
    if (c->kind == LTI_CAT_IDENTITY && v.kind == LT_EX_BYTES)
        return lti_rowfail(r, LT_ERR_FORMAT, "feature '%s' is a bytes list; categorical_column_with_identity needs "
                           "int64 values", c->key);
    if (c->kind == LTI_CAT_VOCAB && v.n && (v.kind == LT_EX_INT64) != c->vocab_int)
        return lti_rowfail(r, LT_ERR_FORMAT, "feature '%s' is %s but the vocabulary holds %s", c->key,
                           lti_kind_name(v.kind), c->vocab_int ? "integers" : "strings");
    if (!lti_fs_reserve(s, v.n)) return lti_nomem_row(r);
    for (int64_t j = 0; j < v.n; j++) {
        int64_t id;
        if (c->kind == LTI_CAT_IDENTITY) {
            id = v.i[j];
            if (id < 0 || id >= c->num_buckets) {
                if (c->default_value < 0)
                    return lti_rowfail(r, LT_ERR_FORMAT, "feature '%s' value %lld is outside [0, %lld) and the column "
                                       "has no default_value", c->key, (long long)id, (long long)c->num_buckets);
                id = c->default_value;
            }
        } else if (c->kind == LTI_CAT_VOCAB) {
            id = c->vocab_int ? lti_vocab_find_i64(c, v.i[j]) : lti_vocab_find_str(c, v.b[j].data, v.b[j].len);
            if (id < 0 && c->num_oov > 0) {
                uint64_t h = c->vocab_int ? lti_fp_int(v.i[j]) : lt_fingerprint64(v.b[j].data, (size_t)v.b[j].len);
                id = c->vocab_size + (int64_t)(h % (uint64_t)c->num_oov);
            } else if (id < 0) {
                id = c->default_value; /* -1 drops the value */
            }
        } else { /* hash bucket */
            uint64_t h = v.kind == LT_EX_INT64 ? lti_fp_int(v.i[j]) : lt_fingerprint64(v.b[j].data, (size_t)v.b[j].len);
            id = (int64_t)(h % (uint64_t)c->num_buckets);
        }
        s->id[j] = id;
        s->w[j] = 1.0f;
    }
    s->n = v.n;
    return LT_OK;
}

/* Appends row r's ids of an embedding column to its bag (TF's
 * safe_embedding_lookup_sparse: ids < 0 are pruned, and for mean/sqrtn weights
 * <= 0 too), with the combiner folded into the weights. */
static lt_status lti_bag_row(const lti_row *r, const lti_col *col, lt_feature_bag *g) {
    const lti_fscratch *s = &r->b->scratch[col->cat->slot];
    int64_t at = g->start[r->row];
    if (!lti_reserve_iw(&g->flat_ids, &g->flat_w, &g->cap_flat, (size_t)(at + s->n))) return lti_nomem_row(r);
    double sum = 0.0, sq = 0.0;
    int64_t n = at;
    for (int64_t j = 0; j < s->n; j++) {
        if (s->id[j] < 0 || (col->combiner != LTI_COMB_SUM && !(s->w[j] > 0.0f))) continue;
        g->flat_ids[n] = s->id[j];
        g->flat_w[n++] = s->w[j];
        sum += s->w[j];
        sq += (double)s->w[j] * s->w[j];
    }
    double scale = col->combiner == LTI_COMB_MEAN ? (sum > 0 ? 1.0 / sum : 0.0)
                 : col->combiner == LTI_COMB_SQRTN ? (sq > 0 ? 1.0 / sqrt(sq) : 0.0) : 1.0;
    for (int64_t j = at; j < n; j++) g->flat_w[j] = (float)(g->flat_w[j] * scale);
    g->start[r->row + 1] = n;
    if (n - at > g->len) g->len = n - at;
    return LT_OK;
}

static lt_status lti_batch_setup(const lt_features *f, lt_feature_batch *b, int64_t n) {
    int64_t nbags = 0;
    for (int64_t i = 0; i < f->ncols; i++) nbags += f->cols[i].kind == LTI_COL_EMBEDDING;
    if (b->nbags != nbags || b->nscratch != f->ncats) {
        lti_batch_free_parts(b);
        b->bags = lt_calloc((size_t)(nbags ? nbags : 1), sizeof *b->bags);
        b->scratch = lt_calloc((size_t)(f->ncats ? f->ncats : 1), sizeof *b->scratch);
        if (!b->bags || !b->scratch) { lti_batch_free_parts(b); return lt_fail(LT_ERR_NOMEM, "features: out of memory"); }
        b->nbags = nbags;
        b->nscratch = f->ncats;
    }
    if (!lti_reserve((void **)&b->dense, &b->cap_dense, (size_t)(n * f->width), sizeof(float)))
        return lt_fail(LT_ERR_NOMEM, "features: out of memory for a (%lld, %lld) batch", (long long)n, (long long)f->width);
    memset(b->dense, 0, sizeof(float) * (size_t)(n * f->width));
    for (int64_t i = 0, k = 0; i < f->ncols; i++) {
        if (f->cols[i].kind != LTI_COL_EMBEDDING) continue;
        lt_feature_bag *g = &b->bags[k++];
        g->offset = f->cols[i].offset;
        g->dim = f->cols[i].width;
        g->table = f->cols[i].table;
        g->len = 0;
        if (!lti_reserve((void **)&g->start, &g->cap_start, (size_t)n + 1, sizeof(int64_t)))
            return lt_fail(LT_ERR_NOMEM, "features: out of memory");
        g->start[0] = 0;
    }
    b->n = n;
    b->width = f->width;
    return LT_OK;
}

/* Pads every bag to (n, L). */
static lt_status lti_bags_pad(lt_feature_batch *b) {
    for (int64_t k = 0; k < b->nbags; k++) {
        lt_feature_bag *g = &b->bags[k];
        if (g->len < 1) g->len = 1;
        size_t need = (size_t)(b->n * g->len);
        if (!lti_reserve_iw(&g->ids, &g->w, &g->cap_pad, need)) return lt_fail(LT_ERR_NOMEM, "features: out of memory");
        memset(g->ids, 0, sizeof(int64_t) * need);
        memset(g->w, 0, sizeof(float) * need);
        for (int64_t r = 0; r < b->n; r++)
            for (int64_t j = g->start[r]; j < g->start[r + 1]; j++) {
                g->ids[r * g->len + j - g->start[r]] = g->flat_ids[j];
                g->w[r * g->len + j - g->start[r]] = g->flat_w[j];
            }
    }
    return LT_OK;
}

lt_status lt_features_transform(const lt_features *f, lt_feature_lookup lookup, void *ud, int64_t n,
                                lt_feature_batch *b) {
    lt_status st = lti_batch_setup(f, b, n);
    lti_row r = {f, lookup, ud, 0, "", b};
    for (r.row = 0; r.row < n && !st; r.row++) {
        float *out = b->dense + r.row * f->width;
        for (int64_t i = 0, k = 0; i < f->ncols && !st; i++) {
            const lti_col *col = &f->cols[i];
            r.col = col->name;
            if (col->kind == LTI_COL_NUMERIC) {
                st = lti_numeric_values(&r, &col->num, out + col->offset);
                continue;
            }
            if ((st = lti_cat_ids(&r, col->cat))) break;
            const lti_fscratch *s = &b->scratch[col->cat->slot];
            if (col->kind == LTI_COL_EMBEDDING) {
                st = lti_bag_row(&r, col, &b->bags[k++]);
                continue;
            }
            for (int64_t j = 0; j < s->n; j++) { /* bucketized: one-hot; indicator: counts or summed weights */
                if (s->id[j] < 0) continue;
                if (s->id[j] >= col->width) {
                    b->error_row = r.row;
                    return lti_rowfail(&r, LT_ERR_INTERNAL, "id %lld outside [0, %lld)", (long long)s->id[j],
                                       (long long)col->width);
                }
                if (col->kind == LTI_COL_BUCKETIZED) out[col->offset + s->id[j]] = 1.0f;
                else out[col->offset + s->id[j]] += s->w[j];
            }
        }
    }
    b->error_row = st ? r.row - 1 : -1;
    return st ? st : lti_bags_pad(b);
}

lt_status lt_features_dense(const lt_features *f, const lt_feature_batch *b, float *out) {
    memcpy(out, b->dense, sizeof(float) * (size_t)(b->n * b->width));
    for (int64_t k = 0; k < b->nbags; k++) {
        const lt_feature_bag *g = &b->bags[k];
        const lt_tensor *t = lt_features_table(f, g->table);
        if (!t || !t->data)
            return lt_fail(LT_ERR_ARG, "features: embedding table '%s' was never declared (lt_features_declare_params)",
                           f->tables[g->table].name);
        for (int64_t r = 0; r < b->n; r++) {
            float *o = out + r * b->width + g->offset; /* (dim) */
            for (int64_t j = g->start[r]; j < g->start[r + 1]; j++) {
                const float *e = t->data + g->flat_ids[j] * g->dim;
                for (int64_t d = 0; d < g->dim; d++) o[d] += g->flat_w[j] * e[d];
            }
        }
    }
    return LT_OK;
}

/* ---- the tf.Example lookup ---- */

lt_status lt_feature_examples_lookup(void *ud, int64_t row, const char *key, lt_fvalues *out) {
    lt_feature_examples *e = ud;
    memset(out, 0, sizeof *out);
    const lt_ex_feature *ft = row >= 0 && row < e->n ? lt_example_get(e->rows[row], key) : NULL;
    if (!ft || ft->kind == LT_EX_NONE) return LT_OK;
    size_t cap;
    out->kind = ft->kind;
    switch (ft->kind) {
    case LT_EX_FLOAT:
        cap = (size_t)e->cap_f;
        if (!lti_reserve((void **)&e->f, &cap, (size_t)ft->count, sizeof(float))) break;
        e->cap_f = (int64_t)cap;
        out->n = lt_ex_feature_floats(ft, e->f, ft->count);
        out->f = e->f;
        return LT_OK;
    case LT_EX_INT64:
        cap = (size_t)e->cap_i;
        if (!lti_reserve((void **)&e->i, &cap, (size_t)ft->count, sizeof(int64_t))) break;
        e->cap_i = (int64_t)cap;
        out->n = lt_ex_feature_int64s(ft, e->i, ft->count);
        out->i = e->i;
        return LT_OK;
    default:
        cap = (size_t)e->cap_b;
        if (!lti_reserve((void **)&e->b, &cap, (size_t)ft->count, sizeof(lt_ex_bytes))) break;
        e->cap_b = (int64_t)cap;
        out->n = lt_ex_feature_bytes(ft, e->b, ft->count);
        out->b = e->b;
        return LT_OK;
    }
    return lt_fail(LT_ERR_NOMEM, "feature '%s': out of memory for %lld values", key, (long long)ft->count);
}

void lt_feature_examples_free(lt_feature_examples *e) {
    lt_free(e->f);
    lt_free(e->i);
    lt_free(e->b);
    e->f = NULL; e->i = NULL; e->b = NULL;
    e->cap_f = e->cap_i = e->cap_b = 0;
}
