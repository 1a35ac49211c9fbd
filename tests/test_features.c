/* Feature columns: a realistic spec covering every column type (tests/data/features/spec.json),
 * applied to three hand-written examples, checked value by value.
 *
 * Where the expected values come from:
 *  - numeric, bucketized, indicator counts, identity defaults, vocabulary ids and the
 *    embedding combiners: TensorFlow's documented formulas, computed by hand below
 *    (z-score (x-40)/10; min-max x/255; bucket i for boundaries[i-1] <= x < boundaries[i];
 *    mean = Σw·e/Σw, sqrtn = Σw·e/sqrt(Σw²), sum = Σw·e; ids < 0 and, for mean/sqrtn,
 *    weights <= 0 pruned as safe_embedding_lookup_sparse does).
 *  - hash buckets of "Hello", "TensorFlow", "2.x" mod 3 = 0, 2, 2: TensorFlow's
 *    to_hash_bucket_fast values quoted in issue 5.
 *  - the other Fingerprint64 values (purple 0xf202eee94a9f4974, zzz 0x7a1c471054c79524,
 *    red 0x0dc1119c86e561f6, blue 0x93effbe14bddaf89, "7" 0x8831601f30043498,
 *    "12" 0xad931d0412144350) were printed by a separate C++ program calling Debian's
 *    util::Fingerprint64; the OOV ids and hash buckets follow from them mod 5 / mod 7.
 *  - crossed buckets: TF's HashCrosser (h = 0xDECAFCAFFE; h = FingerprintCat64(h, v)
 *    per input; h mod size) evaluated in Python with 64-bit masking from the
 *    fingerprints above: Hello×7→15, TensorFlow×7→5, 2.x×7→17, Hello×12→38 (mod 50);
 *    bucket 2×red→13, 2×blue→17, 1×purple→9, 1×zzz→1 (mod 20).
 * Embedding tables are filled with table[i][d] = 10·i + d so the sums are easy by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "autograd/gradcheck.h"
#include "core/alloc.h"
#include "data/features.h"
#include "nn/feature_input.h"
#include "ops/ops.h"

/* ---- in-memory examples ---- */
typedef struct tfeat {
    const char *key;
    lt_ex_kind kind;
    int n;
    float f[8];
    int64_t i[8];
    const char *s[8];
} tfeat;
typedef struct trow { tfeat feats[16]; } trow;

static lt_ex_bytes scratch_bytes[8];

static lt_status tlookup(void *ud, int64_t row, const char *key, lt_fvalues *out) {
    const trow *rows = ud;
    memset(out, 0, sizeof *out);
    for (const tfeat *ft = rows[row].feats; ft->key; ft++) {
        if (strcmp(ft->key, key)) continue;
        out->kind = ft->kind;
        out->n = ft->n;
        out->f = ft->f;
        out->i = ft->i;
        for (int j = 0; j < ft->n && ft->kind == LT_EX_BYTES; j++)
            scratch_bytes[j] = (lt_ex_bytes){(const uint8_t *)ft->s[j], (int64_t)strlen(ft->s[j])};
        out->b = scratch_bytes;
    }
    return LT_OK;
}

#define F(k, ...) {k, LT_EX_FLOAT, sizeof((float[]){__VA_ARGS__}) / sizeof(float), {__VA_ARGS__}, {0}, {0}}
#define I(k, ...) {k, LT_EX_INT64, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {0}, {__VA_ARGS__}, {0}}
#define S(k, ...) {k, LT_EX_BYTES, sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *), {0}, {0}, {__VA_ARGS__}}

static const trow rows3[3] = {
    {{F("age", 35), I("pixels", 0, 255, 51, 102), S("color", "red", "blue", "red"),
      S("word", "Hello", "TensorFlow", "2.x"), I("user_id", 7), I("dept", 5, 2), F("dept_w", 0.5f, 2.0f),
      I("slot_a", 1, 3), I("slot_b", 4), I("movie", 0, 2), F("movie_w", 1, 3), I("zip", 7, 12)}},
    {{F("age", 18), F("pixels", 25.5f, 0, 255, 127.5f), S("color", "purple", "zzz"), S("word", "Hello"),
      I("user_id", 12), I("dept", 9, 42), F("dept_w", 1, 1), I("slot_b", 0, 0), I("movie", 3), F("movie_w", -1),
      I("zip", 7, 7)}},
    {{I("pixels", 255, 255, 255, 255)}},
};

typedef struct texpect {
    const char *name;
    int64_t width;
    float v[3][8]; /* dense values; for wide columns, (index, value) pairs in sparse[] instead */
    int sparse[3][8];
} texpect;

/* The columns in output order (sorted by name, as TF's input_layer). Sparse columns
 * list index:count pairs, terminated by -1. */
static const texpect expect[] = {
    {"age", 1, {{-0.5f}, {-2.2f}, {-1.0f}}, {{0}}},
    {"age_bucketized", 4, {{0, 0, 1, 0}, {0, 1, 0, 0}, {1, 0, 0, 0}}, {{0}}},
    {"age_bucketized_X_color_indicator", 20, {{0}}, {{13, 2, 17, 1, -1}, {9, 1, 1, 1, -1}, {-1}}},
    {"color_indicator", 8, {{2, 0, 1, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 0, 1, 0, 0}, {0}}, {{0}}},
    {"dept_weighted_by_dept_w_indicator", 3, {{0.5f, 2, 0}, {0, 0, 1}, {0}}, {{0}}},
    {"movie_weighted_by_movie_w_embedding", 2, {{15, 16}, {0, 0}, {0, 0}}, {{0}}},
    {"pixels", 4, {{0, 1, 0.2f, 0.4f}, {0.1f, 0, 1, 0.5f}, {1, 1, 1, 1}}, {{0}}},
    {"slot_a_shared_embedding", 2, {{40, 42}, {0, 0}, {0, 0}}, {{0}}},
    {"slot_b_shared_embedding", 2, {{40, 41}, {0, 2}, {0, 0}}, {{0}}},
    {"user_id_X_word_indicator", 50, {{0}}, {{15, 1, 5, 1, 17, 1, -1}, {38, 1, -1}, {-1}}},
    {"user_id_embedding", 3, {{70, 71, 72}, {0, 1, 2}, {0, 0, 0}}, {{0}}},
    {"user_id_indicator", 10, {{0}}, {{7, 1, -1}, {0, 1, -1}, {-1}}},
    {"word_embedding", 2, {{40.0f / 1.7320508f, 43.0f / 1.7320508f}, {0, 1}, {0, 0}}, {{0}}},
    {"word_indicator", 3, {{1, 0, 2}, {1, 0, 0}, {0}}, {{0}}},
    {"zip_indicator", 7, {{0, 0, 1, 1, 0, 0, 0}, {0, 0, 2, 0, 0, 0, 0}, {0}}, {{0}}},
};
#define NEXPECT ((int)(sizeof expect / sizeof expect[0]))

static char spec_path[1024];

static int setup(void **state) {
    (void)state;
    const char *src = getenv("LT_SOURCE_DIR");
    snprintf(spec_path, sizeof spec_path, "%s/tests/data/features/spec.json", src ? src : ".");
    return 0;
}

static void fill_tables(lt_features *f) {
    for (int64_t t = 0; t < lt_features_ntables(f); t++) {
        lt_tensor *tab = lt_features_table(f, t);
        for (int64_t i = 0; i < tab->shape[0]; i++)
            for (int64_t d = 0; d < tab->shape[1]; d++) tab->data[i * tab->shape[1] + d] = (float)(10 * i + d);
    }
}

static lt_features *load_spec(lt_params *p) {
    lt_features *f = NULL;
    lt_status st = lt_features_load(spec_path, &f);
    if (st) fail_msg("%s", lt_error_message());
    lt_params_init(p);
    assert_int_equal(lt_features_declare_params(f, p), LT_OK);
    assert_int_equal(lt_params_finalize(p), LT_OK);
    fill_tables(f);
    return f;
}

static void check_rows(const lt_features *f, const float *out) {
    assert_int_equal(lt_features_ncolumns(f), NEXPECT);
    assert_int_equal(lt_features_width(f), 121);
    for (int c = 0; c < NEXPECT; c++) {
        const char *name;
        int64_t off, w;
        lt_features_column(f, c, &name, &off, &w);
        assert_string_equal(name, expect[c].name);
        assert_int_equal(w, expect[c].width);
        for (int r = 0; r < 3; r++) {
            float want[64] = {0};
            if (expect[c].width <= 8) memcpy(want, expect[c].v[r], sizeof(float) * (size_t)expect[c].width);
            else
                for (int k = 0; expect[c].sparse[r][k] >= 0; k += 2) want[expect[c].sparse[r][k]] = (float)expect[c].sparse[r][k + 1];
            for (int64_t j = 0; j < w; j++) {
                float got = out[r * 121 + off + j];
                if (fabsf(got - want[j]) > 1e-5f * (1 + fabsf(want[j])))
                    fail_msg("row %d column %s[%lld]: got %g, want %g", r, name, (long long)j, got, want[j]);
            }
        }
    }
}

static void every_column_type_matches_tensorflow(void **state) {
    (void)state;
    lt_params p;
    lt_features *f = load_spec(&p);
    assert_int_equal(lt_features_ntables(f), 4);
    assert_non_null(lt_params_find(&p, "features/slot_a_slot_b_shared_embedding"));
    assert_non_null(lt_params_find(&p, "features/user_id_embedding"));
    lt_feature_batch b;
    lt_feature_batch_init(&b);
    lt_status st = lt_features_transform(f, tlookup, (void *)rows3, 3, &b);
    if (st) fail_msg("%s", lt_error_message());
    float out[3 * 121];
    assert_int_equal(lt_features_dense(f, &b, out), LT_OK);
    check_rows(f, out);
    /* a second batch reuses the buffers: no allocation in steady state */
    uint64_t before = lt_alloc_count();
    assert_int_equal(lt_features_transform(f, tlookup, (void *)rows3, 3, &b), LT_OK);
    assert_int_equal(lt_features_dense(f, &b, out), LT_OK);
    assert_int_equal(lt_alloc_count(), before);
    check_rows(f, out);
    lt_feature_batch_free(&b);
    lt_features_free(f);
    lt_params_free(&p);
}

/* The graph input layer gives the same rows, and its gradient reaches the tables. */
static lt_features *gc_f;
static lt_feature_batch *gc_b;
static lt_tensor *build_input(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)in; (void)arg;
    return lt_feature_input(g, gc_f, gc_b);
}

static void graph_input_matches_and_trains(void **state) {
    (void)state;
    lt_params p;
    lt_features *f = load_spec(&p);
    lt_feature_batch b;
    lt_feature_batch_init(&b);
    assert_int_equal(lt_features_transform(f, tlookup, (void *)rows3, 3, &b), LT_OK);
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 1 << 16), LT_OK);
    lt_tensor *x = lt_feature_input(&g, f, &b);
    if (!x) fail_msg("%s", lt_error_message());
    assert_int_equal(x->ndim, 2);
    assert_int_equal(x->shape[0], 3);
    assert_int_equal(x->shape[1], 121);
    check_rows(f, x->data);
    /* d(sum of user_id_embedding outputs)/d table: row 7 once (row 0), row 0 once (row 1) */
    int64_t off;
    for (int c = 0; c < NEXPECT; c++)
        if (!strcmp(expect[c].name, "user_id_embedding")) lt_features_column(f, c, NULL, &off, NULL);
    float seed[3 * 121] = {0};
    for (int r = 0; r < 3; r++)
        for (int d = 0; d < 3; d++) seed[r * 121 + off + d] = 1.0f;
    lt_params_zero_grad(&p);
    assert_int_equal(lt_backward_from(&g, x, seed), LT_OK);
    lt_param *t = lt_params_find(&p, "features/user_id_embedding");
    for (int i = 0; i < 10; i++)
        for (int d = 0; d < 3; d++) assert_float_equal(t->t.grad[i * 3 + d], i == 7 || i == 0 ? 1.0f : 0.0f, 1e-6);
    lt_graph_free(&g);
    /* finite differences through every table (mean, sum, sqrtn, weighted) */
    gc_f = f;
    gc_b = &b;
    lt_rng rng;
    lt_rng_seed(&rng, 5);
    for (int64_t k = 0; k < lt_features_ntables(f); k++) {
        lt_tensor *tab = lt_features_table(f, k);
        lt_rng_fill_uniform(&rng, tab->data, lt_numel(tab), -1, 1);
        lt_gc_result res;
        assert_int_equal(lt_gradcheck(build_input, NULL, 1, (lt_tensor *[]){tab}, NULL, &rng, &res), LT_OK);
        if (res.n_failed) fail_msg("table %lld: %s", (long long)k, res.worst);
        assert_true(res.n_checked == lt_numel(tab));
    }
    lt_feature_batch_free(&b);
    lt_features_free(f);
    lt_params_free(&p);
}

/* ---- errors name the column and the key ---- */

static void expect_spec_error(const char *json, const char *want1, const char *want2) {
    lt_features *f = (lt_features *)1;
    lt_status st = lt_features_parse(json, strlen(json), NULL, &f);
    if (st == LT_OK) fail_msg("spec accepted: %s", json);
    assert_int_equal(st, LT_ERR_ARG);
    assert_null(f);
    const char *m = lt_error_message();
    if (!strstr(m, want1) || (want2 && !strstr(m, want2)))
        fail_msg("message '%s' lacks '%s' / '%s'", m, want1, want2 ? want2 : "");
}

static void spec_errors_are_clear(void **state) {
    (void)state;
    expect_spec_error("{\"columns\": [{\"type\": \"numeric\", \"key\": \"a\"}]}", "columns[0]",
                      "unknown column type 'numeric'");
    expect_spec_error("{\"columns\": [{\"type\": \"numeric_column\", \"key\": \"a\"}, {\"type\": \"embedding_column\", "
                      "\"categorical_column\": {\"type\": \"categorical_column_with_identity\", \"key\": \"b\", "
                      "\"num_buckets\": 3}}]}", "columns[1]", "missing key 'dimension'");
    expect_spec_error("{\"columns\": [{\"type\": \"embedding_column\", \"dimension\": \"8\", \"categorical_column\": "
                      "{\"type\": \"categorical_column_with_identity\", \"key\": \"b\", \"num_buckets\": 3}}]}",
                      "columns[0]", "key 'dimension' must be an integer");
    expect_spec_error("{\"columns\": [{\"type\": \"numeric_column\", \"key\": \"a\", \"shpe\": 3}]}", "columns[0]",
                      "unknown key 'shpe'");
    expect_spec_error("{\"columns\": [{\"type\": \"indicator_column\", \"categorical_column\": {\"type\": "
                      "\"categorical_column_with_hash_bucket\", \"key\": \"w\"}}]}",
                      "columns[0].categorical_column", "missing key 'hash_bucket_size'");
    expect_spec_error("{\"columns\": [{\"type\": \"categorical_column_with_identity\", \"key\": \"b\", "
                      "\"num_buckets\": 3}]}", "columns[0]", "wrap it in an indicator_column");
    expect_spec_error("{\"columns\": [{\"type\": \"numeric_column\", \"key\": \"a\"}, {\"type\": \"numeric_column\", "
                      "\"key\": \"a\"}]}", "two columns are named 'a'", NULL);
    expect_spec_error("{\"columns\": [{\"type\": \"numeric_column\" \"key\": \"a\"}]}", "line 1", NULL);
    expect_spec_error("{\"columns\": [{\"type\": \"indicator_column\", \"categorical_column\": {\"type\": "
                      "\"categorical_column_with_vocabulary_list\", \"key\": \"c\", \"vocabulary_list\": [\"x\", "
                      "\"y\", \"x\"]}}]}", "duplicate vocabulary entry 'x'", NULL);
    expect_spec_error("{\"columns\": [{\"type\": \"bucketized_column\", \"boundaries\": [1, 1], \"source_column\": "
                      "{\"type\": \"numeric_column\", \"key\": \"a\"}}]}", "strictly increasing", NULL);
    expect_spec_error("{\"columns\": [{\"type\": \"indicator_column\", \"categorical_column\": {\"type\": "
                      "\"crossed_column\", \"hash_bucket_size\": 5, \"keys\": [\"a\", {\"type\": "
                      "\"categorical_column_with_hash_bucket\", \"key\": \"w\", \"hash_bucket_size\": 3}]}}]}",
                      "keys[1]", "cannot be crossed");
    expect_spec_error("{\"columns\": [{\"type\": \"numeric_column\", \"key\": \"a\", \"normalizer\": {\"type\": "
                      "\"z_score\", \"mean\": 0, \"std\": 0}}]}", "columns[0].normalizer", "'std' must be > 0");
    expect_spec_error("{\"columns\": [{\"type\": \"indicator_column\", \"categorical_column\": {\"type\": "
                      "\"categorical_column_with_vocabulary_list\", \"key\": \"c\", \"vocabulary_list\": [\"x\"], "
                      "\"num_oov_buckets\": 2, \"default_value\": 0}}]}", "not both", NULL);
    expect_spec_error("{\"columns\": [{\"type\": \"shared_embedding_columns\", \"dimension\": 2, "
                      "\"categorical_columns\": [{\"type\": \"categorical_column_with_identity\", \"key\": \"a\", "
                      "\"num_buckets\": 3}, {\"type\": \"categorical_column_with_identity\", \"key\": \"b\", "
                      "\"num_buckets\": 4}]}]}", "categorical_columns[1]", "same number of buckets");
    expect_spec_error("[]", "expected an object", NULL);
    /* sizes that would overflow are refused before any arithmetic on them */
    expect_spec_error("{\"columns\": [{\"type\": \"embedding_column\", \"dimension\": 9223372036854775807, "
                      "\"categorical_column\": {\"type\": \"categorical_column_with_identity\", \"key\": \"b\", "
                      "\"num_buckets\": 4}}]}", "columns[0]", "more than 2^31 values");
    expect_spec_error("{\"columns\": [{\"type\": \"indicator_column\", \"categorical_column\": {\"type\": "
                      "\"categorical_column_with_vocabulary_list\", \"key\": \"c\", \"vocabulary_list\": [\"x\"], "
                      "\"num_oov_buckets\": 9223372036854775807}}]}", "num_oov_buckets", "at most 2^40");
    expect_spec_error("{\"columns\": [{\"type\": \"indicator_column\", \"categorical_column\": {\"type\": "
                      "\"categorical_column_with_identity\", \"key\": \"c\", \"num_buckets\": 9223372036854775807}}, "
                      "{\"type\": \"numeric_column\", \"key\": \"d\"}]}", "more than 2^31 output values", NULL);
}

static void expect_row_error(const char *json, const trow *rows, const char *want1, const char *want2) {
    lt_features *f;
    assert_int_equal(lt_features_parse(json, strlen(json), NULL, &f), LT_OK);
    lt_feature_batch b;
    lt_feature_batch_init(&b);
    lt_status st = lt_features_transform(f, tlookup, (void *)rows, 1, &b);
    assert_int_equal(st, LT_ERR_FORMAT);
    const char *m = lt_error_message();
    if (!strstr(m, want1) || (want2 && !strstr(m, want2))) fail_msg("message '%s' lacks '%s' / '%s'", m, want1, want2);
    lt_feature_batch_free(&b);
    lt_features_free(f);
}

static void data_errors_name_row_column_and_value(void **state) {
    (void)state;
    static const trow id12[1] = {{{I("user_id", 12)}}};
    expect_row_error("{\"columns\": [{\"type\": \"indicator_column\", \"categorical_column\": {\"type\": "
                     "\"categorical_column_with_identity\", \"key\": \"user_id\", \"num_buckets\": 10}}]}",
                     id12, "column 'user_id_indicator'", "value 12 is outside [0, 10)");
    static const trow two[1] = {{{F("a", 1, 2)}}};
    expect_row_error("{\"columns\": [{\"type\": \"numeric_column\", \"key\": \"a\"}]}", two, "row 0: column 'a'",
                     "has 2 values, expected 1 (shape [1])");
    static const trow none[1] = {{{F("b", 1)}}};
    expect_row_error("{\"columns\": [{\"type\": \"numeric_column\", \"key\": \"a\"}]}", none,
                     "required feature 'a' is missing", NULL);
    static const trow fl[1] = {{{F("w", 1.5f)}}};
    expect_row_error("{\"columns\": [{\"type\": \"indicator_column\", \"categorical_column\": {\"type\": "
                     "\"categorical_column_with_hash_bucket\", \"key\": \"w\", \"hash_bucket_size\": 3}}]}",
                     fl, "feature 'w' is a float list", NULL);
    static const trow wmis[1] = {{{I("m", 1, 2), F("mw", 1)}}};
    expect_row_error("{\"columns\": [{\"type\": \"indicator_column\", \"categorical_column\": {\"type\": "
                     "\"weighted_categorical_column\", \"weight_feature_key\": \"mw\", \"categorical_column\": "
                     "{\"type\": \"categorical_column_with_identity\", \"key\": \"m\", \"num_buckets\": 3}}}]}",
                     wmis, "weight feature 'mw' has 1 values but 'm' has 2 ids", NULL);
}

/* Integer vocabularies hash OOV values as decimal strings; hash_key seeds the cross. */
static void oov_integers_and_hash_key(void **state) {
    (void)state;
    const char *json = "{\"columns\": [{\"type\": \"indicator_column\", \"categorical_column\": {\"type\": "
                       "\"categorical_column_with_vocabulary_list\", \"key\": \"z\", \"vocabulary_list\": [100, 200], "
                       "\"num_oov_buckets\": 7}}]}";
    lt_features *f;
    assert_int_equal(lt_features_parse(json, strlen(json), NULL, &f), LT_OK);
    static const trow r[1] = {{{I("z", 200, 7, 12)}}};
    lt_feature_batch b;
    lt_feature_batch_init(&b);
    assert_int_equal(lt_features_transform(f, tlookup, (void *)r, 1, &b), LT_OK);
    /* 200 → 1; "7" → 2 + fp("7") % 7 = 2 + 2; "12" → 2 + 3 */
    const float want[9] = {0, 1, 0, 0, 1, 1, 0, 0, 0};
    for (int j = 0; j < 9; j++) assert_float_equal(b.dense[j], want[j], 0);
    lt_features_free(f);
    /* Hello×7 crossed: bucket 36 of 50 with hash_key 0, 15 with the default key (also
     * given as the string "0xDECAFCAFFE"); Python, as in the header comment */
    static const trow hx[1] = {{{S("word", "Hello"), I("user_id", 7)}}};
    const char *keys[3] = {"0", "\"0xDECAFCAFFE\"", "956888297470"};
    const int want_bucket[3] = {36, 15, 15};
    for (int k = 0; k < 3; k++) {
        char js[512];
        snprintf(js, sizeof js, "{\"columns\": [{\"type\": \"indicator_column\", \"categorical_column\": {\"type\": "
                 "\"crossed_column\", \"keys\": [\"word\", \"user_id\"], \"hash_bucket_size\": 50, \"hash_key\": %s}}]}",
                 keys[k]);
        assert_int_equal(lt_features_parse(js, strlen(js), NULL, &f), LT_OK);
        assert_int_equal(lt_features_transform(f, tlookup, (void *)hx, 1, &b), LT_OK);
        for (int j = 0; j < 50; j++) assert_float_equal(b.dense[j], j == want_bucket[k] ? 1.0f : 0.0f, 0);
        lt_features_free(f);
    }
    lt_feature_batch_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_column_type_matches_tensorflow),
        cmocka_unit_test(graph_input_matches_and_trains),
        cmocka_unit_test(spec_errors_are_clear),
        cmocka_unit_test(data_errors_name_row_column_and_value),
        cmocka_unit_test(oov_integers_and_hash_key),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
