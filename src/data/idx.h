/* IDX files (the MNIST format), optionally gzip-compressed (read through zlib).
 * Header: two zero bytes, a type byte (0x08 = unsigned byte), the number of dims,
 * then each dim as a big-endian u32; then the data. Only unsigned-byte data is
 * supported (images: 3 dims, labels: 1 dim). */
#ifndef LT_IDX_H
#define LT_IDX_H

#include <stdint.h>

#include "core/status.h"

typedef struct lt_idx {
    uint8_t *data;        /* owned: dims[0]*...*dims[ndim-1] bytes */
    int ndim;
    int64_t dims[4];
} lt_idx;

/* Reads PATH (gzip detected by its magic). Errors name the file and say what was
 * expected and found: wrong magic, unsupported type, truncated data, trailing bytes. */
lt_status lt_idx_read(const char *path, lt_idx *out);
void lt_idx_free(lt_idx *x);
/* Rows first + rows[0..n) (ascending) of an IDX file read before with lt_idx_read (dims: its
 * dims; a row is dims[1]*...*dims[ndim-1] bytes) into out (n, row): plain files by seeking,
 * gzip by inflating forward (skipped bytes are inflated and dropped). Errors name the file. */
lt_status lt_idx_read_rows(const char *path, const lt_idx *dims, int64_t first, const int64_t *rows, int64_t n,
                           uint8_t *out);

#endif
