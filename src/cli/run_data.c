/* See run_data.h. */
#include "cli/run_data.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "data/dataset.h"
#include "train/rundir.h"

lt_status lt_cli_open_run(const char *run, const char *which, const char *split, int64_t n, lt_model **m, float **x) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", run);
    json_t *cfg = NULL;
    lt_dataset data;
    memset(&data, 0, sizeof data);
    int have_data = 0;
    *x = NULL;
    lt_status st = lt_run_read_json(path, &cfg);
    if (!st) st = lt_checkpoint_open_model(run, which, m, NULL);
    const char *bin = cfg ? json_string_value(json_object_get(cfg, "binarize")) : NULL;
    const char *src = cfg ? json_string_value(json_object_get(cfg, "data")) : NULL;
    const char *features = cfg ? json_string_value(json_object_get(cfg, "features")) : NULL;
    json_t *lim = cfg ? json_object_get(cfg, "limit") : NULL, *seed = cfg ? json_object_get(cfg, "seed") : NULL;
    if (!st && (!bin || lt_binarize_parse(bin) < 0 || !src))
        st = lt_fail(LT_ERR_FORMAT, "%s: 'data' or 'binarize' missing", path);
    if (!st && !(st = lt_dataset_open_source(src, features, json_is_integer(lim) ? json_integer_value(lim) : 0, &data)))
        have_data = 1;
    lt_split_id sp = (lt_split_id)lt_split_parse(split);
    if (!st && data.split[sp].n < n)
        st = lt_fail(LT_ERR_ARG, "split '%s' has %lld images, %lld needed", split, (long long)data.split[sp].n,
                     (long long)n);
    if (!st && (data.dim != (*m)->dim))
        st = lt_fail(LT_ERR_ARG, "data has %lld pixels, the model %lld", (long long)data.dim, (long long)(*m)->dim);
    int64_t *idx = st ? NULL : lt_malloc(sizeof(int64_t) * (size_t)n);
    int64_t *y = st ? NULL : lt_malloc(sizeof(int64_t) * (size_t)n);
    *x = st ? NULL : lt_malloc(sizeof(float) * (size_t)(n * data.dim)); /* (n, D) */
    if (!st && (!idx || !y || !*x)) st = lt_fail(LT_ERR_NOMEM, "buffers for %lld images", (long long)n);
    if (!st) {
        for (int64_t i = 0; i < n; i++) idx[i] = i;
        lt_batch_opts bo = {(lt_binarize)lt_binarize_parse(bin), json_is_integer(seed) ? (uint64_t)json_integer_value(seed) : 0,
                            0, (lt_range)(*m)->vt->range, NULL};
        lt_dataset_batch_opts(&data, sp, idx, n, &bo, *x, y);
    }
    lt_free(idx);
    lt_free(y);
    if (have_data) lt_dataset_free(&data);
    json_decref(cfg);
    return st;
}
