/* TFRecord framing: CRC32C, round trips through none/zlib/gzip, corruption with exact
 * offsets, truncation, skip budgets, lengths rejected before allocation, indexes,
 * file sets, shuffled and split datasets, atomic writes. */
#define _DEFAULT_SOURCE
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

#include "core/alloc.h"
#include "data/crc32c.h"
#include "data/tfrecord.h"

static char tmpdir[256];

static const char *tpath(const char *name) { return test_path(tmpdir, name); }

static int setup(void **state) {
    (void)state;
    return test_tmpdir(tmpdir, sizeof tmpdir, "tfrec");
}

static int teardown(void **state) {
    (void)state;
    return test_rmtree(tmpdir);
}

/* Record i: len(i) bytes of a pattern; lengths include 0 and one over the 1 MiB buffer. */
static int64_t rec_len(int i) { return i == 3 ? 0 : i == 5 ? (1 << 20) + 777 : 10 + 37 * i; }
static void rec_fill(uint8_t *p, int i) {
    for (int64_t k = 0; k < rec_len(i); k++) p[k] = (uint8_t)(k * 31 + i);
}

static void write_file(const char *path, lt_tfr_compression c, int n) {
    lt_tfr_writer *w;
    assert_int_equal(lt_tfr_writer_open(&w, path, c, -1), LT_OK);
    uint8_t *buf = malloc((1 << 20) + 1000);
    for (int i = 0; i < n; i++) {
        rec_fill(buf, i);
        assert_int_equal(lt_tfr_writer_write(w, buf, rec_len(i)), LT_OK);
    }
    free(buf);
    assert_int_equal(lt_tfr_writer_close(w), LT_OK);
}

static uint8_t *slurp(const char *path, int64_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)*len + 1);
    assert_int_equal(fread(p, 1, (size_t)*len, f), (size_t)*len);
    fclose(f);
    return p;
}

static void spit(const char *path, const uint8_t *p, int64_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
}

static int64_t offset_of(int i) {
    int64_t o = 0;
    for (int k = 0; k < i; k++) o += rec_len(k) + 16;
    return o;
}

static void crc32c_known_vectors(void **state) {
    (void)state;
    assert_int_equal(lt_crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(lt_crc32c_extend_portable(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(lt_crc32c("", 0), 0);
    uint8_t zeros[32] = {0}; /* RFC 3720 B.4: 32 bytes of zeros */
    assert_int_equal(lt_crc32c(zeros, 32), 0x8A9136AAu);
    uint8_t big[4099];
    for (int i = 0; i < 4099; i++) big[i] = (uint8_t)(i * 7 + 3);
    for (int cut = 0; cut < 4099; cut += 401) {
        uint32_t a = lt_crc32c_extend(lt_crc32c(big, (size_t)cut), big + cut, (size_t)(4099 - cut));
        assert_int_equal(a, lt_crc32c(big, 4099));
        assert_int_equal(lt_crc32c_extend_portable(0, big, 4099), a);
    }
    assert_int_equal(lt_crc32c_unmask(lt_crc32c_mask(0x12345678u)), 0x12345678u);
    for (int k = 0; k + 8 <= 4099; k += 37) assert_int_equal(lt_crc32c_8(big + k), lt_crc32c(big + k, 8)); /* inline header CRC */
}

static void round_trip(lt_tfr_compression c, lt_tfr_compression open_as) {
    const char *path = tpath("rt.tfrecord");
    write_file(path, c, 8);
    lt_tfr_options o;
    lt_tfr_options_default(&o);
    o.compression = open_as;
    lt_tfr_reader *r;
    assert_int_equal(lt_tfr_reader_open(&r, path, &o), LT_OK);
    assert_int_equal(lt_tfr_reader_compression(r), c);
    uint8_t *want = malloc((1 << 20) + 1000);
    for (int i = 0; i < 8; i++) {
        lt_tfr_record rec;
        int have;
        assert_int_equal(lt_tfr_reader_next(r, &rec, &have), LT_OK);
        assert_int_equal(have, 1);
        assert_int_equal(rec.len, rec_len(i));
        assert_int_equal(rec.index, i);
        assert_int_equal(rec.offset, offset_of(i));
        rec_fill(want, i);
        if (rec.len) assert_memory_equal(rec.data, want, (size_t)rec.len);
    }
    free(want);
    lt_tfr_record rec;
    int have = 7;
    assert_int_equal(lt_tfr_reader_next(r, &rec, &have), LT_OK);
    assert_int_equal(have, 0);
    lt_tfr_reader_close(r);
}

static void round_trips(void **state) {
    (void)state;
    round_trip(LT_TFR_NONE, LT_TFR_AUTO);
    round_trip(LT_TFR_ZLIB, LT_TFR_AUTO);
    round_trip(LT_TFR_GZIP, LT_TFR_AUTO);
    round_trip(LT_TFR_GZIP, LT_TFR_GZIP);
    round_trip(LT_TFR_ZLIB, LT_TFR_ZLIB);
}

/* Compresses buf into a gzip (or zlib) file with zlib itself. */
static void gzip_to(const char *path, const uint8_t *p, int64_t n, int gzip) {
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, gzip ? 31 : 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    uLong cap = deflateBound(&z, (uLong)n) + 64;
    uint8_t *out = malloc(cap);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    spit(path, out, (int64_t)z.total_out);
    deflateEnd(&z);
    free(out);
}

static lt_status read_all(const char *path, const lt_tfr_options *o, int *count) {
    lt_tfr_reader *r;
    lt_status st = lt_tfr_reader_open(&r, path, o);
    if (st) return st;
    *count = 0;
    for (;;) {
        lt_tfr_record rec;
        int have;
        if ((st = lt_tfr_reader_next(r, &rec, &have)) || !have) break;
        (*count)++;
    }
    lt_tfr_reader_close(r);
    return st;
}

static void corrupt_data_crc_reports_offset(void **state) {
    (void)state;
    const char *path = tpath("c.tfrecord");
    write_file(path, LT_TFR_NONE, 5);
    int64_t n;
    uint8_t *p = slurp(path, &n);
    p[offset_of(2) + 12 + 5] ^= 0x40; /* a data byte of record 2 */
    spit(path, p, n);
    int count;
    assert_int_equal(read_all(path, NULL, &count), LT_ERR_FORMAT);
    char want[200];
    snprintf(want, sizeof want, "record 2 offset %lld: data CRC mismatch", (long long)offset_of(2));
    assert_non_null(strstr(lt_error_message(), want));
    assert_non_null(strstr(lt_error_message(), path));
    /* the same bytes gzip-compressed: the offset is in the uncompressed stream, and says so */
    gzip_to(tpath("c.tfrecord.gz"), p, n, 1);
    assert_int_equal(read_all(tpath("c.tfrecord.gz"), NULL, &count), LT_ERR_FORMAT);
    snprintf(want, sizeof want, "record 2 offset %lld of the uncompressed gzip: data CRC mismatch", (long long)offset_of(2));
    assert_non_null(strstr(lt_error_message(), want));
    /* CRC checks off: the record is read as it is */
    lt_tfr_options o;
    lt_tfr_options_default(&o);
    o.verify_crc = 0;
    assert_int_equal(read_all(path, &o, &count), LT_OK);
    assert_int_equal(count, 5);
    /* a corrupt length CRC */
    p[offset_of(2) + 12 + 5] ^= 0x40;
    p[offset_of(3) + 9] ^= 0x01;
    spit(path, p, n);
    assert_int_equal(read_all(path, NULL, &count), LT_ERR_FORMAT);
    snprintf(want, sizeof want, "record 3 offset %lld: length CRC mismatch", (long long)offset_of(3));
    assert_non_null(strstr(lt_error_message(), want));
    free(p);
}

typedef struct skips {
    int n;
    int64_t record[8], offset[8];
} skips;

static void on_skip(void *ud, const lt_tfr_problem *p) {
    skips *s = ud;
    assert_true(s->n < 8);
    assert_non_null(strstr(p->message, p->file));
    s->record[s->n] = p->record;
    s->offset[s->n++] = p->offset;
}

static void skip_budget(void **state) {
    (void)state;
    const char *path = tpath("s.tfrecord");
    write_file(path, LT_TFR_NONE, 8);
    int64_t n;
    uint8_t *p = slurp(path, &n);
    p[offset_of(1) + 12] ^= 1;     /* data of record 1 */
    p[offset_of(4) + 8] ^= 1;      /* length CRC of record 4: needs a resync */
    spit(path, p, n);
    skips s = {0};
    lt_tfr_options o;
    lt_tfr_options_default(&o);
    o.skip_corrupt = 1;
    o.on_skip = on_skip;
    o.ud = &s;
    int count;
    assert_int_equal(read_all(path, &o, &count), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "skip budget of 1 used up"));
    assert_int_equal(s.n, 1);
    memset(&s, 0, sizeof s);
    o.skip_corrupt = 2;
    assert_int_equal(read_all(path, &o, &count), LT_OK);
    assert_int_equal(count, 6); /* 8 records, 2 skipped: the resync finds record 5 */
    assert_int_equal(s.n, 2);
    assert_int_equal(s.record[0], 1);
    assert_int_equal(s.offset[0], offset_of(1));
    assert_int_equal(s.record[1], 4);
    assert_int_equal(s.offset[1], offset_of(4));
    free(p);
}

static void truncated_last_record(void **state) {
    (void)state;
    const char *path = tpath("t.tfrecord");
    write_file(path, LT_TFR_NONE, 5);
    int64_t n;
    uint8_t *p = slurp(path, &n);
    for (int cut = 1; cut < 20; cut += 3) { /* inside the CRC, the data, the header */
        spit(path, p, n - cut);
        int count;
        assert_int_equal(read_all(path, NULL, &count), LT_ERR_FORMAT);
        assert_non_null(strstr(lt_error_message(), "record 4"));
        assert_non_null(strstr(lt_error_message(), "truncated"));
        /* with a budget: the 4 good ones, and the truncation is reported */
        skips s = {0};
        lt_tfr_options o;
        lt_tfr_options_default(&o);
        o.skip_corrupt = 1;
        o.on_skip = on_skip;
        o.ud = &s;
        assert_int_equal(read_all(path, &o, &count), LT_OK);
        assert_int_equal(count, 4);
        assert_int_equal(s.n, 1);
        assert_int_equal(s.offset[0], offset_of(4));
    }
    /* a truncated gzip stream */
    gzip_to(tpath("t.gz"), p, n, 1);
    int64_t zn;
    uint8_t *z = slurp(tpath("t.gz"), &zn);
    spit(tpath("t.gz"), z, zn - 30);
    int count;
    assert_int_equal(read_all(tpath("t.gz"), NULL, &count), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "ends early"));
    free(z);
    free(p);
}

static size_t max_alloc;
static void *tracking_realloc(void *ud, void *p, size_t n) {
    (void)ud;
    if (n == 0) { free(p); return NULL; }
    if (n > max_alloc) max_alloc = n;
    return realloc(p, n);
}

/* A valid header (length and its masked CRC) that claims len bytes. */
static void lying_header(uint8_t *h, uint64_t len) {
    for (int i = 0; i < 8; i++) h[i] = (uint8_t)(len >> (8 * i));
    uint32_t c = lt_crc32c_mask(lt_crc32c(h, 8));
    for (int i = 0; i < 4; i++) h[8 + i] = (uint8_t)(c >> (8 * i));
}

static void huge_length_rejected_before_allocation(void **state) {
    (void)state;
    uint8_t rec[12 + 64 + 4];
    memset(rec, 0, sizeof rec);
    lying_header(rec, (uint64_t)1 << 40); /* claims 1 TiB */
    lt_allocator hook = {tracking_realloc, NULL};
    lt_alloc_set(&hook);
    max_alloc = 0;
    lt_tfr_reader *r;
    lt_tfr_record out;
    int have;
    assert_int_equal(lt_tfr_reader_open_mem(&r, "mem", rec, sizeof rec, NULL), LT_OK);
    assert_int_equal(lt_tfr_reader_next(r, &out, &have), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "1099511627776 data bytes"));
    lt_tfr_reader_close(r);
    assert_true(max_alloc < 4096); /* memory input: no window at all */
    /* the same in a file */
    spit(tpath("h.tfrecord"), rec, sizeof rec);
    max_alloc = 0;
    int count;
    assert_int_equal(read_all(tpath("h.tfrecord"), NULL, &count), LT_ERR_FORMAT);
    assert_true(max_alloc <= (1 << 20) + 4096);
    /* in a gzip stream: the limit, then a lie under the limit costs at most twice what arrived */
    gzip_to(tpath("h.gz"), rec, sizeof rec, 1);
    max_alloc = 0;
    assert_int_equal(read_all(tpath("h.gz"), NULL, &count), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "exceeds the limit"));
    assert_true(max_alloc <= (1 << 20) + 65536);
    lying_header(rec, (uint64_t)500 << 20); /* 500 MiB, under the 1 GiB limit */
    gzip_to(tpath("h.gz"), rec, sizeof rec, 1);
    max_alloc = 0;
    assert_int_equal(read_all(tpath("h.gz"), NULL, &count), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "truncated"));
    assert_true(max_alloc <= (1 << 20) + 65536);
    lt_alloc_set(NULL);
}

static void index_seek_and_split(void **state) {
    (void)state;
    for (int c = 0; c < 2; c++) {
        const char *path = tpath(c ? "i.gz" : "i.tfrecord");
        write_file(path, c ? LT_TFR_GZIP : LT_TFR_NONE, 8);
        lt_tfr_index idx, back;
        assert_int_equal(lt_tfr_index_build(path, NULL, &idx), LT_OK);
        assert_int_equal(idx.n, 8);
        char ipath[600];
        snprintf(ipath, sizeof ipath, "%s.index", path);
        assert_int_equal(lt_tfr_index_save(&idx, ipath), LT_OK);
        assert_int_equal(lt_tfr_index_load(ipath, &back), LT_OK);
        assert_int_equal(back.n, 8);
        lt_tfr_reader *r;
        assert_int_equal(lt_tfr_reader_open(&r, path, NULL), LT_OK);
        int order[] = {6, 2, 7, 0, 5, 5, 1};
        uint8_t *want = malloc((1 << 20) + 1000);
        for (int k = 0; k < 7; k++) {
            int i = order[k];
            assert_int_equal(back.offset[i], offset_of(i));
            assert_int_equal(back.length[i], rec_len(i));
            assert_int_equal(lt_tfr_reader_seek(r, back.offset[i], i), LT_OK);
            lt_tfr_record rec;
            int have;
            assert_int_equal(lt_tfr_reader_next(r, &rec, &have), LT_OK);
            assert_int_equal(have, 1);
            assert_int_equal(rec.index, i);
            assert_int_equal(rec.len, rec_len(i));
            rec_fill(want, i);
            if (rec.len) assert_memory_equal(rec.data, want, (size_t)rec.len);
        }
        free(want);
        lt_tfr_reader_close(r);
        lt_tfr_index_free(&idx);
        lt_tfr_index_free(&back);
    }
    int64_t prev = 0;
    for (int w = 0; w < 3; w++) {
        int64_t b, e;
        lt_tfr_split(8, w, 3, &b, &e);
        assert_int_equal(b, prev);
        assert_true(e - b == 2 || e - b == 3);
        prev = e;
    }
    assert_int_equal(prev, 8);
    spit(tpath("bad.index"), (const uint8_t *)"0 10\n5 3\n", 9); /* overlapping records */
    lt_tfr_index bad;
    assert_int_equal(lt_tfr_index_load(tpath("bad.index"), &bad), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "line 2"));
}

static void file_sets(void **state) {
    (void)state;
    char prefix[600], name[700];
    snprintf(prefix, sizeof prefix, "%s/shard", tmpdir);
    for (int i = 0; i < 3; i++) {
        lt_tfr_shard_name(name, sizeof name, prefix, i, 3);
        write_file(name, LT_TFR_NONE, 2);
    }
    lt_tfr_files f;
    lt_tfr_files_init(&f);
    char spec[700];
    snprintf(spec, sizeof spec, "%s@3", prefix);
    assert_int_equal(lt_tfr_files_add(&f, spec), LT_OK);
    assert_int_equal(f.n, 3);
    assert_non_null(strstr(f.paths[2], "shard-00002-of-00003"));
    snprintf(spec, sizeof spec, "%s-*", prefix);
    assert_int_equal(lt_tfr_files_add(&f, spec), LT_OK);
    assert_int_equal(f.n, 6);
    lt_tfr_files_free(&f);
    lt_tfr_shard_name(name, sizeof name, prefix, 1, 3);
    assert_int_equal(unlink(name), 0);
    assert_int_equal(lt_tfr_files_add(&f, spec), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "shard-00001-of-00003 is missing"));
    snprintf(spec, sizeof spec, "%s@3", prefix);
    assert_int_equal(lt_tfr_files_add(&f, spec), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "missing"));
    assert_int_equal(lt_tfr_files_add(&f, tpath("nope*")), LT_ERR_ARG);
    assert_int_equal(lt_tfr_files_add(&f, tpath("nope")), LT_ERR_ARG);
    lt_tfr_files_free(&f);
}

/* Record i of file k carries the id 100k+i as its 4 bytes. */
static void write_ids(const char *path, int k, int n) {
    lt_tfr_writer *w;
    assert_int_equal(lt_tfr_writer_open(&w, path, k % 2 ? LT_TFR_GZIP : LT_TFR_NONE, -1), LT_OK);
    for (int i = 0; i < n; i++) {
        int32_t id = 100 * k + i;
        assert_int_equal(lt_tfr_writer_write(w, &id, 4), LT_OK);
    }
    assert_int_equal(lt_tfr_writer_close(w), LT_OK);
}

static int read_ids(lt_tfr_files *f, const lt_tfr_dataset_options *o, int32_t *ids) {
    lt_tfr_dataset *d;
    assert_int_equal(lt_tfr_dataset_open(&d, f, o), LT_OK);
    int n = 0;
    for (;;) {
        lt_tfr_record rec;
        int have;
        assert_int_equal(lt_tfr_dataset_next(d, &rec, &have), LT_OK);
        if (!have) break;
        assert_int_equal(rec.len, 4);
        memcpy(&ids[n++], rec.data, 4);
    }
    lt_tfr_dataset_close(d);
    return n;
}

static int cmp_i32(const void *a, const void *b) { return *(const int32_t *)a - *(const int32_t *)b; }

static void datasets_shuffle_and_split(void **state) {
    (void)state;
    lt_tfr_files f;
    lt_tfr_files_init(&f);
    int sizes[] = {7, 0, 13, 5};
    for (int k = 0; k < 4; k++) {
        char name[64];
        snprintf(name, sizeof name, "ds%d.tfrecord", k);
        write_ids(tpath(name), k, sizes[k]);
    }
    assert_int_equal(lt_tfr_files_add(&f, tpath("ds*.tfrecord")), LT_OK);
    assert_int_equal(f.n, 4);
    int32_t plain[32], a[32], b[32], parts[32];
    lt_tfr_dataset_options o;
    lt_tfr_dataset_options_default(&o);
    assert_int_equal(read_ids(&f, &o, plain), 25);
    assert_int_equal(plain[0], 0);
    assert_int_equal(plain[7], 200);
    o.seed = 42;
    o.shuffle_files = 1;
    o.shuffle_buffer = 10;
    assert_int_equal(read_ids(&f, &o, a), 25);
    assert_int_equal(read_ids(&f, &o, b), 25);
    assert_memory_equal(a, b, sizeof a[0] * 25); /* same seed, same order */
    assert_memory_not_equal(a, plain, sizeof a[0] * 25);
    qsort(a, 25, 4, cmp_i32);
    qsort(plain, 25, 4, cmp_i32);
    assert_memory_equal(a, plain, sizeof a[0] * 25); /* a permutation: nothing lost or invented */
    o.seed = 43;
    assert_int_equal(read_ids(&f, &o, b), 25);
    /* three workers: disjoint, covering, sizes within one */
    int total = 0;
    for (int w = 0; w < 3; w++) {
        o.worker = w;
        o.workers = 3;
        int n = read_ids(&f, &o, parts + total);
        assert_true(n == 8 || n == 9);
        total += n;
    }
    assert_int_equal(total, 25);
    qsort(parts, 25, 4, cmp_i32);
    assert_memory_equal(parts, plain, sizeof a[0] * 25);
    lt_tfr_files_free(&f);
}

static void writer_is_atomic(void **state) {
    (void)state;
    const char *path = tpath("atomic.tfrecord");
    struct stat sb;
    lt_tfr_writer *w;
    assert_int_equal(lt_tfr_writer_open(&w, path, LT_TFR_GZIP, 1), LT_OK);
    assert_int_equal(lt_tfr_writer_write(w, "abc", 3), LT_OK);
    assert_int_not_equal(stat(path, &sb), 0); /* nothing at PATH until close */
    lt_tfr_writer_abort(w);
    assert_int_not_equal(stat(path, &sb), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c atomic.tfrecord.tmp", tmpdir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    assert_int_equal(n, 0); /* no temp file left */
    assert_int_equal(lt_tfr_writer_open(&w, path, LT_TFR_NONE, -1), LT_OK);
    assert_int_equal(lt_tfr_writer_write(w, "abc", 3), LT_OK);
    assert_int_equal(lt_tfr_writer_close(w), LT_OK);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 3 + 16);
    assert_int_equal(lt_tfr_writer_open(&w, "/nonexistent-dir/x.tfrecord", LT_TFR_NONE, -1), LT_ERR_IO);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_known_vectors),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(corrupt_data_crc_reports_offset),
        cmocka_unit_test(skip_budget),
        cmocka_unit_test(truncated_last_record),
        cmocka_unit_test(huge_length_rejected_before_allocation),
        cmocka_unit_test(index_seek_and_split),
        cmocka_unit_test(file_sets),
        cmocka_unit_test(datasets_shuffle_and_split),
        cmocka_unit_test(writer_is_atomic),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
