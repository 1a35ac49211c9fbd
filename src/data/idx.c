/* IDX reader. zlib's gz* functions read gzip and plain files alike (a file
 * without the gzip magic is passed through as is), so one path serves both;
 * gzerror tells a truncated gzip stream apart from a short plain file. */
#include "data/idx.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"

/* Reads up to n bytes; returns the count read (< n at end of data) or -1 on a
 * gzip error (message set). */
static int64_t lti_gz_read(gzFile f, const char *path, void *buf, int64_t n) {
    int64_t got = 0;
    while (got < n) {
        int64_t want = n - got;
        if (want > (1 << 30)) want = 1 << 30;
        int r = gzread(f, (unsigned char *)buf + got, (unsigned)want);
        if (r < 0) {
            int errnum;
            const char *msg = gzerror(f, &errnum);
            lt_fail(LT_ERR_FORMAT, "%s: corrupt gzip stream (zlib: %s)", path, msg);
            return -1;
        }
        if (r == 0) break;
        got += r;
    }
    /* A truncated gzip member reads as a short count plus Z_BUF_ERROR. */
    int errnum = Z_OK;
    const char *msg = gzerror(f, &errnum);
    if (errnum != Z_OK && errnum != Z_STREAM_END) {
        lt_fail(LT_ERR_FORMAT, "%s: corrupt or truncated gzip stream (zlib: %s)", path, msg);
        return -1;
    }
    return got;
}

lt_status lt_idx_read(const char *path, lt_idx *out) {
    memset(out, 0, sizeof *out);
    gzFile f = gzopen(path, "rb");
    if (!f) {
        int e = errno;
        return lt_fail(e == ENOENT ? LT_ERR_ARG : LT_ERR_IO, "%s: cannot open: %s", path,
                       e ? strerror(e) : "out of memory");
    }
    gzbuffer(f, 1 << 17);
    lt_status st = LT_OK;
    unsigned char head[4];
    int64_t got = lti_gz_read(f, path, head, 4);
    if (got < 0) { st = LT_ERR_FORMAT; goto done; }
    if (got < 4) {
        st = lt_fail(LT_ERR_FORMAT, "%s: truncated header: expected 4 magic bytes, found %lld", path, (long long)got);
        goto done;
    }
    if (head[0] != 0 || head[1] != 0) {
        st = lt_fail(LT_ERR_FORMAT, "%s: bad magic: expected 00 00 08 0N (IDX), found %02x %02x %02x %02x", path,
                     head[0], head[1], head[2], head[3]);
        goto done;
    }
    if (head[2] != 0x08) {
        st = lt_fail(LT_ERR_FORMAT, "%s: unsupported IDX data type: expected 0x08 (unsigned byte), found 0x%02x", path,
                     head[2]);
        goto done;
    }
    int ndim = head[3];
    if (ndim < 1 || ndim > 4) {
        st = lt_fail(LT_ERR_FORMAT, "%s: bad number of dimensions: expected 1 to 4, found %d", path, ndim);
        goto done;
    }
    unsigned char dimb[16];
    got = lti_gz_read(f, path, dimb, 4 * ndim);
    if (got < 0) { st = LT_ERR_FORMAT; goto done; }
    if (got < 4 * ndim) {
        st = lt_fail(LT_ERR_FORMAT, "%s: truncated header: expected %d dimension bytes, found %lld", path, 4 * ndim,
                     (long long)got);
        goto done;
    }
    int64_t total = 1;
    for (int i = 0; i < ndim; i++) {
        const unsigned char *b = dimb + 4 * i;
        out->dims[i] = ((int64_t)b[0] << 24) | ((int64_t)b[1] << 16) | ((int64_t)b[2] << 8) | b[3];
        if (out->dims[i] > 0 && total > ((int64_t)1 << 40) / out->dims[i]) {
            st = lt_fail(LT_ERR_FORMAT, "%s: header claims more than 2^40 bytes of data", path);
            goto done;
        }
        total *= out->dims[i];
    }
    out->ndim = ndim;
    out->data = lt_malloc(total ? (size_t)total : 1);
    if (!out->data) {
        st = lt_fail(LT_ERR_NOMEM, "%s: cannot allocate %lld bytes", path, (long long)total);
        goto done;
    }
    got = lti_gz_read(f, path, out->data, total);
    if (got < 0) { st = LT_ERR_FORMAT; goto done; }
    if (got < total) {
        st = lt_fail(LT_ERR_FORMAT, "%s: truncated data: header says %lld bytes, found %lld", path,
                     (long long)total, (long long)got);
        goto done;
    }
    unsigned char extra[4096];
    int64_t more = 0, r;
    while ((r = lti_gz_read(f, path, extra, sizeof extra)) > 0) more += r;
    if (r < 0) { st = LT_ERR_FORMAT; goto done; }
    if (more) {
        st = lt_fail(LT_ERR_FORMAT, "%s: size does not match the header: expected %lld data bytes, found %lld (%lld trailing)",
                     path, (long long)total, (long long)(total + more), (long long)more);
        goto done;
    }
done:
    gzclose(f);
    if (st) lt_idx_free(out);
    return st;
}

lt_status lt_idx_read_rows(const char *path, const lt_idx *dims, int64_t first, const int64_t *rows, int64_t n,
                           uint8_t *out) {
    int64_t row = 1;
    for (int i = 1; i < dims->ndim; i++) row *= dims->dims[i];
    gzFile f = gzopen(path, "rb");
    if (!f) {
        int e = errno;
        return lt_fail(e == ENOENT ? LT_ERR_ARG : LT_ERR_IO, "%s: cannot open: %s", path, e ? strerror(e) : "out of memory");
    }
    gzbuffer(f, 1 << 17);
    lt_status st = LT_OK;
    const int64_t head = 4 + 4 * (int64_t)dims->ndim;
    for (int64_t i = 0; i < n && !st; i++) {
        const int64_t at = head + (first + rows[i]) * row;
        if (rows[i] < 0 || first + rows[i] >= dims->dims[0] || (i > 0 && rows[i] <= rows[i - 1])) {
            st = lt_fail(LT_ERR_ARG, "%s: row %lld: expected ascending rows below %lld", path,
                         (long long)(first + rows[i]), (long long)dims->dims[0]);
        } else if (gzseek(f, (z_off_t)at, SEEK_SET) != (z_off_t)at) {
            st = lt_fail(LT_ERR_FORMAT, "%s: cannot reach row %lld at offset %lld (changed since it was opened?)", path,
                         (long long)(first + rows[i]), (long long)at);
        } else {
            const int64_t got = lti_gz_read(f, path, out + i * row, row);
            if (got >= 0 && got < row)
                st = lt_fail(LT_ERR_FORMAT, "%s: truncated row %lld at offset %lld: expected %lld bytes, found %lld (changed "
                             "since it was opened?)", path, (long long)(first + rows[i]), (long long)at, (long long)row,
                             (long long)got);
            else if (got < 0)
                st = LT_ERR_FORMAT;
        }
    }
    gzclose(f);
    return st;
}

void lt_idx_free(lt_idx *x) {
    if (!x) return;
    lt_free(x->data);
    memset(x, 0, sizeof *x);
}
