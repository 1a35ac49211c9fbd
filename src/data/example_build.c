/* The Example / SequenceExample encoder: canonical protobuf 3 bytes, the way Google's
 * runtime serializes (fields in number order, packed floats and int64s, no empty packed
 * fields). Nested messages are written body first and their length varint is then
 * slid in front (a memmove per level; records are small). */
#include <string.h>

#include "core/alloc.h"
#include "data/example.h"
#include "data/example_wire.h"

void lt_ex_builder_init(lt_ex_builder *b) { memset(b, 0, sizeof *b); }

void lt_ex_builder_free(lt_ex_builder *b) {
    lt_free(b->buf);
    memset(b, 0, sizeof *b);
}

void lt_ex_builder_begin(lt_ex_builder *b, int sequence) {
    b->len = 0;
    b->depth = 0;
    b->sequence = sequence;
    b->section = 0;
    b->in_list = 0;
    b->entries = 0;
    b->err = LT_OK;
}

static int lti_reserve(lt_ex_builder *b, int64_t n) {
    if (b->err) return 0;
    if (b->len + n <= b->cap) return 1;
    int64_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + n) ncap *= 2;
    uint8_t *nb = lt_realloc(b->buf, (size_t)ncap);
    if (!nb) {
        b->err = lt_fail(LT_ERR_NOMEM, "no memory for a %lld-byte Example", (long long)ncap);
        return 0;
    }
    b->buf = nb;
    b->cap = ncap;
    return 1;
}

static int lti_varint_size(uint64_t v) {
    int n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

static void lti_put_varint(lt_ex_builder *b, uint64_t v) {
    if (!lti_reserve(b, 10)) return;
    while (v >= 0x80) { b->buf[b->len++] = (uint8_t)(v | 0x80); v >>= 7; }
    b->buf[b->len++] = (uint8_t)v;
}

static void lti_put_raw(lt_ex_builder *b, const void *p, int64_t n) {
    if (!lti_reserve(b, n)) return;
    if (n) memcpy(b->buf + b->len, p, (size_t)n);
    b->len += n;
}

static void lti_open(lt_ex_builder *b, uint32_t field) {
    if (b->depth == (int)(sizeof b->open / sizeof b->open[0])) {
        if (!b->err) b->err = lt_fail(LT_ERR_INTERNAL, "Example builder nested too deep");
        return;
    }
    lti_put_varint(b, (uint64_t)field << 3 | LTI_WT_LEN);
    b->open[b->depth++] = b->len;
}

static void lti_close(lt_ex_builder *b) {
    if (b->depth == 0) return;
    int64_t start = b->open[--b->depth], body = b->len - start;
    int k = lti_varint_size((uint64_t)body);
    if (!lti_reserve(b, k)) return;
    memmove(b->buf + start + k, b->buf + start, (size_t)body);
    int64_t save = b->len;
    b->len = start;
    lti_put_varint(b, (uint64_t)body);
    b->len = save + k;
}

static void lti_put_bytes_field(lt_ex_builder *b, uint32_t field, const void *p, int64_t n) {
    lti_put_varint(b, (uint64_t)field << 3 | LTI_WT_LEN);
    lti_put_varint(b, (uint64_t)n);
    lti_put_raw(b, p, n);
}

/* Opens the map entry (or FeatureList step) a feature goes into, then its Feature. */
static lt_status lti_feature_begin(lt_ex_builder *b, const char *key) {
    if (b->err) return b->err;
    if (b->in_list) { /* FeatureList.feature = 1 */
        lti_open(b, 1);
        return b->err;
    }
    if (!key) return b->err = lt_fail(LT_ERR_ARG, "a feature needs a name outside a feature list");
    if (b->section == 2)
        return b->err = lt_fail(LT_ERR_ARG, "feature '%s': context features must come before feature lists", key);
    if (b->section == 0) {
        lti_open(b, 1); /* Example.features / SequenceExample.context */
        b->section = 1;
    }
    lti_open(b, 1); /* Features.feature map entry */
    lti_put_bytes_field(b, 1, key, (int64_t)strlen(key));
    lti_open(b, 2); /* its value: a Feature */
    return b->err;
}

static lt_status lti_feature_end(lt_ex_builder *b) {
    lti_close(b); /* Feature */
    if (!b->in_list) lti_close(b); /* map entry */
    b->entries++;
    return b->err;
}

lt_status lt_ex_builder_floats(lt_ex_builder *b, const char *key, const float *v, int64_t n) {
    if (lti_feature_begin(b, key)) return b->err;
    lti_open(b, LT_EX_FLOAT);
    if (n > 0) lti_put_bytes_field(b, 1, v, 4 * n); /* little-endian floats, packed */
    lti_close(b);
    return lti_feature_end(b);
}

lt_status lt_ex_builder_int64s(lt_ex_builder *b, const char *key, const int64_t *v, int64_t n) {
    if (lti_feature_begin(b, key)) return b->err;
    lti_open(b, LT_EX_INT64);
    if (n > 0) {
        int64_t size = 0;
        for (int64_t i = 0; i < n; i++) size += lti_varint_size((uint64_t)v[i]);
        lti_put_varint(b, 1 << 3 | LTI_WT_LEN);
        lti_put_varint(b, (uint64_t)size);
        if (lti_reserve(b, size))
            for (int64_t i = 0; i < n; i++) lti_put_varint(b, (uint64_t)v[i]);
    }
    lti_close(b);
    return lti_feature_end(b);
}

lt_status lt_ex_builder_bytes(lt_ex_builder *b, const char *key, const lt_ex_bytes *v, int64_t n) {
    if (lti_feature_begin(b, key)) return b->err;
    lti_open(b, LT_EX_BYTES);
    for (int64_t i = 0; i < n; i++) lti_put_bytes_field(b, 1, v[i].data, v[i].len);
    lti_close(b);
    return lti_feature_end(b);
}

lt_status lt_ex_builder_list_begin(lt_ex_builder *b, const char *key) {
    if (b->err) return b->err;
    if (!b->sequence) return b->err = lt_fail(LT_ERR_ARG, "feature list '%s' in an Example (not a SequenceExample)", key);
    if (b->in_list) return b->err = lt_fail(LT_ERR_ARG, "feature list '%s' opened inside another", key);
    if (b->section == 1) lti_close(b); /* context */
    if (b->section != 2) {
        lti_open(b, 2); /* SequenceExample.feature_lists */
        b->section = 2;
    }
    lti_open(b, 1); /* FeatureLists.feature_list map entry */
    lti_put_bytes_field(b, 1, key, (int64_t)strlen(key));
    lti_open(b, 2); /* FeatureList */
    b->in_list = 1;
    return b->err;
}

lt_status lt_ex_builder_list_end(lt_ex_builder *b) {
    if (b->err) return b->err;
    if (!b->in_list) return b->err = lt_fail(LT_ERR_ARG, "list_end without list_begin");
    lti_close(b); /* FeatureList */
    lti_close(b); /* map entry */
    b->in_list = 0;
    return b->err;
}

lt_status lt_ex_builder_finish(lt_ex_builder *b, const uint8_t **data, int64_t *len) {
    if (!b->err && b->in_list) b->err = lt_fail(LT_ERR_ARG, "finish inside a feature list (list_end missing)");
    while (!b->err && b->depth > 0) lti_close(b);
    if (b->err) return b->err;
    *data = b->buf ? b->buf : (const uint8_t *)"";
    *len = b->len;
    return LT_OK;
}
