/* Feature specs: JSON (jansson) → the column tree of features_internal.h.
 * Every error names where it is ("columns[2].categorical_column") and the key. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/features_internal.h"
#include "data/fingerprint.h"

#define LTI_PATH_MAX 256

typedef struct lti_spec_ctx {
    lt_features *f;
    const char *base_dir;
} lti_spec_ctx;

static lt_status lti_bad(const char *path, const char *fmt, ...) LT_PRINTF(2, 3);
static lt_status lti_bad(const char *path, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lt_fail(LT_ERR_ARG, "feature spec: %s: %s", path, msg);
}

/* ---- growable lists ---- */

static int lti_grow(void **p, int64_t *cap, int64_t need, size_t elsize) {
    if (need <= *cap) return 1;
    int64_t nc = *cap ? *cap * 2 : 8;
    while (nc < need) nc *= 2;
    void *q = lt_realloc(*p, (size_t)nc * elsize);
    if (!q) return 0;
    *p = q;
    *cap = nc;
    return 1;
}

static lti_cat *lti_cat_new(lti_spec_ctx *c) {
    lt_features *f = c->f;
    if (!lti_grow((void **)&f->cats, &f->cap_cats, f->ncats + 1, sizeof *f->cats)) return NULL;
    lti_cat *k = lt_calloc(1, sizeof *k);
    if (!k) return NULL;
    k->slot = f->ncats;
    k->default_value = -1;
    f->cats[f->ncats++] = k;
    return k;
}

static lti_col *lti_col_new(lti_spec_ctx *c) {
    lt_features *f = c->f;
    if (!lti_grow((void **)&f->cols, &f->cap_cols, f->ncols + 1, sizeof *f->cols)) return NULL;
    lti_col *col = &f->cols[f->ncols++];
    memset(col, 0, sizeof *col);
    col->table = -1;
    return col;
}

static lt_status lti_nomem(void) { return lt_fail(LT_ERR_NOMEM, "feature spec: out of memory"); }

/* ---- typed getters: absent keys leave *out untouched and return OK unless required ---- */

static lt_status lti_check_keys(json_t *obj, const char *path, const char *type, const char *const *allowed) {
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        int ok = !strcmp(k, "type");
        for (int i = 0; allowed[i] && !ok; i++) ok = !strcmp(k, allowed[i]);
        if (!ok) return lti_bad(path, "unknown key '%s' for %s", k, type);
    }
    return LT_OK;
}

static lt_status lti_get_str(json_t *obj, const char *key, const char *path, int required, const char **out) {
    json_t *v = json_object_get(obj, key);
    if (!v) return required ? lti_bad(path, "missing key '%s'%s", key, "") : LT_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 || strlen(json_string_value(v)) != json_string_length(v))
        return lti_bad(path, "key '%s' must be a non-empty string%s", key, "");
    *out = json_string_value(v);
    return LT_OK;
}

static lt_status lti_get_int(json_t *obj, const char *key, const char *path, int required, int64_t lo,
                             int64_t *out) {
    json_t *v = json_object_get(obj, key);
    if (!v) return required ? lti_bad(path, "missing key '%s'%s", key, "") : LT_OK;
    char lo_s[32];
    snprintf(lo_s, sizeof lo_s, "%lld", (long long)lo);
    if (!json_is_integer(v) || json_integer_value(v) < lo)
        return lti_bad(path, "key '%s' must be an integer >= %s", key, lo_s);
    *out = json_integer_value(v);
    return LT_OK;
}

/* A number, or a list of `size` numbers (size 0: the list may have any length; *n gets it). */
static lt_status lti_get_floats(json_t *v, const char *key, const char *path, int64_t size, float **out) {
    char want[64];
    snprintf(want, sizeof want, "a number or a list of %lld numbers", (long long)size);
    float *a = lt_malloc(sizeof(float) * (size_t)(size ? size : 1));
    if (!a) return lti_nomem();
    if (json_is_number(v)) {
        for (int64_t i = 0; i < size; i++) a[i] = (float)json_number_value(v);
    } else if (json_is_array(v) && (int64_t)json_array_size(v) == size) {
        for (int64_t i = 0; i < size; i++) {
            json_t *e = json_array_get(v, (size_t)i);
            if (!json_is_number(e)) { lt_free(a); return lti_bad(path, "key '%s' must be %s", key, want); }
            a[i] = (float)json_number_value(e);
        }
    } else {
        lt_free(a);
        return lti_bad(path, "key '%s' must be %s", key, want);
    }
    *out = a;
    return LT_OK;
}

/* ---- vocabulary hash table ---- */

static uint64_t lti_vocab_hash_i64(int64_t v) { /* splitmix64's finalizer */
    uint64_t z = (uint64_t)v + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t lti_vocab_hash(const lti_cat *c, int64_t i) {
    return c->vocab_int ? lti_vocab_hash_i64(c->vocab_i64[i]) : lt_fingerprint64(c->vocab_str[i], (size_t)c->vocab_len[i]);
}

static int lti_vocab_same(const lti_cat *c, int64_t i, int64_t j) {
    if (c->vocab_int) return c->vocab_i64[i] == c->vocab_i64[j];
    return c->vocab_len[i] == c->vocab_len[j] && !memcmp(c->vocab_str[i], c->vocab_str[j], (size_t)c->vocab_len[i]);
}

/* Builds the table; a duplicate entry is an error, as in TensorFlow. */
static lt_status lti_vocab_index(lti_cat *c, const char *path) {
    uint64_t cap = 8;
    while (cap < (uint64_t)c->vocab_size * 2) cap *= 2;
    c->table = lt_malloc(sizeof(int64_t) * cap);
    if (!c->table) return lti_nomem();
    for (uint64_t i = 0; i < cap; i++) c->table[i] = -1;
    c->table_mask = cap - 1;
    for (int64_t i = 0; i < c->vocab_size; i++) {
        uint64_t h = lti_vocab_hash(c, i) & c->table_mask;
        while (c->table[h] >= 0) {
            if (lti_vocab_same(c, c->table[h], i)) {
                char what[96];
                if (c->vocab_int) snprintf(what, sizeof what, "%lld", (long long)c->vocab_i64[i]);
                else snprintf(what, sizeof what, "'%.80s'", c->vocab_str[i]);
                return lti_bad(path, "duplicate vocabulary entry %s%s", what, "");
            }
            h = (h + 1) & c->table_mask;
        }
        c->table[h] = i;
    }
    return LT_OK;
}

int64_t lti_vocab_find_str(const lti_cat *c, const uint8_t *s, int64_t len) {
    uint64_t h = lt_fingerprint64(s, (size_t)len) & c->table_mask;
    for (int64_t i; (i = c->table[h]) >= 0; h = (h + 1) & c->table_mask)
        if (c->vocab_len[i] == len && !memcmp(c->vocab_str[i], s, (size_t)len)) return i;
    return -1;
}

int64_t lti_vocab_find_i64(const lti_cat *c, int64_t v) {
    uint64_t h = lti_vocab_hash_i64(v) & c->table_mask;
    for (int64_t i; (i = c->table[h]) >= 0; h = (h + 1) & c->table_mask)
        if (c->vocab_i64[i] == v) return i;
    return -1;
}

static lt_status lti_vocab_alloc(lti_cat *c, int64_t n) {
    c->vocab_size = n;
    if (c->vocab_int) c->vocab_i64 = lt_calloc((size_t)(n ? n : 1), sizeof(int64_t));
    else {
        c->vocab_str = lt_calloc((size_t)(n ? n : 1), sizeof(char *));
        c->vocab_len = lt_calloc((size_t)(n ? n : 1), sizeof(int64_t));
    }
    return (c->vocab_int ? !!c->vocab_i64 : c->vocab_str && c->vocab_len) ? LT_OK : lti_nomem();
}

static lt_status lti_vocab_add_str(lti_cat *c, int64_t i, const char *s, size_t len) {
    c->vocab_str[i] = lt_malloc(len + 1);
    if (!c->vocab_str[i]) return lti_nomem();
    memcpy(c->vocab_str[i], s, len);
    c->vocab_str[i][len] = 0;
    c->vocab_len[i] = (int64_t)len;
    return LT_OK;
}

static lt_status lti_vocab_list(lti_cat *c, json_t *list, const char *path) {
    if (!json_is_array(list) || json_array_size(list) == 0)
        return lti_bad(path, "key 'vocabulary_list' must be a non-empty list");
    c->vocab_int = json_is_integer(json_array_get(list, 0));
    lt_status st = lti_vocab_alloc(c, (int64_t)json_array_size(list));
    for (int64_t i = 0; i < c->vocab_size && !st; i++) {
        json_t *e = json_array_get(list, (size_t)i);
        if (c->vocab_int ? !json_is_integer(e) : !json_is_string(e))
            return lti_bad(path, "vocabulary_list entry %lld is not %s (entries must be all strings or all integers)",
                           (long long)i, c->vocab_int ? "an integer" : "a string");
        if (c->vocab_int) c->vocab_i64[i] = json_integer_value(e);
        else st = lti_vocab_add_str(c, i, json_string_value(e), json_string_length(e));
    }
    return st ? st : lti_vocab_index(c, path);
}

/* The whole file into a lt_malloc'ed buffer (NUL-terminated past *len). */
static lt_status lti_read_file(const char *path, const char *what, char **out, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return lt_fail(LT_ERR_IO, "cannot open %s '%s': %s", what, path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = lt_realloc(buf, cap = cap ? cap * 2 : 4096);
            if (!nb) { lt_free(buf); fclose(fp); return lti_nomem(); }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) { lt_free(buf); return lt_fail(LT_ERR_IO, "reading %s '%s' failed", what, path); }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return LT_OK;
}

/* One entry per line (the whole line without its '\n', as TensorFlow's
 * TextFileIndex.WHOLE_LINE); `size` >= 0 keeps the first size lines. */
static lt_status lti_vocab_file(lti_spec_ctx *ctx, lti_cat *c, const char *file, int64_t size, const char *path) {
    char full[4096];
    if (file[0] == '/' || !ctx->base_dir) snprintf(full, sizeof full, "%s", file);
    else snprintf(full, sizeof full, "%s/%s", ctx->base_dir, file);
    char *buf;
    size_t len;
    lt_status st = lti_read_file(full, "vocabulary_file", &buf, &len);
    if (st) return lt_fail_context(st, "feature spec: %s: ", path);
    int64_t n = 0; /* lines: a final line without '\n' counts, an empty tail does not */
    for (size_t i = 0; i < len; i++) n += buf[i] == '\n';
    if (len && buf[len - 1] != '\n') n++;
    if (size >= 0 && n < size) {
        st = lt_fail(LT_ERR_ARG, "feature spec: %s: vocabulary_file '%s' has only %lld lines, vocabulary_size is %lld",
                     path, full, (long long)n, (long long)size);
    } else if (n == 0) {
        st = lt_fail(LT_ERR_ARG, "feature spec: %s: vocabulary_file '%s' is empty", path, full);
    }
    if (size >= 0 && n > size) n = size;
    if (!st) st = lti_vocab_alloc(c, n);
    char *line = buf;
    for (int64_t i = 0; i < n && !st; i++) {
        char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        size_t ll = nl ? (size_t)(nl - line) : (size_t)(buf + len - line);
        line[ll] = 0;
        if (c->vocab_int) {
            char *end;
            errno = 0;
            long long v = strtoll(line, &end, 10);
            if (errno || end == line || *end || strlen(line) != ll)
                st = lt_fail(LT_ERR_ARG, "feature spec: %s: vocabulary_file '%s' line %lld: '%.60s' is not an int64",
                             path, full, (long long)i + 1, line);
            else c->vocab_i64[i] = v;
        } else {
            st = lti_vocab_add_str(c, i, line, ll);
        }
        line += ll + 1;
    }
    lt_free(buf);
    return st ? st : lti_vocab_index(c, path);
}

/* ---- columns ---- */

static char *lti_strcat3(const char *a, const char *b, const char *c) {
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = lt_malloc(la + lb + lc + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb);
        memcpy(s + la + lb, c, lc + 1);
    }
    return s;
}

static const char *lti_type(json_t *obj, const char *path, lt_status *st) {
    const char *t = NULL;
    if (!json_is_object(obj)) {
        *st = lti_bad(path, "a column must be a JSON object with a \"type\"");
        return NULL;
    }
    *st = lti_get_str(obj, "type", path, 1, &t);
    return t;
}

static lt_status lti_parse_numeric(json_t *o, const char *path, lti_numeric *n) {
    static const char *const keys[] = {"key", "shape", "default_value", "normalizer", "dtype", "decode_raw", NULL};
    lt_status st = lti_check_keys(o, path, "numeric_column", keys);
    const char *key = NULL, *dtype = NULL, *raw = NULL;
    if (!st) st = lti_get_str(o, "key", path, 1, &key);
    if (!st) st = lti_get_str(o, "dtype", path, 0, &dtype);
    if (!st && dtype && strcmp(dtype, "float32") && strcmp(dtype, "int64"))
        st = lti_bad(path, "key 'dtype' must be \"float32\" or \"int64\", found '%.40s'%s", dtype, "");
    /* latent's extension: tf.io.decode_raw(value, tf.uint8) before the column */
    if (!st) st = lti_get_str(o, "decode_raw", path, 0, &raw);
    if (!st && raw && strcmp(raw, "uint8"))
        st = lti_bad(path, "key 'decode_raw' must be \"uint8\", found '%.40s'%s", raw, "");
    if (st) return st;
    n->raw_u8 = raw != NULL;
    if (!(n->key = lt_strdup(key))) return lti_nomem();
    json_t *shape = json_object_get(o, "shape");
    n->ndim = 1;
    n->shape[0] = 1;
    if (shape) {
        if (json_is_integer(shape)) shape = json_pack("[O]", shape);
        else json_incref(shape);
        if (!shape) return lti_nomem();
        int okshape = json_is_array(shape) && json_array_size(shape) >= 1 && json_array_size(shape) <= LTI_FEAT_MAX_DIMS;
        n->ndim = okshape ? (int)json_array_size(shape) : 0;
        for (int i = 0; i < n->ndim && okshape; i++) {
            json_t *d = json_array_get(shape, (size_t)i);
            okshape = json_is_integer(d) && json_integer_value(d) >= 1 && json_integer_value(d) <= (1 << 24);
            n->shape[i] = okshape ? json_integer_value(d) : 0;
        }
        json_decref(shape);
        if (!okshape) return lti_bad(path, "key 'shape' must be a positive integer or a list of 1 to 8 of them");
    }
    n->size = 1;
    for (int i = 0; i < n->ndim; i++) {
        n->size *= n->shape[i];
        if (n->size > (1 << 24)) return lti_bad(path, "key 'shape' has more than 2^24 elements");
    }
    json_t *def = json_object_get(o, "default_value");
    if (def && (st = lti_get_floats(def, "default_value", path, n->size, &n->def))) return st;
    json_t *norm = json_object_get(o, "normalizer");
    if (!norm) return LT_OK;
    char npath[LTI_PATH_MAX];
    snprintf(npath, sizeof npath, "%s.normalizer", path);
    const char *nt = lti_type(norm, npath, &st);
    if (st) return st;
    const char *ka, *kb;
    if (!strcmp(nt, "z_score")) { n->norm = LTI_NORM_ZSCORE; ka = "mean"; kb = "std"; }
    else if (!strcmp(nt, "min_max")) { n->norm = LTI_NORM_MINMAX; ka = "min"; kb = "max"; }
    else return lti_bad(npath, "unknown normalizer type '%.40s' (z_score or min_max)%s", nt, "");
    const char *const nkeys[] = {ka, kb, NULL};
    if ((st = lti_check_keys(norm, npath, nt, nkeys))) return st;
    json_t *va = json_object_get(norm, ka), *vb = json_object_get(norm, kb);
    if (!va) return lti_bad(npath, "missing key '%s'%s", ka, "");
    if (!vb) return lti_bad(npath, "missing key '%s'%s", kb, "");
    if ((st = lti_get_floats(va, ka, npath, n->size, &n->norm_a)) || (st = lti_get_floats(vb, kb, npath, n->size, &n->norm_b)))
        return st;
    for (int64_t i = 0; i < n->size; i++) {
        float d = n->norm == LTI_NORM_ZSCORE ? n->norm_b[i] : n->norm_b[i] - n->norm_a[i];
        if (!(d > 0) || !isfinite(d))
            return lti_bad(npath, "%s", n->norm == LTI_NORM_ZSCORE ? "'std' must be > 0" : "'max' must exceed 'min'");
    }
    return LT_OK;
}

static lt_status lti_parse_bucketized(json_t *o, const char *path, lti_cat *c) {
    static const char *const keys[] = {"source_column", "boundaries", NULL};
    lt_status st = lti_check_keys(o, path, "bucketized_column", keys);
    if (st) return st;
    char spath[LTI_PATH_MAX];
    snprintf(spath, sizeof spath, "%s.source_column", path);
    json_t *src = json_object_get(o, "source_column");
    if (!src) return lti_bad(path, "missing key 'source_column'");
    const char *t = lti_type(src, spath, &st);
    if (st) return st;
    if (strcmp(t, "numeric_column")) return lti_bad(spath, "must be a numeric_column, found '%.40s'%s", t, "");
    if ((st = lti_parse_numeric(src, spath, &c->num))) return st;
    json_t *b = json_object_get(o, "boundaries");
    if (!b) return lti_bad(path, "missing key 'boundaries'");
    if (!json_is_array(b) || json_array_size(b) == 0)
        return lti_bad(path, "key 'boundaries' must be a non-empty list of numbers");
    c->nbounds = (int64_t)json_array_size(b);
    if ((st = lti_get_floats(b, "boundaries", path, c->nbounds, &c->bounds))) return st;
    for (int64_t i = 1; i < c->nbounds; i++)
        if (!(c->bounds[i - 1] < c->bounds[i]))
            return lti_bad(path, "boundaries must be strictly increasing (as float32)");
    c->kind = LTI_CAT_BUCKETIZED;
    c->num_buckets = c->num.size * (c->nbounds + 1);
    c->name = lti_strcat3(c->num.key, "_bucketized", "");
    return c->name ? LT_OK : lti_nomem();
}

static lt_status lti_parse_cat(lti_spec_ctx *ctx, json_t *o, const char *path, lti_cat **out);

static lt_status lti_parse_crossed(lti_spec_ctx *ctx, json_t *o, const char *path, lti_cat *c) {
    static const char *const keys[] = {"keys", "hash_bucket_size", "hash_key", NULL};
    lt_status st = lti_check_keys(o, path, "crossed_column", keys);
    if (!st) st = lti_get_int(o, "hash_bucket_size", path, 1, 1, &c->num_buckets);
    if (st) return st;
    c->kind = LTI_CAT_CROSSED;
    c->hash_key = 0xDECAFCAFFEULL;
    json_t *hk = json_object_get(o, "hash_key");
    if (hk && json_is_integer(hk) && json_integer_value(hk) >= 0) c->hash_key = (uint64_t)json_integer_value(hk);
    else if (hk && json_is_string(hk)) { /* for keys above 2^63: "0x..." or decimal */
        char *end;
        errno = 0;
        c->hash_key = strtoull(json_string_value(hk), &end, 0);
        if (errno || *end || end == json_string_value(hk) || json_string_value(hk)[0] == '-')
            return lti_bad(path, "key 'hash_key' must be a non-negative integer or a string like \"0xDECAFCAFFE\"");
    } else if (hk) return lti_bad(path, "key 'hash_key' must be a non-negative integer or a string like \"0xDECAFCAFFE\"");
    json_t *ks = json_object_get(o, "keys");
    if (!ks) return lti_bad(path, "missing key 'keys'");
    if (!json_is_array(ks) || json_array_size(ks) < 2)
        return lti_bad(path, "key 'keys' must be a list of at least 2 feature names or categorical columns");
    int64_t cap = 0;
    for (size_t i = 0; i < json_array_size(ks); i++) {
        json_t *k = json_array_get(ks, i);
        char kpath[LTI_PATH_MAX];
        snprintf(kpath, sizeof kpath, "%s.keys[%zu]", path, i);
        lti_cat *in = NULL;
        if (json_is_string(k)) {
            if (json_string_length(k) == 0) return lti_bad(kpath, "a feature name must not be empty");
            if (!(in = lti_cat_new(ctx)) || !(in->key = lt_strdup(json_string_value(k))) || !(in->name = lt_strdup(in->key)))
                return lti_nomem();
            in->kind = LTI_CAT_RAW;
        } else if ((st = lti_parse_cat(ctx, k, kpath, &in))) {
            return st;
        } else if (in->kind == LTI_CAT_HASH) {
            return lti_bad(kpath, "categorical_column_with_hash_bucket cannot be crossed (TensorFlow: hashing before "
                           "crossing adds collisions); cross the feature name '%.60s' instead%s", in->key, "");
        } else if (in->kind == LTI_CAT_WEIGHTED) {
            return lti_bad(kpath, "weighted_categorical_column cannot be crossed");
        }
        /* a nested crossed column contributes its leaves, as TF's _collect_leaf_level_keys */
        int64_t nleaf = in->kind == LTI_CAT_CROSSED ? in->ninputs : 1;
        if (c->ninputs + nleaf > LTI_FEAT_MAX_CROSS_INPUTS)
            return lti_bad(path, "a crossed column takes at most %d inputs", LTI_FEAT_MAX_CROSS_INPUTS);
        if (!lti_grow((void **)&c->inputs, &cap, c->ninputs + nleaf, sizeof *c->inputs)) return lti_nomem();
        for (int64_t j = 0; j < nleaf; j++) c->inputs[c->ninputs++] = in->kind == LTI_CAT_CROSSED ? in->inputs[j] : in;
    }
    /* name: the sorted leaf names joined by "_X_" */
    const char **names = lt_malloc(sizeof(char *) * (size_t)c->ninputs);
    if (!names) return lti_nomem();
    size_t total = 1;
    for (int64_t i = 0; i < c->ninputs; i++) {
        const char *s = c->inputs[i]->name;
        int64_t j = i;
        for (; j > 0 && strcmp(names[j - 1], s) > 0; j--) names[j] = names[j - 1];
        names[j] = s;
        total += strlen(s) + 3;
    }
    c->name = lt_malloc(total);
    if (c->name) {
        c->name[0] = 0;
        for (int64_t i = 0; i < c->ninputs; i++) {
            if (i) strcat(c->name, "_X_");
            strcat(c->name, names[i]);
        }
    }
    lt_free(names);
    return c->name ? LT_OK : lti_nomem();
}

static lt_status lti_parse_cat(lti_spec_ctx *ctx, json_t *o, const char *path, lti_cat **out) {
    lt_status st;
    const char *t = lti_type(o, path, &st);
    if (st) return st;
    lti_cat *c = lti_cat_new(ctx);
    if (!c) return lti_nomem();
    *out = c;
    const char *key = NULL;
    if (!strcmp(t, "categorical_column_with_identity")) {
        static const char *const keys[] = {"key", "num_buckets", "default_value", NULL};
        c->kind = LTI_CAT_IDENTITY;
        if (!(st = lti_check_keys(o, path, t, keys)) && !(st = lti_get_str(o, "key", path, 1, &key)) &&
            !(st = lti_get_int(o, "num_buckets", path, 1, 1, &c->num_buckets)) &&
            !(st = lti_get_int(o, "default_value", path, 0, 0, &c->default_value)) && c->default_value >= c->num_buckets)
            st = lti_bad(path, "default_value must lie in [0, num_buckets)");
    } else if (!strcmp(t, "categorical_column_with_vocabulary_list") ||
               !strcmp(t, "categorical_column_with_vocabulary_file")) {
        int is_file = !strcmp(t, "categorical_column_with_vocabulary_file");
        static const char *const lkeys[] = {"key", "vocabulary_list", "num_oov_buckets", "default_value", NULL};
        static const char *const fkeys[] = {"key", "vocabulary_file", "vocabulary_size", "dtype", "num_oov_buckets",
                                            "default_value", NULL};
        c->kind = LTI_CAT_VOCAB;
        int64_t size = -1;
        const char *file = NULL, *dtype = NULL;
        if (!(st = lti_check_keys(o, path, t, is_file ? fkeys : lkeys)) && !(st = lti_get_str(o, "key", path, 1, &key)) &&
            !(st = lti_get_int(o, "num_oov_buckets", path, 0, 0, &c->num_oov)) &&
            !(st = lti_get_int(o, "default_value", path, 0, -1, &c->default_value))) {
            if (c->num_oov > ((int64_t)1 << 40))
                st = lti_bad(path, "key 'num_oov_buckets' must be at most 2^40");
            else if (c->num_oov > 0 && json_object_get(o, "default_value"))
                st = lti_bad(path, "give num_oov_buckets or default_value, not both (as TensorFlow)");
            else if (!is_file) {
                json_t *l = json_object_get(o, "vocabulary_list");
                st = l ? lti_vocab_list(c, l, path) : lti_bad(path, "missing key 'vocabulary_list'");
            } else if (!(st = lti_get_str(o, "vocabulary_file", path, 1, &file)) &&
                       !(st = lti_get_int(o, "vocabulary_size", path, 0, 1, &size)) &&
                       !(st = lti_get_str(o, "dtype", path, 0, &dtype))) {
                if (dtype && strcmp(dtype, "string") && strcmp(dtype, "int64"))
                    st = lti_bad(path, "key 'dtype' must be \"string\" or \"int64\", found '%.40s'%s", dtype, "");
                else {
                    c->vocab_int = dtype && !strcmp(dtype, "int64");
                    st = lti_vocab_file(ctx, c, file, size, path);
                }
            }
        }
        if (!st && c->default_value >= c->vocab_size)
            st = lti_bad(path, "default_value must be -1 or lie in [0, vocabulary size)");
        c->num_buckets = c->vocab_size + c->num_oov;
    } else if (!strcmp(t, "categorical_column_with_hash_bucket")) {
        static const char *const keys[] = {"key", "hash_bucket_size", "dtype", NULL};
        const char *dtype = NULL;
        c->kind = LTI_CAT_HASH;
        if (!(st = lti_check_keys(o, path, t, keys)) && !(st = lti_get_str(o, "key", path, 1, &key)) &&
            !(st = lti_get_int(o, "hash_bucket_size", path, 1, 1, &c->num_buckets)) &&
            !(st = lti_get_str(o, "dtype", path, 0, &dtype)) && dtype && strcmp(dtype, "string") && strcmp(dtype, "int64"))
            st = lti_bad(path, "key 'dtype' must be \"string\" or \"int64\", found '%.40s'%s", dtype, "");
    } else if (!strcmp(t, "bucketized_column")) {
        return lti_parse_bucketized(o, path, c);
    } else if (!strcmp(t, "crossed_column")) {
        return lti_parse_crossed(ctx, o, path, c);
    } else if (!strcmp(t, "weighted_categorical_column")) {
        static const char *const keys[] = {"categorical_column", "weight_feature_key", "dtype", NULL};
        const char *wk = NULL;
        char bpath[LTI_PATH_MAX];
        snprintf(bpath, sizeof bpath, "%s.categorical_column", path);
        c->kind = LTI_CAT_WEIGHTED;
        c->weighted = 1;
        json_t *b = json_object_get(o, "categorical_column");
        if ((st = lti_check_keys(o, path, t, keys)) || (st = lti_get_str(o, "weight_feature_key", path, 1, &wk))) return st;
        if (!b) return lti_bad(path, "missing key 'categorical_column'");
        if ((st = lti_parse_cat(ctx, b, bpath, &c->base))) return st;
        if (c->base->kind == LTI_CAT_WEIGHTED) return lti_bad(bpath, "is already weighted");
        c->num_buckets = c->base->num_buckets;
        if (!(c->weight_key = lt_strdup(wk)) || !(c->name = lti_strcat3(c->base->name, "_weighted_by_", wk)))
            return lti_nomem();
        return LT_OK;
    } else if (!strcmp(t, "numeric_column") || !strcmp(t, "indicator_column") || !strcmp(t, "embedding_column") ||
               !strcmp(t, "shared_embedding_columns")) {
        return lti_bad(path, "expected a categorical column, found %s%s", t, "");
    } else {
        return lti_bad(path, "unknown column type '%.60s'%s", t, "");
    }
    if (!st && (!(c->key = lt_strdup(key)) || !(c->name = lt_strdup(key)))) st = lti_nomem();
    return st;
}

static lt_status lti_add_table(lti_spec_ctx *ctx, const char *name, int64_t rows, int64_t dim, const char *path,
                               int64_t *index) {
    lt_features *f = ctx->f;
    if (strlen(name) + 9 >= LT_PARAM_NAME_MAX)
        return lti_bad(path, "embedding table name 'features/%.80s' is longer than %s characters", name, "63");
    if (rows > ((int64_t)1 << 31) || dim > ((int64_t)1 << 31) || (uint64_t)rows * (uint64_t)dim > ((uint64_t)1 << 31))
        return lti_bad(path, "embedding table '%.80s' would hold more than 2^31 values%s", name, "");
    if (!lti_grow((void **)&f->tables, &f->cap_tables, f->ntables + 1, sizeof *f->tables)) return lti_nomem();
    lti_table *t = &f->tables[f->ntables];
    memset(t, 0, sizeof *t);
    if (!(t->name = lti_strcat3("features/", name, ""))) return lti_nomem();
    t->rows = rows;
    t->dim = dim;
    *index = f->ntables++;
    return LT_OK;
}

static lt_status lti_parse_combiner(json_t *o, const char *path, lti_combiner *out) {
    const char *cb = "mean";
    lt_status st = lti_get_str(o, "combiner", path, 0, &cb);
    if (st) return st;
    if (!strcmp(cb, "mean")) *out = LTI_COMB_MEAN;
    else if (!strcmp(cb, "sum")) *out = LTI_COMB_SUM;
    else if (!strcmp(cb, "sqrtn")) *out = LTI_COMB_SQRTN;
    else return lti_bad(path, "key 'combiner' must be \"mean\", \"sum\" or \"sqrtn\", found '%.40s'%s", cb, "");
    return LT_OK;
}

/* A top-level column: one dense output column (several for shared embeddings). */
static lt_status lti_parse_dense(lti_spec_ctx *ctx, json_t *o, const char *path) {
    lt_status st;
    const char *t = lti_type(o, path, &st);
    if (st) return st;
    char sub[LTI_PATH_MAX];
    if (!strcmp(t, "numeric_column")) {
        lti_col *col = lti_col_new(ctx);
        if (!col) return lti_nomem();
        col->kind = LTI_COL_NUMERIC;
        if ((st = lti_parse_numeric(o, path, &col->num))) return st;
        col->width = col->num.size;
        return (col->name = lt_strdup(col->num.key)) ? LT_OK : lti_nomem();
    }
    if (!strcmp(t, "bucketized_column")) {
        lti_col *col = lti_col_new(ctx);
        if (!col) return lti_nomem();
        col->kind = LTI_COL_BUCKETIZED;
        if ((st = lti_parse_cat(ctx, o, path, &col->cat))) return st;
        col->width = col->cat->num_buckets;
        return (col->name = lt_strdup(col->cat->name)) ? LT_OK : lti_nomem();
    }
    if (!strcmp(t, "indicator_column") || !strcmp(t, "embedding_column")) {
        int emb = !strcmp(t, "embedding_column");
        static const char *const ikeys[] = {"categorical_column", NULL};
        static const char *const ekeys[] = {"categorical_column", "dimension", "combiner", NULL};
        lti_col *col = lti_col_new(ctx);
        if (!col) return lti_nomem();
        int64_t c_index = col - ctx->f->cols; /* cols may move while the categorical parses */
        if ((st = lti_check_keys(o, path, t, emb ? ekeys : ikeys))) return st;
        json_t *cj = json_object_get(o, "categorical_column");
        if (!cj) return lti_bad(path, "missing key 'categorical_column'");
        snprintf(sub, sizeof sub, "%s.categorical_column", path);
        lti_cat *cat;
        if ((st = lti_parse_cat(ctx, cj, sub, &cat))) return st;
        col = &ctx->f->cols[c_index];
        col->cat = cat;
        if (!emb) {
            col->kind = LTI_COL_INDICATOR;
            col->width = cat->num_buckets;
            return (col->name = lti_strcat3(cat->name, "_indicator", "")) ? LT_OK : lti_nomem();
        }
        col->kind = LTI_COL_EMBEDDING;
        if ((st = lti_get_int(o, "dimension", path, 1, 1, &col->width)) || (st = lti_parse_combiner(o, path, &col->combiner)))
            return st;
        if (!(col->name = lti_strcat3(cat->name, "_embedding", ""))) return lti_nomem();
        return lti_add_table(ctx, col->name, cat->num_buckets, col->width, path, &col->table);
    }
    if (!strcmp(t, "shared_embedding_columns")) {
        static const char *const keys[] = {"categorical_columns", "dimension", "combiner",
                                           "shared_embedding_collection_name", NULL};
        int64_t dim = 0;
        lti_combiner comb = LTI_COMB_MEAN;
        const char *coll = NULL;
        if ((st = lti_check_keys(o, path, t, keys)) || (st = lti_get_int(o, "dimension", path, 1, 1, &dim)) ||
            (st = lti_parse_combiner(o, path, &comb)) ||
            (st = lti_get_str(o, "shared_embedding_collection_name", path, 0, &coll)))
            return st;
        json_t *cs = json_object_get(o, "categorical_columns");
        if (!cs) return lti_bad(path, "missing key 'categorical_columns'");
        if (!json_is_array(cs) || json_array_size(cs) < 1)
            return lti_bad(path, "key 'categorical_columns' must be a non-empty list of categorical columns");
        int64_t first = ctx->f->ncols, n = (int64_t)json_array_size(cs);
        for (int64_t i = 0; i < n; i++) {
            snprintf(sub, sizeof sub, "%s.categorical_columns[%lld]", path, (long long)i);
            lti_cat *cat;
            if ((st = lti_parse_cat(ctx, json_array_get(cs, (size_t)i), sub, &cat))) return st;
            if (i && cat->num_buckets != ctx->f->cols[first].cat->num_buckets)
                return lti_bad(sub, "all categorical_columns of shared_embedding_columns need the same number of "
                                    "buckets (%s has a different one)%s", cat->name, "");
            lti_col *col = lti_col_new(ctx);
            if (!col) return lti_nomem();
            col->kind = LTI_COL_EMBEDDING;
            col->cat = cat;
            col->width = dim;
            col->combiner = comb;
            if (!(col->name = lti_strcat3(cat->name, "_shared_embedding", ""))) return lti_nomem();
        }
        /* default collection name: the sorted categorical names joined by "_" */
        char name[LT_PARAM_NAME_MAX * 4] = "";
        if (coll) snprintf(name, sizeof name, "%s", coll);
        else {
            const char *prev = "";
            for (int64_t k = 0; k < n; k++) { /* selection by repeated minimum: n is small */
                const char *best = NULL;
                for (int64_t i = first; i < first + n; i++) {
                    const char *s = ctx->f->cols[i].cat->name;
                    if (strcmp(s, prev) > 0 && (!best || strcmp(s, best) < 0)) best = s;
                }
                if (!best) break;
                size_t used = strlen(name);
                snprintf(name + used, sizeof name - used, "%s%s", k ? "_" : "", best);
                prev = best;
            }
            size_t used = strlen(name);
            snprintf(name + used, sizeof name - used, "_shared_embedding");
        }
        int64_t table;
        if ((st = lti_add_table(ctx, name, ctx->f->cols[first].cat->num_buckets, dim, path, &table))) return st;
        for (int64_t i = first; i < first + n; i++) ctx->f->cols[i].table = table;
        return LT_OK;
    }
    if (!strncmp(t, "categorical_column_with_", 24) || !strcmp(t, "crossed_column") ||
        !strcmp(t, "weighted_categorical_column"))
        return lti_bad(path, "%s is categorical: wrap it in an indicator_column or embedding_column (as for "
                             "TensorFlow's input_layer)%s", t, "");
    return lti_bad(path, "unknown column type '%.60s'%s", t, "");
}

static int lti_col_cmp(const void *a, const void *b) {
    return strcmp(((const lti_col *)a)->name, ((const lti_col *)b)->name);
}

lt_status lt_features_parse(const char *json, size_t len, const char *base_dir, lt_features **out) {
    *out = NULL;
    json_error_t err;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return lt_fail(LT_ERR_ARG, "feature spec: line %d column %d: %s", err.line, err.column, err.text);
    lt_features *f = lt_calloc(1, sizeof *f);
    if (!f) { json_decref(root); return lti_nomem(); }
    lti_spec_ctx ctx = {f, base_dir};
    lt_status st = LT_OK;
    json_t *cols = json_is_object(root) ? json_object_get(root, "columns") : NULL;
    if (!json_is_object(root) || !json_is_array(cols) || json_array_size(cols) == 0)
        st = lt_fail(LT_ERR_ARG, "feature spec: expected an object {\"columns\": [...]} with at least one column");
    else if (json_object_size(root) != 1)
        st = lt_fail(LT_ERR_ARG, "feature spec: the top-level object takes only the key 'columns'");
    for (size_t i = 0; !st && i < json_array_size(cols); i++) {
        char path[LTI_PATH_MAX];
        snprintf(path, sizeof path, "columns[%zu]", i);
        st = lti_parse_dense(&ctx, json_array_get(cols, i), path);
    }
    json_decref(root);
    if (!st) {
        qsort(f->cols, (size_t)f->ncols, sizeof *f->cols, lti_col_cmp);
        for (int64_t i = 0; i < f->ncols && !st; i++) {
            if (i && !strcmp(f->cols[i - 1].name, f->cols[i].name))
                st = lt_fail(LT_ERR_ARG, "feature spec: two columns are named '%s' (names must be unique, as in "
                             "TensorFlow)", f->cols[i].name);
            f->cols[i].offset = f->width;
            if (f->cols[i].width > ((int64_t)1 << 31) - f->width)
                st = lt_fail(LT_ERR_ARG, "feature spec: more than 2^31 output values (column '%s' has %lld)",
                             f->cols[i].name, (long long)f->cols[i].width);
            else f->width += f->cols[i].width;
        }
    }
    if (st) { lt_features_free(f); return st; }
    *out = f;
    return LT_OK;
}

lt_status lt_features_load(const char *path, lt_features **out) {
    *out = NULL;
    char *buf;
    size_t n;
    lt_status st = lti_read_file(path, "feature spec", &buf, &n);
    if (st) return st;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    st = lt_features_parse(buf, n, slash ? dir : ".", out);
    lt_free(buf);
    return st ? lt_fail_context(st, "%s: ", path) : LT_OK;
}

void lti_numeric_free(lti_numeric *n) {
    lt_free(n->key);
    lt_free(n->def);
    lt_free(n->norm_a);
    lt_free(n->norm_b);
}

void lt_features_free(lt_features *f) {
    if (!f) return;
    for (int64_t i = 0; i < f->ncats; i++) {
        lti_cat *c = f->cats[i];
        lt_free(c->name);
        lt_free(c->key);
        for (int64_t j = 0; c->vocab_str && j < c->vocab_size; j++) lt_free(c->vocab_str[j]);
        lt_free(c->vocab_str);
        lt_free(c->vocab_len);
        lt_free(c->vocab_i64);
        lt_free(c->table);
        lti_numeric_free(&c->num);
        lt_free(c->bounds);
        lt_free(c->inputs);
        lt_free(c->weight_key);
        lt_free(c);
    }
    lt_free(f->cats);
    for (int64_t i = 0; i < f->ncols; i++) {
        lt_free(f->cols[i].name);
        lti_numeric_free(&f->cols[i].num);
    }
    lt_free(f->cols);
    for (int64_t i = 0; i < f->ntables; i++) lt_free(f->tables[i].name);
    lt_free(f->tables);
    lt_free(f);
}
