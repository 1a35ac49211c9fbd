/* safetensors reader and writer (format: see safetensors.h and
 * https://github.com/huggingface/safetensors). The writer lays tensors out
 * contiguously in the given order and pads the header with spaces so the data
 * section starts on an 8-byte boundary, as the reference implementation does.
 * The reader checks every field before handing out a pointer into the file:
 * a truncated or hostile file gives LT_ERR_FORMAT and a message naming the
 * file, the tensor and what is wrong. Little-endian hosts only. */
#include "io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

#define LTI_ST_MAX_HEADER (100LL * 1000 * 1000) /* the reference implementation's limit */

static const char *lti_dtype_names[] = {"F32", "I64", "U8"};
static const int64_t lti_dtype_size[] = {4, 8, 1};

/* Owned by an lt_st_file (its `json` field). */
typedef struct lti_st_internal {
    json_t *root;      /* keeps the name and metadata strings alive */
    void *raw;         /* allocation holding the image */
} lti_st_internal;

/* ---------------------------------------------------------------- writing */

static lt_status lti_entry_bytes(const char *path, const lt_st_entry *e, int64_t *bytes) {
    if (e->dtype < LT_ST_F32 || e->dtype > LT_ST_U8)
        return lt_fail(LT_ERR_ARG, "%s: tensor '%s': unknown dtype %d", path, e->name, (int)e->dtype);
    if (e->ndim < 0 || e->ndim > LT_MAX_DIMS)
        return lt_fail(LT_ERR_ARG, "%s: tensor '%s': %d dims (0 to %d supported)", path, e->name, e->ndim, LT_MAX_DIMS);
    int64_t n = lti_dtype_size[e->dtype];
    for (int d = 0; d < e->ndim; d++) {
        if (e->shape[d] < 0 || (e->shape[d] && n > INT64_MAX / e->shape[d]))
            return lt_fail(LT_ERR_ARG, "%s: tensor '%s': bad dimension %lld", path, e->name, (long long)e->shape[d]);
        n *= e->shape[d];
    }
    if (n > 0 && !e->data) return lt_fail(LT_ERR_ARG, "%s: tensor '%s': no data", path, e->name);
    *bytes = n;
    return LT_OK;
}

/* The header JSON, padded with spaces to a multiple of 8 bytes (malloc'd, via *len). */
static lt_status lti_build_header(const char *path, const lt_st_entry *entries, int64_t n, const lt_st_kv *meta,
                                  int64_t n_meta, char **out, size_t *len) {
    lt_status st = LT_OK;
    json_t *root = json_object();
    if (!root) return lt_fail(LT_ERR_NOMEM, "%s: out of memory building the header", path);
    if (n_meta > 0) {
        json_t *m = json_object();
        if (!m || json_object_set_new(root, "__metadata__", m)) { st = LT_ERR_NOMEM; goto done; }
        for (int64_t i = 0; i < n_meta; i++) {
            if (!meta[i].key || !meta[i].value) {
                st = lt_fail(LT_ERR_ARG, "%s: metadata entry %lld has no key or value", path, (long long)i);
                goto done;
            }
            if (json_object_get(m, meta[i].key)) {
                st = lt_fail(LT_ERR_ARG, "%s: metadata key '%s' appears twice", path, meta[i].key);
                goto done;
            }
            if (json_object_set_new(m, meta[i].key, json_string(meta[i].value))) {
                st = lt_fail(LT_ERR_ARG, "%s: metadata '%s' is not valid UTF-8", path, meta[i].key);
                goto done;
            }
        }
    }
    int64_t offset = 0;
    for (int64_t i = 0; i < n; i++) {
        const lt_st_entry *e = &entries[i];
        if (!e->name || !e->name[0] || strcmp(e->name, "__metadata__") == 0) {
            st = lt_fail(LT_ERR_ARG, "%s: tensor %lld has an empty or reserved name", path, (long long)i);
            goto done;
        }
        if (json_object_get(root, e->name)) {
            st = lt_fail(LT_ERR_ARG, "%s: tensor '%s' appears twice", path, e->name);
            goto done;
        }
        int64_t bytes;
        if ((st = lti_entry_bytes(path, e, &bytes))) goto done;
        json_t *shape = json_array();
        for (int d = 0; d < e->ndim && shape; d++) json_array_append_new(shape, json_integer(e->shape[d]));
        json_t *t = json_pack("{s:s, s:o, s:[I,I]}", "dtype", lti_dtype_names[e->dtype], "shape", shape,
                              "data_offsets", (json_int_t)offset, (json_int_t)(offset + bytes));
        if (!t || json_object_set_new(root, e->name, t)) {
            st = lt_fail(LT_ERR_ARG, "%s: tensor '%s': cannot encode (name not UTF-8, or out of memory)", path, e->name);
            goto done;
        }
        offset += bytes;
    }
    char *s = json_dumps(root, JSON_COMPACT);
    if (!s) { st = LT_ERR_NOMEM; goto done; }
    size_t l = strlen(s), padded = (l + 7) & ~(size_t)7;
    *out = lt_malloc(padded);
    if (!*out) { free(s); st = LT_ERR_NOMEM; goto done; }
    memcpy(*out, s, l);
    memset(*out + l, ' ', padded - l);
    *len = padded;
    free(s);
done:
    json_decref(root);
    if (st == LT_ERR_NOMEM) lt_fail(LT_ERR_NOMEM, "%s: out of memory building the header", path);
    return st;
}

/* Makes the rename durable; best effort (some file systems refuse fsync on directories). */
static void lti_sync_dir(const char *path) {
    char *copy = lt_strdup(path);
    if (!copy) return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) { fsync(fd); close(fd); }
    lt_free(copy);
}

lt_status lt_safetensors_write(const char *path, const lt_st_entry *entries, int64_t n, const lt_st_kv *meta,
                               int64_t n_meta) {
    char *header = NULL;
    size_t hlen = 0;
    lt_status st = lti_build_header(path, entries, n, meta, n_meta, &header, &hlen);
    if (st) return st;
    size_t plen = strlen(path);
    char *tmp = lt_malloc(plen + 5);
    if (!tmp) { lt_free(header); return lt_fail(LT_ERR_NOMEM, "%s: out of memory", path); }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);

    FILE *f = fopen(tmp, "wb");
    if (!f) {
        st = lt_fail(LT_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        goto out;
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(header, 1, hlen, f) == hlen;
    for (int64_t i = 0; i < n && ok; i++) {
        int64_t bytes = 0;
        lti_entry_bytes(path, &entries[i], &bytes); /* validated while building the header */
        ok = bytes == 0 || fwrite(entries[i].data, 1, (size_t)bytes, f) == (size_t)bytes;
    }
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int err = errno;
    if (fclose(f) != 0 && ok) { ok = 0; err = errno; }
    if (!ok) {
        st = lt_fail(LT_ERR_IO, "%s: writing %s failed: %s", path, tmp, strerror(err));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        st = lt_fail(LT_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    lti_sync_dir(path);
out:
    lt_free(tmp);
    lt_free(header);
    return st;
}

/* ---------------------------------------------------------------- reading */

/* Reads the whole file so that the data section (at 8 + header length) starts
 * 64-byte aligned in memory. */
static lt_status lti_read_image(const char *path, lt_st_file *out, lti_st_internal *in) {
    FILE *f = fopen(path, "rb");
    if (!f) return lt_fail(LT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return lt_fail(LT_ERR_IO, "%s: not a regular file", path);
    }
    int64_t size = (int64_t)sb.st_size;
    unsigned char len8[8] = {0};
    size_t got = fread(len8, 1, 8, f);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)len8[i] << (8 * i);
    size_t shift = got == 8 ? (size_t)((64 - (8 + hlen) % 64) % 64) : 0;
    in->raw = lt_malloc((size_t)size + 128); /* room to align the base and shift */
    if (!in->raw) { fclose(f); return lt_fail(LT_ERR_NOMEM, "%s: out of memory for %lld bytes", path, (long long)size); }
    uintptr_t base = ((uintptr_t)in->raw + 63) & ~(uintptr_t)63;
    out->image = (unsigned char *)base + shift;
    memcpy(out->image, len8, got);
    if (size > (int64_t)got && fread(out->image + got, 1, (size_t)size - got, f) != (size_t)size - got) {
        int err = ferror(f) ? errno : 0;
        fclose(f);
        return lt_fail(LT_ERR_IO, "%s: read failed: %s", path, err ? strerror(err) : "file shrank while reading");
    }
    fclose(f);
    out->size = size;
    return LT_OK;
}

static int lti_dtype_parse(const char *s) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, lti_dtype_names[i]) == 0) return i;
    return -1;
}

/* Validates one tensor's header entry against a data section of `data_size` bytes. */
static lt_status lti_parse_entry(const char *path, const char *name, json_t *v, int64_t data_size, lt_st_entry *e,
                                 int64_t *begin, int64_t *end) {
    if (!json_is_object(v)) return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': header entry is not an object", path, name);
    json_t *dt = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape"), *off = json_object_get(v, "data_offsets");
    if (!json_is_string(dt)) return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': missing or non-string dtype", path, name);
    int dtype = lti_dtype_parse(json_string_value(dt));
    if (dtype < 0)
        return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s' (supported: F32, I64, U8)", path, name,
                       json_string_value(dt));
    if (!json_is_array(shape))
        return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': shape is not a list of non-negative integers", path, name);
    size_t nd = json_array_size(shape);
    if (nd > LT_MAX_DIMS)
        return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': shape has %zu dims (at most %d supported)", path, name, nd,
                       LT_MAX_DIMS);
    int64_t bytes = lti_dtype_size[dtype];
    memset(e, 0, sizeof *e);
    for (size_t d = 0; d < nd; d++) {
        json_t *x = json_array_get(shape, d);
        if (!json_is_integer(x) || json_integer_value(x) < 0)
            return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': shape is not a list of non-negative integers (entry %zu)",
                           path, name, d);
        int64_t s = json_integer_value(x);
        if (s && bytes > INT64_MAX / s)
            return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': shape is too large", path, name);
        bytes *= s;
        e->shape[d] = s;
    }
    if (!json_is_array(off) || json_array_size(off) != 2 || !json_is_integer(json_array_get(off, 0)) ||
        !json_is_integer(json_array_get(off, 1)))
        return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': data_offsets is not [begin, end]", path, name);
    int64_t b = json_integer_value(json_array_get(off, 0)), en = json_integer_value(json_array_get(off, 1));
    if (b < 0 || en < b)
        return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] is not [begin, end] with "
                       "0 <= begin <= end", path, name, (long long)b, (long long)en);
    if (en - b != bytes)
        return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] span %lld bytes, but dtype %s and "
                       "the shape need %lld", path, name, (long long)b, (long long)en, (long long)(en - b),
                       lti_dtype_names[dtype], (long long)bytes);
    if (en > data_size)
        return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] lie outside the data section "
                       "(%lld bytes)", path, name, (long long)b, (long long)en, (long long)data_size);
    e->name = name;
    e->dtype = (lt_st_dtype)dtype;
    e->ndim = (int)nd;
    *begin = b;
    *end = en;
    return LT_OK;
}

typedef struct lti_span { int64_t begin, end, idx; } lti_span;

static int lti_span_cmp(const void *a, const void *b) {
    const lti_span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static lt_status lti_parse_header(const char *path, lt_st_file *out, lti_st_internal *in) {
    if (out->size < 8)
        return lt_fail(LT_ERR_FORMAT, "%s: file too short (%lld bytes): a safetensors file starts with an 8-byte "
                       "header length", path, (long long)out->size);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)out->image[i] << (8 * i);
    if (hlen > (uint64_t)LTI_ST_MAX_HEADER)
        return lt_fail(LT_ERR_FORMAT, "%s: header length %llu exceeds the 100 MB limit", path, (unsigned long long)hlen);
    if (hlen > (uint64_t)(out->size - 8))
        return lt_fail(LT_ERR_FORMAT, "%s: header length %llu exceeds the file size (%lld bytes after the length)",
                       path, (unsigned long long)hlen, (long long)(out->size - 8));
    json_error_t jerr;
    in->root = json_loadb((const char *)out->image + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!in->root) {
        if (strncmp(jerr.text, "duplicate object key", 20) == 0)
            return lt_fail(LT_ERR_FORMAT, "%s: duplicate tensor name or metadata key in the header (%s)", path, jerr.text);
        return lt_fail(LT_ERR_FORMAT, "%s: header is not valid JSON: %s (header byte %d)", path, jerr.text,
                       jerr.position);
    }
    if (!json_is_object(in->root)) return lt_fail(LT_ERR_FORMAT, "%s: header is not a JSON object", path);

    int64_t data_size = out->size - 8 - (int64_t)hlen;
    const unsigned char *data = out->image + 8 + hlen;
    size_t cap = json_object_size(in->root);
    out->entries = lt_calloc(cap ? cap : 1, sizeof *out->entries);
    lti_span *spans = lt_calloc(cap ? cap : 1, sizeof *spans);
    lt_st_entry *tmp = lt_calloc(cap ? cap : 1, sizeof *tmp);
    if (!out->entries || !spans || !tmp) {
        lt_free(spans);
        lt_free(tmp);
        return lt_fail(LT_ERR_NOMEM, "%s: out of memory reading the header", path);
    }
    lt_status st = LT_OK;
    const char *key;
    json_t *v;
    int64_t n = 0;
    json_object_foreach(in->root, key, v) {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(v)) { st = lt_fail(LT_ERR_FORMAT, "%s: __metadata__ is not an object", path); break; }
            out->meta = lt_calloc(json_object_size(v) + 1, sizeof *out->meta);
            if (!out->meta) { st = lt_fail(LT_ERR_NOMEM, "%s: out of memory", path); break; }
            const char *mk;
            json_t *mv;
            json_object_foreach(v, mk, mv) {
                if (!json_is_string(mv)) { st = lt_fail(LT_ERR_FORMAT, "%s: __metadata__ key '%s': value is not a string", path, mk); break; }
                out->meta[out->n_meta].key = mk;
                out->meta[out->n_meta++].value = json_string_value(mv);
            }
            if (st) break;
            continue;
        }
        if ((st = lti_parse_entry(path, key, v, data_size, &tmp[n], &spans[n].begin, &spans[n].end))) break;
        tmp[n].data = data + spans[n].begin;
        spans[n].idx = n;
        n++;
    }
    if (!st) {
        /* Entries in file order; no two non-empty entries may share a byte. */
        qsort(spans, (size_t)n, sizeof *spans, lti_span_cmp);
        int64_t prev = -1;
        for (int64_t i = 0; i < n && !st; i++) {
            const lti_span *s = &spans[i];
            if (s->end > s->begin && prev >= 0 && s->begin < spans[prev].end)
                st = lt_fail(LT_ERR_FORMAT, "%s: tensors '%s' [%lld, %lld) and '%s' [%lld, %lld) overlap", path,
                             tmp[spans[prev].idx].name, (long long)spans[prev].begin, (long long)spans[prev].end,
                             tmp[s->idx].name, (long long)s->begin, (long long)s->end);
            if (s->end > s->begin) prev = i;
            out->entries[i] = tmp[s->idx];
        }
        out->n = n;
    }
    lt_free(spans);
    lt_free(tmp);
    return st;
}

lt_status lt_safetensors_read(const char *path, lt_st_file *out) {
    memset(out, 0, sizeof *out);
    lti_st_internal *in = lt_calloc(1, sizeof *in);
    if (!in) return lt_fail(LT_ERR_NOMEM, "%s: out of memory", path);
    out->json = in;
    lt_status st = lti_read_image(path, out, in);
    if (!st) st = lti_parse_header(path, out, in);
    if (st) lt_safetensors_close(out);
    return st;
}

void lt_safetensors_close(lt_st_file *f) {
    lti_st_internal *in = f->json;
    if (in) {
        if (in->root) json_decref(in->root);
        lt_free(in->raw);
        lt_free(in);
    }
    lt_free(f->entries);
    lt_free(f->meta);
    memset(f, 0, sizeof *f);
}

const lt_st_entry *lt_safetensors_find(const lt_st_file *f, const char *name) {
    for (int64_t i = 0; i < f->n; i++)
        if (strcmp(f->entries[i].name, name) == 0) return &f->entries[i];
    return NULL;
}

const char *lt_safetensors_meta(const lt_st_file *f, const char *key) {
    for (int64_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[i].key, key) == 0) return f->meta[i].value;
    return NULL;
}
