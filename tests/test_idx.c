/* IDX reader: good files (plain and gzip), and crafted bad ones whose errors
 * must name the file and say expected vs found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "test_util.h"

#include "data/idx.h"

static char dir[256];

static void path_of(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", dir, name); }

static void write_plain(const char *name, const unsigned char *b, size_t n) {
    char p[512];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void write_gz(const char *name, const unsigned char *b, size_t n) {
    char p[512];
    path_of(p, sizeof p, name);
    gzFile f = gzopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, b, (unsigned)n), (int)n);
    gzclose(f);
}

/* A 3x2x2 image file: header + 12 bytes. */
static size_t make_images(unsigned char *b) {
    const unsigned char head[] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
    memcpy(b, head, sizeof head);
    for (int i = 0; i < 12; i++) b[16 + i] = (unsigned char)(i * 20);
    return 28;
}

static int setup(void **state) {
    (void)state;
    return test_tmpdir(dir, sizeof dir, "test_idx");
}

static int teardown(void **state) {
    (void)state;
    return test_rmtree(dir);
}

static void expect_error(const char *name, lt_status code, const char *needle) {
    char p[512];
    path_of(p, sizeof p, name);
    lt_idx x;
    lt_status st = lt_idx_read(p, &x);
    assert_int_equal(st, code);
    assert_null(x.data);
    const char *msg = lt_error_message();
    if (!strstr(msg, p) || !strstr(msg, needle)) fail_msg("message '%s' lacks '%s' or '%s'", msg, p, needle);
}

static void reads_plain_and_gzip(void **state) {
    (void)state;
    unsigned char b[64];
    size_t n = make_images(b);
    write_plain("ok.idx", b, n);
    write_gz("ok.idx.gz", b, n);
    const char *names[] = {"ok.idx", "ok.idx.gz"};
    for (int k = 0; k < 2; k++) {
        char p[512];
        path_of(p, sizeof p, names[k]);
        lt_idx x;
        assert_int_equal(lt_idx_read(p, &x), LT_OK);
        assert_int_equal(x.ndim, 3);
        assert_int_equal(x.dims[0], 3);
        assert_int_equal(x.dims[1], 2);
        assert_int_equal(x.dims[2], 2);
        for (int i = 0; i < 12; i++) assert_int_equal(x.data[i], i * 20);
        lt_idx_free(&x);
        assert_null(x.data);
    }
}

static void labels_one_dim(void **state) {
    (void)state;
    const unsigned char b[] = {0, 0, 8, 1, 0, 0, 0, 4, 3, 1, 4, 1};
    write_gz("labels.gz", b, sizeof b);
    char p[512];
    path_of(p, sizeof p, "labels.gz");
    lt_idx x;
    assert_int_equal(lt_idx_read(p, &x), LT_OK);
    assert_int_equal(x.ndim, 1);
    assert_int_equal(x.dims[0], 4);
    assert_int_equal(x.data[2], 4);
    lt_idx_free(&x);
}

static void bad_magic(void **state) {
    (void)state;
    unsigned char b[64];
    size_t n = make_images(b);
    b[0] = 0x12;
    write_gz("magic.gz", b, n);
    expect_error("magic.gz", LT_ERR_FORMAT, "expected 00 00 08");
    b[0] = 0;
    b[2] = 0x0d; /* float data */
    write_plain("type.idx", b, n);
    expect_error("type.idx", LT_ERR_FORMAT, "found 0x0d");
    b[2] = 8;
    b[3] = 0;
    write_plain("ndim.idx", b, n);
    expect_error("ndim.idx", LT_ERR_FORMAT, "found 0");
}

static void truncated_data_and_header(void **state) {
    (void)state;
    unsigned char b[64];
    size_t n = make_images(b);
    write_gz("short.gz", b, n - 5);
    expect_error("short.gz", LT_ERR_FORMAT, "header says 12 bytes, found 7");
    write_plain("short.idx", b, n - 5);
    expect_error("short.idx", LT_ERR_FORMAT, "header says 12 bytes, found 7");
    write_plain("head.idx", b, 10);
    expect_error("head.idx", LT_ERR_FORMAT, "expected 12 dimension bytes, found 6");
    write_plain("tiny.idx", b, 2);
    expect_error("tiny.idx", LT_ERR_FORMAT, "expected 4 magic bytes, found 2");
}

static void truncated_gzip_stream(void **state) {
    (void)state;
    /* A longer payload so cutting the compressed bytes cuts the stream. */
    unsigned char *b = malloc(16 + 3000);
    const unsigned char head[] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 25, 0, 0, 0, 40};
    memcpy(b, head, 16);
    for (int i = 0; i < 3000; i++) b[16 + i] = (unsigned char)((i * 7919) >> 3);
    write_gz("full.gz", b, 3016);
    char p[512];
    path_of(p, sizeof p, "full.gz");
    FILE *f = fopen(p, "rb");
    unsigned char comp[8192];
    size_t cn = fread(comp, 1, sizeof comp, f);
    fclose(f);
    assert_true(cn > 40);
    write_plain("cut.gz", comp, cn / 2);
    expect_error("cut.gz", LT_ERR_FORMAT, "");
    const char *msg = lt_error_message();
    if (!strstr(msg, "truncated")) fail_msg("message '%s' does not say truncated", msg);
    free(b);
}

static void trailing_bytes(void **state) {
    (void)state;
    unsigned char b[64];
    size_t n = make_images(b);
    b[n] = 1;
    b[n + 1] = 2;
    write_gz("trail.gz", b, n + 2);
    expect_error("trail.gz", LT_ERR_FORMAT, "expected 12 data bytes, found 14");
}

static void missing_file(void **state) {
    (void)state;
    expect_error("nope.gz", LT_ERR_ARG, "No such file");
}

static void shared_binarized_mnist(void **state) {
    (void)state;
    const char *src = getenv("LT_SOURCE_DIR");
    char p[1024];
    snprintf(p, sizeof p, "%s/../shared/data/binarized-mnist/valid-images-idx3-ubyte.gz", src ? src : ".");
    if (access(p, R_OK)) {
        printf("SKIP shared_binarized_mnist: %s not found\n", p);
        skip();
    }
    lt_idx x;
    assert_int_equal(lt_idx_read(p, &x), LT_OK);
    assert_int_equal(x.ndim, 3);
    assert_int_equal(x.dims[0], 10000);
    assert_int_equal(x.dims[1], 28);
    assert_int_equal(x.dims[2], 28);
    int64_t ones = 0;
    for (int64_t i = 0; i < 10000 * 784; i++) {
        assert_true(x.data[i] <= 1);
        ones += x.data[i];
    }
    assert_true(ones > 0);
    lt_idx_free(&x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_plain_and_gzip), cmocka_unit_test(labels_one_dim),
        cmocka_unit_test(bad_magic),           cmocka_unit_test(truncated_data_and_header),
        cmocka_unit_test(truncated_gzip_stream), cmocka_unit_test(trailing_bytes),
        cmocka_unit_test(missing_file),        cmocka_unit_test(shared_binarized_mnist),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
