/* Data sets: both directory layouts, labels, binarization modes, bad sources;
 * PNG grids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "test_util.h"

#include "data/dataset.h"
#include "io/png.h"

static char dir[256];

/* Writes an IDX file of n images h x w (pixel = f(i, j)) or, with h == 0, n labels. */
static void write_idx(const char *sub, const char *name, int64_t n, int h, int w, int grey) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s/%s", dir, sub, name);
    gzFile f = test_idx_open(p, n, h, w);
    for (int64_t i = 0; i < n; i++) {
        if (!h) {
            unsigned char y = (unsigned char)(i % 3);
            gzwrite(f, &y, 1);
            continue;
        }
        for (int j = 0; j < h * w; j++) {
            unsigned char v = grey ? (unsigned char)((i * 37 + j * 11) % 256) : (unsigned char)((i + j) % 2);
            gzwrite(f, &v, 1);
        }
    }
    gzclose(f);
}

static int setup(void **state) {
    (void)state;
    assert_int_equal(test_tmpdir(dir, sizeof dir, "test_dataset"), 0);
    /* tvt: binary 3x4 images, train/valid/test naming, no labels */
    write_idx("tvt", "train-images-idx3-ubyte.gz", 50, 3, 4, 0);
    write_idx("tvt", "valid-images-idx3-ubyte.gz", 20, 3, 4, 0);
    write_idx("tvt", "test-images-idx3-ubyte.gz", 30, 3, 4, 0);
    /* mnist: grey 2x2, train/t10k naming with labels */
    write_idx("mnist", "train-images-idx3-ubyte.gz", 10100, 2, 2, 1);
    write_idx("mnist", "train-labels-idx1-ubyte.gz", 10100, 0, 0, 0);
    write_idx("mnist", "t10k-images-idx3-ubyte.gz", 40, 2, 2, 1);
    write_idx("mnist", "t10k-labels-idx1-ubyte.gz", 40, 0, 0, 0);
    /* bad: test images of another size */
    write_idx("size", "train-images-idx3-ubyte.gz", 5, 3, 4, 0);
    write_idx("size", "valid-images-idx3-ubyte.gz", 5, 3, 4, 0);
    write_idx("size", "test-images-idx3-ubyte.gz", 5, 4, 4, 0);
    /* bad: label count differs */
    write_idx("labs", "train-images-idx3-ubyte.gz", 10100, 2, 2, 1);
    write_idx("labs", "train-labels-idx1-ubyte.gz", 10099, 0, 0, 0);
    write_idx("labs", "t10k-images-idx3-ubyte.gz", 4, 2, 2, 1);
    /* bad: no test split */
    write_idx("miss", "train-images-idx3-ubyte.gz", 5, 3, 4, 0);
    write_idx("miss", "valid-images-idx3-ubyte.gz", 5, 3, 4, 0);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return test_rmtree(dir);
}

static void open_sub(const char *sub, int64_t limit, lt_dataset *d) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    lt_status st = lt_dataset_open(p, limit, d);
    if (st) fail_msg("%s", lt_error_message());
}

static void train_valid_test_layout(void **state) {
    (void)state;
    lt_dataset d;
    open_sub("tvt", 0, &d);
    assert_int_equal(d.height, 3);
    assert_int_equal(d.width, 4);
    assert_int_equal(d.dim, 12);
    assert_int_equal(d.split[LT_SPLIT_TRAIN].n, 50);
    assert_int_equal(d.split[LT_SPLIT_VALID].n, 20);
    assert_int_equal(d.split[LT_SPLIT_TEST].n, 30);
    assert_true(d.binary);
    assert_int_equal(d.n_classes, 0);
    assert_null(d.split[LT_SPLIT_TRAIN].labels);
    /* binary data under "none" and "threshold" is the data itself */
    int64_t idx[2] = {7, 2};
    float x[24], x2[24];
    int64_t y[2] = {-1, -1};
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, idx, 2, LT_BINARIZE_NONE, 1, 0, x, y);
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, idx, 2, LT_BINARIZE_THRESHOLD, 1, 0, x2, NULL);
    for (int j = 0; j < 12; j++) {
        assert_true(x[j] == (float)((7 + j) % 2));
        assert_true(x[12 + j] == (float)((2 + j) % 2));
        assert_true(x2[j] == x[j]);
    }
    assert_int_equal(y[0], 0); /* no labels: zeros */
    lt_dataset_free(&d);
    open_sub("tvt", 10, &d);
    assert_int_equal(d.split[LT_SPLIT_TRAIN].n, 10);
    assert_int_equal(d.split[LT_SPLIT_VALID].n, 10);
    lt_dataset_free(&d);
}

static void mnist_layout_and_labels(void **state) {
    (void)state;
    lt_dataset d;
    open_sub("mnist", 0, &d);
    assert_int_equal(d.split[LT_SPLIT_TRAIN].n, 100);
    assert_int_equal(d.split[LT_SPLIT_VALID].n, 10000);
    assert_int_equal(d.split[LT_SPLIT_TEST].n, 40);
    assert_false(d.binary);
    assert_int_equal(d.n_classes, 3);
    /* validation example 0 is training-file image 100 */
    int64_t idx[1] = {0};
    float x[4];
    int64_t y[1];
    lt_dataset_batch(&d, LT_SPLIT_VALID, idx, 1, LT_BINARIZE_NONE, 1, 0, x, y);
    for (int j = 0; j < 4; j++) assert_float_equal(x[j], ((100 * 37 + j * 11) % 256) / 255.0f, 1e-7);
    assert_int_equal(y[0], 100 % 3);
    lt_dataset_batch(&d, LT_SPLIT_VALID, idx, 1, LT_BINARIZE_THRESHOLD, 1, 0, x, y);
    for (int j = 0; j < 4; j++) assert_true(x[j] == (((100 * 37 + j * 11) % 256) > 127 ? 1.0f : 0.0f));
    lt_dataset_free(&d);
}

/* lt_dataset_hold: only the kept training examples stay in memory, read again from the gzip
 * file, with the same values and labels as before; validation (in the same file) keeps its
 * own copy; a second hold replaces the first. */
static void hold_share(void **state) {
    (void)state;
    lt_dataset d;
    open_sub("mnist", 0, &d);
    assert_true(lt_dataset_can_hold(&d, LT_SPLIT_TRAIN));
    float all[100 * 4], v0[4], x[4], vx[4];
    int64_t idx[100], y[100], yv[1], z = 0;
    for (int64_t i = 0; i < 100; i++) idx[i] = i;
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, idx, 100, LT_BINARIZE_NONE, 1, 0, all, y);
    lt_dataset_batch(&d, LT_SPLIT_VALID, &z, 1, LT_BINARIZE_NONE, 1, 0, v0, yv);
    const int64_t keep[3] = {3, 50, 99}, keep2[2] = {0, 98};
    assert_int_equal(lt_dataset_hold(&d, LT_SPLIT_TRAIN, keep, 3), LT_OK);
    assert_null(d.store_images[0].data); /* the whole file's bytes are gone */
    for (int k = 0; k < 3; k++) {
        int64_t yy;
        lt_dataset_batch(&d, LT_SPLIT_TRAIN, &keep[k], 1, LT_BINARIZE_NONE, 1, 0, x, &yy);
        for (int j = 0; j < 4; j++) assert_true(x[j] == all[keep[k] * 4 + j]);
        assert_int_equal(yy, y[keep[k]]);
    }
    assert_int_equal(d.split[LT_SPLIT_TRAIN].rows[50], 1);
    assert_int_equal(d.split[LT_SPLIT_TRAIN].rows[4], -1);
    lt_dataset_batch(&d, LT_SPLIT_VALID, &z, 1, LT_BINARIZE_NONE, 1, 0, vx, yv);
    for (int j = 0; j < 4; j++) assert_true(vx[j] == v0[j]);
    assert_int_equal(lt_dataset_hold(&d, LT_SPLIT_TRAIN, keep2, 2), LT_OK);
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, &keep2[1], 1, LT_BINARIZE_STOCHASTIC, 1, 0, x, NULL);
    lt_dataset_free(&d);
    /* the same stochastic draw as without holding: keyed by the example, not the row */
    open_sub("mnist", 0, &d);
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, &keep2[1], 1, LT_BINARIZE_STOCHASTIC, 1, 0, vx, NULL);
    for (int j = 0; j < 4; j++) assert_true(vx[j] == x[j]);
    const int64_t bad[2] = {5, 5};
    assert_int_equal(lt_dataset_hold(&d, LT_SPLIT_TRAIN, bad, 2), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "train-images-idx3-ubyte.gz"));
    lt_dataset_free(&d);
}

static void stochastic_and_dynamic(void **state) {
    (void)state;
    lt_dataset d;
    open_sub("mnist", 0, &d);
    enum { N = 100 };
    int64_t idx[N], rev[N];
    for (int i = 0; i < N; i++) { idx[i] = i; rev[i] = N - 1 - i; }
    static float a[N * 4], b[N * 4], c[N * 4], e0[N * 4], e1[N * 4], e0b[N * 4];
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, idx, N, LT_BINARIZE_STOCHASTIC, 5, 0, a, NULL);
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, rev, N, LT_BINARIZE_STOCHASTIC, 5, 3, b, NULL);
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, idx, N, LT_BINARIZE_STOCHASTIC, 6, 0, c, NULL);
    int differs_seed = 0;
    double sum = 0, expect = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < 4; j++) {
            float v = a[i * 4 + j];
            assert_true(v == 0.0f || v == 1.0f);
            /* same example, same draw whatever the batch order or epoch */
            assert_true(v == b[(N - 1 - i) * 4 + j]);
            differs_seed += v != c[i * 4 + j];
            sum += v;
            expect += ((i * 37 + j * 11) % 256) / 255.0;
        }
    assert_true(differs_seed > 20);
    assert_true(sum > expect - 4 * 10 && sum < expect + 4 * 10); /* ~N*4 Bernoullis: sd < 10 */
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, idx, N, LT_BINARIZE_DYNAMIC, 5, 0, e0, NULL);
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, idx, N, LT_BINARIZE_DYNAMIC, 5, 1, e1, NULL);
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, idx, N, LT_BINARIZE_DYNAMIC, 5, 0, e0b, NULL);
    int differs_epoch = 0;
    for (int i = 0; i < N * 4; i++) {
        differs_epoch += e0[i] != e1[i];
        assert_true(e0[i] == e0b[i]);
    }
    assert_true(differs_epoch > 20);
    /* evaluation splits use the fixed draw under dynamic */
    lt_dataset_batch(&d, LT_SPLIT_TEST, idx, 40, LT_BINARIZE_DYNAMIC, 5, 0, e0, NULL);
    lt_dataset_batch(&d, LT_SPLIT_TEST, idx, 40, LT_BINARIZE_DYNAMIC, 5, 9, e1, NULL);
    lt_dataset_batch(&d, LT_SPLIT_TEST, idx, 40, LT_BINARIZE_STOCHASTIC, 5, 0, e0b, NULL);
    for (int i = 0; i < 160; i++) assert_true(e0[i] == e1[i] && e0[i] == e0b[i]);
    lt_dataset_free(&d);
}

static void expect_open_error(const char *sub, lt_status code, const char *needle) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    lt_dataset d;
    lt_status st = lt_dataset_open(p, 0, &d);
    assert_int_equal(st, code);
    if (!strstr(lt_error_message(), needle)) fail_msg("message '%s' lacks '%s'", lt_error_message(), needle);
    assert_null(d.split[0].images);
}

static void bad_sources(void **state) {
    (void)state;
    expect_open_error("size", LT_ERR_FORMAT, "expected 3x4 images like the training split, found 4x4");
    expect_open_error("labs", LT_ERR_FORMAT, "expected 10100 labels (one per image), found 10099");
    expect_open_error("miss", LT_ERR_ARG, "missing");
    expect_open_error("miss", LT_ERR_ARG, "test-images-idx3-ubyte.gz");
    expect_open_error("nonexistent", LT_ERR_ARG, "not a directory");
    expect_open_error("tvt/train-images-idx3-ubyte.gz", LT_ERR_ARG, "not a directory");
}

static void parsers(void **state) {
    (void)state;
    assert_int_equal(lt_binarize_parse("dynamic"), LT_BINARIZE_DYNAMIC);
    assert_int_equal(lt_binarize_parse("threshold"), LT_BINARIZE_THRESHOLD);
    assert_int_equal(lt_binarize_parse("bogus"), -1);
    assert_int_equal(lt_split_parse("test"), LT_SPLIT_TEST);
    assert_int_equal(lt_split_parse("dev"), -1);
    assert_string_equal(lt_binarize_name(LT_BINARIZE_STOCHASTIC), "stochastic");
}

static void png_grid(void **state) {
    (void)state;
    float img[5 * 6]; /* (5,1,2,3) */
    for (int i = 0; i < 30; i++) img[i] = i / 29.0f;
    char p[512];
    snprintf(p, sizeof p, "%s/grid.png", dir);
    assert_int_equal(lt_png_write_grid(p, img, 5, 1, 2, 3, 0), LT_OK);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    unsigned char h[24];
    assert_int_equal(fread(h, 1, 24, f), 24);
    fclose(f);
    assert_memory_equal(h + 1, "PNG", 3);
    /* 3 columns of 3+1, 2 rows of 2+1, plus a 1-pixel border: 13 x 7 */
    assert_int_equal((h[16] << 24) | (h[17] << 16) | (h[18] << 8) | h[19], 13);
    assert_int_equal((h[20] << 24) | (h[21] << 16) | (h[22] << 8) | h[23], 7);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    assert_int_not_equal(access(tmp, F_OK), 0);
    snprintf(p, sizeof p, "%s/no/such/dir/grid.png", dir);
    assert_int_equal(lt_png_write_grid(p, img, 5, 1, 2, 3, 0), LT_ERR_IO);
    assert_non_null(strstr(lt_error_message(), p));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(train_valid_test_layout), cmocka_unit_test(mnist_layout_and_labels),
        cmocka_unit_test(stochastic_and_dynamic),  cmocka_unit_test(bad_sources),
        cmocka_unit_test(parsers),                 cmocka_unit_test(png_grid),
        cmocka_unit_test(hold_share),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
