/* tf.Example / tf.SequenceExample wire-format parser (views) and value iterators.
 * The encoder and the parse specs are in example_build.c and example_spec.c.
 *
 * One pass validates the whole record (tags, varints, lengths, packed sizes, UTF-8
 * keys) and fills the entry table; iterators later re-walk validated bytes. */
#include "data/example.h"

#include <string.h>

#include "core/alloc.h"
#include "data/example_wire.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "packed floats are copied as little-endian words"
#endif

const char *lt_ex_kind_name(lt_ex_kind k) {
    switch (k) {
    case LT_EX_NONE: return "none";
    case LT_EX_BYTES: return "bytes";
    case LT_EX_FLOAT: return "float";
    case LT_EX_INT64: return "int64";
    }
    return "?";
}

/* ------------------------------------------------------------------ wire helpers */

int lti_pb_skip_group(const uint8_t **pp, const uint8_t *end, uint32_t field, int depth);

int lti_pb_skip(const uint8_t **pp, const uint8_t *end, uint32_t tag, int depth) {
    uint64_t v;
    switch (tag & 7) {
    case LTI_WT_VARINT: return lti_pb_varint(pp, end, &v);
    case LTI_WT_I64:
        if (end - *pp < 8) return 0;
        *pp += 8;
        return 1;
    case LTI_WT_LEN:
        if (!lti_pb_varint(pp, end, &v) || v > (uint64_t)(end - *pp)) return 0;
        *pp += v;
        return 1;
    case LTI_WT_SGROUP: return lti_pb_skip_group(pp, end, tag >> 3, depth + 1);
    case LTI_WT_I32:
        if (end - *pp < 4) return 0;
        *pp += 4;
        return 1;
    default: return 0; /* an end-group without its start, or wire types 6 and 7 */
    }
}

/* Skips fields up to the matching end-group tag (protobuf's recursion limit: 100). */
int lti_pb_skip_group(const uint8_t **pp, const uint8_t *end, uint32_t field, int depth) {
    if (depth > 100) return 0;
    while (*pp < end) {
        uint32_t tag;
        if (!lti_pb_tag(pp, end, &tag)) return 0;
        if ((tag & 7) == LTI_WT_EGROUP) return (tag >> 3) == field;
        if (!lti_pb_skip(pp, end, tag, depth)) return 0;
    }
    return 0;
}

/* proto3 strings must be UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
static int lti_utf8_ok(const uint8_t *s, int64_t n) {
    if (n <= 32) { /* feature names: an ASCII test on (overlapping) words before the careful walk */
        uint64_t any = 0, w;
        uint32_t w4;
        if (n >= 8) {
            for (int64_t k = 0; k + 8 < n; k += 8) { memcpy(&w, s + k, 8); any |= w; }
            memcpy(&w, s + n - 8, 8);
            any |= w;
        } else if (n >= 4) {
            memcpy(&w4, s, 4);
            any = w4;
            memcpy(&w4, s + n - 4, 4);
            any |= w4;
        } else {
            for (int64_t k = 0; k < n; k++) any |= s[k];
        }
        if (!(any & 0x8080808080808080ull)) return 1;
    }
    int64_t i = 0;
    while (i < n) {
        uint64_t w8;
        if (n - i >= 8 && (memcpy(&w8, s + i, 8), !(w8 & 0x8080808080808080ull))) { i += 8; continue; } /* ASCII */
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        int len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
        else return 0;
        if (n - i < len) return 0;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += len;
    }
    return 1;
}

/* ------------------------------------------------------------------ Feature bodies */

/* Notes a value-carrying piece of f: the first is kept as f->one, a second clears it. */
static void lti_piece(lt_ex_feature *f, const uint8_t *p, int64_t n) {
    if (!f->one && f->one_len == 0) {
        f->one = p;
        f->one_len = n;
    } else {
        f->one = NULL;
        f->one_len = -1;
    }
}

/* Validates a BytesList / FloatList / Int64List body of f and counts its values. */
static lt_status lti_list_count(lt_ex_feature *f, const uint8_t *p, const uint8_t *end) {
    const lt_ex_kind kind = f->kind;
    int64_t *count = &f->count;
    while (p < end) {
        uint32_t tag;
        uint64_t v;
        if (!lti_pb_tag(&p, end, &tag)) return lt_fail(LT_ERR_FORMAT, "bad tag in a %s list", lt_ex_kind_name(kind));
        uint32_t wt = tag & 7;
        if ((tag >> 3) == 1 && wt == LTI_WT_LEN) {
            if (!lti_pb_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return lt_fail(LT_ERR_FORMAT, "a %s list value runs past its message", lt_ex_kind_name(kind));
            lti_piece(f, p, (int64_t)v);
            if (kind == LT_EX_BYTES) (*count)++;
            else if (kind == LT_EX_FLOAT) {
                if (v % 4) return lt_fail(LT_ERR_FORMAT, "packed floats of %llu bytes (not a multiple of 4)",
                                          (unsigned long long)v);
                *count += (int64_t)(v / 4);
            } else { /* packed varints: each must end inside the chunk */
                const uint8_t *q = p, *qe = p + v;
                while (q < qe) {
                    if (!lti_pb_varint(&q, qe, &v)) return lt_fail(LT_ERR_FORMAT, "bad varint in packed int64 values");
                    (*count)++;
                }
                p = qe;
                continue;
            }
            p += v;
        } else if ((tag >> 3) == 1 && ((kind == LT_EX_FLOAT && wt == LTI_WT_I32) || (kind == LT_EX_INT64 && wt == LTI_WT_VARINT))) {
            if (!lti_pb_skip(&p, end, tag, 0)) return lt_fail(LT_ERR_FORMAT, "truncated %s value", lt_ex_kind_name(kind));
            f->one = NULL; /* unpacked values: no single piece */
            f->one_len = -1;
            (*count)++;
        } else if (!lti_pb_skip(&p, end, tag, 0)) {
            return lt_fail(LT_ERR_FORMAT, "bad unknown field %u (wire type %u) in a %s list", tag >> 3, wt,
                           lt_ex_kind_name(kind));
        }
    }
    return LT_OK;
}

/* Merges one Feature message body into f (protobuf's merge: a oneof switch clears the
 * values before it, the same list kind again appends). */
static lt_status lti_feature_merge(lt_ex_feature *f, const uint8_t *p, const uint8_t *end) {
    while (p < end) {
        const uint8_t *at = p;
        uint32_t tag;
        uint64_t v;
        if (!lti_pb_tag(&p, end, &tag)) return lt_fail(LT_ERR_FORMAT, "bad tag in a Feature");
        uint32_t field = tag >> 3;
        if (field >= 1 && field <= 3 && (tag & 7) == LTI_WT_LEN) {
            if (!lti_pb_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return lt_fail(LT_ERR_FORMAT, "a Feature's list runs past its message");
            if ((lt_ex_kind)field != f->kind) {
                f->kind = (lt_ex_kind)field;
                f->count = 0;
                f->from = at;
                f->one = NULL;
                f->one_len = 0;
            }
            lt_status st = lti_list_count(f, p, p + v);
            if (st) return st;
            p += v;
        } else if (!lti_pb_skip(&p, end, tag, 0)) {
            return lt_fail(LT_ERR_FORMAT, "bad unknown field %u (wire type %u) in a Feature", field, tag & 7);
        }
    }
    return LT_OK;
}

/* ------------------------------------------------------------------ maps */

#define LTI_LINEAR_MAX 8 /* up to this many entries a linear scan beats hashing */

static uint64_t lti_hash(const uint8_t *p, int64_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int64_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void lti_map_reset(lt_ex_map *m) { m->n = 0; }

static int lti_key_eq(const lt_ex_bytes *a, const void *key, int64_t len) {
    return a->len == len && lti_bytes_eq(a->data, key, len);
}

static int64_t lti_slot_find(const lt_ex_map *m, const void *key, int64_t len) {
    uint64_t mask = (uint64_t)m->nslots - 1, s = lti_hash(key, len) & mask;
    for (;; s = (s + 1) & mask) {
        int32_t e = m->slots[s];
        if (e < 0 || lti_key_eq(&m->entries[e].key, key, len)) return (int64_t)s;
    }
}

/* The table is sized by this parse's entries, not by the largest one seen: a record with
 * many features must not make every later one clear its whole table. */
static lt_status lti_rehash(lt_ex_map *m, int64_t nslots) {
    if (nslots > m->slots_cap) {
        int32_t *ns = lt_realloc(m->slots, (size_t)nslots * sizeof *ns);
        if (!ns) return lt_fail(LT_ERR_NOMEM, "no memory for a feature map");
        m->slots = ns;
        m->slots_cap = nslots;
    }
    m->nslots = nslots;
    memset(m->slots, 0xff, (size_t)m->nslots * sizeof *m->slots);
    for (int64_t i = 0; i < m->n; i++) m->slots[lti_slot_find(m, m->entries[i].key.data, m->entries[i].key.len)] = (int32_t)i;
    return LT_OK;
}

const lt_ex_entry *lt_ex_map_find(const lt_ex_map *m, const void *key, int64_t keylen) {
    if (m->n <= LTI_LINEAR_MAX) {
        for (int64_t i = 0; i < m->n; i++)
            if (lti_key_eq(&m->entries[i].key, key, keylen)) return &m->entries[i];
        return NULL;
    }
    int32_t e = m->slots[lti_slot_find(m, key, keylen)];
    return e < 0 ? NULL : &m->entries[e];
}

/* The next free entry, where lti_entry parses in place (growing the table if full);
 * NULL when out of memory. */
static lt_ex_entry *lti_map_next(lt_ex_map *m) {
    if (m->n == m->cap) {
        int64_t ncap = m->cap ? 2 * m->cap : 16;
        lt_ex_entry *ne = lt_realloc(m->entries, (size_t)ncap * sizeof *ne);
        if (!ne) return NULL;
        m->entries = ne;
        m->cap = ncap;
    }
    return &m->entries[m->n];
}

/* Commits the entry filled in at entries[n]: a new key is kept; a duplicate key's value
 * replaces the earlier entry's in place (the last entry wins, the first position stays). */
static lt_status lti_map_commit(lt_ex_map *m) {
    lt_ex_entry *e = &m->entries[m->n], *old = NULL;
    if (m->n <= LTI_LINEAR_MAX) { /* lt_ex_map_find's scan, inline */
        for (lt_ex_entry *x = m->entries; x < e && !old; x++)
            if (lti_key_eq(&x->key, e->key.data, e->key.len)) old = x;
    } else {
        old = (lt_ex_entry *)lt_ex_map_find(m, e->key.data, e->key.len);
    }
    if (old) {
        old->feature = e->feature;
        old->list = e->list;
        return LT_OK;
    }
    m->n++;
    if (m->n == LTI_LINEAR_MAX + 1 || (m->n > LTI_LINEAR_MAX && 2 * m->n > m->nslots)) {
        int64_t ns = 64;
        while (ns < 2 * m->n) ns *= 2;
        lt_status st = lti_rehash(m, ns);
        if (st) { m->n--; return st; }
    } else if (m->n > LTI_LINEAR_MAX) {
        m->slots[lti_slot_find(m, e->key.data, e->key.len)] = (int32_t)(m->n - 1);
    }
    return LT_OK;
}

/* A length varint (minimal, 1 or 2 bytes) saying its field runs exactly to end: checked
 * against the one value it can have instead of decoded. 0 (nothing moved) otherwise. */
static inline int lti_len_to_end(const uint8_t **pp, const uint8_t *end) {
    const uint8_t *p = *pp;
    int64_t r = end - p;
    if (r >= 1 && r <= 0x80) {
        if (p[0] != r - 1) return 0;
        *pp = p + 1;
        return 1;
    }
    if (r - 2 < 0x80 || r - 2 >= 0x4000 || p[0] != (0x80 | ((r - 2) & 0x7f)) || p[1] != (r - 2) >> 7) return 0;
    *pp = p + 2;
    return 1;
}

/* The number of bytes < 0x80 among end[-n .. -1], n in 1..8, from one word: the piece
 * starts at least 8 bytes into its entry (the key's and lists' framing), so end - 8 is
 * inside the record. */
static inline int64_t lti_end_bytes(const uint8_t *end, int64_t n) {
    uint64_t w;
    memcpy(&w, end - 8, 8);
    uint64_t keep = ~0ull << (64 - 8 * n); /* the top n bytes: the last n of the piece */
    return __builtin_popcountll(~w & keep & 0x8080808080808080ull);
}

/* The layout every writer emits for a Features entry: the key (field 1, length < 128), then
 * the value (field 2) filled by exactly one list field of the Feature. Reads that framing
 * straight through and counts the list as lti_feature_merge would, so the general loop in
 * lti_entry (which gives the same key and f for these bytes) is skipped. A list of one
 * piece (one bytes value, one packed chunk: what writers emit) is counted right here.
 * Returns 0 without touching anything for any other layout; 1 with *st the list's status
 * otherwise, every field of f set. */
static inline int lti_entry_canonical(const uint8_t *p, const uint8_t *end, lt_ex_bytes *key, lt_ex_feature *f,
                                      lt_status *st) {
    if (end - p < 4 || p[0] != 0x0a || p[1] >= 0x80 || p[1] > end - p - 3 || p[2 + p[1]] != 0x12) return 0;
    const uint8_t *q = p + 3 + p[1];
    if (!lti_len_to_end(&q, end) || q == end) return 0;
    const uint8_t *at = q; /* the list's tag: the oneof kind is set from here */
    uint8_t t = *q++;
    if ((t != 0x0a && t != 0x12 && t != 0x1a) || !lti_len_to_end(&q, end)) return 0;
    key->data = p + 2;
    key->len = p[1];
    f->kind = (lt_ex_kind)(t >> 3);
    f->from = at;
    f->wrapped = 1;
    *st = LT_OK;
    const uint8_t *v = q + 1;
    if (q < end && *q == 0x0a && lti_len_to_end(&v, end)) { /* one piece: [v, end) */
        int64_t n = end - v, c = -1;
        if (f->kind == LT_EX_BYTES) c = 1;
        else if (f->kind == LT_EX_FLOAT) c = n % 4 ? -1 : n / 4;
        else if (n > 0 && n <= 8 && end[-1] < 0x80) /* varints ending inside: each has one end byte */
            c = lti_end_bytes(end, n);
        if (c >= 0) {
            f->count = c;
            f->one = end - n;
            f->one_len = n;
            return 1;
        }
    }
    f->count = 0;
    f->one = NULL;
    f->one_len = 0;
    *st = lti_list_count(f, q, end);
    return 1;
}

/* One map entry {key = 1; value = 2}; list = 0: value is a Feature, 1: a FeatureList.
 * Parsed in place into the map's next free entry, then committed. */
static lt_status lti_entry(lt_ex_map *m, const uint8_t *p, const uint8_t *end, int list) {
    const uint8_t *start = p;
    lt_ex_entry *e = lti_map_next(m);
    lt_status st;
    if (!e) return lt_fail(LT_ERR_NOMEM, "no memory for a feature map");
    lt_ex_feature *f = &e->feature;
    int64_t steps = 0;
    if (!list && lti_entry_canonical(p, end, &e->key, f, &st)) {
        if (st) return st;
        p = end;
    } else {
        e->key = (lt_ex_bytes){p, 0};
        memset(f, 0, sizeof *f);
        f->wrapped = 1;
    }
    while (p < end) {
        uint32_t tag;
        uint64_t v;
        if (!lti_pb_tag(&p, end, &tag)) return lt_fail(LT_ERR_FORMAT, "bad tag in a map entry");
        uint32_t field = tag >> 3;
        if ((field == 1 || field == 2) && (tag & 7) == LTI_WT_LEN) {
            if (!lti_pb_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return lt_fail(LT_ERR_FORMAT, "a map entry's field runs past it");
            if (field == 1) {
                e->key.data = p;
                e->key.len = (int64_t)v;
            } else if (!list) {
                if ((st = lti_feature_merge(f, p, p + v))) return st;
            } else { /* FeatureList { repeated Feature feature = 1; } */
                const uint8_t *q = p, *qe = p + v;
                while (q < qe) {
                    uint32_t t2;
                    uint64_t v2;
                    if (!lti_pb_tag(&q, qe, &t2)) return lt_fail(LT_ERR_FORMAT, "bad tag in a FeatureList");
                    if ((t2 >> 3) == 1 && (t2 & 7) == LTI_WT_LEN) {
                        if (!lti_pb_varint(&q, qe, &v2) || v2 > (uint64_t)(qe - q))
                            return lt_fail(LT_ERR_FORMAT, "a FeatureList's Feature runs past it");
                        lt_ex_feature g = {0};
                        if ((st = lti_feature_merge(&g, q, q + v2))) return st;
                        q += v2;
                        steps++;
                    } else if (!lti_pb_skip(&q, qe, t2, 0)) {
                        return lt_fail(LT_ERR_FORMAT, "bad unknown field %u in a FeatureList", t2 >> 3);
                    }
                }
            }
            p += v;
        } else if (!lti_pb_skip(&p, end, tag, 0)) {
            return lt_fail(LT_ERR_FORMAT, "bad unknown field %u (wire type %u) in a map entry", field, tag & 7);
        }
    }
    if (!lti_utf8_ok(e->key.data, e->key.len))
        return lt_fail(LT_ERR_FORMAT, "a feature name is not valid UTF-8 (proto3 strings must be)");
    f->p = start;
    f->n = end - start;
    e->list = (lt_ex_flist){steps, start, end - start};
    return lti_map_commit(m);
}

/* Features { map<string, Feature> feature = 1; } or FeatureLists (list = 1). */
static lt_status lti_map_message(lt_ex_map *m, const uint8_t *p, const uint8_t *end, int list) {
    while (p < end) {
        uint32_t tag;
        uint64_t v;
        if (*p == 0x0a) tag = *p++; /* an entry: field 1, LEN */
        else if (!lti_pb_tag(&p, end, &tag)) return lt_fail(LT_ERR_FORMAT, "bad tag in %s", list ? "FeatureLists" : "Features");
        if (tag == 0x0a) {
            if (!lti_pb_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return lt_fail(LT_ERR_FORMAT, "a map entry runs past its message");
            lt_status st = lti_entry(m, p, p + v, list);
            if (st) return st;
            p += v;
        } else if (!lti_pb_skip(&p, end, tag, 0)) {
            return lt_fail(LT_ERR_FORMAT, "bad unknown field %u (wire type %u) in %s", tag >> 3, tag & 7,
                           list ? "FeatureLists" : "Features");
        }
    }
    return LT_OK;
}

/* Top level: field 1 into a (Features), field 2 into b (FeatureLists; NULL for Example). */
static lt_status lti_top(lt_ex_map *a, lt_ex_map *b, const void *data, int64_t len) {
    const uint8_t *p = data, *end = p + len;
    if (len < 0) return lt_fail(LT_ERR_ARG, "negative record length");
    while (p < end) {
        uint32_t tag;
        uint64_t v;
        if (!lti_pb_tag(&p, end, &tag)) return lt_fail(LT_ERR_FORMAT, "bad tag at byte %lld", (long long)(p - (const uint8_t *)data));
        uint32_t field = tag >> 3;
        if ((field == 1 || (field == 2 && b)) && (tag & 7) == LTI_WT_LEN) {
            if (!lti_pb_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return lt_fail(LT_ERR_FORMAT, "field %u runs past the end of the record", field);
            lt_status st = lti_map_message(field == 1 ? a : b, p, p + v, field == 2);
            if (st) return st;
            p += v;
        } else if (!lti_pb_skip(&p, end, tag, 0)) {
            return lt_fail(LT_ERR_FORMAT, "bad field %u (wire type %u) at byte %lld", field, tag & 7,
                           (long long)(p - (const uint8_t *)data));
        }
    }
    return LT_OK;
}

void lt_example_init(lt_example *ex) { memset(ex, 0, sizeof *ex); }

static void lti_map_free(lt_ex_map *m) {
    lt_free(m->entries);
    lt_free(m->slots);
    memset(m, 0, sizeof *m);
}

void lt_example_free(lt_example *ex) { lti_map_free(&ex->features); }

lt_status lt_example_parse(lt_example *ex, const void *data, int64_t len) {
    lti_map_reset(&ex->features);
    lt_status st = lti_top(&ex->features, NULL, data, len);
    if (st) lti_map_reset(&ex->features);
    return st;
}

const lt_ex_feature *lt_example_get(const lt_example *ex, const char *key) {
    const lt_ex_entry *e = lt_ex_map_find(&ex->features, key, (int64_t)strlen(key));
    return e ? &e->feature : NULL;
}

void lt_seqex_init(lt_seqex *s) { memset(s, 0, sizeof *s); }

void lt_seqex_free(lt_seqex *s) {
    lti_map_free(&s->context);
    lti_map_free(&s->lists);
}

lt_status lt_seqex_parse(lt_seqex *s, const void *data, int64_t len) {
    lti_map_reset(&s->context);
    lti_map_reset(&s->lists);
    lt_status st = lti_top(&s->context, &s->lists, data, len);
    if (st) { lti_map_reset(&s->context); lti_map_reset(&s->lists); }
    return st;
}

const lt_ex_flist *lt_seqex_list(const lt_seqex *s, const char *key) {
    const lt_ex_entry *e = lt_ex_map_find(&s->lists, key, (int64_t)strlen(key));
    return e ? &e->list : NULL;
}

/* ------------------------------------------------------------------ iterators */

void lt_ex_iter_init(lt_ex_iter *it, const lt_ex_feature *f) {
    memset(it, 0, sizeof *it);
    it->kind = f->kind;
    it->from = f->from;
    it->depth = f->wrapped ? 0 : 1;
    it->pos[it->depth] = f->p;
    it->end[it->depth] = f->p ? f->p + f->n : NULL;
    if (f->kind == LT_EX_NONE) it->depth = -1;
}

/* The next value-carrying piece: a packed chunk or bytes value (*wt = LEN: [*v, *v+*n)),
 * or one unpacked float (I32) / int64 (VARINT) starting at *v. 0 at the end. */
static int lti_iter_piece(lt_ex_iter *it, const uint8_t **v, int64_t *n, uint32_t *wt) {
    while (it->depth >= 0) {
        int d = it->depth;
        const uint8_t **pp = &it->pos[d], *end = it->end[d];
        if (*pp >= end) { it->depth--; continue; }
        const uint8_t *at = *pp;
        uint32_t tag;
        uint64_t len = 0;
        if (!lti_pb_tag(pp, end, &tag)) { it->depth = -1; return 0; } /* unreachable after validation */
        uint32_t field = tag >> 3, w = tag & 7;
        if (w == LTI_WT_LEN) {
            if (!lti_pb_varint(pp, end, &len) || len > (uint64_t)(end - *pp)) { it->depth = -1; return 0; }
            const uint8_t *body = *pp;
            *pp += len;
            int descend = (d == 0 && field == 2) || (d == 1 && field == (uint32_t)it->kind && at >= it->from);
            if (descend) {
                it->depth = d + 1;
                it->pos[d + 1] = body;
                it->end[d + 1] = body + len;
                continue;
            }
            if (d == 2 && field == 1) {
                *v = body;
                *n = (int64_t)len;
                *wt = w;
                return 1;
            }
            continue;
        }
        if (d == 2 && field == 1 && ((it->kind == LT_EX_FLOAT && w == LTI_WT_I32) || (it->kind == LT_EX_INT64 && w == LTI_WT_VARINT))) {
            *v = *pp;
            *wt = w;
            *n = 0;
            lti_pb_skip(pp, end, tag, 0);
            return 1;
        }
        if (!lti_pb_skip(pp, end, tag, 0)) { it->depth = -1; return 0; }
    }
    return 0;
}

/* Packed chunks of floats / int64s are consumed value by value through pos[3]. */
static int lti_iter_scalar(lt_ex_iter *it, const uint8_t **v, uint32_t *wt) {
    for (;;) {
        if (it->depth == 3) {
            if (it->pos[3] < it->end[3]) {
                *v = it->pos[3];
                *wt = it->kind == LT_EX_FLOAT ? LTI_WT_I32 : LTI_WT_VARINT;
                if (it->kind == LT_EX_FLOAT) it->pos[3] += 4;
                else { uint64_t x; lti_pb_varint(&it->pos[3], it->end[3], &x); }
                return 1;
            }
            it->depth = 2;
        }
        int64_t n;
        if (!lti_iter_piece(it, v, &n, wt)) return 0;
        if (*wt != LTI_WT_LEN) return 1;
        it->depth = 3;
        it->pos[3] = *v;
        it->end[3] = *v + n;
    }
}

int lt_ex_iter_float(lt_ex_iter *it, float *out) {
    const uint8_t *v;
    uint32_t wt;
    if (it->kind != LT_EX_FLOAT || !lti_iter_scalar(it, &v, &wt)) return 0;
    memcpy(out, v, 4);
    return 1;
}

int lt_ex_iter_int64(lt_ex_iter *it, int64_t *out) {
    const uint8_t *v;
    uint32_t wt;
    uint64_t x = 0;
    if (it->kind != LT_EX_INT64 || !lti_iter_scalar(it, &v, &wt)) return 0;
    lti_pb_varint(&v, v + 10, &x);
    *out = (int64_t)x;
    return 1;
}

int lt_ex_iter_bytes(lt_ex_iter *it, lt_ex_bytes *out) {
    const uint8_t *v;
    int64_t n;
    uint32_t wt;
    if (it->kind != LT_EX_BYTES || !lti_iter_piece(it, &v, &n, &wt)) return 0;
    out->data = v;
    out->len = n;
    return 1;
}

int64_t lt_ex_feature_floats(const lt_ex_feature *f, float *out, int64_t cap) {
    if (f->kind != LT_EX_FLOAT) return 0;
    if (f->one) { /* one packed chunk */
        int64_t m = f->one_len / 4 < cap ? f->one_len / 4 : cap;
        if (m > 0) memcpy(out, f->one, (size_t)m * 4);
        return m;
    }
    lt_ex_iter it;
    lt_ex_iter_init(&it, f);
    const uint8_t *v;
    int64_t n, k = 0;
    uint32_t wt;
    while (k < cap && lti_iter_piece(&it, &v, &n, &wt)) {
        int64_t m = wt == LTI_WT_LEN ? n / 4 : 1;
        if (m > cap - k) m = cap - k;
        memcpy(out + k, v, (size_t)m * 4); /* packed chunk: one copy */
        k += m;
    }
    return k;
}

int64_t lt_ex_feature_int64s(const lt_ex_feature *f, int64_t *out, int64_t cap) {
    if (f->kind == LT_EX_INT64 && f->one) { /* one packed chunk, validated by the parse */
        const uint8_t *q = f->one, *qe = q + f->one_len;
        int64_t k = 0;
        uint64_t x;
        while (k < cap && q < qe && lti_pb_varint(&q, qe, &x)) out[k++] = (int64_t)x;
        return k;
    }
    lt_ex_iter it;
    lt_ex_iter_init(&it, f);
    int64_t k = 0;
    while (k < cap && lt_ex_iter_int64(&it, &out[k])) k++;
    return k;
}

int64_t lt_ex_feature_bytes(const lt_ex_feature *f, lt_ex_bytes *out, int64_t cap) {
    if (f->kind == LT_EX_BYTES && f->one) { /* exactly one value */
        if (cap < 1) return 0;
        out[0] = (lt_ex_bytes){f->one, f->one_len};
        return 1;
    }
    lt_ex_iter it;
    lt_ex_iter_init(&it, f);
    int64_t k = 0;
    while (k < cap && lt_ex_iter_bytes(&it, &out[k])) k++;
    return k;
}

void lt_ex_flist_iter_init(lt_ex_flist_iter *it, const lt_ex_flist *l) {
    memset(it, 0, sizeof *it);
    it->pos[0] = l->p;
    it->end[0] = l->p ? l->p + l->n : NULL;
    it->depth = l->p ? 0 : -1;
}

int lt_ex_flist_next(lt_ex_flist_iter *it, lt_ex_feature *out) {
    while (it->depth >= 0) {
        int d = it->depth;
        const uint8_t **pp = &it->pos[d], *end = it->end[d];
        if (*pp >= end) { it->depth--; continue; }
        uint32_t tag;
        uint64_t len;
        if (!lti_pb_tag(pp, end, &tag)) break;
        if ((tag & 7) != LTI_WT_LEN) {
            if (!lti_pb_skip(pp, end, tag, 0)) break;
            continue;
        }
        if (!lti_pb_varint(pp, end, &len) || len > (uint64_t)(end - *pp)) break;
        const uint8_t *body = *pp;
        *pp += len;
        if (d == 0 && (tag >> 3) == 2) {
            it->depth = 1;
            it->pos[1] = body;
            it->end[1] = body + len;
        } else if (d == 1 && (tag >> 3) == 1) {
            memset(out, 0, sizeof *out);
            lti_feature_merge(out, body, body + len); /* validated by the parse: cannot fail */
            out->p = body;
            out->n = (int64_t)len;
            return 1;
        }
    }
    it->depth = -1;
    return 0;
}
