/* Directory data sets: loading, validation, per-batch conversion (see dataset.h). */
#include "data/dataset.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/rng.h"

#define LTI_MNIST_VALID 10000

/* DIR/STEM-KIND-idxN-ubyte.gz, or without .gz; 1 if found (path in buf). */
static int lti_find(const char *dir, const char *stem, const char *kind, char *buf, size_t cap) {
    struct stat sb;
    const char *suffix = !strcmp(kind, "images") ? "images-idx3-ubyte" : "labels-idx1-ubyte";
    snprintf(buf, cap, "%s/%s-%s.gz", dir, stem, suffix);
    if (!stat(buf, &sb)) return 1;
    snprintf(buf, cap, "%s/%s-%s", dir, stem, suffix);
    if (!stat(buf, &sb)) return 1;
    snprintf(buf, cap, "%s/%s-%s.gz", dir, stem, suffix); /* the name reported as missing */
    return 0;
}

static lt_status lti_load_images(lt_dataset *d, int slot, const char *path) {
    lt_status st = lt_idx_read(path, &d->store_images[slot]);
    if (st) return st;
    const lt_idx *x = &d->store_images[slot];
    if (x->ndim != 3)
        return lt_fail(LT_ERR_FORMAT, "%s: expected an image file with 3 dimensions (N,H,W), found %d", path, x->ndim);
    if (x->dims[1] < 1 || x->dims[2] < 1)
        return lt_fail(LT_ERR_FORMAT, "%s: expected images of at least 1x1, found %lldx%lld", path,
                       (long long)x->dims[1], (long long)x->dims[2]);
    if (d->dim == 0) {
        d->height = x->dims[1];
        d->width = x->dims[2];
        d->dim = d->height * d->width;
    } else if (x->dims[1] != d->height || x->dims[2] != d->width) {
        return lt_fail(LT_ERR_FORMAT, "%s: expected %lldx%lld images like the training split, found %lldx%lld", path,
                       (long long)d->height, (long long)d->width, (long long)x->dims[1], (long long)x->dims[2]);
    }
    return LT_OK;
}

/* Optional labels for a split of n images. */
static lt_status lti_load_labels(lt_dataset *d, int slot, const char *dir, const char *stem, int64_t n_images) {
    char path[4096];
    if (!lti_find(dir, stem, "labels", path, sizeof path)) return LT_OK;
    lt_status st = lt_idx_read(path, &d->store_labels[slot]);
    if (st) return st;
    const lt_idx *y = &d->store_labels[slot];
    if (y->ndim != 1)
        return lt_fail(LT_ERR_FORMAT, "%s: expected a label file with 1 dimension, found %d", path, y->ndim);
    if (y->dims[0] != n_images)
        return lt_fail(LT_ERR_FORMAT, "%s: expected %lld labels (one per image), found %lld", path,
                       (long long)n_images, (long long)y->dims[0]);
    return LT_OK;
}

lt_status lt_dataset_open(const char *dir, int64_t limit, lt_dataset *out) {
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode))
        return lt_fail(LT_ERR_ARG, "data source %s: not a directory of IDX files", dir);
    char path[4096];
    lt_status st = LT_OK;
    lt_dataset *d = out;
    if (lti_find(dir, "valid", "images", path, sizeof path)) {
        /* train / valid / test naming */
        static const char *const stems[LT_SPLIT_COUNT] = {"train", "valid", "test"};
        for (int s = 0; s < LT_SPLIT_COUNT && !st; s++) {
            if (!lti_find(dir, stems[s], "images", path, sizeof path)) {
                st = lt_fail(LT_ERR_ARG, "data source %s: missing %s", dir, path);
                break;
            }
            st = lti_load_images(d, s, path);
            if (!st) st = lti_load_labels(d, s, dir, stems[s], d->store_images[s].dims[0]);
            if (st) break;
            d->split[s].images = d->store_images[s].data;
            d->split[s].labels = d->store_labels[s].data;
            d->split[s].n = d->store_images[s].dims[0];
        }
    } else {
        /* MNIST naming: train (last 10,000 are validation) and t10k */
        if (!lti_find(dir, "train", "images", path, sizeof path)) {
            st = lt_fail(LT_ERR_ARG,
                         "data source %s: missing %s (expected train/valid/test-images-idx3-ubyte.gz or "
                         "train/t10k-images-idx3-ubyte.gz)", dir, path);
        }
        if (!st) st = lti_load_images(d, LT_SPLIT_TRAIN, path);
        if (!st) st = lti_load_labels(d, LT_SPLIT_TRAIN, dir, "train", d->store_images[0].dims[0]);
        if (!st && d->store_images[0].dims[0] <= LTI_MNIST_VALID)
            st = lt_fail(LT_ERR_FORMAT, "%s: expected more than %d training images (the last %d are validation), found %lld",
                         path, LTI_MNIST_VALID, LTI_MNIST_VALID, (long long)d->store_images[0].dims[0]);
        if (!st && !lti_find(dir, "t10k", "images", path, sizeof path))
            st = lt_fail(LT_ERR_ARG, "data source %s: missing %s", dir, path);
        if (!st) st = lti_load_images(d, LT_SPLIT_TEST, path);
        if (!st) st = lti_load_labels(d, LT_SPLIT_TEST, dir, "t10k", d->store_images[LT_SPLIT_TEST].dims[0]);
        if (!st) {
            int64_t n = d->store_images[0].dims[0], nt = n - LTI_MNIST_VALID;
            const uint8_t *lab = d->store_labels[0].data;
            d->split[LT_SPLIT_TRAIN] = (lt_split){d->store_images[0].data, lab, nt, NULL};
            d->split[LT_SPLIT_VALID] = (lt_split){d->store_images[0].data + nt * d->dim, lab ? lab + nt : NULL,
                                                  LTI_MNIST_VALID, NULL};
            d->split[LT_SPLIT_TEST] = (lt_split){d->store_images[LT_SPLIT_TEST].data,
                                                 d->store_labels[LT_SPLIT_TEST].data,
                                                 d->store_images[LT_SPLIT_TEST].dims[0], NULL};
        }
    }
    if (st) {
        lt_dataset_free(d);
        return st;
    }
    d->binary = 1;
    for (int s = 0; s < LT_SPLIT_COUNT; s++) {
        if (limit > 0 && d->split[s].n > limit) d->split[s].n = limit;
        const uint8_t *p = d->split[s].images;
        for (int64_t i = 0, m = d->split[s].n * d->dim; i < m && d->binary; i++) d->binary = p[i] <= 1;
        if (d->split[s].labels)
            for (int64_t i = 0; i < d->split[s].n; i++)
                if (d->split[s].labels[i] + 1 > d->n_classes) d->n_classes = d->split[s].labels[i] + 1;
    }
    if (d->split[LT_SPLIT_TRAIN].n == 0) {
        lt_dataset_free(d);
        return lt_fail(LT_ERR_FORMAT, "data source %s: expected training images, found none", dir);
    }
    return LT_OK;
}

void lt_dataset_free(lt_dataset *d) {
    for (int s = 0; s < LT_SPLIT_COUNT; s++) {
        lt_idx_free(&d->store_images[s]);
        lt_idx_free(&d->store_labels[s]);
        lt_free(d->store_values[s]);
    }
    memset(d, 0, sizeof *d);
}

void lt_dataset_batch(const lt_dataset *d, lt_split_id s, const int64_t *idx, int64_t n, lt_binarize mode,
                      uint64_t seed, int64_t epoch, float *x, int64_t *y) {
    const lt_split *sp = &d->split[s];
    const int64_t dim = d->dim;
    const float scale = d->binary ? 1.0f : 1.0f / 255.0f;
    /* One stream per (epoch for dynamic training draws, split); each example owns
     * the counter range [i*ceil(dim/4), (i+1)*ceil(dim/4)). */
    lt_rng root;
    lt_rng_seed(&root, seed);
    lt_rng base = lt_rng_fork(&root, 0xB1A5ull);
    if (mode == LT_BINARIZE_DYNAMIC && s == LT_SPLIT_TRAIN) base = lt_rng_fork(&base, 1000 + (uint64_t)epoch);
    lt_rng stream = lt_rng_fork(&base, (uint64_t)s);
    const uint64_t per_example = (uint64_t)(dim + 3) / 4;
    for (int64_t r = 0; r < n; r++) {
        float *dst = x + r * dim; /* (dim) */
        if (sp->values) {
            memcpy(dst, sp->values + idx[r] * dim, sizeof(float) * (size_t)dim);
        } else if (d->has_lut) {
            const uint8_t *src = sp->images + idx[r] * dim;
            for (int64_t j = 0; j < dim; j++) dst[j] = d->lut[src[j]];
        } else {
            const uint8_t *src = sp->images + idx[r] * dim;
            for (int64_t j = 0; j < dim; j++) dst[j] = src[j] * scale;
        }
        if (mode == LT_BINARIZE_THRESHOLD) {
            for (int64_t j = 0; j < dim; j++) dst[j] = dst[j] > 0.5f ? 1.0f : 0.0f;
        } else if (mode == LT_BINARIZE_STOCHASTIC || mode == LT_BINARIZE_DYNAMIC) {
            lt_rng ex = stream;
            ex.counter = (uint64_t)idx[r] * per_example;
            lt_rng_fill_bernoulli(&ex, dst, dim, dst, 0.0f); /* in place: reads p[j] before writing out[j] */
        }
        if (y) y[r] = sp->labels ? sp->labels[idx[r]] : 0;
    }
}

int lt_binarize_parse(const char *s) {
    static const char *const names[] = {"none", "threshold", "stochastic", "dynamic"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

const char *lt_binarize_name(lt_binarize m) {
    static const char *const names[] = {"none", "threshold", "stochastic", "dynamic"};
    return (m >= 0 && m <= LT_BINARIZE_DYNAMIC) ? names[m] : "?";
}

int lt_split_parse(const char *s) {
    for (int i = 0; i < LT_SPLIT_COUNT; i++)
        if (!strcmp(s, lt_split_name((lt_split_id)i))) return i;
    return -1;
}

const char *lt_split_name(lt_split_id s) {
    static const char *const names[] = {"train", "valid", "test"};
    return (s >= 0 && s < LT_SPLIT_COUNT) ? names[s] : "?";
}
