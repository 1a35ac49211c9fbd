/* safetensors checkpoints: u64 little-endian header length N, N bytes of JSON
 * ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
 * {string: string}}), then the raw little-endian data. Writing goes to
 * PATH.tmp, is fsynced and renamed over PATH, so a crash never leaves a
 * half-written checkpoint. Reading validates everything before trusting it. */
#ifndef LT_SAFETENSORS_H
#define LT_SAFETENSORS_H

#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"

typedef enum lt_st_dtype { LT_ST_F32, LT_ST_I64, LT_ST_U8 } lt_st_dtype;

typedef struct lt_st_entry {
    const char *name;
    lt_st_dtype dtype;
    int ndim;
    int64_t shape[LT_MAX_DIMS];
    const void *data;         /* writing: caller's bytes; reading: points into the file image */
} lt_st_entry;

typedef struct lt_st_kv {
    const char *key, *value;
} lt_st_kv;

lt_status lt_safetensors_write(const char *path, const lt_st_entry *entries, int64_t n, const lt_st_kv *meta, int64_t n_meta);

/* A loaded file; owns its memory. Entries appear in file order. */
typedef struct lt_st_file {
    unsigned char *image;     /* the whole file */
    int64_t size;
    lt_st_entry *entries;
    int64_t n;
    lt_st_kv *meta;
    int64_t n_meta;
    void *json;               /* internal */
} lt_st_file;

lt_status lt_safetensors_read(const char *path, lt_st_file *out);
void lt_safetensors_close(lt_st_file *f);
const lt_st_entry *lt_safetensors_find(const lt_st_file *f, const char *name);
const char *lt_safetensors_meta(const lt_st_file *f, const char *key);

#endif
