/* tf.Example and tf.SequenceExample: a wire-format parser handing out views, an
 * encoder, and TensorFlow-style parse specs into dense / ragged batches.
 *
 *   Example         { Features features = 1; }
 *   Features        { map<string, Feature> feature = 1; }
 *   Feature         { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2;
 *                                  Int64List int64_list = 3; } }
 *   BytesList       { repeated bytes value = 1; }
 *   FloatList       { repeated float value = 1 [packed]; }
 *   Int64List       { repeated int64 value = 1 [packed]; }
 *   SequenceExample { Features context = 1; FeatureLists feature_lists = 2; }
 *   FeatureLists    { map<string, FeatureList> feature_list = 1; }
 *   FeatureList     { repeated Feature feature = 1; }
 *
 * Parsing follows protobuf's rules: packed and unpacked repeated values (mixed too),
 * unknown fields of every wire type skipped (a known field number with an unexpected
 * wire type is unknown), repeated message fields merged, a oneof keeping the last kind
 * set, duplicate map keys resolved with the last entry winning, map keys that are not
 * UTF-8 rejected (proto3 strings). A parse validates the whole record, so the
 * iterators below never fail.
 *
 * Ownership: parse results are views into the record passed to *_parse; they are valid
 * while those bytes are and until the next parse into the same object. lt_example /
 * lt_seqex own only their entry tables, which are reused (no allocation per field, none
 * at all once the tables are large enough). */
#ifndef LT_EXAMPLE_H
#define LT_EXAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef enum lt_ex_kind {
    LT_EX_NONE = 0,  /* a Feature with no list set */
    LT_EX_BYTES = 1, /* the oneof field numbers */
    LT_EX_FLOAT = 2,
    LT_EX_INT64 = 3,
} lt_ex_kind;

const char *lt_ex_kind_name(lt_ex_kind k); /* "none", "bytes", "float", "int64" */

typedef struct lt_ex_bytes {
    const uint8_t *data;
    int64_t len;
} lt_ex_bytes;

/* A Feature, as a view. Read its values with the copy functions or an iterator. */
typedef struct lt_ex_feature {
    lt_ex_kind kind;
    int64_t count;       /* number of values */
    const uint8_t *p;    /* internal: the bytes that hold the values */
    int64_t n;
    const uint8_t *from; /* internal: values before this point were cleared by a oneof switch */
    int wrapped;         /* internal: p is a map entry (values inside its value fields) */
    const uint8_t *one;  /* internal: when the values sit in one piece (a bytes value or a packed
                            chunk), that piece [one, one + one_len), so copies skip the re-walk */
    int64_t one_len;     /* internal: -1 once a second piece is seen */
} lt_ex_feature;

/* Copy up to cap values (kind must match, else 0 are copied); return the number copied. */
int64_t lt_ex_feature_floats(const lt_ex_feature *f, float *out, int64_t cap);
int64_t lt_ex_feature_int64s(const lt_ex_feature *f, int64_t *out, int64_t cap);
/* Views of up to cap byte strings. */
int64_t lt_ex_feature_bytes(const lt_ex_feature *f, lt_ex_bytes *out, int64_t cap);

/* Value-by-value iteration (any kind): each call returns 1 and one value, 0 at the end. */
typedef struct lt_ex_iter {
    const uint8_t *pos[4], *end[4]; /* internal cursors: entry, Feature, list, packed chunk */
    int depth;
    lt_ex_kind kind;
    const uint8_t *from;
} lt_ex_iter;

void lt_ex_iter_init(lt_ex_iter *it, const lt_ex_feature *f);
int lt_ex_iter_float(lt_ex_iter *it, float *out);
int lt_ex_iter_int64(lt_ex_iter *it, int64_t *out);
int lt_ex_iter_bytes(lt_ex_iter *it, lt_ex_bytes *out);

/* A FeatureList (one Feature per time step), as a view. */
typedef struct lt_ex_flist {
    int64_t count;    /* number of Features */
    const uint8_t *p; /* internal: the map entry */
    int64_t n;
} lt_ex_flist;

typedef struct lt_ex_flist_iter {
    const uint8_t *pos[2], *end[2]; /* internal: entry, FeatureList */
    int depth;
} lt_ex_flist_iter;

void lt_ex_flist_iter_init(lt_ex_flist_iter *it, const lt_ex_flist *l);
/* The next time step's Feature: 1, or 0 at the end. */
int lt_ex_flist_next(lt_ex_flist_iter *it, lt_ex_feature *out);

/* A map<string, Feature> (feature set) or map<string, FeatureList>. Entries keep the
 * order of each key's first appearance; a later duplicate replaces the value in place. */
typedef struct lt_ex_entry {
    lt_ex_bytes key;      /* view (not NUL-terminated) */
    lt_ex_feature feature; /* Features maps */
    lt_ex_flist list;      /* FeatureLists maps */
} lt_ex_entry;

typedef struct lt_ex_map {
    lt_ex_entry *entries; /* (n) owned table, reused across parses */
    int64_t n, cap;
    int32_t *slots;       /* internal: open-addressing hash of keys, owned */
    int64_t nslots;       /* internal: slots in use (this parse's table size) */
    int64_t slots_cap;    /* internal: slots allocated */
} lt_ex_map;

const lt_ex_entry *lt_ex_map_find(const lt_ex_map *m, const void *key, int64_t keylen);

typedef struct lt_example {
    lt_ex_map features;
} lt_example;

void lt_example_init(lt_example *ex);
void lt_example_free(lt_example *ex);
lt_status lt_example_parse(lt_example *ex, const void *data, int64_t len);
/* The feature named key, or NULL. */
const lt_ex_feature *lt_example_get(const lt_example *ex, const char *key);

typedef struct lt_seqex {
    lt_ex_map context; /* map<string, Feature> */
    lt_ex_map lists;   /* map<string, FeatureList> */
} lt_seqex;

void lt_seqex_init(lt_seqex *s);
void lt_seqex_free(lt_seqex *s);
lt_status lt_seqex_parse(lt_seqex *s, const void *data, int64_t len);
const lt_ex_flist *lt_seqex_list(const lt_seqex *s, const char *key);

/* ---- encoder: canonical protobuf 3 bytes (packed floats / int64s) ---- */
typedef struct lt_ex_builder {
    uint8_t *buf;        /* owned */
    int64_t len, cap;
    int64_t open[8];     /* internal: start of each open length-delimited field */
    int depth;
    int sequence;        /* building a SequenceExample */
    int section;         /* internal: 0 none yet, 1 features/context, 2 feature lists */
    int in_list;
    int64_t entries;
    lt_status err;       /* sticky: the first failure, returned by finish */
} lt_ex_builder;

void lt_ex_builder_init(lt_ex_builder *b);
void lt_ex_builder_free(lt_ex_builder *b);
/* Starts an Example (sequence = 0) or a SequenceExample (sequence = 1). */
void lt_ex_builder_begin(lt_ex_builder *b, int sequence);
/* A feature: of the Example / the SequenceExample's context, or, between list_begin and
 * list_end, one time step of that FeatureList (key is then ignored; pass NULL). */
lt_status lt_ex_builder_bytes(lt_ex_builder *b, const char *key, const lt_ex_bytes *v, int64_t n);
lt_status lt_ex_builder_floats(lt_ex_builder *b, const char *key, const float *v, int64_t n);
lt_status lt_ex_builder_int64s(lt_ex_builder *b, const char *key, const int64_t *v, int64_t n);
/* SequenceExample feature lists, after all context features. */
lt_status lt_ex_builder_list_begin(lt_ex_builder *b, const char *key);
lt_status lt_ex_builder_list_end(lt_ex_builder *b);
/* The serialized message: a view into b, valid until the next begin. */
lt_status lt_ex_builder_finish(lt_ex_builder *b, const uint8_t **data, int64_t *len);

/* ---- parse specs (TensorFlow's parse_example): dense and ragged columns ---- */
typedef struct lt_ex_spec_item {
    const char *key;
    lt_ex_kind dtype;   /* BYTES, FLOAT or INT64 */
    int fixed;          /* 1: FixedLenFeature (dense), 0: VarLenFeature (ragged) */
    int raw;            /* fixed BYTES: the single bytes value holds width u8 values
                           (tf.io.decode_raw), stored dense as uint8_t */
    int ndim;           /* fixed: shape; width = product (ndim 0: a scalar, width 1) */
    int64_t shape[4];
    /* fixed: the value when the feature is absent (NULL: the feature is required). 1 value
     * (broadcast) or width values of the dtype: float, int64_t, lt_ex_bytes, raw: uint8_t. */
    const void *default_value;
    int64_t default_count;
} lt_ex_spec_item;

/* One column per spec item. Numeric fixed: dense (max_rows, width). Numeric ragged:
 * values + splits. BYTES (not raw): strings in bytes/offsets; fixed ones width per row,
 * ragged ones delimited by splits. */
typedef struct lt_ex_column {
    int64_t width;    /* fixed: values per row */
    void *dense;      /* fixed numeric: (max_rows, width) float | int64_t | uint8_t (raw) */
    void *values;     /* ragged numeric: (nvalues) float | int64_t */
    int64_t nvalues;  /* ragged numeric values, or BYTES strings, so far */
    int64_t *splits;  /* ragged: (max_rows+1); row r is values/strings [splits[r], splits[r+1]) */
    uint8_t *bytes;   /* BYTES: string contents, concatenated */
    int64_t *offsets; /* BYTES: (nvalues+1); string i is bytes[offsets[i], offsets[i+1]) */
    int64_t cap_values, cap_bytes; /* internal */
    int64_t keylen, hint;          /* internal: strlen(key); the entry that held it last row */
} lt_ex_column;

typedef struct lt_ex_batch {
    const lt_ex_spec_item *items; /* borrowed: must outlive the batch */
    int64_t nitems;
    int64_t rows, max_rows;
    lt_ex_column *cols; /* (nitems) owned */
} lt_ex_batch;

/* Checks the spec (clear errors for a bad dtype, shape or default) and allocates. */
lt_status lt_ex_batch_init(lt_ex_batch *b, const lt_ex_spec_item *items, int64_t nitems, int64_t max_rows);
void lt_ex_batch_clear(lt_ex_batch *b); /* rows = 0, capacity kept */
/* Appends one row from a parsed Example. Errors (the row is then not added) name the file,
 * the record and the feature: missing required feature, wrong type, wrong length
 * (expected vs found), batch full. file may be NULL. */
lt_status lt_ex_batch_add(lt_ex_batch *b, const lt_example *ex, const char *file, int64_t record);
void lt_ex_batch_free(lt_ex_batch *b);

#endif
