/* The Example parser's fast path for the canonical entry layout (key, then a Feature
 * holding exactly one list) must give what the general loop gives: each feature is parsed
 * from its canonical bytes and from equivalent non-canonical encodings (value before key,
 * unknown fields in the entry or the Feature, a split list) and the views must agree;
 * malformed lists fail the same way on both paths. Also the word-wise key checks: ASCII
 * test and key equality at every length 0..40 and every position of a difference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "data/example.h"

#include "test_pb.h"

/* One list body (BytesList / FloatList / Int64List) and its kind. */
typedef struct list_case {
    const char *name;
    int kind;
    pb body;
} list_case;

enum { ENTRY_CANONICAL, ENTRY_VALUE_FIRST, ENTRY_UNKNOWN_AFTER, FEATURE_UNKNOWN_AFTER, FEATURE_LIST_TWICE, NFORMS };

/* Example { Features { entry } } with the entry laid out in form `form`. */
static void make_example(pb *ex, const char *key, const list_case *lc, int form) {
    pb feature = {0}, entry = {0}, features = {0};
    if (form == FEATURE_LIST_TWICE) { /* the same kind twice: merged, values appended (the first is empty) */
        pb empty = {0};
        plen(&feature, (uint32_t)lc->kind, &empty);
    }
    plen(&feature, (uint32_t)lc->kind, &lc->body);
    if (form == FEATURE_UNKNOWN_AFTER) { ptag(&feature, 9, 0); pv(&feature, 300); }
    if (form == ENTRY_VALUE_FIRST) {
        plen(&entry, 2, &feature);
        pbytes(&entry, 1, key, (int)strlen(key));
    } else {
        pbytes(&entry, 1, key, (int)strlen(key));
        plen(&entry, 2, &feature);
    }
    if (form == ENTRY_UNKNOWN_AFTER) { ptag(&entry, 7, 5); praw(&entry, "abcd", 4); }
    plen(&features, 1, &entry);
    ex->n = 0;
    plen(ex, 1, &features);
}

/* All values of f, as text, through the copy functions and the iterators. */
static void describe(const lt_ex_feature *f, char *out, size_t cap) {
    size_t k = (size_t)snprintf(out, cap, "%s %lld:", lt_ex_kind_name(f->kind), (long long)f->count);
    lt_ex_iter it;
    lt_ex_iter_init(&it, f);
    if (f->kind == LT_EX_FLOAT) {
        float v[64], x;
        int64_t n = lt_ex_feature_floats(f, v, 64);
        for (int64_t i = 0; i < n; i++) k += (size_t)snprintf(out + k, cap - k, " %g", (double)v[i]);
        while (lt_ex_iter_float(&it, &x)) k += (size_t)snprintf(out + k, cap - k, " i%g", (double)x);
    } else if (f->kind == LT_EX_INT64) {
        int64_t v[64], x;
        int64_t n = lt_ex_feature_int64s(f, v, 64);
        for (int64_t i = 0; i < n; i++) k += (size_t)snprintf(out + k, cap - k, " %lld", (long long)v[i]);
        while (lt_ex_iter_int64(&it, &x)) k += (size_t)snprintf(out + k, cap - k, " i%lld", (long long)x);
    } else if (f->kind == LT_EX_BYTES) {
        lt_ex_bytes v[64], x;
        int64_t n = lt_ex_feature_bytes(f, v, 64);
        for (int64_t i = 0; i < n; i++) k += (size_t)snprintf(out + k, cap - k, " '%.*s'", (int)v[i].len, (const char *)v[i].data);
        while (lt_ex_iter_bytes(&it, &x)) k += (size_t)snprintf(out + k, cap - k, " i'%.*s'", (int)x.len, (const char *)x.data);
    }
}

static void cases(list_case *c, int *n) {
    *n = 0;
    list_case *p;
    p = &c[(*n)++]; *p = (list_case){"one bytes value", LT_EX_BYTES, {{0}, 0}};
    pbytes(&p->body, 1, "hello", 5);
    p = &c[(*n)++]; *p = (list_case){"two bytes values", LT_EX_BYTES, {{0}, 0}};
    pbytes(&p->body, 1, "ab", 2); pbytes(&p->body, 1, "", 0);
    p = &c[(*n)++]; *p = (list_case){"empty bytes list", LT_EX_BYTES, {{0}, 0}};
    p = &c[(*n)++]; *p = (list_case){"packed floats", LT_EX_FLOAT, {{0}, 0}};
    { pb v = {0}; float f[3] = {1.5f, -2.0f, 1e-3f}; praw(&v, f, 12); plen(&p->body, 1, &v); }
    p = &c[(*n)++]; *p = (list_case){"unpacked floats", LT_EX_FLOAT, {{0}, 0}};
    { float f = 7.25f; ptag(&p->body, 1, 5); praw(&p->body, &f, 4); ptag(&p->body, 1, 5); praw(&p->body, &f, 4); }
    p = &c[(*n)++]; *p = (list_case){"packed int64s", LT_EX_INT64, {{0}, 0}};
    { pb v = {0}; pv(&v, 28); pv(&v, 300); pv(&v, (uint64_t)-5); plen(&p->body, 1, &v); }
    p = &c[(*n)++]; *p = (list_case){"empty packed int64s", LT_EX_INT64, {{0}, 0}};
    { pb v = {0}; plen(&p->body, 1, &v); }
    p = &c[(*n)++]; *p = (list_case){"a short packed chunk of multi-byte varints", LT_EX_INT64, {{0}, 0}};
    { pb v = {0}; pv(&v, 28); pv(&v, 300); pv(&v, 5); pv(&v, 70000); plen(&p->body, 1, &v); }
    p = &c[(*n)++]; *p = (list_case){"one ten-byte varint", LT_EX_INT64, {{0}, 0}};
    { pb v = {0}; pv(&v, (uint64_t)-7); plen(&p->body, 1, &v); }
    p = &c[(*n)++]; *p = (list_case){"an empty bytes value", LT_EX_BYTES, {{0}, 0}};
    pbytes(&p->body, 1, "", 0);
    p = &c[(*n)++]; *p = (list_case){"empty packed floats", LT_EX_FLOAT, {{0}, 0}};
    { pb v = {0}; plen(&p->body, 1, &v); }
    p = &c[(*n)++]; *p = (list_case){"a long packed chunk", LT_EX_INT64, {{0}, 0}};
    { pb v = {0}; for (int i = 0; i < 60; i++) pv(&v, (uint64_t)i * 1000); plen(&p->body, 1, &v); }
}

static void test_forms_agree(void **state) {
    (void)state;
    list_case c[16];
    int nc;
    cases(c, &nc);
    const char *keys[] = {"", "k", "label", "image/raw", "image/height", "a_key_of_exactly_32_bytes_long_x",
                          "a key longer than 127 bytes: ....................................................................................................."};
    lt_example ex;
    lt_example_init(&ex);
    for (int i = 0; i < nc; i++) {
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            char want[2048] = "", got[2048];
            for (int form = 0; form < NFORMS; form++) {
                pb rec = {0};
                make_example(&rec, keys[k], &c[i], form);
                lt_status st = lt_example_parse(&ex, rec.b, rec.n);
                if (st) fail_msg("%s, key '%s', form %d: %s", c[i].name, keys[k], form, lt_error_message());
                assert_int_equal(ex.features.n, 1);
                const lt_ex_feature *f = lt_example_get(&ex, keys[k]);
                assert_non_null(f);
                describe(f, got, sizeof got);
                if (form == ENTRY_CANONICAL) strcpy(want, got);
                else if (strcmp(want, got)) fail_msg("%s, key '%s': canonical '%s', form %d '%s'", c[i].name, keys[k], want, form, got);
            }
        }
    }
    lt_example_free(&ex);
}

/* A record of several canonical entries with a duplicate key (the last wins) and the
 * batch path that uses them. */
static void test_canonical_record(void **state) {
    (void)state;
    pb features = {0}, ex = {0};
    const char *keys[] = {"image/raw", "label", "image/raw"};
    const char *vals[] = {"old", "", "new"};
    for (int i = 0; i < 3; i++) {
        pb entry = {0}, feature = {0}, list = {0};
        if (i == 1) { pb v = {0}; pv(&v, 9); plen(&list, 1, &v); plen(&feature, 3, &list); }
        else { pbytes(&list, 1, vals[i], 3); plen(&feature, 1, &list); }
        pbytes(&entry, 1, keys[i], (int)strlen(keys[i]));
        plen(&entry, 2, &feature);
        plen(&features, 1, &entry);
    }
    plen(&ex, 1, &features);
    lt_example e;
    lt_example_init(&e);
    assert_int_equal(lt_example_parse(&e, ex.b, ex.n), LT_OK);
    assert_int_equal(e.features.n, 2);
    lt_ex_bytes b;
    assert_int_equal(lt_ex_feature_bytes(lt_example_get(&e, "image/raw"), &b, 1), 1);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "new", 3);
    int64_t y = 0;
    assert_int_equal(lt_ex_feature_int64s(lt_example_get(&e, "label"), &y, 1), 1);
    assert_int_equal(y, 9);
    lt_example_free(&e);
}

/* Malformed lists inside the canonical framing fail as they do elsewhere. */
static void test_canonical_errors(void **state) {
    (void)state;
    list_case bad[5] = {{"5 bytes of packed floats", LT_EX_FLOAT, {{0}, 0}},
                        {"a varint running past its chunk", LT_EX_INT64, {{0}, 0}},
                        {"a bytes value running past its list", LT_EX_BYTES, {{0}, 0}},
                        {"an 11-byte varint", LT_EX_INT64, {{0}, 0}},
                        {"a varint running past a 10-byte chunk", LT_EX_INT64, {{0}, 0}}};
    { pb v = {0}; praw(&v, "12345", 5); plen(&bad[0].body, 1, &v); }
    { pb v = {0}; pv(&v, 1); v.b[v.n++] = 0x80; plen(&bad[1].body, 1, &v); }
    { ptag(&bad[2].body, 1, 2); pv(&bad[2].body, 10); praw(&bad[2].body, "abc", 3); }
    { pb v = {0}; for (int k = 0; k < 10; k++) v.b[v.n++] = 0x81; v.b[v.n++] = 0x01; plen(&bad[3].body, 1, &v); }
    { pb v = {0}; for (int k = 0; k < 10; k++) v.b[v.n++] = 0x81; plen(&bad[4].body, 1, &v); }
    lt_example ex;
    lt_example_init(&ex);
    for (int i = 0; i < 5; i++)
        for (int form = 0; form < NFORMS; form++) {
            pb rec = {0};
            make_example(&rec, "x", &bad[i], form);
            if (lt_example_parse(&ex, rec.b, rec.n) != LT_ERR_FORMAT) fail_msg("%s, form %d: parsed", bad[i].name, form);
            assert_int_equal(ex.features.n, 0);
        }
    /* a key that is not UTF-8, in the canonical layout */
    list_case ok = {"bytes", LT_EX_BYTES, {{0}, 0}};
    pbytes(&ok.body, 1, "v", 1);
    pb rec = {0};
    make_example(&rec, "bad\xff", &ok, ENTRY_CANONICAL);
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_ERR_FORMAT);
    lt_example_free(&ex);
}

/* Keys of every length 0..40: non-ASCII bytes anywhere are caught (a lone 0x80 is not
 * UTF-8), and lookups tell apart keys differing in any one byte. */
static void test_key_words(void **state) {
    (void)state;
    list_case lc = {"bytes", LT_EX_BYTES, {{0}, 0}};
    pbytes(&lc.body, 1, "v", 1);
    lt_example ex;
    lt_example_init(&ex);
    for (int n = 0; n <= 40; n++) {
        char key[48], other[48];
        for (int i = 0; i < n; i++) key[i] = (char)('a' + i % 26);
        key[n] = 0;
        pb rec = {0};
        make_example(&rec, key, &lc, ENTRY_CANONICAL);
        assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
        assert_non_null(lt_example_get(&ex, key));
        for (int i = 0; i < n; i++) {
            memcpy(other, key, (size_t)n + 1);
            other[i] = 'Z';
            if (lt_example_get(&ex, other)) fail_msg("length %d: key differing at %d found", n, i);
        }
        if (n) { memcpy(other, key, (size_t)n - 1); other[n - 1] = 0; assert_null(lt_example_get(&ex, other)); }
        for (int i = 0; i < n; i++) {
            memcpy(other, key, (size_t)n + 1);
            other[i] = (char)0x80;
            pb bad = {0};
            make_example(&bad, other, &lc, ENTRY_CANONICAL);
            if (lt_example_parse(&ex, bad.b, bad.n) != LT_ERR_FORMAT) fail_msg("length %d: 0x80 at %d accepted", n, i);
        }
    }
    lt_example_free(&ex);
}

/* A record with many features, then smaller ones: each parse's hash table is sized by its
 * own entries (not by the largest record seen), and lookups and last-wins still hold. */
static void test_map_sizes(void **state) {
    (void)state;
    lt_ex_builder b;
    lt_example ex;
    lt_ex_builder_init(&b);
    lt_example_init(&ex);
    const int sizes[] = {2000, 12, 9, 8, 300, 20};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int n = sizes[s];
        lt_ex_builder_begin(&b, 0);
        for (int i = 0; i < n + n / 2; i++) { /* the first half of the keys appears twice */
            char key[16];
            snprintf(key, sizeof key, "k%d", i % n);
            int64_t v = i;
            assert_int_equal(lt_ex_builder_int64s(&b, key, &v, 1), LT_OK);
        }
        const uint8_t *data;
        int64_t len;
        assert_int_equal(lt_ex_builder_finish(&b, &data, &len), LT_OK);
        assert_int_equal(lt_example_parse(&ex, data, len), LT_OK);
        assert_int_equal(ex.features.n, n);
        if (n > 8) assert_true(ex.features.nslots >= 2 * n && ex.features.nslots <= 64 + 4 * n);
        for (int k = 0; k < n; k++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", k);
            int64_t v = -1;
            assert_int_equal(lt_ex_feature_int64s(lt_example_get(&ex, key), &v, 1), 1);
            assert_int_equal(v, k < n / 2 ? k + n : k);
            const lt_ex_bytes *at = &ex.features.entries[k].key; /* the first appearance's position */
            assert_int_equal(at->len, (int64_t)strlen(key));
            assert_memory_equal(at->data, key, strlen(key));
        }
        assert_null(lt_example_get(&ex, "k-1"));
    }
    lt_ex_builder_free(&b);
    lt_example_free(&ex);
}

/* Values whose lengths put each length field of the canonical framing at its 1-, 2- and
 * 3-byte boundaries (127/128 and 16383/16384 bytes follow it), and lengths written as
 * non-minimal varints: the fast path's checks of these lengths must agree with the
 * general loop (the value-first form) and with the encoder. */
static void test_length_boundaries(void **state) {
    (void)state;
    static uint8_t big[20000];
    for (int i = 0; i < (int)sizeof big; i++) big[i] = (uint8_t)(i * 7 + 3);
    lt_example ex;
    lt_example_init(&ex);
    for (int len = 0; len < 400; len++) {
        list_case lc = {"bytes", LT_EX_BYTES, {{0}, 0}};
        pbytes(&lc.body, 1, big, len);
        for (int form = ENTRY_CANONICAL; form <= ENTRY_VALUE_FIRST; form++) {
            pb rec = {0};
            make_example(&rec, "image/raw", &lc, form);
            assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
            lt_ex_bytes v = {0};
            assert_int_equal(lt_ex_feature_bytes(lt_example_get(&ex, "image/raw"), &v, 1), 1);
            if (v.len != len || (len && memcmp(v.data, big, (size_t)len))) fail_msg("length %d, form %d", len, form);
        }
    }
    lt_ex_builder b;
    lt_ex_builder_init(&b);
    for (int len = 16360; len < 16400; len++) {
        lt_ex_bytes raw = {big, len};
        const uint8_t *data;
        int64_t n;
        lt_ex_builder_begin(&b, 0);
        assert_int_equal(lt_ex_builder_bytes(&b, "image/raw", &raw, 1), LT_OK);
        assert_int_equal(lt_ex_builder_finish(&b, &data, &n), LT_OK);
        assert_int_equal(lt_example_parse(&ex, data, n), LT_OK);
        lt_ex_bytes v = {0};
        assert_int_equal(lt_ex_feature_bytes(lt_example_get(&ex, "image/raw"), &v, 1), 1);
        if (v.len != len || memcmp(v.data, big, (size_t)len)) fail_msg("encoder, length %d", len);
    }
    lt_ex_builder_free(&b);
    /* One entry {key "k", a Feature holding BytesList {"abc"}} with, in turn, the Feature's,
     * the list's and the value's length written as a 2-byte (non-minimal) varint. */
    static const uint8_t padded[3][14] = {
        {0x0a, 0x01, 'k', 0x12, 0x87, 0x00, 0x0a, 0x05, 0x0a, 0x03, 'a', 'b', 'c'},
        {0x0a, 0x01, 'k', 0x12, 0x08, 0x0a, 0x85, 0x00, 0x0a, 0x03, 'a', 'b', 'c'},
        {0x0a, 0x01, 'k', 0x12, 0x08, 0x0a, 0x06, 0x0a, 0x83, 0x00, 'a', 'b', 'c'},
    };
    for (int k = 0; k < 3; k++) {
        pb entry = {0}, features = {0}, rec = {0};
        praw(&entry, padded[k], 13);
        plen(&features, 1, &entry);
        plen(&rec, 1, &features);
        assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
        const lt_ex_feature *f = lt_example_get(&ex, "k");
        assert_non_null(f);
        lt_ex_bytes v = {0};
        assert_int_equal(f->count, 1);
        assert_int_equal(lt_ex_feature_bytes(f, &v, 1), 1);
        assert_int_equal(v.len, 3);
        assert_memory_equal(v.data, "abc", 3);
    }
    lt_example_free(&ex);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_agree),
        cmocka_unit_test(test_canonical_record),
        cmocka_unit_test(test_canonical_errors),
        cmocka_unit_test(test_key_words),
        cmocka_unit_test(test_map_sizes),
        cmocka_unit_test(test_length_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
