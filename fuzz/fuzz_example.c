/* libFuzzer target: the tf.Example / tf.SequenceExample wire parser.
 * Every accepted record is walked completely with both read paths (copies and
 * iterators), which must agree on the value count; an accepted Example is
 * re-encoded with the builder, and the re-parse must give the same values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/example.h"

static void walk_feature(const lt_ex_feature *f) {
    int64_t n = f->count, got = 0;
    void *buf = malloc(sizeof(lt_ex_bytes) * (size_t)(n ? n : 1));
    if (!buf) return;
    if (f->kind == LT_EX_FLOAT) got = lt_ex_feature_floats(f, buf, n);
    else if (f->kind == LT_EX_INT64) got = lt_ex_feature_int64s(f, buf, n);
    else if (f->kind == LT_EX_BYTES) got = lt_ex_feature_bytes(f, buf, n);
    if (f->kind != LT_EX_NONE && got != n) __builtin_trap();
    lt_ex_iter it;
    lt_ex_iter_init(&it, f);
    int64_t k = 0;
    float fv;
    int64_t iv;
    lt_ex_bytes bv;
    if (f->kind == LT_EX_FLOAT) while (lt_ex_iter_float(&it, &fv)) k++;
    else if (f->kind == LT_EX_INT64) while (lt_ex_iter_int64(&it, &iv)) k++;
    else if (f->kind == LT_EX_BYTES)
        while (lt_ex_iter_bytes(&it, &bv)) {
            if (bv.len < 0) __builtin_trap();
            k++;
        }
    if (f->kind != LT_EX_NONE && k != n) __builtin_trap();
    free(buf);
}

static int same_values(const lt_ex_feature *a, const lt_ex_feature *b) {
    if (a->kind != b->kind || a->count != b->count) return 0;
    lt_ex_iter ia, ib;
    lt_ex_iter_init(&ia, a);
    lt_ex_iter_init(&ib, b);
    for (int64_t j = 0; j < a->count; j++) {
        float fa, fb;
        int64_t xa, xb;
        lt_ex_bytes ba, bb;
        if (a->kind == LT_EX_FLOAT) {
            if (!lt_ex_iter_float(&ia, &fa) || !lt_ex_iter_float(&ib, &fb) || memcmp(&fa, &fb, 4)) return 0;
        } else if (a->kind == LT_EX_INT64) {
            if (!lt_ex_iter_int64(&ia, &xa) || !lt_ex_iter_int64(&ib, &xb) || xa != xb) return 0;
        } else if (a->kind == LT_EX_BYTES) {
            if (!lt_ex_iter_bytes(&ia, &ba) || !lt_ex_iter_bytes(&ib, &bb) || ba.len != bb.len ||
                (ba.len && memcmp(ba.data, bb.data, (size_t)ba.len)))
                return 0;
        }
    }
    return 1;
}

/* Re-encodes ex (keys with NUL bytes cannot be builder keys: skipped) and compares. */
static void round_trip(const lt_example *ex) {
    lt_ex_builder b;
    lt_ex_builder_init(&b);
    lt_ex_builder_begin(&b, 0);
    int64_t written = 0;
    for (int64_t e = 0; e < ex->features.n; e++) {
        const lt_ex_entry *en = &ex->features.entries[e];
        if (memchr(en->key.data, 0, (size_t)en->key.len) || en->feature.kind == LT_EX_NONE) continue;
        char *key = malloc((size_t)en->key.len + 1);
        int64_t n = en->feature.count;
        void *vals = malloc(sizeof(lt_ex_bytes) * (size_t)(n ? n : 1));
        if (!key || !vals) { free(key); free(vals); goto out; }
        memcpy(key, en->key.data, (size_t)en->key.len);
        key[en->key.len] = 0;
        if (en->feature.kind == LT_EX_FLOAT) {
            lt_ex_feature_floats(&en->feature, vals, n);
            lt_ex_builder_floats(&b, key, vals, n);
        } else if (en->feature.kind == LT_EX_INT64) {
            lt_ex_feature_int64s(&en->feature, vals, n);
            lt_ex_builder_int64s(&b, key, vals, n);
        } else {
            lt_ex_feature_bytes(&en->feature, vals, n);
            lt_ex_builder_bytes(&b, key, vals, n);
        }
        written++;
        free(key);
        free(vals);
    }
    const uint8_t *data;
    int64_t len;
    if (lt_ex_builder_finish(&b, &data, &len)) goto out;
    lt_example again;
    lt_example_init(&again);
    if (lt_example_parse(&again, data, len)) __builtin_trap(); /* our own encoding must parse */
    for (int64_t e = 0; e < ex->features.n; e++) {
        const lt_ex_entry *en = &ex->features.entries[e];
        if (memchr(en->key.data, 0, (size_t)en->key.len) || en->feature.kind == LT_EX_NONE) continue;
        const lt_ex_entry *o = lt_ex_map_find(&again.features, en->key.data, en->key.len);
        if (!o || !same_values(&en->feature, &o->feature)) __builtin_trap();
    }
    if (again.features.n != written) __builtin_trap();
    lt_example_free(&again);
out:
    lt_ex_builder_free(&b);
}

/* tests/test_fuzz_corpus.c includes this file under another entry name to replay the corpora. */
#ifndef LT_FUZZ_ENTRY
#define LT_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
int LT_FUZZ_ENTRY(const uint8_t *data, size_t size) {
    lt_example ex;
    lt_example_init(&ex);
    if (lt_example_parse(&ex, data, (int64_t)size) == LT_OK) {
        for (int64_t e = 0; e < ex.features.n; e++) walk_feature(&ex.features.entries[e].feature);
        round_trip(&ex);
    }
    lt_example_free(&ex);
    lt_seqex s;
    lt_seqex_init(&s);
    if (lt_seqex_parse(&s, data, (int64_t)size) == LT_OK) {
        for (int64_t e = 0; e < s.context.n; e++) walk_feature(&s.context.entries[e].feature);
        for (int64_t e = 0; e < s.lists.n; e++) {
            lt_ex_flist_iter it;
            lt_ex_feature f;
            int64_t steps = 0;
            lt_ex_flist_iter_init(&it, &s.lists.entries[e].list);
            while (lt_ex_flist_next(&it, &f)) {
                walk_feature(&f);
                steps++;
            }
            if (steps != s.lists.entries[e].list.count) __builtin_trap();
        }
    }
    lt_seqex_free(&s);
    return 0;
}
