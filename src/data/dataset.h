/* Image data sets, kept as bytes (N, C, H, W) in memory and converted to floats
 * one batch at a time (docs/data.md).
 *
 * A source directory holds an image folder (data/image_folder.h: DIR/train/<class>/
 * NAME.jpg|png, DIR/test/..., C = 1 or 3 from the files), or either
 *   train-, valid-, test-images-idx3-ubyte[.gz]     (e.g. binarized MNIST), or
 *   train-, t10k-images-idx3-ubyte[.gz]             (MNIST naming; validation is
 *                                                    the last 10,000 training images)
 * with optional matching *-labels-idx1-ubyte[.gz] files.
 *
 * Pixel values: bytes that are all 0/1 are read as binary data (value = byte);
 * otherwise value = byte/255. Binarization (per batch, never stored; it draws on
 * the [0, 1] value):
 *   none        the values as they are;
 *   threshold   value > 0.5;
 *   stochastic  Bernoulli(value), drawn once from the seed: example i of a split
 *               always gets the same image;
 *   dynamic     Bernoulli(value), redrawn every epoch for training; evaluation
 *               splits use the fixed (stochastic) draw.
 * The draws are counter-based (example index → RNG counter), so they do not
 * depend on batch composition or order.
 *
 * After binarization a batch is in the range the model asks for: [0, 1] as
 * above, or [-1, 1] (2·value − 1).
 *
 * Augmentation (training split only; evaluation splits are never augmented):
 * per example and epoch, a random crop of the image's own size from the image
 * padded with crop_pad zeros on every side (torchvision's RandomCrop(size,
 * padding=crop_pad): offsets dy, dx uniform in [-crop_pad, crop_pad]) and a
 * horizontal flip with probability 1/2. The draws are counter-based too (example
 * index and epoch → counter), applied before binarization, padding value 0.
 *
 * A source "tfrecord:PATTERN" reads tf.Examples through a feature spec instead
 * (lt_dataset_open_source; docs/tfrecord.md): PATTERN is a PREFIX whose splits are
 * PREFIX-train-*, PREFIX-valid-*, PREFIX-test-* (as `latent tfrecord convert --to
 * PREFIX` writes them), or contains "{split}", replaced by train, valid and test
 * (each then a glob, NAME@N or a path, as lt_tfr_files_add reads them). Records are
 * read in file order; the int64 feature "label" (one value in 0..255), when the
 * first record of a split has it, gives that split's labels. When the spec is one
 * numeric_column decoding raw uint8 bytes (lt_features_as_u8) the bytes are kept,
 * as for IDX, and `lut` maps them to the spec's values per batch; any other spec
 * (without embedding columns) is applied once and its float rows are kept.
 * Without a feature spec, records whose first training record has an int64 list
 * "codes" are a token source (dataset_codes.c): code grids as `latent encode` writes
 * them ("codes" h·w int64 in raster order, "codes/height", "codes/width", optional
 * "label"), kept as int64 (dataset.store_tokens, dataset.vocab); their batches as floats
 * are the code values. Otherwise the records must follow the TF-Slim image convention
 * (image/encoded JPEG or PNG bytes, image/class/label or label; dataset_tfimage.c),
 * decoded once at load.
 *
 * The lt_dataset owns every byte it points to; lt_dataset_free releases it. */
#ifndef LT_DATASET_H
#define LT_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "data/idx.h"

typedef enum lt_split_id { LT_SPLIT_TRAIN = 0, LT_SPLIT_VALID, LT_SPLIT_TEST, LT_SPLIT_COUNT } lt_split_id;

typedef enum lt_binarize {
    LT_BINARIZE_NONE = 0,
    LT_BINARIZE_THRESHOLD,
    LT_BINARIZE_STOCHASTIC,
    LT_BINARIZE_DYNAMIC
} lt_binarize;

typedef struct lt_split {
    const uint8_t *images;  /* (n, dim) bytes; points into the dataset's storage */
    const uint8_t *labels;  /* (n) or NULL */
    int64_t n;
    const float *values;    /* (n, dim) rows of a float source (images is then NULL), or NULL */
    const int64_t *rows;    /* (n) after lt_dataset_hold: example i's bytes are row rows[i] of images
                               (-1: not held); NULL: row i. Labels stay indexed by example. */
} lt_split;

typedef struct lt_dataset {
    int64_t height, width, dim;  /* dim = channels * height * width */
    int64_t channels;            /* C: 1 (grey, and every IDX or feature-spec source) or 3 (RGB) */
    int64_t n_classes;           /* 1 + the largest label (0 without labels) */
    int binary;                  /* every stored pixel is 0 or 1 */
    lt_split split[LT_SPLIT_COUNT];
    lt_idx store_images[LT_SPLIT_COUNT]; /* owned; valid shares train's for MNIST naming */
    lt_idx store_labels[LT_SPLIT_COUNT];
    float *store_values[LT_SPLIT_COUNT]; /* owned: a float source's rows */
    int has_lut;                 /* bytes map through lut (a tfrecord source), not byte·scale */
    float lut[256];
    char **class_names;          /* (n_classes) an image folder's class folders, or NULL; owned */
    int64_t vocab;               /* > 0: a token source (code grids), codes in [0, vocab) = 1 + the largest */
    int64_t *store_tokens[LT_SPLIT_COUNT]; /* owned: a token source's codes, (split n, dim) each; the
                                            * splits' images and values are then NULL */
    char *src_path[LT_SPLIT_COUNT]; /* owned: an IDX source's images file per split, re-read by
                                     * lt_dataset_hold; NULL for other sources */
    int64_t src_first[LT_SPLIT_COUNT]; /* the split's first row in that file (MNIST's validation) */
    uint8_t *store_held[LT_SPLIT_COUNT]; /* owned: (held, dim) bytes after lt_dataset_hold */
    int64_t *store_rows[LT_SPLIT_COUNT]; /* owned: the split's rows map after lt_dataset_hold */
    /* tfrecord: sources and image folders (src_source: the folder), which lt_dataset_hold re-reads by opening the source again for one
     * split with a filter: the source and feature spec they were opened from (owned), and,
     * while such a reopen runs, the split and its examples keep[0..n) to read (NULL: all). */
    char *src_source, *src_features;
    const int64_t *reopen_keep;
    int64_t reopen_n;
    int reopen_split;
} lt_dataset;

typedef enum lt_range { LT_RANGE_UNIT = 0, LT_RANGE_SIGNED } lt_range; /* [0, 1], [-1, 1] */

typedef struct lt_augment {
    int64_t crop_pad;  /* > 0: random crop with this much zero padding on each side */
    int flip;          /* random horizontal flip (probability 1/2) */
    /* The self-supervised pipeline on the stored bytes (data/augment.h, docs/ssl.md), applied
     * after crop/flip in SimCLR's order; each 0 = off: */
    float rrc_lo;      /* > 0: random resized crop, scale in [rrc_lo, 1], ratio in [3/4, 4/3] */
    float jitter;      /* > 0: colour jitter of strength s, with probability 0.8 */
    float grey;        /* random greyscale with this probability (colour data) */
    float blur;        /* Gaussian blur (sigma in [0.1, 2]) with this probability */
    float noise;       /* additive Gaussian noise of this std (in [0, 1] value units) */
} lt_augment;

/* One example's augmentation: output pixel (y, x) is input pixel
 * (y + dy, x' + dx) with x' = flip ? W-1-x : x, or 0 outside the image. */
typedef struct lt_augment_draw {
    int64_t dy, dx;
    int flip;
} lt_augment_draw;

/* How lt_dataset_batch_opts converts a batch. */
typedef struct lt_batch_opts {
    lt_binarize binarize;
    uint64_t seed;             /* binarization and augmentation draws */
    int64_t epoch;             /* the dynamic binarization's and the augmentation's epoch */
    lt_range range;            /* the model's input range */
    const lt_augment *augment; /* NULL = none; applied to the training split only */
} lt_batch_opts;

/* Loads the three splits of DIR. A missing directory or file is LT_ERR_ARG, a
 * malformed one LT_ERR_FORMAT; both name the file. limit > 0 keeps only the
 * first `limit` examples of each split (tests, quick runs). */
lt_status lt_dataset_open(const char *dir, int64_t limit, lt_dataset *out);
/* A directory (features must be NULL) or "tfrecord:PATTERN" with the feature spec
 * file `features` (required). Errors name the split, file, record and offset. */
lt_status lt_dataset_open_source(const char *source, const char *features, int64_t limit, lt_dataset *out);
void lt_dataset_free(lt_dataset *d);

/* Data-parallel training: from now on split s holds in memory only examples keep[0..n)
 * (ascending, each below the split's n), re-read from the source; the bytes held before
 * are released (the whole split, loaded at open, or the last call's examples). Batches may
 * then ask only for held examples (split.rows maps them). Sources whose examples can be
 * re-read by number (lt_dataset_can_hold): IDX files, plain or gzip (by row), and tfrecord:
 * sources of every kind (feature spec, TF-Slim images, code grids: the records of the split's
 * files in order, through each file's FILE.index when present, else by one pass that parses
 * only the kept records) and image folders (the kept files decoded again); LT_ERR_ARG for the
 * others (none today). */
int lt_dataset_can_hold(const lt_dataset *d, lt_split_id s);
lt_status lt_dataset_hold(lt_dataset *d, lt_split_id s, const int64_t *keep, int64_t n);

/* Fills x (n, dim) and, when y is not NULL and the split has labels, y (n) with
 * examples idx[0..n) of a split. `epoch` selects the dynamic draw (ignored by
 * the other modes). */
void lt_dataset_batch(const lt_dataset *d, lt_split_id s, const int64_t *idx, int64_t n, lt_binarize mode,
                      uint64_t seed, int64_t epoch, float *x, int64_t *y);

/* As lt_dataset_batch, with the range and augmentation of o; lt_dataset_batch is
 * this with range [0, 1] and no augmentation. */
void lt_dataset_batch_opts(const lt_dataset *d, lt_split_id s, const int64_t *idx, int64_t n, const lt_batch_opts *o,
                           float *x, int64_t *y);
/* lt_dataset_batch_opts with the augmentation draws of view `view` (lt_augment_draw_view;
 * view 0 is lt_dataset_batch_opts itself), and, when any_split is non-zero, the augmentation
 * applied to evaluation splits too (a views model's validation loss). */
void lt_dataset_batch_view(const lt_dataset *d, lt_split_id s, const int64_t *idx, int64_t n, const lt_batch_opts *o,
                           int64_t view, int any_split, float *x, int64_t *y);

/* The augmentation of example idx (of the training split) in epoch: dy, dx uniform
 * in [-crop_pad, crop_pad], flip with probability 1/2; a counter-based draw, so the
 * same (seed, epoch, idx) always gives the same draw. */
void lt_augment_draw_for(const lt_augment *a, uint64_t seed, int64_t epoch, int64_t idx, lt_augment_draw *out);
/* As lt_augment_draw_for, for view `view` of the example (view 0: lt_augment_draw_for's draw;
 * each other view an independent draw). */
void lt_augment_draw_view(const lt_augment *a, uint64_t seed, int64_t epoch, int64_t idx, int64_t view,
                          lt_augment_draw *out);
/* "crop:P,flip", "flip", "crop:P", "none" or "" → *a (LT_ERR_ARG with the reason), and the
 * items of data/augment.h: "rrc[:LO]", "jitter[:S]", "grey[:P]", "blur[:P]", "noise:STD" and
 * the presets "simclr" and "simclr-grey" (first; later items override the preset's). */
lt_status lt_augment_parse(const char *s, lt_augment *a);
/* The canonical spelling ("crop:4,flip", "none") into buf. */
void lt_augment_name(const lt_augment *a, char *buf, size_t cap);

/* Token sources: copies the codes (n, dim) of examples idx[0..n) of a split into out. */
void lt_dataset_tokens(const lt_dataset *d, lt_split_id s, const int64_t *idx, int64_t n, int64_t *out);
/* Writes n code grids (n, h·w) as a token source's tf.Examples ("codes", "codes/height",
 * "codes/width", and "label" when labels (n) is not NULL) to the TFRecord file path,
 * atomically (a temp file renamed; nothing at path on failure). */
lt_status lt_codes_write(const char *path, const int64_t *codes, int64_t n, int64_t h, int64_t w,
                         const int64_t *labels);

/* "none"/"threshold"/"stochastic"/"dynamic" → mode; -1 if unknown. */
int lt_binarize_parse(const char *s);
const char *lt_binarize_name(lt_binarize m);
/* "train"/"valid"/"test" → split; -1 if unknown. */
int lt_split_parse(const char *s);
const char *lt_split_name(lt_split_id s);

#endif
