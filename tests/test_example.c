/* tf.Example / SequenceExample: encoder round trips, packed and unpacked values, unknown
 * fields of every wire type, duplicate keys, oneof and message merging, UTF-8 keys,
 * malformed input, parse specs with their errors, no allocation in steady state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "data/example.h"

#include "test_pb.h"

/* All the unknown-field wire types: varint, fixed64, bytes, a group with a nested group, fixed32. */
static void unknowns(pb *p) {
    ptag(p, 9, 0); pv(p, 300);
    ptag(p, 10, 1); praw(p, "12345678", 8);
    pstr(p, 11, "junk");
    ptag(p, 12, 3); ptag(p, 13, 0); pv(p, 1); ptag(p, 14, 3); ptag(p, 14, 4); ptag(p, 12, 4);
    ptag(p, 15, 5); praw(p, "abcd", 4);
}

/* Example { features { feature { key: K value: FEATURE } } } */
static void wrap_example(pb *out, const char *key, const pb *feature) {
    pb entry = {0}, feats = {0};
    pstr(&entry, 1, key);
    plen(&entry, 2, feature);
    plen(&feats, 1, &entry);
    out->n = 0;
    plen(out, 1, &feats);
}

static void builder_round_trip(void **state) {
    (void)state;
    lt_ex_builder b;
    lt_ex_builder_init(&b);
    lt_ex_builder_begin(&b, 0);
    float fl[3] = {1.5f, -2.25f, 3e-39f};
    int64_t iv[4] = {0, -1, INT64_MAX, INT64_MIN};
    lt_ex_bytes bv[3] = {{(const uint8_t *)"abc", 3}, {(const uint8_t *)"", 0}, {(const uint8_t *)"\0\xff", 2}};
    assert_int_equal(lt_ex_builder_floats(&b, "f", fl, 3), LT_OK);
    assert_int_equal(lt_ex_builder_int64s(&b, "i", iv, 4), LT_OK);
    assert_int_equal(lt_ex_builder_bytes(&b, "b", bv, 3), LT_OK);
    assert_int_equal(lt_ex_builder_floats(&b, "empty", NULL, 0), LT_OK);
    assert_int_equal(lt_ex_builder_list_begin(&b, "x"), LT_ERR_ARG); /* not a SequenceExample */
    lt_ex_builder_begin(&b, 0);
    assert_int_equal(lt_ex_builder_floats(&b, "f", fl, 3), LT_OK);
    assert_int_equal(lt_ex_builder_int64s(&b, "i", iv, 4), LT_OK);
    assert_int_equal(lt_ex_builder_bytes(&b, "b", bv, 3), LT_OK);
    assert_int_equal(lt_ex_builder_floats(&b, "empty", NULL, 0), LT_OK);
    const uint8_t *data;
    int64_t len;
    assert_int_equal(lt_ex_builder_finish(&b, &data, &len), LT_OK);
    lt_example ex;
    lt_example_init(&ex);
    assert_int_equal(lt_example_parse(&ex, data, len), LT_OK);
    assert_int_equal(ex.features.n, 4);
    const lt_ex_feature *f = lt_example_get(&ex, "f");
    assert_non_null(f);
    assert_int_equal(f->kind, LT_EX_FLOAT);
    assert_int_equal(f->count, 3);
    float fo[3];
    assert_int_equal(lt_ex_feature_floats(f, fo, 3), 3);
    assert_memory_equal(fo, fl, sizeof fl);
    f = lt_example_get(&ex, "i");
    int64_t io[4];
    assert_int_equal(f->count, 4);
    assert_int_equal(lt_ex_feature_int64s(f, io, 4), 4);
    assert_memory_equal(io, iv, sizeof iv);
    assert_int_equal(lt_ex_feature_floats(f, fo, 3), 0); /* wrong kind: nothing */
    f = lt_example_get(&ex, "b");
    lt_ex_bytes bo[3];
    assert_int_equal(lt_ex_feature_bytes(f, bo, 3), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bo[i].len, bv[i].len);
        if (bv[i].len) assert_memory_equal(bo[i].data, bv[i].data, (size_t)bv[i].len);
    }
    f = lt_example_get(&ex, "empty");
    assert_int_equal(f->kind, LT_EX_FLOAT);
    assert_int_equal(f->count, 0);
    assert_null(lt_example_get(&ex, "nope"));
    /* steady state: parsing again allocates nothing */
    uint64_t before = lt_alloc_count();
    for (int k = 0; k < 10; k++) assert_int_equal(lt_example_parse(&ex, data, len), LT_OK);
    assert_int_equal(lt_alloc_count(), before);
    lt_example_free(&ex);
    lt_ex_builder_free(&b);
}

static void packed_unpacked_and_unknown_fields(void **state) {
    (void)state;
    /* FloatList: unpacked 1, packed [2,3], unknown fields, unpacked 4 */
    pb list = {0}, feat = {0}, rec = {0};
    ptag(&list, 1, 5); pf32(&list, 1);
    pb packed = {0};
    pf32(&packed, 2); pf32(&packed, 3);
    plen(&list, 1, &packed);
    unknowns(&list);
    ptag(&list, 1, 0); pv(&list, 7); /* field 1 with the wrong wire type: unknown, skipped */
    ptag(&list, 1, 5); pf32(&list, 4);
    unknowns(&feat);
    plen(&feat, 2, &list);
    wrap_example(&rec, "x", &feat);
    unknowns(&rec);
    lt_example ex;
    lt_example_init(&ex);
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
    const lt_ex_feature *f = lt_example_get(&ex, "x");
    assert_int_equal(f->count, 4);
    float fo[4], want[4] = {1, 2, 3, 4};
    assert_int_equal(lt_ex_feature_floats(f, fo, 4), 4);
    assert_memory_equal(fo, want, sizeof want);
    lt_ex_iter it;
    lt_ex_iter_init(&it, f);
    float v;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(lt_ex_iter_float(&it, &v), 1);
        assert_true(v == want[i]);
    }
    assert_int_equal(lt_ex_iter_float(&it, &v), 0);
    /* Int64List: packed [5, -3], unpacked 300 */
    pb il = {0}, ip = {0};
    pv(&ip, 5); pv(&ip, (uint64_t)-3);
    plen(&il, 1, &ip);
    ptag(&il, 1, 0); pv(&il, 300);
    feat.n = 0;
    plen(&feat, 3, &il);
    wrap_example(&rec, "y", &feat);
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
    int64_t io[3];
    f = lt_example_get(&ex, "y");
    assert_int_equal(lt_ex_feature_int64s(f, io, 3), 3);
    assert_int_equal(io[0], 5);
    assert_int_equal(io[1], -3);
    assert_int_equal(io[2], 300);
    /* malformed: wire type 7, a lone end-group, a packed float run of 5 bytes, a bad varint */
    pb bad = {0};
    ptag(&bad, 9, 7);
    assert_int_equal(lt_example_parse(&ex, bad.b, bad.n), LT_ERR_FORMAT);
    bad.n = 0;
    ptag(&bad, 9, 4);
    assert_int_equal(lt_example_parse(&ex, bad.b, bad.n), LT_ERR_FORMAT);
    list.n = 0;
    ptag(&list, 1, 2); pv(&list, 5); praw(&list, "12345", 5);
    feat.n = 0;
    plen(&feat, 2, &list);
    wrap_example(&rec, "z", &feat);
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "multiple of 4"));
    uint8_t tenff[11] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(lt_example_parse(&ex, tenff, 11), LT_ERR_FORMAT);
    for (int cut = 1; cut < rec.n; cut++) /* every truncation of a valid record fails cleanly or parses */
        (void)lt_example_parse(&ex, rec.b, cut);
    lt_example_free(&ex);
}

/* Values in one piece (a bytes value, a packed chunk) are copied from a view kept by the
 * parse; several pieces, unpacked values and oneof switches must still give every value. */
static void single_piece_views(void **state) {
    (void)state;
    pb bl = {0}, f = {0}, rec = {0};
    pstr(&bl, 1, "ab");
    plen(&f, 1, &bl);
    wrap_example(&rec, "b", &f);
    lt_example ex;
    lt_example_init(&ex);
    lt_ex_bytes v[3];
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
    assert_int_equal(lt_ex_feature_bytes(lt_example_get(&ex, "b"), v, 3), 1);
    assert_true(v[0].len == 2 && !memcmp(v[0].data, "ab", 2));
    assert_int_equal(lt_ex_feature_bytes(lt_example_get(&ex, "b"), v, 0), 0);
    pstr(&bl, 1, "cde"); /* two values */
    f.n = rec.n = 0;
    plen(&f, 1, &bl);
    wrap_example(&rec, "b", &f);
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
    assert_int_equal(lt_ex_feature_bytes(lt_example_get(&ex, "b"), v, 3), 2);
    assert_true(v[1].len == 3 && !memcmp(v[1].data, "cde", 3));
    /* int64: one packed chunk [7, 300, 2]; then a chunk plus an unpacked value */
    pb chunk = {0}, il = {0};
    pv(&chunk, 7); pv(&chunk, 300); pv(&chunk, 2);
    plen(&il, 1, &chunk);
    f.n = rec.n = 0;
    plen(&f, 3, &il);
    wrap_example(&rec, "i", &f);
    int64_t iv[4];
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
    assert_int_equal(lt_ex_feature_int64s(lt_example_get(&ex, "i"), iv, 2), 2);
    assert_int_equal(lt_ex_feature_int64s(lt_example_get(&ex, "i"), iv, 4), 3);
    assert_true(iv[0] == 7 && iv[1] == 300 && iv[2] == 2);
    ptag(&il, 1, 0); pv(&il, 9);
    f.n = rec.n = 0;
    plen(&f, 3, &il);
    wrap_example(&rec, "i", &f);
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
    assert_int_equal(lt_ex_feature_int64s(lt_example_get(&ex, "i"), iv, 4), 4);
    assert_true(iv[2] == 2 && iv[3] == 9);
    /* float chunk {1, 2}, an int64 list (oneof switch), a float chunk {3}: only {3} */
    pb fc = {0}, fl = {0}, fc2 = {0}, fl2 = {0};
    pf32(&fc, 1); pf32(&fc, 2);
    plen(&fl, 1, &fc);
    pf32(&fc2, 3);
    plen(&fl2, 1, &fc2);
    f.n = rec.n = 0;
    plen(&f, 2, &fl);
    plen(&f, 3, &il);
    plen(&f, 2, &fl2);
    wrap_example(&rec, "x", &f);
    float fv[3];
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
    assert_int_equal(lt_example_get(&ex, "x")->count, 1);
    assert_int_equal(lt_ex_feature_floats(lt_example_get(&ex, "x"), fv, 3), 1);
    assert_true(fv[0] == 3);
    assert_int_equal(lt_ex_feature_int64s(lt_example_get(&ex, "x"), iv, 4), 0); /* wrong kind */
    lt_example_free(&ex);
}

static void duplicates_oneof_and_merging(void **state) {
    (void)state;
    /* two entries "k": the last one wins; then a oneof switch and a same-kind merge */
    pb feats = {0}, e1 = {0}, e2 = {0}, f1 = {0}, f2 = {0}, l = {0}, rec = {0};
    ptag(&l, 1, 0); pv(&l, 1);
    plen(&f1, 3, &l);
    pstr(&e1, 1, "k");
    plen(&e1, 2, &f1);
    plen(&feats, 1, &e1);
    pb fl = {0};
    ptag(&fl, 1, 5); pf32(&fl, 9);
    plen(&f2, 2, &fl); /* float_list {9} */
    plen(&f2, 3, &l);  /* int64_list {1}: switches the oneof */
    plen(&f2, 2, &fl); /* float_list again: switches back, values before cleared */
    plen(&f2, 2, &fl); /* same kind: merged, appends */
    pstr(&e2, 1, "k");
    plen(&e2, 2, &f2);
    plen(&feats, 1, &e2);
    plen(&rec, 1, &feats);
    lt_example ex;
    lt_example_init(&ex);
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
    assert_int_equal(ex.features.n, 1);
    const lt_ex_feature *f = lt_example_get(&ex, "k");
    assert_int_equal(f->kind, LT_EX_FLOAT);
    assert_int_equal(f->count, 2);
    float fo[2];
    assert_int_equal(lt_ex_feature_floats(f, fo, 2), 2);
    assert_true(fo[0] == 9 && fo[1] == 9);
    /* a map entry with two value fields merges them; Example.features twice merges the maps */
    pb e3 = {0}, f3 = {0}, feats2 = {0};
    plen(&f3, 3, &l);
    pstr(&e3, 1, "m");
    plen(&e3, 2, &f3);
    plen(&e3, 2, &f3);
    plen(&feats2, 1, &e3);
    plen(&rec, 1, &feats2);
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
    assert_int_equal(ex.features.n, 2);
    assert_int_equal(lt_example_get(&ex, "m")->count, 2);
    assert_int_equal(lt_example_get(&ex, "k")->count, 2);
    /* many keys (hashed lookup) with duplicates */
    lt_ex_builder b;
    lt_ex_builder_init(&b);
    lt_ex_builder_begin(&b, 0);
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "key%d", i % 40);
        int64_t v = i;
        assert_int_equal(lt_ex_builder_int64s(&b, key, &v, 1), LT_OK);
    }
    const uint8_t *data;
    int64_t len;
    assert_int_equal(lt_ex_builder_finish(&b, &data, &len), LT_OK);
    assert_int_equal(lt_example_parse(&ex, data, len), LT_OK);
    assert_int_equal(ex.features.n, 40);
    for (int k = 0; k < 40; k++) {
        char key[16];
        snprintf(key, sizeof key, "key%d", k);
        int64_t v;
        assert_int_equal(lt_ex_feature_int64s(lt_example_get(&ex, key), &v, 1), 1);
        assert_int_equal(v, k + 80 < 100 ? k + 80 : k + 40); /* the last occurrence */
    }
    /* a key that is not UTF-8 */
    pb fx = {0};
    plen(&fx, 3, &l);
    wrap_example(&rec, "bad\xc3\x28", &fx);
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "UTF-8"));
    wrap_example(&rec, "caf\xc3\xa9", &fx);
    assert_int_equal(lt_example_parse(&ex, rec.b, rec.n), LT_OK);
    lt_ex_builder_free(&b);
    lt_example_free(&ex);
}

static void sequence_examples(void **state) {
    (void)state;
    lt_ex_builder b;
    lt_ex_builder_init(&b);
    lt_ex_builder_begin(&b, 1);
    int64_t len3 = 3;
    assert_int_equal(lt_ex_builder_int64s(&b, "length", &len3, 1), LT_OK);
    assert_int_equal(lt_ex_builder_list_begin(&b, "tokens"), LT_OK);
    for (int64_t t = 0; t < 3; t++) {
        int64_t v[2] = {t, 10 * t};
        assert_int_equal(lt_ex_builder_int64s(&b, NULL, v, 2), LT_OK);
    }
    assert_int_equal(lt_ex_builder_list_end(&b), LT_OK);
    assert_int_equal(lt_ex_builder_list_begin(&b, "audio"), LT_OK);
    float a = 0.5f;
    assert_int_equal(lt_ex_builder_floats(&b, NULL, &a, 1), LT_OK);
    assert_int_equal(lt_ex_builder_list_end(&b), LT_OK);
    const uint8_t *data;
    int64_t len;
    assert_int_equal(lt_ex_builder_finish(&b, &data, &len), LT_OK);
    lt_seqex s;
    lt_seqex_init(&s);
    assert_int_equal(lt_seqex_parse(&s, data, len), LT_OK);
    assert_int_equal(s.context.n, 1);
    assert_int_equal(s.lists.n, 2);
    const lt_ex_flist *l = lt_seqex_list(&s, "tokens");
    assert_non_null(l);
    assert_int_equal(l->count, 3);
    lt_ex_flist_iter it;
    lt_ex_flist_iter_init(&it, l);
    lt_ex_feature f;
    for (int64_t t = 0; t < 3; t++) {
        assert_int_equal(lt_ex_flist_next(&it, &f), 1);
        int64_t v[2];
        assert_int_equal(f.kind, LT_EX_INT64);
        assert_int_equal(lt_ex_feature_int64s(&f, v, 2), 2);
        assert_int_equal(v[0], t);
        assert_int_equal(v[1], 10 * t);
    }
    assert_int_equal(lt_ex_flist_next(&it, &f), 0);
    l = lt_seqex_list(&s, "audio");
    lt_ex_flist_iter_init(&it, l);
    assert_int_equal(lt_ex_flist_next(&it, &f), 1);
    float fo;
    assert_int_equal(lt_ex_feature_floats(&f, &fo, 1), 1);
    assert_true(fo == 0.5f);
    /* context after a list is refused */
    lt_ex_builder_begin(&b, 1);
    assert_int_equal(lt_ex_builder_list_begin(&b, "x"), LT_OK);
    assert_int_equal(lt_ex_builder_list_end(&b), LT_OK);
    assert_int_equal(lt_ex_builder_int64s(&b, "late", &len3, 1), LT_ERR_ARG);
    /* a hand-made SequenceExample: an unknown field inside a FeatureList, unpacked values */
    pb il = {0}, feat = {0}, flist = {0}, entry = {0}, lists = {0}, rec = {0};
    ptag(&il, 1, 0); pv(&il, 42);
    plen(&feat, 3, &il);
    plen(&flist, 1, &feat);
    unknowns(&flist);
    plen(&flist, 1, &feat);
    pstr(&entry, 1, "q");
    plen(&entry, 2, &flist);
    plen(&lists, 1, &entry);
    plen(&rec, 2, &lists);
    assert_int_equal(lt_seqex_parse(&s, rec.b, rec.n), LT_OK);
    assert_int_equal(s.context.n, 0);
    assert_int_equal(lt_seqex_list(&s, "q")->count, 2);
    lt_seqex_free(&s);
    lt_ex_builder_free(&b);
}

static void parse_specs(void **state) {
    (void)state;
    float dflt = -1;
    int64_t idflt = 7;
    lt_ex_spec_item spec[] = {
        {.key = "img", .dtype = LT_EX_BYTES, .fixed = 1, .raw = 1, .ndim = 2, .shape = {2, 3}},
        {.key = "w", .dtype = LT_EX_FLOAT, .fixed = 1, .ndim = 1, .shape = {2}, .default_value = &dflt, .default_count = 1},
        {.key = "label", .dtype = LT_EX_INT64, .fixed = 1, .ndim = 0},
        {.key = "opt", .dtype = LT_EX_INT64, .fixed = 1, .default_value = &idflt, .default_count = 1},
        {.key = "tags", .dtype = LT_EX_BYTES},
        {.key = "ids", .dtype = LT_EX_INT64},
    };
    lt_ex_batch batch;
    assert_int_equal(lt_ex_batch_init(&batch, spec, 6, 4), LT_OK);
    lt_ex_builder b;
    lt_ex_builder_init(&b);
    lt_example ex;
    lt_example_init(&ex);
    const uint8_t *data;
    int64_t len;
    for (int r = 0; r < 3; r++) {
        lt_ex_builder_begin(&b, 0);
        lt_ex_bytes img = {(const uint8_t *)"abcdef", 6};
        lt_ex_builder_bytes(&b, "img", &img, 1);
        float w[2] = {(float)r, 0.5f};
        if (r != 1) lt_ex_builder_floats(&b, "w", w, 2);
        int64_t label = r, ids[3] = {1, 2, 3};
        lt_ex_builder_int64s(&b, "label", &label, 1);
        lt_ex_bytes tags[2] = {{(const uint8_t *)"x", 1}, {(const uint8_t *)"yz", 2}};
        lt_ex_builder_bytes(&b, "tags", tags, r);
        lt_ex_builder_int64s(&b, "ids", ids, r + 1);
        assert_int_equal(lt_ex_builder_finish(&b, &data, &len), LT_OK);
        assert_int_equal(lt_example_parse(&ex, data, len), LT_OK);
        assert_int_equal(lt_ex_batch_add(&batch, &ex, "f.tfrecord", r), LT_OK);
    }
    assert_int_equal(batch.rows, 3);
    assert_memory_equal((uint8_t *)batch.cols[0].dense + 12, "abcdef", 6);
    float *w = batch.cols[1].dense; /* (4,2) */
    assert_true(w[0] == 0 && w[1] == 0.5f && w[2] == -1 && w[3] == -1 && w[4] == 2);
    int64_t *lab = batch.cols[2].dense;
    assert_int_equal(lab[2], 2);
    assert_int_equal(((int64_t *)batch.cols[3].dense)[1], 7);
    lt_ex_column *tags = &batch.cols[4];
    assert_int_equal(tags->nvalues, 3); /* 0 + 1 + 2 strings */
    assert_int_equal(tags->splits[3], 3);
    assert_int_equal(tags->offsets[3], 4);
    assert_memory_equal(tags->bytes, "xxyz", 4);
    lt_ex_column *ids = &batch.cols[5];
    assert_int_equal(ids->nvalues, 6);
    assert_int_equal(ids->splits[2], 3);
    /* errors name the file, record and feature; a failed row leaves no trace */
    int64_t before = ids->nvalues;
    lt_ex_builder_begin(&b, 0);
    int64_t ids2[2] = {4, 5};
    lt_ex_builder_int64s(&b, "ids", ids2, 2);
    lt_ex_bytes img = {(const uint8_t *)"abcdef", 6};
    lt_ex_builder_bytes(&b, "img", &img, 1);
    assert_int_equal(lt_ex_builder_finish(&b, &data, &len), LT_OK);
    assert_int_equal(lt_example_parse(&ex, data, len), LT_OK);
    assert_int_equal(lt_ex_batch_add(&batch, &ex, "f.tfrecord", 9), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "file f.tfrecord record 9 feature 'label': required feature is missing"));
    assert_int_equal(ids->nvalues, before);
    assert_int_equal(batch.rows, 3);
    lt_ex_builder_begin(&b, 0);
    lt_ex_builder_bytes(&b, "img", &img, 1);
    float lf = 1;
    lt_ex_builder_floats(&b, "label", &lf, 1);
    lt_ex_builder_finish(&b, &data, &len);
    lt_example_parse(&ex, data, len);
    assert_int_equal(lt_ex_batch_add(&batch, &ex, NULL, 10), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "record 10 feature 'label': wrong type: expected int64, found float"));
    lt_ex_builder_begin(&b, 0);
    lt_ex_bytes img5 = {(const uint8_t *)"abcde", 5};
    lt_ex_builder_bytes(&b, "img", &img5, 1);
    lt_ex_builder_finish(&b, &data, &len);
    lt_example_parse(&ex, data, len);
    assert_int_equal(lt_ex_batch_add(&batch, &ex, NULL, 11), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "feature 'img': wrong length: expected 6 bytes (shape [2,3]), found 5"));
    lt_ex_builder_begin(&b, 0);
    lt_ex_builder_bytes(&b, "img", &img, 1);
    float w3[3] = {1, 2, 3};
    lt_ex_builder_floats(&b, "w", w3, 3);
    lt_ex_builder_finish(&b, &data, &len);
    lt_example_parse(&ex, data, len);
    assert_int_equal(lt_ex_batch_add(&batch, &ex, NULL, 12), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "feature 'w': wrong length: expected 2 values (shape [2]), found 3"));
    lt_ex_batch_free(&batch);
    /* bad specs */
    lt_ex_spec_item badspec[] = {{.key = "a", .dtype = LT_EX_FLOAT, .raw = 1}};
    assert_int_equal(lt_ex_batch_init(&batch, badspec, 1, 4), LT_ERR_ARG);
    lt_ex_spec_item dup[] = {{.key = "a", .dtype = LT_EX_FLOAT}, {.key = "a", .dtype = LT_EX_INT64}};
    assert_int_equal(lt_ex_batch_init(&batch, dup, 2, 4), LT_ERR_ARG);
    lt_example_free(&ex);
    lt_ex_builder_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builder_round_trip),
        cmocka_unit_test(packed_unpacked_and_unknown_fields),
        cmocka_unit_test(single_piece_views),
        cmocka_unit_test(duplicates_oneof_and_merging),
        cmocka_unit_test(sequence_examples),
        cmocka_unit_test(parse_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
