/* TFRecord files: framing, compression, file sets, indexes, shuffled datasets.
 *
 * A record on disk (after decompression) is
 *     u64 LE length | u32 LE masked_crc32c(length bytes) | data | u32 LE masked_crc32c(data)
 * byte-compatible with TensorFlow's TFRecordWriter/TFRecordDataset, with its
 * compression options NONE, ZLIB (RFC 1950 stream) and GZIP (RFC 1952), streamed
 * both ways through zlib (ISA-L's igzip inflates when the build has it).
 *
 * Errors never pass silently: a CRC mismatch, a truncated last record or a length
 * field larger than what remains is an error naming the file, the record number and
 * the byte offset (for compressed files, the offset in the uncompressed stream, and
 * the message says so). `skip_corrupt` allows up to N bad records; each one skipped
 * is reported through `on_skip`. A length field is checked against the bytes that
 * remain (uncompressed files) or `max_record` (streams) before anything is allocated.
 *
 * Ownership: readers, writers and datasets are opaque, created by *_open and freed by
 * *_close. A record's `data` is a view into the reader's buffer, valid until the
 * next call on that reader (or dataset); copy it to keep it. */
#ifndef LT_TFRECORD_H
#define LT_TFRECORD_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef enum lt_tfr_compression {
    LT_TFR_NONE = 0,
    LT_TFR_ZLIB,
    LT_TFR_GZIP,
    LT_TFR_AUTO, /* readers only: a valid uncompressed header ⇒ NONE, else gzip/zlib magic */
} lt_tfr_compression;

/* "none", "zlib", "gzip", "auto"; lt_tfr_compression_parse accepts those names
 * (case-insensitive; "" means none, as in TensorFlow). */
const char *lt_tfr_compression_name(lt_tfr_compression c);
lt_status lt_tfr_compression_parse(const char *name, lt_tfr_compression *out);

/* One bad record that was skipped (or, for a truncated tail, dropped) under the
 * skip budget. Strings are valid only during the callback. */
typedef struct lt_tfr_problem {
    const char *file;
    int64_t record;     /* 0-based record number in the file */
    int64_t offset;     /* byte offset of the record's header */
    int compressed;     /* offset counts bytes of the uncompressed stream */
    const char *message; /* the full one-line description, as an error would say it */
} lt_tfr_problem;

typedef void (*lt_tfr_skip_fn)(void *ud, const lt_tfr_problem *p);

typedef struct lt_tfr_options {
    lt_tfr_compression compression; /* default LT_TFR_AUTO */
    int verify_crc;                 /* default 1; 0 skips both CRC checks */
    int64_t skip_corrupt;           /* bad records that may be skipped (default 0) */
    lt_tfr_skip_fn on_skip;         /* told about every skipped record; may be NULL */
    void *ud;
    int64_t max_record;             /* largest record accepted from a stream (default 1 GiB) */
} lt_tfr_options;

void lt_tfr_options_default(lt_tfr_options *o);

typedef struct lt_tfr_record {
    const uint8_t *data; /* view: valid until the next call on the reader */
    int64_t len;
    int64_t index;       /* 0-based record number within its file (skipped ones count) */
    int64_t offset;      /* byte offset of its header (in the uncompressed stream) */
    const char *file;    /* owned by the reader */
} lt_tfr_record;

/* ---- reading ---- */
typedef struct lt_tfr_reader lt_tfr_reader;

/* opt may be NULL (defaults). */
lt_status lt_tfr_reader_open(lt_tfr_reader **out, const char *path, const lt_tfr_options *opt);
/* Reads from memory (kept alive by the caller until close); `name` is used in errors. */
lt_status lt_tfr_reader_open_mem(lt_tfr_reader **out, const char *name, const void *data,
                                 int64_t len, const lt_tfr_options *opt);
/* The next record: *have = 1 and rec filled, or *have = 0 at a clean end of file. */
lt_status lt_tfr_reader_next(lt_tfr_reader *r, lt_tfr_record *rec, int *have);
/* Positions the reader at a record boundary known from an index: the next record read
 * is number `index` at `offset`. Uncompressed: a seek; compressed: re-inflates from the
 * start up to offset (O(offset)). */
lt_status lt_tfr_reader_seek(lt_tfr_reader *r, int64_t offset, int64_t index);
lt_tfr_compression lt_tfr_reader_compression(const lt_tfr_reader *r); /* resolved, never AUTO */
int64_t lt_tfr_reader_skipped(const lt_tfr_reader *r); /* bad records skipped so far */
int64_t lt_tfr_reader_offset(const lt_tfr_reader *r);  /* bytes consumed (uncompressed stream) */
void lt_tfr_reader_close(lt_tfr_reader *r);

/* ---- writing ---- */
typedef struct lt_tfr_writer lt_tfr_writer;

/* Writes to a temporary file next to PATH; close renames it to PATH, so a crash or an
 * error never leaves a half-written PATH. level: zlib level 0..9 or -1 (default). */
lt_status lt_tfr_writer_open(lt_tfr_writer **out, const char *path, lt_tfr_compression c, int level);
lt_status lt_tfr_writer_write(lt_tfr_writer *w, const void *data, int64_t len);
int64_t lt_tfr_writer_records(const lt_tfr_writer *w);
/* Finishes the stream, flushes, renames. Frees w in every case; on error the temp file
 * is removed and PATH is untouched. */
lt_status lt_tfr_writer_close(lt_tfr_writer *w);
/* Removes the temp file and frees w (PATH untouched). NULL is a no-op. */
void lt_tfr_writer_abort(lt_tfr_writer *w);

/* The 12-byte header and 4-byte footer that frame `len` bytes of data (for tests and
 * in-memory framing). */
void lt_tfr_frame(uint8_t header[12], uint8_t footer[4], const void *data, uint64_t len);

/* ---- indexes: (offset, length) of every record, for random access and splitting ---- */
typedef struct lt_tfr_index {
    int64_t n;
    int64_t *offset; /* (n) header offsets in the uncompressed stream; owned */
    int64_t *length; /* (n) data lengths; owned */
} lt_tfr_index;

/* Reads every record of PATH (CRCs checked as opt says). */
lt_status lt_tfr_index_build(const char *path, const lt_tfr_options *opt, lt_tfr_index *out);
/* Text file: a '#' comment line, then "offset length\n" per record; written atomically. */
lt_status lt_tfr_index_save(const lt_tfr_index *idx, const char *index_path);
lt_status lt_tfr_index_load(const char *index_path, lt_tfr_index *out);
void lt_tfr_index_free(lt_tfr_index *idx);
/* Records [*begin, *end) of n that worker w of W reads: contiguous, sizes differ by ≤ 1. */
void lt_tfr_split(int64_t n, int64_t worker, int64_t workers, int64_t *begin, int64_t *end);

/* ---- file sets ---- */
typedef struct lt_tfr_files {
    char **paths; /* (n) owned strings */
    int64_t n, cap;
} lt_tfr_files;

void lt_tfr_files_init(lt_tfr_files *f);
/* Appends the files SPEC names:
 *  - a glob (contains * ? or [): the sorted matches, at least one; when matches look like
 *    shards NAME-iiiii-of-nnnnn, every shard 0..n-1 of each NAME must be present;
 *  - NAME@N: the N shards NAME-00000-of-0000N …, each must exist;
 *  - anything else: that path, which must exist. */
lt_status lt_tfr_files_add(lt_tfr_files *f, const char *spec);
/* Seeded permutation of the file order (lt_rng). */
void lt_tfr_files_shuffle(lt_tfr_files *f, uint64_t seed);
void lt_tfr_files_free(lt_tfr_files *f);
/* "PREFIX-00003-of-00008" into buf; returns the length snprintf would write. */
int lt_tfr_shard_name(char *buf, size_t cap, const char *prefix, int64_t shard, int64_t shards);

/* ---- datasets: files in (shuffled) order, a shuffle buffer, a worker's share ---- */
typedef struct lt_tfr_dataset_options {
    lt_tfr_options reader;
    uint64_t seed;
    int shuffle_files;      /* permute file order each epoch (seed, epoch) */
    int64_t shuffle_buffer; /* records held and drawn at random; 0 or 1: file order */
    int64_t worker, workers; /* workers > 1: read records [split) of the whole set, via each
                                file's FILE.index when present (else built on the fly) */
} lt_tfr_dataset_options;

void lt_tfr_dataset_options_default(lt_tfr_dataset_options *o);

typedef struct lt_tfr_dataset lt_tfr_dataset;

/* Copies the file list. */
lt_status lt_tfr_dataset_open(lt_tfr_dataset **out, const lt_tfr_files *files,
                              const lt_tfr_dataset_options *o);
/* The next record (view valid until the next call): *have = 0 at the end of the epoch. */
lt_status lt_tfr_dataset_next(lt_tfr_dataset *d, lt_tfr_record *rec, int *have);
/* Starts the next epoch (new file order and shuffle stream when shuffling). */
lt_status lt_tfr_dataset_rewind(lt_tfr_dataset *d);
void lt_tfr_dataset_close(lt_tfr_dataset *d);

#endif
