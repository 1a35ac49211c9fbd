/* TFRecord read + CRC + tf.Example parse into dense batches, on one core.
 *
 *   bench_tfrecord PLAIN.tfrecord GZIP.tfrecord [passes]
 *
 * Both files hold MNIST-like Examples (image/raw bytes of H*W, label int64), e.g. from
 * `latent tfrecord convert`; bench/run_tfrecord.sh makes them and runs the Python peer
 * beside this. Prints, best of `passes` (files in the page cache):
 *   memcpy       the machine's copy bandwidth (the ceiling for a pipeline that copies once)
 *   crc32c       CRC32C alone over the file bytes
 *   pipeline     read + both CRCs + parse into dense batches: the image as u8 (B,H*W) (what
 *                tf.io.decode_raw gives and what `latent train` keeps), the label as int64 (B)
 *   + float      the same, each batch then converted to float (B,H*W) scaled to [0,1], the
 *                step a consumer of float tensors adds (alternated with the pipeline passes)
 *   gzip         the same pipeline on the gzip file, in uncompressed bytes per second
 *   zlib inflate zlib's own inflate of the same gzip file (no parsing) for comparison
 * Without arguments (as `make bench` runs it) it makes both files itself from synthetic
 * images, so the numbers exist even without a data set. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common.h"
#include "core/rng.h"
#include "data/crc32c.h"
#include "data/example.h"
#include "data/tfrecord.h"

#define BATCH 100

static void die(const char *what) { ltb_die("bench_tfrecord", what); }

static int64_t file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    int64_t n = ftell(f);
    fclose(f);
    return n;
}

static volatile float sink;

/* One pass of the pipeline; returns uncompressed stream bytes and records. With x, each
 * dense batch is also converted to floats in x. */
static void pipeline(const char *path, int64_t dim, float *x /* (BATCH,dim) or NULL */, int64_t *bytes, int64_t *records) {
    static const int64_t no_label = -1; /* binarized MNIST has no labels */
    lt_ex_spec_item spec[] = {
        {.key = "image/raw", .dtype = LT_EX_BYTES, .fixed = 1, .raw = 1, .ndim = 1, .shape = {dim}},
        {.key = "label", .dtype = LT_EX_INT64, .fixed = 1, .default_value = &no_label, .default_count = 1},
    };
    lt_ex_batch b;
    lt_example ex;
    lt_tfr_reader *r;
    if (lt_ex_batch_init(&b, spec, 2, BATCH)) die("batch");
    lt_example_init(&ex);
    if (lt_tfr_reader_open(&r, path, NULL)) die(path);
    int64_t n = 0;
    for (;;) {
        lt_tfr_record rec;
        int have;
        if (lt_tfr_reader_next(r, &rec, &have)) die("read");
        if (have) {
            if (lt_example_parse(&ex, rec.data, rec.len) || lt_ex_batch_add(&b, &ex, rec.file, rec.index)) die("parse");
            n++;
        }
        if (b.rows == BATCH || (!have && b.rows)) { /* a full dense batch, handed on */
            const uint8_t *u = b.cols[0].dense; /* (rows,dim) */
            if (x) {
                for (int64_t i = 0; i < b.rows * dim; i++) x[i] = (float)u[i] * (1.0f / 255.0f);
                sink += x[0];
            }
            sink += (float)u[b.rows * dim - 1] + (float)((int64_t *)b.cols[1].dense)[b.rows - 1];
            lt_ex_batch_clear(&b);
        }
        if (!have) break;
    }
    *bytes = lt_tfr_reader_offset(r);
    *records = n;
    lt_tfr_reader_close(r);
    lt_example_free(&ex);
    lt_ex_batch_free(&b);
}

static double zlib_inflate_file(const char *path, int64_t *out_bytes) {
    FILE *f = fopen(path, "rb");
    static unsigned char in[1 << 20], out[1 << 20];
    z_stream z = {0};
    inflateInit2(&z, 15 + 16);
    double t0 = ltb_now();
    int64_t total = 0;
    int ret = Z_OK;
    while (ret != Z_STREAM_END) {
        z.avail_in = (uInt)fread(in, 1, sizeof in, f);
        if (z.avail_in == 0) break;
        z.next_in = in;
        do {
            z.next_out = out;
            z.avail_out = sizeof out;
            ret = inflate(&z, Z_NO_FLUSH);
            if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) { fprintf(stderr, "inflate failed\n"); exit(1); }
            total += (int64_t)(sizeof out - z.avail_out);
        } while (z.avail_in > 0 && ret != Z_STREAM_END);
    }
    double t = ltb_now() - t0;
    inflateEnd(&z);
    fclose(f);
    *out_bytes = total;
    return t;
}

/* Synthetic MNIST-like files for a run without arguments. */
static void make_files(const char *plain, const char *gz, int64_t n, int64_t dim) {
    lt_tfr_writer *w[2];
    if (lt_tfr_writer_open(&w[0], plain, LT_TFR_NONE, -1) || lt_tfr_writer_open(&w[1], gz, LT_TFR_GZIP, -1)) die("write");
    lt_ex_builder b;
    lt_ex_builder_init(&b);
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    uint8_t *img = malloc((size_t)dim);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t k = 0; k < dim; k++) img[k] = (k % 28 > 6 && k % 28 < 22 && lt_rng_below(&rng, 3)) ? (uint8_t)lt_rng_below(&rng, 256) : 0;
        lt_ex_bytes raw = {img, dim};
        int64_t side = 28, label = (int64_t)lt_rng_below(&rng, 10);
        const uint8_t *data;
        int64_t len;
        lt_ex_builder_begin(&b, 0);
        lt_ex_builder_bytes(&b, "image/raw", &raw, 1);
        lt_ex_builder_int64s(&b, "image/height", &side, 1);
        lt_ex_builder_int64s(&b, "image/width", &side, 1);
        lt_ex_builder_int64s(&b, "label", &label, 1);
        if (lt_ex_builder_finish(&b, &data, &len) || lt_tfr_writer_write(w[0], data, len) || lt_tfr_writer_write(w[1], data, len))
            die("write");
    }
    free(img);
    lt_ex_builder_free(&b);
    if (lt_tfr_writer_close(w[0]) || lt_tfr_writer_close(w[1])) die("close");
}

int main(int argc, char **argv) {
    const int64_t dim = 784;
    char plain[256], gz[256];
    int own = argc < 3;
    int passes = ltb_arg(argc, argv, 3, 5);
    if (own) {
        snprintf(plain, sizeof plain, "/tmp/bench_tfrecord_%ld.tfrecord", (long)getpid());
        snprintf(gz, sizeof gz, "/tmp/bench_tfrecord_%ld.gz", (long)getpid());
        make_files(plain, gz, 20000, dim);
        printf("(synthetic 28x28 Examples; bench/run_tfrecord.sh uses real MNIST-family data and the Python peer)\n");
    } else {
        snprintf(plain, sizeof plain, "%s", argv[1]);
        snprintf(gz, sizeof gz, "%s", argv[2]);
    }
    int64_t fsz = file_size(plain), gsz = file_size(gz);
    float *x = malloc(sizeof(float) * BATCH * (size_t)dim);

    /* memcpy ceiling: a buffer the size of the file (at least 64 MiB, beyond the caches) */
    size_t mn = (size_t)(fsz > (64 << 20) ? fsz : (64 << 20));
    char *src = malloc(mn), *dst = malloc(mn);
    memset(src, 1, mn);
    memset(dst, 2, mn);
    double best = 1e30;
    for (int p = 0; p < passes; p++) {
        double t0 = ltb_now();
        memcpy(dst, src, mn);
        double t = ltb_now() - t0;
        if (t < best) best = t;
        sink += (float)dst[p];
    }
    double memcpy_gbs = (double)mn / best / 1e9;
    printf("memcpy        %7.2f GB/s   (%zu MiB buffer)\n", memcpy_gbs, mn >> 20);
    best = 1e30;
    for (int p = 0; p < passes; p++) {
        double t0 = ltb_now();
        sink += (float)lt_crc32c(src, mn);
        double t = ltb_now() - t0;
        if (t < best) best = t;
    }
    printf("crc32c        %7.2f GB/s   (%s)\n", (double)mn / best / 1e9,
#ifdef LT_HAVE_ISAL
           "ISA-L crc32_iscsi"
#else
           "portable table"
#endif
    );
    free(src);
    free(dst);

    int64_t bytes = 0, recs = 0;
    double fbest = 1e30;
    best = 1e30;
    for (int p = 0; p < passes; p++) { /* alternated, as below */
        double t0 = ltb_now();
        pipeline(plain, dim, NULL, &bytes, &recs);
        double t = ltb_now() - t0;
        if (t < best) best = t;
        t0 = ltb_now();
        pipeline(plain, dim, x, &bytes, &recs);
        t = ltb_now() - t0;
        if (t < fbest) fbest = t;
    }
    double pipe_gbs = (double)bytes / best / 1e9, float_gbs = (double)bytes / fbest / 1e9;
    printf("pipeline      %7.2f GB/s   %.0f records/s  (%lld records, %.1f MB, read+CRC+parse into dense batches of %d: "
           "u8 image, int64 label)\n",
           pipe_gbs, (double)recs / best, (long long)recs, (double)fsz / 1e6, BATCH);
    printf("  + float     %7.2f GB/s   (each batch also converted to float in [0,1])\n", float_gbs);
    best = 1e30;
    int64_t gbytes = 0, grecs = 0, zbytes = 0;
    double zbest = 1e30;
    for (int p = 0; p < passes; p++) { /* alternated, so both see the same machine load */
        double t0 = ltb_now();
        pipeline(gz, dim, NULL, &gbytes, &grecs);
        double t = ltb_now() - t0;
        if (t < best) best = t;
        t = zlib_inflate_file(gz, &zbytes);
        if (t < zbest) zbest = t;
    }
    double gz_gbs = (double)gbytes / best / 1e9;
    double z_gbs = (double)zbytes / zbest / 1e9;
    printf("gzip pipeline %7.2f GB/s   (uncompressed bytes/s; %.1f MB compressed; inflate by %s)\n", gz_gbs,
           (double)gsz / 1e6,
#ifdef LT_HAVE_ISAL
           "ISA-L igzip"
#else
           "zlib"
#endif
    );
    printf("zlib inflate  %7.2f GB/s   (zlib's own inflate of the same file, no CRC, no parsing)\n", z_gbs);
    printf("ratios: pipeline/memcpy %.2f, gzip pipeline/zlib inflate %.2f\n", pipe_gbs / memcpy_gbs, gz_gbs / z_gbs);
    printf("{\"pipeline_gbs\": %.4f, \"pipeline_float_gbs\": %.4f, \"records_per_s\": %.1f, \"gzip_gbs\": %.4f, "
           "\"zlib_inflate_gbs\": %.4f, \"memcpy_gbs\": %.4f}\n",
           pipe_gbs, float_gbs, (double)recs / ((double)bytes / pipe_gbs / 1e9), gz_gbs, z_gbs, memcpy_gbs);
    if (own) { unlink(plain); unlink(gz); }
    free(x);
    return 0;
}
