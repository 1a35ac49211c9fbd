/* Shared by the dataset loaders (dataset.c, image_folder.c, dataset_tfrecord.c,
 * dataset_tfimage.c); not part of the public API. */
#ifndef LTI_DATASET_INTERNAL_H
#define LTI_DATASET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "data/image.h"
#include "data/tfrecord.h"

/* Decoded images of one split, appended as (C, H, W) bytes. The first image added
 * to a dataset (d->dim == 0) sets its geometry; every later one must match it. */
typedef struct lti_images {
    lt_dataset *d;
    uint8_t *p;          /* (n, C, H, W) */
    size_t len, cap;
    uint8_t *y;          /* (n) labels, or unused */
    size_t ylen, ycap;
    int64_t n;
} lti_images;

/* Appends im (decoded from `name`); LT_ERR_FORMAT naming it when its size or
 * channel count differs from the dataset's. */
lt_status lti_images_add(lti_images *a, const lt_image *im, const char *name);
lt_status lti_images_label(lti_images *a, uint8_t label);
/* Hands the bytes (and labels when `labels`) to split s of the dataset. */
void lti_images_commit(lti_images *a, lt_split_id s, int labels);
void lti_images_free(lti_images *a);

/* The files of split s for "tfrecord:PATTERN": PATTERN with {split} replaced, or
 * PREFIX-<split>-*; 0, or -1 when it does not fit in cap. */
int lti_split_pattern(const char *pattern, lt_split_id s, char *buf, size_t cap);

/* take(ud, rec) for every record of the files SPEC names (lt_tfr_files_add), in
 * file order, until *count (which take advances) reaches limit > 0. While d reopens split s
 * for lt_dataset_hold (d->reopen_keep), only the records numbered d->reopen_keep[0..n) in
 * that order (each file's FILE.index when present to seek to them, else a pass that skips
 * the others unparsed). */
typedef lt_status (*lti_take_fn)(void *ud, const lt_tfr_record *rec);
lt_status lti_read_records(const lt_dataset *d, lt_split_id s, const char *spec, int64_t limit, const int64_t *count,
                           lti_take_fn take, void *ud);
/* lt_dataset_hold of a tfrecord: source: split s of d's source opened again into out with only
 * examples keep[0..n) (n > 0), the other splits left empty. */
lt_status lti_reopen_records(const lt_dataset *d, lt_split_id s, const int64_t *keep, int64_t n, lt_dataset *out);
/* The same for an image folder: the kept examples' files decoded again. */
lt_status lti_folder_reopen(const char *dir, lt_split_id s, const int64_t *keep, int64_t n, lt_dataset *out);
/* 1 when a loader is to skip split s: d reopens another split for lt_dataset_hold. */
int lti_reopen_skips(const lt_dataset *d, lt_split_id s);

/* Records without a feature spec, as TF-Slim image examples (dataset_tfimage.c). */
lt_status lti_open_tfimage(const char *source, const char *pattern, int64_t limit, lt_dataset *d);

/* Token sources (dataset_codes.c): 1 when the first record of PATTERN's training split
 * has an int64 "codes" feature; lti_open_codes loads the three splits. */
int lti_is_codes(const char *pattern);
lt_status lti_open_codes(const char *source, const char *pattern, int64_t limit, lt_dataset *d);

/* Sets d->binary and d->n_classes from what the splits hold (after loading). */
void lti_dataset_finish(lt_dataset *d);

#endif
