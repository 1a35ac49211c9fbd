/* Directory data sets: loading, validation, per-batch conversion (see dataset.h). */
#include "data/dataset.h"
#include "data/augment.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/dataset_internal.h"
#include "data/image_folder.h"

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
    const size_t len = strlen(path) + 1;
    if (!(d->src_path[slot] = lt_malloc(len))) return lt_fail(LT_ERR_NOMEM, "data source path");
    memcpy(d->src_path[slot], path, len);
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
        return lt_fail(LT_ERR_ARG, "data source %s: not a directory of IDX files or an image folder", dir);
    char path[4096];
    if (lt_image_folder_is(dir))
        return lt_image_folder_load(dir, limit, out);
    out->channels = 1;
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
            d->split[LT_SPLIT_TRAIN] = (lt_split){d->store_images[0].data, lab, nt, NULL, NULL};
            d->split[LT_SPLIT_VALID] = (lt_split){d->store_images[0].data + nt * d->dim, lab ? lab + nt : NULL,
                                                  LTI_MNIST_VALID, NULL, NULL};
            if (!(d->src_path[LT_SPLIT_VALID] = lt_malloc(strlen(d->src_path[0]) + 1))) {
                st = lt_fail(LT_ERR_NOMEM, "data source path");
            } else {
                strcpy(d->src_path[LT_SPLIT_VALID], d->src_path[0]);
                d->src_first[LT_SPLIT_VALID] = nt;
            }
            d->split[LT_SPLIT_TEST] = (lt_split){d->store_images[LT_SPLIT_TEST].data,
                                                 d->store_labels[LT_SPLIT_TEST].data,
                                                 d->store_images[LT_SPLIT_TEST].dims[0], NULL, NULL};
        }
    }
    if (st) {
        lt_dataset_free(d);
        return st;
    }
    for (int s = 0; s < LT_SPLIT_COUNT; s++)
        if (limit > 0 && d->split[s].n > limit) d->split[s].n = limit;
    lti_dataset_finish(d);
    if (d->split[LT_SPLIT_TRAIN].n == 0) {
        lt_dataset_free(d);
        return lt_fail(LT_ERR_FORMAT, "data source %s: expected training images, found none", dir);
    }
    return LT_OK;
}

void lti_dataset_finish(lt_dataset *d) {
    d->binary = 1;
    for (int s = 0; s < LT_SPLIT_COUNT; s++) {
        const uint8_t *p = d->split[s].images;
        for (int64_t i = 0, m = p ? d->split[s].n * d->dim : 0; i < m && d->binary; i++) d->binary = p[i] <= 1;
        if (d->split[s].labels)
            for (int64_t i = 0; i < d->split[s].n; i++)
                if (d->split[s].labels[i] + 1 > d->n_classes) d->n_classes = d->split[s].labels[i] + 1;
    }
}

void lt_dataset_free(lt_dataset *d) {
    for (int s = 0; s < LT_SPLIT_COUNT; s++) {
        lt_idx_free(&d->store_images[s]);
        lt_idx_free(&d->store_labels[s]);
        lt_free(d->store_values[s]);
        lt_free(d->store_tokens[s]);
        lt_free(d->src_path[s]);
        lt_free(d->store_held[s]);
        lt_free(d->store_rows[s]);
    }
    lt_free(d->src_source);
    lt_free(d->src_features);
    for (int64_t i = 0; d->class_names && i < d->n_classes; i++) lt_free(d->class_names[i]);
    lt_free(d->class_names);
    memset(d, 0, sizeof *d);
}

int lt_dataset_can_hold(const lt_dataset *d, lt_split_id s) {
    if (d->src_source) return 1; /* tfrecord: or an image folder: reopened for the split's kept examples */
    return d->src_path[s] && d->split[s].images && !d->split[s].values && !d->has_lut && !d->store_tokens[s];
}

/* lt_dataset_hold of a tfrecord: source or an image folder: the kept examples read again (the
 * source opened for them alone), their rows moved into d in place of what split s held. */
static lt_status lti_hold_records(lt_dataset *d, lt_split_id s, const int64_t *keep, int64_t n) {
    lt_split *sp = &d->split[s];
    int64_t *rows = d->store_rows[s] ? d->store_rows[s] : lt_malloc((size_t)(sp->n > 0 ? sp->n : 1) * sizeof *rows);
    if (!rows) return lt_fail(LT_ERR_NOMEM, "%lld examples of split '%s'", (long long)sp->n, lt_split_name(s));
    d->store_rows[s] = rows;
    lt_dataset t; /* split s: the n kept examples, rows 0..n-1 */
    lt_status st = n <= 0 ? (memset(&t, 0, sizeof t), LT_OK)
                   : !strncmp(d->src_source, "tfrecord:", 9) ? lti_reopen_records(d, s, keep, n, &t)
                                                             : lti_folder_reopen(d->src_source, s, keep, n, &t);
    if (!st && n > 0 && (t.split[s].n != n || t.dim != d->dim))
        st = lt_fail(LT_ERR_FORMAT, "data source %s split %s: read %lld examples of %lld values again, expected %lld of "
                     "%lld: the files changed since they were opened", d->src_source, lt_split_name(s),
                     (long long)t.split[s].n, (long long)t.dim, (long long)n, (long long)d->dim);
    if (st) {
        lt_dataset_free(&t);
        return lt_fail_context(st, "holding this rank's share: ");
    }
    /* the whole split loaded at open (or the last share) goes; the kept rows take its place */
    lt_idx_free(&d->store_images[s]);
    lt_free(d->store_values[s]);
    d->store_values[s] = NULL;
    lt_free(d->store_held[s]);
    d->store_held[s] = NULL;
    if (d->store_tokens[s]) {
        lt_free(d->store_tokens[s]);
        d->store_tokens[s] = t.store_tokens[s]; /* may be NULL when n = 0: no row is asked for then */
        t.store_tokens[s] = NULL;
    } else if (sp->values) {
        d->store_held[s] = (uint8_t *)(void *)t.store_values[s];
        t.store_values[s] = NULL;
        sp->values = (const float *)(void *)d->store_held[s];
    } else {
        d->store_held[s] = t.store_images[s].data;
        t.store_images[s].data = NULL;
        sp->images = d->store_held[s];
    }
    lt_dataset_free(&t);
    for (int64_t i = 0; i < sp->n; i++) rows[i] = -1;
    for (int64_t i = 0; i < n; i++) rows[keep[i]] = i;
    sp->rows = rows;
    return LT_OK;
}

lt_status lt_dataset_hold(lt_dataset *d, lt_split_id s, const int64_t *keep, int64_t n) {
    if (!lt_dataset_can_hold(d, s))
        return lt_fail(LT_ERR_ARG, "split '%s' of this data source cannot be re-read by example (IDX files and "
                       "tfrecord: sources only)", lt_split_name(s));
    if (d->src_source) return lti_hold_records(d, s, keep, n);
    lt_split *sp = &d->split[s];
    const int slot = d->src_first[s] > 0 ? 0 : (int)s; /* MNIST's validation lives in train's file */
    int64_t *rows = d->store_rows[s] ? d->store_rows[s] : lt_malloc((size_t)(sp->n > 0 ? sp->n : 1) * sizeof *rows);
    uint8_t *held = lt_malloc((size_t)(n > 0 ? n * d->dim : 1)); /* (n, dim) */
    if (!rows || !held) {
        if (rows != d->store_rows[s]) lt_free(rows);
        lt_free(held);
        return lt_fail(LT_ERR_NOMEM, "%lld examples of split '%s'", (long long)n, lt_split_name(s));
    }
    d->store_rows[s] = rows;
    lt_status st = lt_idx_read_rows(d->src_path[s], &d->store_images[slot], d->src_first[s], keep, n, held);
    if (st) {
        lt_free(held);
        return st;
    }
    for (int64_t i = 0; i < sp->n; i++) rows[i] = -1;
    for (int64_t i = 0; i < n; i++) rows[keep[i]] = i;
    /* Release the bytes held so far: the whole file (unless another split still points into it) or the last share. */
    lt_free(d->store_held[s]);
    d->store_held[s] = held;
    sp->images = held;
    sp->rows = rows;
    uint8_t *file = d->store_images[slot].data; /* (rows of the file, dim), or NULL once released */
    for (int k = 0; k < LT_SPLIT_COUNT && file; k++) {
        lt_split *o = &d->split[k];
        if (k == (int)s || o->rows || !o->images || o->images < file || o->images >= file + d->store_images[slot].dims[0] * d->dim)
            continue;
        /* another split in the same file (MNIST's validation): a copy of its own, so the file's bytes can go */
        uint8_t *own = lt_malloc((size_t)(o->n > 0 ? o->n * d->dim : 1));
        if (!own) return LT_OK; /* keep the file's bytes: correct, only larger */
        memcpy(own, o->images, (size_t)(o->n * d->dim));
        lt_free(d->store_held[k]);
        d->store_held[k] = own;
        o->images = own;
    }
    if (file) {
        lt_free(d->store_images[slot].data); /* the dims stay: lt_idx_read_rows reads them */
        d->store_images[slot].data = NULL;
    }
    return LT_OK;
}

/* ------------------------------------------------------------------ decoded images */

static int lti_grow(uint8_t **p, size_t *cap, size_t need) {
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap : 1 << 16;
    while (c < need) c *= 2;
    uint8_t *q = lt_realloc(*p, c);
    if (!q) return 0;
    *p = q;
    *cap = c;
    return 1;
}

lt_status lti_images_add(lti_images *a, const lt_image *im, const char *name) {
    lt_dataset *d = a->d;
    if (d->dim == 0) {
        d->channels = im->c;
        d->height = im->h;
        d->width = im->w;
        d->dim = im->c * im->h * im->w;
    } else if (im->c != d->channels || im->h != d->height || im->w != d->width) {
        return lt_fail(LT_ERR_FORMAT, "%s: expected a %lldx%lld image with %lld channel%s like the first training image, "
                       "found %lldx%lld with %lld", name, (long long)d->width, (long long)d->height,
                       (long long)d->channels, d->channels == 1 ? "" : "s", (long long)im->w, (long long)im->h,
                       (long long)im->c);
    }
    if (!lti_grow(&a->p, &a->cap, a->len + (size_t)d->dim)) return lt_fail(LT_ERR_NOMEM, "%s: out of memory", name);
    memcpy(a->p + a->len, im->data, (size_t)d->dim);
    a->len += (size_t)d->dim;
    a->n++;
    return LT_OK;
}

lt_status lti_images_label(lti_images *a, uint8_t label) {
    if (!lti_grow(&a->y, &a->ycap, a->ylen + 1)) return lt_fail(LT_ERR_NOMEM, "labels: out of memory");
    a->y[a->ylen++] = label;
    return LT_OK;
}

void lti_images_commit(lti_images *a, lt_split_id s, int labels) {
    lt_dataset *d = a->d;
    d->store_images[s] = (lt_idx){.data = a->p, .ndim = 4, .dims = {a->n, d->channels, d->height, d->width}};
    d->split[s].images = a->p;
    d->split[s].n = a->n;
    a->p = NULL;
    if (labels) {
        d->store_labels[s] = (lt_idx){.data = a->y, .ndim = 1, .dims = {a->n}};
        d->split[s].labels = a->y;
        a->y = NULL;
    }
}

void lti_images_free(lti_images *a) {
    lt_free(a->p);
    lt_free(a->y);
    memset(a, 0, sizeof *a);
}

int lti_split_pattern(const char *pattern, lt_split_id s, char *buf, size_t cap) {
    const char *at = strstr(pattern, "{split}"), *name = lt_split_name(s);
    int len = at ? snprintf(buf, cap, "%.*s%s%s", (int)(at - pattern), pattern, name, at + 7)
                 : snprintf(buf, cap, "%s-%s-*", pattern, name);
    return len < 0 || (size_t)len >= cap ? -1 : 0;
}

/* Counter streams of the augmentation draws (one counter block per example). */
enum { LTI_STREAM_AUGMENT = 0xA06ull };

void lt_augment_draw_for(const lt_augment *a, uint64_t seed, int64_t epoch, int64_t idx, lt_augment_draw *out) {
    lt_augment_draw_view(a, seed, epoch, idx, 0, out);
}

void lt_augment_draw_view(const lt_augment *a, uint64_t seed, int64_t epoch, int64_t idx, int64_t view,
                          lt_augment_draw *out) {
    lt_rng root;
    lt_rng_seed(&root, seed);
    lt_rng base = lt_rng_fork(&root, LTI_STREAM_AUGMENT);
    if (view > 0) base = lt_rng_fork(&base, 0x7000ull + (uint64_t)view); /* view 0 keeps the one-view draws */
    lt_rng ex = lt_rng_fork(&base, (uint64_t)epoch);
    ex.counter = (uint64_t)idx * 4; /* 3 draws; a rejection in lt_rng_below (p < 2^-50) may use a 4th */
    const uint64_t span = a->crop_pad > 0 ? 2 * (uint64_t)a->crop_pad + 1 : 1;
    out->dy = (int64_t)lt_rng_below(&ex, span) - (a->crop_pad > 0 ? a->crop_pad : 0);
    out->dx = (int64_t)lt_rng_below(&ex, span) - (a->crop_pad > 0 ? a->crop_pad : 0);
    out->flip = a->flip ? (int)(lt_rng_u32(&ex) >> 31) : 0;
}

/* Example row of a split as [0, 1] values (before binarization) into dst (dim):
 * a float source's row, bytes through the lut, or bytes · scale. */
static inline float lti_value(const lt_dataset *d, const lt_split *sp, int64_t k, float scale) {
    return sp->values ? sp->values[k] : d->has_lut ? d->lut[sp->images[k]] : sp->images[k] * scale;
}

/* The augmented row: a gather through the draw (0 outside the image). */
static void lti_augmented_row(const lt_dataset *d, const lt_split *sp, int64_t row, float scale,
                              const lt_augment_draw *a, float *dst) {
    const int64_t C = d->channels > 0 ? d->channels : 1, H = d->height, W = d->width, base = row * d->dim;
    for (int64_t c = 0; c < C; c++)
        for (int64_t y = 0; y < H; y++) {
            float *o = dst + (c * H + y) * W; /* (W) */
            const int64_t sy = y + a->dy;
            for (int64_t x = 0; x < W; x++) {
                const int64_t sx = (a->flip ? W - 1 - x : x) + a->dx;
                o[x] = sy < 0 || sy >= H || sx < 0 || sx >= W ? 0.0f : lti_value(d, sp, base + (c * H + sy) * W + sx, scale);
            }
        }
}

void lt_dataset_batch_opts(const lt_dataset *d, lt_split_id s, const int64_t *idx, int64_t n, const lt_batch_opts *o,
                           float *x, int64_t *y) {
    lt_dataset_batch_view(d, s, idx, n, o, 0, 0, x, y);
}

void lt_dataset_batch_view(const lt_dataset *d, lt_split_id s, const int64_t *idx, int64_t n, const lt_batch_opts *o,
                           int64_t view, int any_split, float *x, int64_t *y) {
    const lt_split *sp = &d->split[s];
    const int64_t dim = d->dim;
    const float scale = d->binary ? 1.0f : 1.0f / 255.0f;
    const lt_binarize mode = o->binarize;
    const lt_augment *aug = (s == LT_SPLIT_TRAIN || any_split) && lt_augment_active(o->augment) ? o->augment : NULL;
    const int bytes = aug && lt_augment_bytes(aug) && sp->images && dim <= LT_AUG_MAX_DIM; /* lt_augment_check */
    /* One stream per (epoch for dynamic training draws, split); each example owns
     * the counter range [i*ceil(dim/4), (i+1)*ceil(dim/4)). */
    lt_rng root;
    lt_rng_seed(&root, o->seed);
    lt_rng base = lt_rng_fork(&root, 0xB1A5ull);
    if (mode == LT_BINARIZE_DYNAMIC && s == LT_SPLIT_TRAIN) base = lt_rng_fork(&base, 1000 + (uint64_t)o->epoch);
    lt_rng stream = lt_rng_fork(&base, (uint64_t)s);
    const uint64_t per_example = (uint64_t)(dim + 3) / 4;
    for (int64_t r = 0; r < n; r++) {
        float *dst = x + r * dim; /* (dim) */
        const int64_t row = sp->rows ? sp->rows[idx[r]] : idx[r]; /* the bytes; idx[r] keys the draws */
        if (row < 0) { /* not held by this process (lt_dataset_hold): a caller's error, never garbage */
            memset(dst, 0, sizeof(float) * (size_t)dim);
        } else if (bytes) {
            uint8_t px[LT_AUG_MAX_DIM];
            lt_augment_bytes_row(aug, sp->images + row * dim, d->channels > 0 ? d->channels : 1, d->height, d->width,
                                 o->seed, o->epoch, view, idx[r], px);
            for (int64_t j = 0; j < dim; j++) dst[j] = d->has_lut ? d->lut[px[j]] : px[j] * scale;
        } else if (aug) {
            lt_augment_draw a;
            lt_augment_draw_view(aug, o->seed, o->epoch, idx[r], view, &a);
            lti_augmented_row(d, sp, row, scale, &a, dst);
        } else if (sp->values) {
            memcpy(dst, sp->values + row * dim, sizeof(float) * (size_t)dim);
        } else if (d->store_tokens[s]) { /* the code values, exact below 2^24 */
            for (int64_t j = 0; j < dim; j++) dst[j] = (float)d->store_tokens[s][row * dim + j];
        } else if (d->has_lut) {
            const uint8_t *src = sp->images + row * dim;
            for (int64_t j = 0; j < dim; j++) dst[j] = d->lut[src[j]];
        } else {
            const uint8_t *src = sp->images + row * dim;
            for (int64_t j = 0; j < dim; j++) dst[j] = src[j] * scale;
        }
        if (mode == LT_BINARIZE_THRESHOLD) {
            for (int64_t j = 0; j < dim; j++) dst[j] = dst[j] > 0.5f ? 1.0f : 0.0f;
        } else if (mode == LT_BINARIZE_STOCHASTIC || mode == LT_BINARIZE_DYNAMIC) {
            lt_rng ex = stream;
            ex.counter = (uint64_t)idx[r] * per_example;
            lt_rng_fill_bernoulli(&ex, dst, dim, dst, 0.0f); /* in place: reads p[j] before writing out[j] */
        }
        if (o->range == LT_RANGE_SIGNED)
            for (int64_t j = 0; j < dim; j++) dst[j] = 2.0f * dst[j] - 1.0f;
        if (y) y[r] = sp->labels ? sp->labels[idx[r]] : 0;
    }
}

void lt_dataset_tokens(const lt_dataset *d, lt_split_id s, const int64_t *idx, int64_t n, int64_t *out) {
    const int64_t *rows = d->split[s].rows;
    for (int64_t r = 0; r < n; r++) {
        const int64_t row = rows ? rows[idx[r]] : idx[r]; /* -1: not held (a caller's error): zeros */
        if (row < 0) memset(out + r * d->dim, 0, sizeof(int64_t) * (size_t)d->dim);
        else memcpy(out + r * d->dim, d->store_tokens[s] + row * d->dim, sizeof(int64_t) * (size_t)d->dim);
    }
}

void lt_dataset_batch(const lt_dataset *d, lt_split_id s, const int64_t *idx, int64_t n, lt_binarize mode,
                      uint64_t seed, int64_t epoch, float *x, int64_t *y) {
    lt_batch_opts o = {mode, seed, epoch, LT_RANGE_UNIT, NULL};
    lt_dataset_batch_opts(d, s, idx, n, &o, x, y);
}

/* One "name[:value]" item of --augment into a: its bit (a preset's: 1 << 7), 0 when it is not one. */
static unsigned lti_augment_item(const char *p, size_t len, lt_augment *a) {
    char name[16];
    double v = -1;
    int used = 0;
    const size_t nl = strcspn(p, ":,");
    if (nl >= sizeof name || nl > len) return 0;
    memcpy(name, p, nl);
    name[nl] = '\0';
    const int has_v = nl < len;
    if (has_v && (sscanf(p + nl + 1, "%lf%n", &v, &used) != 1 || nl + 1 + (size_t)used != len || !(v >= 0)))
        return 0;
    if (!strcmp(name, "simclr") || !strcmp(name, "simclr-grey")) {
        if (has_v) return 0;
        const int grey = name[6] != '\0'; /* SimCLR's CIFAR-10 recipe; for grey images blur instead of colour */
        a->flip = 1;
        a->rrc_lo = grey ? 0.2f : 0.08f;
        a->jitter = 0.5f;
        a->grey = grey ? 0.0f : 0.2f;
        a->blur = grey ? 0.5f : 0.0f;
        return 1u << 7;
    }
    if (!strcmp(name, "rrc") && (!has_v || (v > 0 && v <= 1))) return a->rrc_lo = has_v ? (float)v : 0.08f, 1u << 2;
    if (!strcmp(name, "jitter") && (!has_v || (v > 0 && v <= 4))) return a->jitter = has_v ? (float)v : 1.0f, 1u << 3;
    if (!strcmp(name, "grey") && (!has_v || v <= 1)) return a->grey = has_v ? (float)v : 0.2f, 1u << 4;
    if (!strcmp(name, "blur") && (!has_v || v <= 1)) return a->blur = has_v ? (float)v : 0.5f, 1u << 5;
    if (!strcmp(name, "noise") && has_v && v > 0 && v <= 1) return a->noise = (float)v, 1u << 6;
    return 0;
}

lt_status lt_augment_parse(const char *s, lt_augment *a) {
    memset(a, 0, sizeof *a);
    if (!strcmp(s, "none") || !*s) return LT_OK;
    unsigned seen = 0; /* each item at most once; a preset only first */
    for (const char *p = s;; p++) { /* items separated by commas, none empty */
        size_t len = strcspn(p, ",");
        long long pad;
        int used = 0;
        unsigned bit = 0;
        if (len == 4 && !strncmp(p, "flip", 4)) {
            bit = 1u << 0;
            a->flip = 1;
        } else if (sscanf(p, "crop:%lld%n", &pad, &used) == 1 && (size_t)used == len && pad >= 1 && pad <= 4096) {
            bit = 1u << 1;
            a->crop_pad = pad;
        } else if (len) {
            bit = lti_augment_item(p, len, a);
        }
        if (!bit || (seen & bit) || (bit == 1u << 7 && p != s)) {
            memset(a, 0, sizeof *a);
            return lt_fail(LT_ERR_ARG, "--augment %s: expected a list of crop:P (padding P in 1..4096), flip, rrc[:LO] "
                           "(scale LO in (0,1]), jitter[:S], grey[:P], blur[:P], noise:STD, or none; a preset "
                           "simclr or simclr-grey may come first (e.g. simclr,jitter:1); found '%.*s'", s, (int)len, p);
        }
        if (bit != 1u << 7) seen |= bit;
        p += len;
        if (!*p) return LT_OK;
    }
}

void lt_augment_name(const lt_augment *a, char *buf, size_t cap) {
    size_t k = 0;
    buf[0] = '\0';
#define LTI_PUT(...) (k += (size_t)snprintf(buf + (k < cap ? k : cap), k < cap ? cap - k : 0, __VA_ARGS__))
    if (a->crop_pad > 0) LTI_PUT("%scrop:%lld", k ? "," : "", (long long)a->crop_pad);
    if (a->flip) LTI_PUT("%sflip", k ? "," : "");
    if (a->rrc_lo > 0) LTI_PUT("%srrc:%g", k ? "," : "", (double)a->rrc_lo);
    if (a->jitter > 0) LTI_PUT("%sjitter:%g", k ? "," : "", (double)a->jitter);
    if (a->grey > 0) LTI_PUT("%sgrey:%g", k ? "," : "", (double)a->grey);
    if (a->blur > 0) LTI_PUT("%sblur:%g", k ? "," : "", (double)a->blur);
    if (a->noise > 0) LTI_PUT("%snoise:%g", k ? "," : "", (double)a->noise);
#undef LTI_PUT
    if (!k) snprintf(buf, cap, "none");
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
