/* Public data sources (include/latent/data.h) over data/dataset.h. */
#include <string.h>

#include "api/internal.h"
#include "core/alloc.h"

_Static_assert(LATENT_OK == LT_OK && LATENT_ERR_NOMEM == LT_ERR_NOMEM && LATENT_ERR_IO == LT_ERR_IO &&
                   LATENT_ERR_FORMAT == LT_ERR_FORMAT && LATENT_ERR_ARG == LT_ERR_ARG &&
                   LATENT_ERR_SHAPE == LT_ERR_SHAPE && LATENT_ERR_NUMERIC == LT_ERR_NUMERIC &&
                   LATENT_ERR_INTERRUPTED == LT_ERR_INTERRUPTED && LATENT_ERR_INTERNAL == LT_ERR_INTERNAL &&
                   LT_STATUS_COUNT == LATENT_ERR_INTERNAL + 1,
               "latent/common.h's status codes are core/status.h's");

lt_status lti_api_split(const char *fn, const char *split, lt_split_id *out) {
    int s = split ? lt_split_parse(split) : -1;
    if (s < 0) return lt_fail(LT_ERR_ARG, "%s: split '%s': expected train, valid or test", fn, split ? split : "(null)");
    *out = (lt_split_id)s;
    return LT_OK;
}

int lt_source_open(const char *source, const char *features, int64_t limit, lt_source **out) {
    if (!out) return lt_fail(LT_ERR_ARG, "lt_source_open: out is NULL");
    *out = NULL;
    if (!source) return lt_fail(LT_ERR_ARG, "lt_source_open: source is NULL");
    lt_source *s = lt_calloc(1, sizeof *s);
    if (!s) return lt_fail(LT_ERR_NOMEM, "lt_source_open: %zu bytes", sizeof *s);
    lt_status st = lt_dataset_open_source(source, features, limit, &s->d);
    if (st) {
        lt_free(s);
        return st;
    }
    *out = s;
    return LT_OK;
}

void lt_source_close(lt_source *s) {
    if (!s) return;
    lt_dataset_free(&s->d);
    lt_free(s);
}

void lt_source_describe(const lt_source *s, lt_source_info *out) {
    memset(out, 0, sizeof *out);
    out->height = s->d.height;
    out->width = s->d.width;
    out->dim = s->d.dim;
    out->n_classes = s->d.n_classes;
    out->binary = s->d.binary;
    for (int i = 0; i < LT_SPLIT_COUNT; i++) out->examples[i] = s->d.split[i].n;
}

int lt_source_read(const lt_source *s, const char *split, int64_t start, int64_t n, float *x, int64_t *y) {
    lt_split_id sp = LT_SPLIT_TRAIN;
    lt_status st = lti_api_split("lt_source_read", split, &sp);
    if (st) return st;
    const int64_t have = s->d.split[sp].n;
    if (start < 0 || n < 0 || start > have || n > have - start)
        return lt_fail(LT_ERR_ARG, "lt_source_read: examples [%lld, %lld) of split '%s', which has %lld",
                       (long long)start, (long long)(start + n), split, (long long)have);
    int64_t *idx = lt_malloc(sizeof *idx * (size_t)(n ? n : 1)); /* (n) */
    if (!idx) return lt_fail(LT_ERR_NOMEM, "lt_source_read: %lld indices", (long long)n);
    for (int64_t i = 0; i < n; i++) idx[i] = start + i;
    const int labels = y && s->d.split[sp].labels;
    lt_dataset_batch(&s->d, sp, idx, n, LT_BINARIZE_NONE, 0, 0, x, labels ? y : NULL);
    if (y && !labels)
        for (int64_t i = 0; i < n; i++) y[i] = -1;
    lt_free(idx);
    return LT_OK;
}
