/* Feature columns, for features_spec.c (JSON → columns) and features.c (columns →
 * dense rows) only. The tree mirrors TensorFlow's column objects: dense columns at
 * the top, categorical columns beneath them. Every node is owned by lt_features
 * (the `cats` list owns all categorical nodes, `cols` the dense ones). */
#ifndef LTI_FEATURES_INTERNAL_H
#define LTI_FEATURES_INTERNAL_H

#include "data/features.h"

#define LTI_FEAT_MAX_DIMS 8
/* Most ids one row of one crossed column may produce (the cartesian product). */
#define LTI_FEAT_MAX_CROSS ((int64_t)1 << 20)
#define LTI_FEAT_MAX_CROSS_INPUTS 64

/* numeric_column (also the source of a bucketized column). */
typedef struct lti_numeric {
    char *key;
    int64_t size;                       /* prod(shape) */
    int ndim;
    int64_t shape[LTI_FEAT_MAX_DIMS];
    float *def;                         /* (size) default_value, or NULL: required */
    int raw_u8;                         /* decode_raw "uint8": one bytes value of size bytes */
    enum { LTI_NORM_NONE = 0, LTI_NORM_ZSCORE, LTI_NORM_MINMAX } norm;
    float *norm_a, *norm_b;             /* (size) z-score: mean, std; min-max: min, max */
} lti_numeric;

typedef enum lti_cat_kind {
    LTI_CAT_IDENTITY, LTI_CAT_VOCAB, LTI_CAT_HASH, LTI_CAT_BUCKETIZED, LTI_CAT_CROSSED,
    LTI_CAT_WEIGHTED, LTI_CAT_RAW /* a feature key crossed as it is */
} lti_cat_kind;

typedef struct lti_cat {
    lti_cat_kind kind;
    char *name;
    char *key;                          /* the feature read (identity, vocab, hash, raw) */
    int64_t num_buckets;                /* ids lie in [0, num_buckets) or are -1 (dropped) */
    int64_t slot;                       /* its scratch buffer in a batch */
    int weighted;                       /* produces weights (weighted column) */
    /* identity, vocabulary */
    int64_t default_value;              /* -1: none (identity: error; vocab: drop) */
    /* vocabulary */
    int vocab_int;                      /* 1: int64 vocabulary, 0: strings */
    int64_t vocab_size, num_oov;
    char **vocab_str;                   /* (vocab_size) NUL-terminated; lengths vocab_len */
    int64_t *vocab_len;
    int64_t *vocab_i64;                 /* (vocab_size) */
    int64_t *table;                     /* open addressing: vocabulary index or -1 */
    uint64_t table_mask;
    /* bucketized */
    lti_numeric num;
    float *bounds;                      /* (nbounds) strictly increasing */
    int64_t nbounds;
    /* crossed */
    struct lti_cat **inputs;            /* (ninputs) leaves: RAW keys or categorical columns */
    int64_t ninputs;
    uint64_t hash_key;
    /* weighted */
    struct lti_cat *base;
    char *weight_key;
} lti_cat;

typedef enum lti_col_kind { LTI_COL_NUMERIC, LTI_COL_BUCKETIZED, LTI_COL_INDICATOR, LTI_COL_EMBEDDING } lti_col_kind;
typedef enum lti_combiner { LTI_COMB_MEAN, LTI_COMB_SUM, LTI_COMB_SQRTN } lti_combiner;

typedef struct lti_col {
    lti_col_kind kind;
    char *name;
    int64_t offset, width;
    lti_numeric num;                    /* numeric */
    lti_cat *cat;                       /* bucketized (as ids), indicator, embedding */
    int64_t table;                      /* embedding */
    lti_combiner combiner;
} lti_col;

typedef struct lti_table {
    char *name;                         /* parameter name */
    int64_t rows, dim;
    lt_tensor *t;                       /* owned by the lt_params; NULL until declared */
} lti_table;

struct lt_features {
    lti_col *cols;                      /* (ncols) sorted by name */
    int64_t ncols, cap_cols;
    lti_cat **cats;                     /* (ncats) every categorical node; slot = index */
    int64_t ncats, cap_cats;
    lti_table *tables;
    int64_t ntables, cap_tables;
    int64_t width;
};

/* ids and weights of one categorical node for the current row */
struct lti_fscratch {
    int64_t *id;
    float *w;
    int64_t n, cap;
};

/* features_spec.c: frees one numeric's arrays. */
void lti_numeric_free(lti_numeric *n);
/* features_spec.c: the vocabulary index of a value, or -1. */
int64_t lti_vocab_find_str(const lti_cat *c, const uint8_t *s, int64_t len);
int64_t lti_vocab_find_i64(const lti_cat *c, int64_t v);

#endif
