/* liblatent's public interface, part 2: data sources.
 *
 * A source is a directory of IDX files (train-, valid-, test-images-idx3-ubyte[.gz]
 * with optional *-labels-idx1-ubyte[.gz]; MNIST's train/t10k naming works too) or
 * "tfrecord:PATTERN" with a feature-spec file (see docs/tfrecord.md): its three
 * splits are loaded into memory. Splits are named "train", "valid" and "test". */
#ifndef LATENT_DATA_H
#define LATENT_DATA_H

#include "latent/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lt_source lt_source;

typedef struct lt_source_info {
    int64_t height, width, dim; /* dim = channels * height * width: floats per example */
    int64_t n_classes;          /* 1 + the largest label, 0 without labels */
    int64_t examples[3];        /* in train, valid, test */
    int binary;                 /* every stored value is 0 or 1 */
} lt_source_info;

/* Opens SOURCE (a directory, then features must be NULL; or "tfrecord:PATTERN" with
 * the feature-spec file `features`). limit > 0 keeps the first `limit` examples of
 * each split. Errors name the file, record and offset. Free with lt_source_close. */
LT_API int lt_source_open(const char *source, const char *features, int64_t limit, lt_source **out);
LT_API void lt_source_close(lt_source *s);
LT_API void lt_source_describe(const lt_source *s, lt_source_info *out);
/* Examples [start, start + n) of `split` into x (n, dim), values as stored (IDX
 * bytes / 255, or 0/1 for binary data; a feature spec's values), and, when y is not
 * NULL, their labels into y (n), -1 for a split without labels. */
LT_API int lt_source_read(const lt_source *s, const char *split, int64_t start, int64_t n, float *x, int64_t *y);

#ifdef __cplusplus
}
#endif

#endif
