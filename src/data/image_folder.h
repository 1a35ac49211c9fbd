/* Image folders: the layout of torchvision's ImageFolder and TF's build_image_data.py.
 *
 *   DIR/train/<class>/NAME.jpg|jpeg|png        required
 *   DIR/test/<class>/...                     required
 *   DIR/valid/<class>/... (or validation/, val/)  optional: else validation is carved
 *                                            from train (below)
 *
 * Classes are train/'s sub-folders sorted by name (byte order, as torchvision's
 * sorted()), labelled 0..K-1 in that order (at most 256); test/ and valid/ may use
 * a subset of them, never a folder that is not a training class. Files in a class
 * folder are sorted by name; names starting with '.' are ignored; any other file
 * that is not .jpg/.jpeg/.png (any case), a nested folder, a file directly in a
 * split folder or a class folder without images is an error naming the path.
 *
 * Carved validation: the last ceil(n_c / 10) files of each training class with
 * n_c >= 2 files (CIFAR-10's 5,000 per class: 4,500 train, 500 valid).
 *
 * Order within a split: class-interleaved — the first file of every class in class
 * order, then the second of every class, and so on (classes that run out are
 * skipped) — so the first N examples (--limit N) cover the classes evenly. */
#ifndef LT_IMAGE_FOLDER_H
#define LT_IMAGE_FOLDER_H

#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"
#include "data/tfrecord.h"

typedef struct lt_image_folder {
    char **classes;                    /* (n_classes) owned */
    int64_t n_classes;
    char **paths[LT_SPLIT_COUNT];      /* (n[s]) owned "DIR/split/class/file" */
    uint8_t *labels[LT_SPLIT_COUNT];   /* (n[s]) owned */
    int64_t n[LT_SPLIT_COUNT];
    int carved;                        /* validation was carved from train */
} lt_image_folder;

/* DIR/train is a directory and DIR holds no train-images-idx3-ubyte[.gz] (IDX
 * files win), so DIR is read as an image folder. */
int lt_image_folder_is(const char *dir);
/* Lists the files of the three splits (nothing is decoded). Errors (LT_ERR_ARG for
 * a missing folder, LT_ERR_FORMAT for a bad layout) name the path. */
lt_status lt_image_folder_scan(const char *dir, lt_image_folder *out);
void lt_image_folder_free(lt_image_folder *f);

/* Scans and decodes DIR into d (the first `limit` > 0 files of each split only):
 * every image must have the training split's first image's size and channels. */
lt_status lt_image_folder_load(const char *dir, int64_t limit, lt_dataset *d);

/* What lt_image_folder_to_tfrecord wrote. */
typedef struct lt_image_convert_report {
    int64_t n[LT_SPLIT_COUNT];           /* examples per split */
    int64_t channels, height, width, n_classes;
    char labels[4200];                   /* the labels.txt written */
} lt_image_convert_report;

/* DIR as TFRecord files of TF-Slim image examples: PREFIX-<split>-SSSSS-of-NNNNN for
 * train, valid (carved as above when DIR has none) and test, each record holding
 * the file's own bytes (image/encoded: nothing re-encoded) with image/format
 * ("JPEG"/"PNG"), image/colorspace, image/height, image/width, image/channels,
 * image/class/label (0-based, the class order above), image/class/text and
 * image/filename (the path inside DIR); and PREFIX's folder/labels.txt in TF-Slim's
 * "0:airplane" format. Every image is decoded (a corrupt one, or one whose size or
 * channels differ from the first, is LT_ERR_FORMAT naming it) and nothing appears
 * under PREFIX's folder unless all of it was written. */
lt_status lt_image_folder_to_tfrecord(const char *dir, const char *prefix, int64_t shards, lt_tfr_compression comp,
                                      lt_image_convert_report *rep);

#endif
