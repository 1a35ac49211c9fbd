/* See run_data.h. */
#include "cli/run_data.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "data/dataset.h"
#include "train/rundata.h"
#include "train/rundir.h"

lt_status lt_cli_run_data(const char *run, const lt_model *m, lt_dataset *data, lt_batch_opts *bo) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", run);
    json_t *cfg = NULL;
    memset(data, 0, sizeof *data);
    lt_status st = lt_run_read_json(path, &cfg);
    if (st) return st;
    const char *bin = json_string_value(json_object_get(cfg, "binarize"));
    const char *src = json_string_value(json_object_get(cfg, "data"));
    const char *features = json_string_value(json_object_get(cfg, "features"));
    json_t *lim = json_object_get(cfg, "limit"), *seed = json_object_get(cfg, "seed");
    if (!bin || lt_binarize_parse(bin) < 0 || !src)
        st = lt_fail(LT_ERR_FORMAT, "%s: 'data' or 'binarize' missing", path);
    if (!st) st = lt_rundata_open(src, features, json_is_integer(lim) ? json_integer_value(lim) : 0, data);
    if (!st && data->dim != m->dim) {
        st = lt_fail(LT_ERR_ARG, "data has %lld pixels, the model %lld", (long long)data->dim, (long long)m->dim);
        lt_dataset_free(data);
    }
    if (!st)
        *bo = (lt_batch_opts){(lt_binarize)lt_binarize_parse(bin),
                              json_is_integer(seed) ? (uint64_t)json_integer_value(seed) : 0, 0, (lt_range)m->vt->range,
                              NULL};
    json_decref(cfg);
    return st;
}

lt_status lt_cli_open_run(const char *run, const char *which, const char *split, int64_t n, lt_model **m, float **x) {
    lt_dataset data;
    lt_batch_opts bo;
    int have_data = 0;
    *x = NULL;
    lt_status st = lt_checkpoint_open_model(run, which, m, NULL);
    if (!st && !(st = lt_cli_run_data(run, *m, &data, &bo))) have_data = 1;
    lt_split_id sp = (lt_split_id)lt_split_parse(split);
    if (!st && data.split[sp].n < n)
        st = lt_fail(LT_ERR_ARG, "split '%s' has %lld images, %lld needed", split, (long long)data.split[sp].n,
                     (long long)n);
    int64_t *idx = st ? NULL : lt_malloc(sizeof(int64_t) * (size_t)n);
    int64_t *y = st ? NULL : lt_malloc(sizeof(int64_t) * (size_t)n);
    *x = st ? NULL : lt_malloc(sizeof(float) * (size_t)(n * data.dim)); /* (n, D) */
    if (!st && (!idx || !y || !*x)) st = lt_fail(LT_ERR_NOMEM, "buffers for %lld images", (long long)n);
    if (!st) {
        for (int64_t i = 0; i < n; i++) idx[i] = i;
        lt_dataset_batch_opts(&data, sp, idx, n, &bo, *x, y);
    }
    lt_free(idx);
    lt_free(y);
    if (have_data) lt_dataset_free(&data);
    return st;
}
