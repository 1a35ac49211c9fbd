/* Colour image data: JPEG/PNG decoding and its errors, image folders (order, carved
 * validation, bad layouts), TFRecord conversion and read-back, value ranges, the
 * augmentation's statistics and its absence at evaluation, model channels.
 * The images are written here with stb_image_write (PNG lossless, so decoded
 * pixels must equal what was written); tests/test_images.sh checks real CIFAR
 * JPEGs against PIL. */
#include <dirent.h>
#include <math.h>
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

#include <jpeglib.h>

#include "core/alloc.h"
#include "data/dataset.h"
#include "data/image.h"
#include "data/image_folder.h"
#include "models/model.h"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

static char dir[256];

/* Pixel (channel c, row y, column x) of test image k: distinct per image. */
static uint8_t pix(int k, int c, int y, int x) { return (uint8_t)(k * 31 + c * 80 + y * 17 + x * 5); }

static void mkdirs(const char *path) { /* mkdir -p */
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    for (char *q = p + 1; *q; q++)
        if (*q == '/') {
            *q = 0;
            mkdir(p, 0755);
            *q = '/';
        }
    mkdir(p, 0755);
    struct stat sb;
    assert_true(!stat(p, &sb) && S_ISDIR(sb.st_mode));
}

/* buf (h, w, c) as a JPEG through libjpeg (stb's JPEG writer shifts signed ints
 * past their range, which UBSan rejects). */
static int write_jpeg(const char *path, int w, int h, int c, const uint8_t *buf) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = c;
    ci.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 90, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)(buf + (size_t)ci.next_scanline * (size_t)(w * c));
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    return fclose(f) == 0;
}

/* An h x w image k with c channels (1, 3 or 4) as PATH (.png or .jpg) under dir. */
static void write_image(const char *rel, int k, int c, int h, int w) {
    char path[512], sub[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    snprintf(sub, sizeof sub, "%s", path);
    *strrchr(sub, '/') = 0;
    mkdirs(sub);
    uint8_t buf[64 * 64 * 4]; /* (h, w, c) interleaved, as stb writes it */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) buf[(y * w + x) * c + ch] = pix(k, ch, y, x);
    int ok = strstr(rel, ".png") ? stbi_write_png(path, w, h, c, buf, w * c) : write_jpeg(path, w, h, c, buf);
    assert_true(ok);
}

static void write_bytes(const char *rel, const void *p, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static int setup(void **state) {
    (void)state;
    return test_tmpdir(dir, sizeof dir, "test_images");
}

static int teardown(void **state) {
    (void)state;
    return test_rmtree(dir);
}

static lt_status decode_file(const char *rel, lt_image *im) {
    uint8_t *b;
    int64_t n;
    lt_status st = lt_file_read_all(test_path(dir, rel), &b, &n);
    if (st) return st;
    st = lt_image_decode(b, n, rel, im);
    lt_free(b);
    return st;
}

static void png_decodes_exactly(void **state) {
    (void)state;
    write_image("dec/rgb.png", 1, 3, 5, 7);
    write_image("dec/grey.png", 2, 1, 6, 4);
    write_image("dec/rgba.png", 3, 4, 3, 3);
    lt_image im;
    assert_int_equal(decode_file("dec/rgb.png", &im), LT_OK);
    assert_int_equal(im.c, 3);
    assert_int_equal(im.h, 5);
    assert_int_equal(im.w, 7);
    for (int c = 0; c < 3; c++) /* planar (c, h, w) */
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 7; x++) assert_int_equal(im.data[(c * 5 + y) * 7 + x], pix(1, c, y, x));
    lt_image_free(&im);
    assert_int_equal(decode_file("dec/grey.png", &im), LT_OK);
    assert_int_equal(im.c, 1);
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 4; x++) assert_int_equal(im.data[y * 4 + x], pix(2, 0, y, x));
    lt_image_free(&im);
    assert_int_equal(decode_file("dec/rgba.png", &im), LT_OK); /* alpha dropped */
    assert_int_equal(im.c, 3);
    for (int c = 0; c < 3; c++) assert_int_equal(im.data[c * 9 + 4], pix(3, c, 1, 1));
    lt_image_free(&im);
}

/* Truncated or foreign bytes: LT_ERR_FORMAT naming the input, never a partial image. */
static void corrupt_images_fail(void **state) {
    (void)state;
    write_image("dec/ok.jpg", 4, 3, 16, 16);
    write_image("dec/ok.png", 4, 3, 16, 16);
    lt_image im;
    assert_int_equal(decode_file("dec/ok.jpg", &im), LT_OK);
    assert_int_equal(im.c, 3);
    assert_int_equal(im.h, 16);
    lt_image_free(&im);
    const char *kinds[] = {"dec/ok.jpg", "dec/ok.png"};
    const char *want[] = {"corrupt JPEG", "corrupt PNG"};
    for (int k = 0; k < 2; k++) {
        uint8_t *b;
        int64_t n;
        assert_int_equal(lt_file_read_all(test_path(dir, kinds[k]), &b, &n), LT_OK);
        for (int64_t cut = n - 3; cut > 8; cut -= n / 5) { /* several truncation points */
            lt_status st = lt_image_decode(b, cut, "cut.img", &im);
            assert_int_equal(st, LT_ERR_FORMAT);
            assert_non_null(strstr(lt_error_message(), "cut.img: "));
            assert_non_null(strstr(lt_error_message(), want[k]));
            assert_null(im.data);
        }
        lt_free(b);
    }
    assert_int_equal(lt_image_decode((const uint8_t *)"GIF89a..", 8, "x.gif", &im), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "x.gif: expected a JPEG"));
}

/* A good folder: 2 classes with 3 and 2 training files, 1 test file each. */
static void good_folder(const char *root) {
    char rel[256];
    const char *files[] = {"train/ant/b.png", "train/ant/a.png", "train/ant/c.png", "train/bee/z.png",
                           "train/bee/y.png", "test/ant/t.png",  "test/bee/u.png"};
    for (int i = 0; i < 7; i++) {
        snprintf(rel, sizeof rel, "%s/%s", root, files[i]);
        write_image(rel, i, 3, 4, 6);
    }
}

static void folder_layout(void **state) {
    (void)state;
    good_folder("good");
    lt_dataset d;
    lt_status st = lt_dataset_open(test_path(dir, "good"), 0, &d);
    if (st) fail_msg("%s", lt_error_message());
    assert_int_equal(d.channels, 3);
    assert_int_equal(d.height, 4);
    assert_int_equal(d.width, 6);
    assert_int_equal(d.dim, 72);
    assert_int_equal(d.n_classes, 2);
    assert_string_equal(d.class_names[0], "ant");
    assert_string_equal(d.class_names[1], "bee");
    /* sorted files a b c | y z; the last ceil(n/10) of each class is validation;
     * class-interleaved order: train a(ant) y(bee) b(ant); valid c(ant) z(bee) */
    const int train_k[] = {1, 4, 0}, valid_k[] = {2, 3}, test_k[] = {5, 6};
    const int *ks[] = {train_k, valid_k, test_k};
    const int64_t ns[] = {3, 2, 2};
    const uint8_t labels[][3] = {{0, 1, 0}, {0, 1}, {0, 1}};
    for (int s = 0; s < 3; s++) {
        assert_int_equal(d.split[s].n, ns[s]);
        for (int64_t i = 0; i < ns[s]; i++) {
            assert_int_equal(d.split[s].labels[i], labels[s][i]);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 6; x++)
                        assert_int_equal(d.split[s].images[i * 72 + (c * 4 + y) * 6 + x], pix(ks[s][i], c, y, x));
        }
    }
    /* batches: [0,1] = byte/255, [-1,1] = 2 byte/255 - 1 */
    int64_t idx[2] = {2, 0}, y[2];
    float a[144], b[144], old[144];
    lt_batch_opts o = {LT_BINARIZE_NONE, 1, 0, LT_RANGE_UNIT, NULL};
    lt_dataset_batch_opts(&d, LT_SPLIT_TRAIN, idx, 2, &o, a, y);
    lt_dataset_batch(&d, LT_SPLIT_TRAIN, idx, 2, LT_BINARIZE_NONE, 1, 0, old, NULL);
    o.range = LT_RANGE_SIGNED;
    lt_dataset_batch_opts(&d, LT_SPLIT_TRAIN, idx, 2, &o, b, NULL);
    assert_int_equal(y[0], 0);
    for (int j = 0; j < 144; j++) {
        const uint8_t byte = d.split[0].images[idx[j / 72] * 72 + j % 72];
        assert_true(a[j] == byte * (1.0f / 255.0f));
        assert_true(old[j] == a[j]);
        assert_true(b[j] == 2.0f * a[j] - 1.0f);
        assert_true(b[j] >= -1.0f && b[j] <= 1.0f);
    }
    lt_dataset_free(&d);
    /* limit: the first file of each class */
    assert_int_equal(lt_dataset_open(test_path(dir, "good"), 2, &d), LT_OK);
    assert_int_equal(d.split[LT_SPLIT_TRAIN].n, 2);
    assert_int_equal(d.split[LT_SPLIT_TRAIN].labels[1], 1);
    lt_dataset_free(&d);
}

/* Each bad folder: the open fails with LT_ERR_FORMAT (or ARG), naming the file and
 * what was expected; and converting it writes nothing. */
static void bad_folders(void **state) {
    (void)state;
    static const struct {
        const char *name, *extra, *want1, *want2;
        int c, h, w;
    } cases[] = {
        {"size", "train/bee/q.png", "train/bee/q.png: expected a 6x4 image with 3 channels", "found 5x4 with 3", 3, 4, 5},
        {"grey", "test/ant/g.png", "test/ant/g.png: expected a 6x4 image with 3 channels", "found 6x4 with 1", 1, 4, 6},
        {"label", "test/cow/k.png", "test/cow: expected one of the 2 training classes", "found class 'cow'", 3, 4, 6},
        {"corrupt", "train/ant/d.jpg", "train/ant/d.jpg: corrupt JPEG", "", 3, 4, 6},
        {"notimg", "train/ant/notes.txt", "train/ant/notes.txt: expected a .jpg, .jpeg or .png image", "", 3, 4, 6},
        {"empty", "train/cow/", "train/cow: expected at least one .jpg, .jpeg or .png image", "found none", 3, 4, 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[256], root[256];
        snprintf(root, sizeof root, "bad_%s", cases[i].name);
        good_folder(root);
        snprintf(rel, sizeof rel, "%s/%s", root, cases[i].extra);
        if (!strcmp(cases[i].name, "corrupt")) { /* a JPEG cut in half */
            write_image(rel, 9, 3, 4, 6);
            struct stat sb;
            assert_int_equal(stat(test_path(dir, rel), &sb), 0);
            assert_int_equal(truncate(test_path(dir, rel), sb.st_size / 2), 0);
        } else if (!strcmp(cases[i].name, "notimg")) {
            write_bytes(rel, "hi\n", 3);
        } else if (!strcmp(cases[i].name, "empty")) {
            mkdirs(test_path(dir, rel));
        } else {
            write_image(rel, 9, cases[i].c, cases[i].h, cases[i].w);
        }
        lt_dataset d;
        lt_status st = lt_dataset_open(test_path(dir, root), 0, &d);
        assert_int_equal(st, LT_ERR_FORMAT);
        const char *msg = lt_error_message();
        if (!strstr(msg, cases[i].want1) || !strstr(msg, cases[i].want2))
            fail_msg("case %s: message '%s' lacks '%s' / '%s'", cases[i].name, msg, cases[i].want1, cases[i].want2);
        /* convert: the same error, and no file (no temporary either) in the output folder */
        snprintf(rel, sizeof rel, "out_%s", cases[i].name);
        mkdirs(test_path(dir, rel));
        snprintf(rel, sizeof rel, "out_%s/pre", cases[i].name);
        lt_image_convert_report rep;
        assert_int_equal(lt_image_folder_to_tfrecord(test_path(dir, root), test_path(dir, rel), 2, LT_TFR_NONE, &rep),
                         LT_ERR_FORMAT);
        assert_non_null(strstr(lt_error_message(), cases[i].want1));
        snprintf(rel, sizeof rel, "out_%s", cases[i].name);
        DIR *od = opendir(test_path(dir, rel));
        int files = 0;
        for (struct dirent *e; (e = readdir(od));) files += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        closedir(od);
        assert_int_equal(files, 0);
    }
    lt_dataset d;
    mkdirs(test_path(dir, "emptytrain/train"));
    mkdirs(test_path(dir, "emptytrain/test"));
    assert_int_equal(lt_dataset_open(test_path(dir, "emptytrain"), 0, &d), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "emptytrain/train: expected class folders, found none"));
    mkdirs(test_path(dir, "notest/train/ant"));
    write_image("notest/train/ant/a.png", 0, 3, 4, 6);
    assert_int_equal(lt_dataset_open(test_path(dir, "notest"), 0, &d), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "notest/test/ (an image folder needs train/ and test/)"));
}

/* convert, then read back without a feature spec: the same bytes and labels. */
static void tfrecord_round_trip(void **state) {
    (void)state;
    good_folder("rt");
    mkdirs(test_path(dir, "rt_out"));
    lt_image_convert_report rep;
    lt_status st = lt_image_folder_to_tfrecord(test_path(dir, "rt"), test_path(dir, "rt_out/cls"), 2, LT_TFR_GZIP, &rep);
    if (st) fail_msg("%s", lt_error_message());
    assert_int_equal(rep.n[LT_SPLIT_TRAIN], 3);
    assert_int_equal(rep.n_classes, 2);
    char src[300];
    snprintf(src, sizeof src, "tfrecord:%s", test_path(dir, "rt_out/cls"));
    lt_dataset a, b;
    assert_int_equal(lt_dataset_open(test_path(dir, "rt"), 0, &a), LT_OK);
    st = lt_dataset_open_source(src, NULL, 0, &b);
    if (st) fail_msg("%s", lt_error_message());
    assert_int_equal(b.channels, 3);
    assert_int_equal(b.dim, a.dim);
    for (int s = 0; s < 3; s++) {
        assert_int_equal(a.split[s].n, b.split[s].n);
        assert_memory_equal(a.split[s].images, b.split[s].images, (size_t)(a.split[s].n * a.dim));
        assert_memory_equal(a.split[s].labels, b.split[s].labels, (size_t)a.split[s].n);
    }
    lt_dataset_free(&a);
    lt_dataset_free(&b);
    FILE *f = fopen(test_path(dir, "rt_out/labels.txt"), "r");
    assert_non_null(f);
    char text[64] = "";
    assert_true(fread(text, 1, sizeof text - 1, f) > 0);
    fclose(f);
    assert_string_equal(text, "0:ant\n1:bee\n");
}

static void augment_parse(void **state) {
    (void)state;
    lt_augment a;
    char name[64];
    assert_int_equal(lt_augment_parse("flip,crop:2", &a), LT_OK);
    assert_int_equal(a.crop_pad, 2);
    assert_int_equal(a.flip, 1);
    lt_augment_name(&a, name, sizeof name);
    assert_string_equal(name, "crop:2,flip");
    assert_int_equal(lt_augment_parse("none", &a), LT_OK);
    lt_augment_name(&a, name, sizeof name);
    assert_string_equal(name, "none");
    const char *bad[] = {"crop:0", "crop:x", "flip,flip", "rotate", "crop:4,", "crop:4x"};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(lt_augment_parse(bad[i], &a), LT_ERR_ARG);
        assert_non_null(strstr(lt_error_message(), "--augment"));
    }
}

/* Over many examples: flips at rate 1/2, offsets uniform over [-P, P]; the draw is
 * a function of (seed, epoch, index); another epoch draws anew. */
static void augment_statistics(void **state) {
    (void)state;
    enum { N = 18000, P = 4, K = 2 * P + 1 };
    const lt_augment a = {.crop_pad = P, .flip = 1};
    int64_t cy[K] = {0}, cx[K] = {0}, flips = 0, same_epoch = 0, joint_diag = 0;
    for (int64_t i = 0; i < N; i++) {
        lt_augment_draw d, d2, e;
        lt_augment_draw_for(&a, 7, 3, i, &d);
        lt_augment_draw_for(&a, 7, 3, i, &d2);
        lt_augment_draw_for(&a, 7, 4, i, &e);
        assert_true(d.dy >= -P && d.dy <= P && d.dx >= -P && d.dx <= P);
        assert_true(d.dy == d2.dy && d.dx == d2.dx && d.flip == d2.flip);
        cy[d.dy + P]++;
        cx[d.dx + P]++;
        flips += d.flip;
        same_epoch += d.dy == e.dy && d.dx == e.dx && d.flip == e.flip;
        joint_diag += d.dy == d.dx;
    }
    const double rate = (double)flips / N, sd = sqrt(0.25 / N);
    if (fabs(rate - 0.5) > 4 * sd) fail_msg("flip rate %.4f, expected 0.5 +- %.4f", rate, 4 * sd);
    double chi_y = 0, chi_x = 0, want = (double)N / K;
    for (int k = 0; k < K; k++) {
        chi_y += (cy[k] - want) * (cy[k] - want) / want;
        chi_x += (cx[k] - want) * (cx[k] - want) / want;
    }
    /* chi-square, 8 degrees of freedom: P(> 26.12) = 0.001 */
    if (chi_y > 26.12 || chi_x > 26.12) fail_msg("offsets not uniform: chi2 dy %.1f dx %.1f (8 dof)", chi_y, chi_x);
    /* dy and dx independent: P(dy == dx) = 1/9 */
    assert_true(fabs((double)joint_diag / N - 1.0 / K) < 4 * sqrt((1.0 / K) * (1 - 1.0 / K) / N));
    /* epochs 3 and 4 agree by chance only: 1/(9*9*2) */
    assert_true((double)same_epoch / N < 3.0 / (K * K * 2));
    /* flip only: no offsets; crop only: no flips */
    lt_augment f = {.flip = 1}, c = {.crop_pad = P};
    int64_t fl = 0;
    for (int64_t i = 0; i < 2000; i++) {
        lt_augment_draw d;
        lt_augment_draw_for(&f, 1, 0, i, &d);
        assert_true(d.dy == 0 && d.dx == 0);
        fl += d.flip;
        lt_augment_draw_for(&c, 1, 0, i, &d);
        assert_int_equal(d.flip, 0);
    }
    assert_true(fl > 800 && fl < 1200);
}

/* The training batch is the draw applied to the image (zero padding); validation and
 * test batches are never augmented. */
static void augment_applied_to_training_only(void **state) {
    (void)state;
    enum { C = 3, H = 5, W = 6, D = C * H * W, N = 40 };
    static uint8_t bytes[N * D]; /* (N, C, H, W) */
    for (int i = 0; i < N * D; i++) bytes[i] = (uint8_t)(1 + i % 250);
    lt_dataset d;
    memset(&d, 0, sizeof d);
    d.channels = C;
    d.height = H;
    d.width = W;
    d.dim = D;
    for (int s = 0; s < 3; s++) d.split[s] = (lt_split){bytes, NULL, N, NULL};
    const lt_augment a = {.crop_pad = 2, .flip = 1};
    int64_t idx[N];
    for (int i = 0; i < N; i++) idx[i] = N - 1 - i;
    static float x[N * D], plain[N * D];
    lt_batch_opts o = {LT_BINARIZE_NONE, 9, 5, LT_RANGE_UNIT, &a};
    lt_dataset_batch_opts(&d, LT_SPLIT_TRAIN, idx, N, &o, x, NULL);
    int changed = 0, padded = 0;
    for (int r = 0; r < N; r++) {
        lt_augment_draw dr;
        lt_augment_draw_for(&a, 9, 5, idx[r], &dr);
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int xx = 0; xx < W; xx++) {
                    const int sy = y + (int)dr.dy, sx = (dr.flip ? W - 1 - xx : xx) + (int)dr.dx;
                    const float want = sy < 0 || sy >= H || sx < 0 || sx >= W
                                           ? 0.0f
                                           : bytes[idx[r] * D + (c * H + sy) * W + sx] * (1.0f / 255.0f);
                    const float got = x[r * D + (c * H + y) * W + xx];
                    assert_true(got == want);
                    padded += got == 0.0f;
                    changed += got != bytes[idx[r] * D + (c * H + y) * W + xx] * (1.0f / 255.0f);
                }
    }
    assert_true(changed > 0 && padded > 0);
    for (int s = LT_SPLIT_VALID; s <= LT_SPLIT_TEST; s++) {
        lt_dataset_batch_opts(&d, (lt_split_id)s, idx, N, &o, x, NULL);
        lt_dataset_batch(&d, (lt_split_id)s, idx, N, LT_BINARIZE_NONE, 9, 5, plain, NULL);
        assert_memory_equal(x, plain, sizeof x);
    }
}

static void model_channels(void **state) {
    (void)state;
    json_t *cfg = json_pack("{s:i, s:i, s:i, s:i, s:i}", "height", 4, "width", 5, "channels", 3, "hidden", 8, "latent", 2);
    lt_model *m;
    lt_status st = lt_model_create("vae", cfg, &m);
    if (st) fail_msg("%s", lt_error_message());
    assert_int_equal(m->dim, 60);
    assert_int_equal(m->channels, 3);
    assert_int_equal(m->vt->range, LT_MODEL_RANGE_UNIT);
    lt_model_destroy(m);
    json_object_set_new(cfg, "dim", json_integer(40));
    assert_int_equal(lt_model_create("vae", cfg, &m), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "channels"));
    json_decref(cfg);
    cfg = json_pack("{s:i, s:i, s:i}", "height", 4, "width", 5, "hidden", 8); /* grey as before */
    assert_int_equal(lt_model_create("nade", cfg, &m), LT_OK);
    assert_int_equal(m->dim, 20);
    assert_int_equal(m->channels, 1);
    lt_model_destroy(m);
    json_decref(cfg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(png_decodes_exactly), cmocka_unit_test(corrupt_images_fail),
        cmocka_unit_test(folder_layout),       cmocka_unit_test(bad_folders),
        cmocka_unit_test(tfrecord_round_trip), cmocka_unit_test(augment_parse),
        cmocka_unit_test(augment_statistics),  cmocka_unit_test(augment_applied_to_training_only),
        cmocka_unit_test(model_channels),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
