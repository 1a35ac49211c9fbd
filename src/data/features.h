/* Feature columns with TensorFlow's semantics, described in a JSON spec.
 *
 * A spec is {"columns": [COLUMN, ...]}; each COLUMN is an object whose "type" is
 * the name of TensorFlow's constructor and whose other keys are that
 * constructor's arguments (unknown keys are errors, so typos are caught):
 *
 *   numeric_column          key, shape (int or list, default [1]), default_value
 *                           (number or list), normalizer {"type": "z_score",
 *                           "mean", "std"} | {"type": "min_max", "min", "max"}
 *                           (numbers, or lists with one entry per element).
 *                           FloatList and Int64List values are both accepted.
                           latent's extension decode_raw "uint8": the feature is
                           one bytes value of prod(shape) bytes, read as the
                           numbers 0..255 (tf.io.decode_raw(v, tf.uint8) then a
                           cast to float32; default_value and the normalizer
                           apply to those numbers).
 *   bucketized_column       source_column (a numeric_column), boundaries
 *                           (strictly increasing; float32 as in TF). Element x
 *                           goes to bucket i when boundaries[i-1] <= x <
 *                           boundaries[i]; as ids, element j of the source gets
 *                           j·(len(boundaries)+1) + bucket.
 *   categorical_column_with_identity         key, num_buckets, default_value
 *   categorical_column_with_vocabulary_list  key, vocabulary_list (strings or
 *                           integers), num_oov_buckets, default_value (-1, or
 *                           in [0, vocabulary size); not with num_oov_buckets)
 *   categorical_column_with_vocabulary_file  key, vocabulary_file (relative to
 *                           the spec's directory), vocabulary_size, dtype
 *                           ("string" | "int64"), num_oov_buckets, default_value
 *   categorical_column_with_hash_bucket      key, hash_bucket_size, dtype
 *   crossed_column          keys (>= 2 feature names or categorical columns, not
 *                           hash-bucket or weighted ones, as in TF; nested
 *                           crosses are flattened), hash_bucket_size, hash_key
 *                           (default 0xDECAFCAFFE; a string "0x..." for keys
 *                           above 2^63)
 *   weighted_categorical_column  categorical_column, weight_feature_key
 *   indicator_column        categorical_column
 *   embedding_column        categorical_column, dimension, combiner
 *                           ("mean" default | "sum" | "sqrtn")
 *   shared_embedding_columns  categorical_columns (same num_buckets),
 *                           dimension, combiner, shared_embedding_collection_name
 *
 * Ids (TensorFlow's rules): identity ids outside [0, num_buckets) take
 * default_value or are an error naming the value; vocabulary misses get
 * vocab_size + Fingerprint64(value) mod num_oov_buckets (integers hashed as their
 * decimal string), else default_value, where -1 drops the value; hash buckets are
 * Fingerprint64(string or decimal integer) mod hash_bucket_size; a crossed column
 * hashes every combination (the cartesian product, last input varying fastest)
 * as h = hash_key, h = FingerprintCat64(h, v) per input, v = Fingerprint64 of a
 * string or the raw 64 bits of an integer or id, bucket = h mod
 * hash_bucket_size. A missing categorical feature is an empty list; a missing
 * or empty numeric feature takes default_value or is an error.
 *
 * Dense output: only numeric, bucketized, indicator and embedding columns (and the
 * columns of shared_embedding_columns) may appear at the top level, as in
 * TensorFlow's input_layer. Like input_layer and DenseFeatures, the output
 * concatenates the columns SORTED BY NAME (byte order), each flattened:
 *   numeric: prod(shape) values after the normalizer;
 *   bucketized: one-hot, prod(shape)·(len(boundaries)+1);
 *   indicator: multi-hot counts over num_buckets (sums of weights when
 *              weighted), dropped ids (-1) contribute nothing;
 *   embedding: dimension; with weights w (1 when unweighted) and rows e of the
 *              table, sum = Σ w·e, mean = Σ w·e / Σ w, sqrtn = Σ w·e / sqrt(Σ w²);
 *              as TF's safe_embedding_lookup_sparse, ids < 0 are pruned and, for
 *              mean and sqrtn, weights <= 0 too; a row left empty gives zeros.
 * Names: numeric = key; bucketized = source + "_bucketized"; indicator = cat +
 * "_indicator"; embedding = cat + "_embedding"; shared = cat + "_shared_embedding";
 * weighted = cat + "_weighted_by_" + weight key; crossed = the sorted names of its
 * inputs joined by "_X_". Duplicate output names are an error.
 *
 * Embedding tables are trainable parameters: lt_features_declare_params adds one
 * (num_buckets, dimension) tensor per table to an lt_params, named
 * "features/<column>" (shared: "features/<collection>", whose default name is the
 * sorted categorical names joined by "_" + "_shared_embedding");
 * lt_features_init_params fills them as TF does by default (truncated normal,
 * mean 0, stddev 1/sqrt(dimension), redrawn beyond 2 stddev).
 *
 * Ownership: lt_features is opaque, made by lt_features_parse/load, freed by
 * lt_features_free. It points at its tables' tensors, owned by the lt_params.
 * An lt_feature_batch owns grow-only buffers reused across batches (no heap use
 * once they are large enough); free it with lt_feature_batch_free. */
#ifndef LT_FEATURES_H
#define LT_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "core/params.h"
#include "core/rng.h"
#include "core/status.h"
#include "data/example.h"

typedef struct lt_features lt_features;

/* ---- what the columns read: one example's features, by key ---- */
/* The values of one feature (views). kind LT_EX_NONE (n = 0): absent. */
typedef struct lt_fvalues {
    lt_ex_kind kind;
    int64_t n;
    const float *f;        /* (n) when LT_EX_FLOAT */
    const int64_t *i;      /* (n) when LT_EX_INT64 */
    const lt_ex_bytes *b;  /* (n) when LT_EX_BYTES */
} lt_fvalues;

/* Looks up feature `key` of example `row`; fills *out. The views may point into
 * scratch memory valid until the next call. Returning non-OK aborts the
 * transform with that status. */
typedef lt_status (*lt_feature_lookup)(void *ud, int64_t row, const char *key, lt_fvalues *out);

/* The lookup over parsed tf.Examples (ud = an lt_feature_examples). */
typedef struct lt_feature_examples {
    const lt_example *const *rows; /* (n) borrowed */
    int64_t n;
    float *f;                      /* scratch, owned: values copied out of the record */
    int64_t *i;
    lt_ex_bytes *b;
    int64_t cap_f, cap_i, cap_b;
} lt_feature_examples;

lt_status lt_feature_examples_lookup(void *ud, int64_t row, const char *key, lt_fvalues *out);
void lt_feature_examples_free(lt_feature_examples *e);

/* ---- specs ---- */
/* base_dir resolves relative vocabulary_file paths (NULL: the current directory).
 * Errors name the column and the key: "feature spec: columns[2] (embedding_column):
 * key 'dimension' must be a positive integer". */
lt_status lt_features_parse(const char *json, size_t len, const char *base_dir, lt_features **out);
lt_status lt_features_load(const char *path, lt_features **out);
void lt_features_free(lt_features *f);

int64_t lt_features_width(const lt_features *f);
int64_t lt_features_ncolumns(const lt_features *f);
/* The i-th output column (in output order): its name (owned by f), first output
 * index and width. */
void lt_features_column(const lt_features *f, int64_t i, const char **name, int64_t *offset, int64_t *width);
int64_t lt_features_ntables(const lt_features *f);

/* When the whole output is one numeric_column with decode_raw "uint8", no
 * default_value and one normalizer for every element: returns 1, its feature key
 * (owned by f) and lut[b] = the output value of byte b, bit-identical to what
 * lt_features_transform computes; so a consumer may keep the bytes and convert per
 * batch. Else 0. */
int lt_features_as_u8(const lt_features *f, const char **key, float lut[256]);
/* When the output is one numeric_column of shape [H, W] or [H, W, 1]: 1 and (H, W). */
int lt_features_image_shape(const lt_features *f, int64_t *height, int64_t *width);

/* Adds the embedding tables to p (before lt_params_finalize). */
lt_status lt_features_declare_params(lt_features *f, lt_params *p);
/* After finalize: TF's default initializer for every table. */
void lt_features_init_params(const lt_features *f, lt_rng *rng);

/* The table of embedding table t (NULL before lt_features_declare_params). */
lt_tensor *lt_features_table(const lt_features *f, int64_t t);

/* ---- applying a spec to a batch ---- */
/* One embedding output column of a batch: its ids padded to the longest row. */
typedef struct lt_feature_bag {
    int64_t offset, dim;   /* output columns [offset, offset + dim) */
    int64_t table;         /* which embedding table */
    int64_t len;           /* L: the most ids in one row, at least 1 */
    int64_t *ids;          /* (n, L) table rows, 0 in padding */
    float *w;              /* (n, L) weights with the combiner folded in, 0 in padding */
    int64_t *start;        /* (n+1) row r's ids are flat[start[r] .. start[r+1]) */
    int64_t *flat_ids;     /* (start[n]) */
    float *flat_w;         /* (start[n]) */
    size_t cap_pad, cap_flat, cap_start;
} lt_feature_bag;

typedef struct lti_fscratch lti_fscratch;

typedef struct lt_feature_batch {
    int64_t n;             /* rows */
    int64_t width;
    float *dense;          /* (n, width): every column except embeddings (zeros there) */
    size_t cap_dense;
    int64_t nbags;
    lt_feature_bag *bags;  /* (nbags) one per embedding output column, in output order */
    int64_t nscratch;
    lti_fscratch *scratch; /* (nscratch) ids of one row, per categorical node */
    int64_t error_row;     /* the row a failed transform stopped at, else -1 */
} lt_feature_batch;

void lt_feature_batch_init(lt_feature_batch *b);
void lt_feature_batch_free(lt_feature_batch *b);

/* Runs every column on rows 0..n-1 (lookup gives their features). Errors name the
 * row, the column and the feature: "row 3: column 'age': feature 'age' has 2
 * values, expected 1 (shape [1])". */
lt_status lt_features_transform(const lt_features *f, lt_feature_lookup lookup, void *ud, int64_t n,
                                lt_feature_batch *b);
/* The dense rows out (n, width), reading the embedding tables' current values
 * (LT_ERR_ARG when a spec with embeddings has no declared tables). The graph
 * version, differentiable with respect to the tables, is lt_feature_input in
 * nn/feature_input.h (data/ sits below the ops). */
lt_status lt_features_dense(const lt_features *f, const lt_feature_batch *b, float *out);

#endif
