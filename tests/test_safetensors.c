/* safetensors: roundtrip, every kind of corruption, atomic writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_util.h"

#include "io/safetensors.h"

static char dir[64];

static int setup(void **state) {
    (void)state;
    return test_tmpdir(dir, sizeof dir, "st");
}

static int teardown(void **state) {
    (void)state;
    return test_rmtree(dir);
}

static const char *path_of(const char *name) { return test_path(dir, name); }

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void roundtrip(void **state) {
    (void)state;
    float w[6] = {1.5f, -2.0f, 3.25f, 0.0f, -0.125f, 1e-30f};      /* (2,3) */
    int64_t idx[4] = {0, -1, INT64_MAX, 42};                        /* (4) */
    unsigned char bytes[5] = {0, 1, 2, 254, 255};                   /* (5) */
    float scalar = 7.0f;                                            /* () */
    lt_st_entry e[] = {
        {"layer.w", LT_ST_F32, 2, {2, 3}, w},
        {"idx", LT_ST_I64, 1, {4}, idx},
        {"mask", LT_ST_U8, 1, {5}, bytes},
        {"scalar", LT_ST_F32, 0, {0}, &scalar},
        {"empty", LT_ST_F32, 2, {0, 3}, NULL},
    };
    lt_st_kv meta[] = {{"format", "pt"}, {"step", "1200"}};
    const char *p = path_of("a.safetensors");
    assert_int_equal(lt_safetensors_write(p, e, 5, meta, 2), LT_OK);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    assert_false(exists(tmp));

    /* The layout: u64 LE header length, multiple of 8, header padded with spaces. */
    FILE *f = fopen(p, "rb");
    unsigned char raw[512];
    size_t got = fread(raw, 1, sizeof raw, f);
    fclose(f);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)raw[i] << (8 * i);
    assert_int_equal(hlen % 8, 0);
    assert_int_equal(got, 8 + hlen + 24 + 32 + 5 + 4);
    assert_int_equal(raw[8], '{');
    assert_true(raw[8 + hlen - 1] == '}' || raw[8 + hlen - 1] == ' ');
    assert_memory_equal(raw + 8 + hlen, w, 24); /* data in the given order, contiguous */

    lt_st_file r;
    assert_int_equal(lt_safetensors_read(p, &r), LT_OK);
    assert_int_equal(r.n, 5);
    const char *order[] = {"layer.w", "idx", "mask", "scalar", "empty"}; /* file order */
    for (int i = 0; i < 5; i++) assert_string_equal(r.entries[i].name, order[i]);
    const lt_st_entry *x = lt_safetensors_find(&r, "layer.w");
    assert_non_null(x);
    assert_int_equal(x->dtype, LT_ST_F32);
    assert_int_equal(x->ndim, 2);
    assert_int_equal(x->shape[0], 2);
    assert_int_equal(x->shape[1], 3);
    assert_memory_equal(x->data, w, sizeof w);
    assert_int_equal((uintptr_t)x->data % 64, 0); /* data section aligned in memory */
    x = lt_safetensors_find(&r, "idx");
    assert_int_equal(x->dtype, LT_ST_I64);
    assert_memory_equal(x->data, idx, sizeof idx);
    x = lt_safetensors_find(&r, "mask");
    assert_int_equal(x->dtype, LT_ST_U8);
    assert_memory_equal(x->data, bytes, sizeof bytes);
    x = lt_safetensors_find(&r, "scalar");
    assert_int_equal(x->ndim, 0);
    assert_memory_equal(x->data, &scalar, 4);
    x = lt_safetensors_find(&r, "empty");
    assert_int_equal(x->shape[0], 0);
    assert_null(lt_safetensors_find(&r, "nope"));
    assert_string_equal(lt_safetensors_meta(&r, "step"), "1200");
    assert_string_equal(lt_safetensors_meta(&r, "format"), "pt");
    assert_null(lt_safetensors_meta(&r, "other"));
    lt_safetensors_close(&r);

    /* Overwriting replaces the file. */
    w[0] = 99.0f;
    assert_int_equal(lt_safetensors_write(p, e, 1, NULL, 0), LT_OK);
    assert_int_equal(lt_safetensors_read(p, &r), LT_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.n_meta, 0);
    assert_true(((const float *)r.entries[0].data)[0] == 99.0f);
    lt_safetensors_close(&r);
}

/* Writes 8-byte length (hlen_override >= 0 replaces the true one), header, data. */
static const char *write_raw(const char *header, const void *data, size_t n, int64_t hlen_override) {
    const char *p = path_of("bad.safetensors");
    FILE *f = fopen(p, "wb");
    uint64_t hlen = hlen_override >= 0 ? (uint64_t)hlen_override : strlen(header);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hlen >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(header, 1, strlen(header), f);
    if (n) fwrite(data, 1, n, f);
    fclose(f);
    return p;
}

static void expect_format_error(const char *p, const char *what, const char *tensor) {
    lt_st_file r;
    lt_status st = lt_safetensors_read(p, &r);
    if (st != LT_ERR_FORMAT) fail_msg("expected a format error about '%s', got status %d (%s)", what, st, lt_error_message());
    const char *m = lt_error_message();
    if (!strstr(m, what)) fail_msg("message '%s' does not mention '%s'", m, what);
    if (!strstr(m, p)) fail_msg("message '%s' does not name the file", m);
    if (tensor && !strstr(m, tensor)) fail_msg("message '%s' does not name '%s'", m, tensor);
    assert_null(r.entries); /* nothing is left behind on failure */
}

static void corruptions_are_reported(void **state) {
    (void)state;
    float d[8] = {0};
    const char *p = path_of("short.safetensors");
    FILE *f = fopen(p, "wb");
    fwrite("abcde", 1, 5, f);
    fclose(f);
    expect_format_error(p, "too short", NULL);

    expect_format_error(write_raw("{}", NULL, 0, 1000), "exceeds the file size", NULL);
    expect_format_error(write_raw("{}", NULL, 0, 200LL * 1000 * 1000), "100 MB", NULL);
    expect_format_error(write_raw("{\"w\": nonsense}", NULL, 0, -1), "not valid JSON", NULL);
    expect_format_error(write_raw("[1, 2]  ", NULL, 0, -1), "not a JSON object", NULL);
    expect_format_error(write_raw("{\"w\": [1]}", NULL, 0, -1), "not an object", "'w'");
    expect_format_error(write_raw("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", d, 4, -1),
                        "unknown dtype 'F16'", "'w'");
    expect_format_error(write_raw("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", d, 8, -1), "dtype", "'w'");
    const char *bad_shapes[] = {"[2,-1]", "\"2\"", "[2.5]", "[\"2\"]", "null", "[1,1,1,1,1]"};
    for (int i = 0; i < 6; i++) {
        char h[200];
        snprintf(h, sizeof h, "{\"w\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":[0,4]}}", bad_shapes[i]);
        expect_format_error(write_raw(h, d, 4, -1), "shape", "'w'");
    }
    const char *bad_offsets[] = {"[0]", "[0,4,8]", "\"0,4\"", "[0.0,4]", "[-4,0]", "[8,4]"};
    for (int i = 0; i < 6; i++) {
        char h[200];
        snprintf(h, sizeof h, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":%s}}", bad_offsets[i]);
        expect_format_error(write_raw(h, d, 8, -1), "data_offsets", "'w'");
    }
    expect_format_error(write_raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,12]}}", d, 32, -1),
                        "need 24", "'w'");
    expect_format_error(write_raw("{\"w\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[24,40]}}", d, 32, -1),
                        "outside the data section", "'w'");
    expect_format_error(write_raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                                  "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", d, 32, -1),
                        "overlap", "'b'");
    expect_format_error(write_raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                  "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", d, 8, -1),
                        "duplicate", "a");
    expect_format_error(write_raw("{\"__metadata__\":{\"step\":12}}", NULL, 0, -1), "not a string", "'step'");
    expect_format_error(write_raw("{\"__metadata__\":[\"x\"]}", NULL, 0, -1), "__metadata__ is not an object", NULL);

    /* Boundary cases that are valid: end exactly at the end of the data, adjacent tensors. */
    lt_st_file r;
    p = write_raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]},"
                  "\"b\":{\"dtype\":\"U8\",\"shape\":[2,8],\"data_offsets\":[0,16]}}", d, 32, -1);
    assert_int_equal(lt_safetensors_read(p, &r), LT_OK);
    assert_string_equal(r.entries[0].name, "b");
    lt_safetensors_close(&r);

    assert_int_equal(lt_safetensors_read(path_of("missing.safetensors"), &r), LT_ERR_IO);
    assert_non_null(strstr(lt_error_message(), "missing.safetensors"));
}

static void failed_writes_leave_nothing(void **state) {
    (void)state;
    float w[2] = {1, 2};
    lt_st_entry e[] = {{"w", LT_ST_F32, 1, {2}, w}, {"w", LT_ST_F32, 1, {2}, w}};

    const char *p = path_of("no/such/dir/x.safetensors");
    assert_int_equal(lt_safetensors_write(p, e, 1, NULL, 0), LT_ERR_IO);
    assert_non_null(strstr(lt_error_message(), "x.safetensors"));
    assert_false(exists(path_of("no")));

    /* The target is a directory: the rename fails after the data was written. */
    char target[300], tmp[310];
    snprintf(target, sizeof target, "%s", path_of("isdir"));
    assert_int_equal(mkdir(target, 0700), 0);
    assert_int_equal(lt_safetensors_write(target, e, 1, NULL, 0), LT_ERR_IO);
    snprintf(tmp, sizeof tmp, "%s.tmp", target);
    assert_false(exists(tmp));

    /* Bad arguments are refused before anything is created. */
    snprintf(target, sizeof target, "%s", path_of("dup.safetensors"));
    assert_int_equal(lt_safetensors_write(target, e, 2, NULL, 0), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "'w'"));
    lt_st_entry neg = {"n", LT_ST_F32, 1, {-1}, w};
    assert_int_equal(lt_safetensors_write(target, &neg, 1, NULL, 0), LT_ERR_ARG);
    lt_st_entry reserved = {"__metadata__", LT_ST_F32, 1, {2}, w};
    assert_int_equal(lt_safetensors_write(target, &reserved, 1, NULL, 0), LT_ERR_ARG);
    lt_st_kv twice[] = {{"k", "1"}, {"k", "2"}};
    assert_int_equal(lt_safetensors_write(target, e, 1, twice, 2), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "'k'"));
    assert_false(exists(target));
    snprintf(tmp, sizeof tmp, "%s.tmp", target);
    assert_false(exists(tmp));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip),
        cmocka_unit_test(corruptions_are_reported),
        cmocka_unit_test(failed_writes_leave_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
