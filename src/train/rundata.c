/* See rundata.h. */
#include "train/rundata.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/graph.h"
#include "models/model.h"
#include "train/rundir.h"

lt_status lt_rundata_open(const char *source, const char *features, int64_t limit, lt_dataset *out) {
    const size_t np = strlen(LT_RUNDATA_CODES_OF);
    if (strncmp(source, LT_RUNDATA_CODES_OF, np)) return lt_dataset_open_source(source, features, limit, out);
    memset(out, 0, sizeof *out);
    if (features)
        return lt_fail(LT_ERR_ARG, "data source %s: a feature spec (%s) does not apply to a stage-one run's codes",
                       source, features);
    return lt_rundata_codes_of(source + np, limit, out);
}

/* The stage one's config.json: its data source, feature spec, binarization and seed into
 * the batch options (o->range is set by the caller); the image data opened into *img. */
static lt_status lti_stage1_data(const char *run, int64_t limit, lt_dataset *img, lt_batch_opts *o) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", run);
    json_t *cfg = NULL;
    lt_status st = lt_run_read_json(path, &cfg);
    if (st) return st;
    const char *src = json_string_value(json_object_get(cfg, "data"));
    const char *bin = json_string_value(json_object_get(cfg, "binarize"));
    const char *features = json_string_value(json_object_get(cfg, "features"));
    json_t *seed = json_object_get(cfg, "seed");
    if (!src || !bin || lt_binarize_parse(bin) < 0)
        st = lt_fail(LT_ERR_FORMAT, "%s: 'data' or 'binarize' missing or unknown", path);
    if (!st) st = lt_dataset_open_source(src, features, limit, img);
    if (!st) {
        o->binarize = (lt_binarize)lt_binarize_parse(bin);
        o->seed = json_is_integer(seed) ? (uint64_t)json_integer_value(seed) : 0;
        o->epoch = 0;
        o->augment = NULL; /* the codes of the images themselves */
    }
    json_decref(cfg);
    return st;
}

/* Encodes split s of img (n images) into *tok (n, hw), batch by batch. */
static lt_status lti_encode_split(lt_model *m, lt_graph *g, const lt_dataset *img, lt_split_id s,
                                  const lt_batch_opts *o, int64_t hw, int64_t B, int64_t **tok) {
    const int64_t n = img->split[s].n;
    float *x = lt_malloc(sizeof(float) * (size_t)(B * m->dim)); /* (B, dim) */
    float *z = lt_malloc(sizeof(float) * (size_t)(B * hw));     /* (B, h·w) */
    int64_t *idx = lt_malloc(sizeof(int64_t) * (size_t)B);      /* (B) */
    *tok = lt_malloc(sizeof(int64_t) * (size_t)(n * hw > 0 ? n * hw : 1)); /* (n, h·w) */
    lt_status st = x && z && idx && *tok ? LT_OK : lt_fail(LT_ERR_NOMEM, "codes of %lld images", (long long)n);
    for (int64_t s0 = 0; !st && s0 < n; s0 += B) {
        const int64_t nb = n - s0 < B ? n - s0 : B;
        for (int64_t i = 0; i < nb; i++) idx[i] = s0 + i;
        lt_dataset_batch_opts(img, s, idx, nb, o, x, NULL);
        lt_batch b = {x, NULL, nb, m->dim, NULL};
        st = m->vt->encode(m, g, &b, z);
        lt_graph_reset(g);
        for (int64_t j = 0; !st && j < nb * hw; j++) (*tok)[s0 * hw + j] = (int64_t)z[j];
    }
    lt_free(x);
    lt_free(z);
    lt_free(idx);
    return st;
}

lt_status lt_rundata_stage1(const char *run, int64_t limit, lt_model **m, lt_dataset *img, lt_batch_opts *o,
                           int64_t *h, int64_t *w, int64_t *K) {
    memset(img, 0, sizeof *img);
    lt_status st = lt_checkpoint_open_model(run, "best", m, NULL);
    if (!st && (!(*m)->vt->code_grid || !(*m)->vt->encode))
        st = lt_fail(LT_ERR_ARG, "model '%s' has no discrete codes (codes of a vqvae run)", (*m)->vt->name);
    if (!st) st = (*m)->vt->code_grid(*m, h, w, K);
    if (!st) st = lti_stage1_data(run, limit, img, o);
    if (!st) o->range = (lt_range)(*m)->vt->range;
    if (!st && img->dim != (*m)->dim)
        st = lt_fail(LT_ERR_ARG, "its data has %lld values per image, its model %lld", (long long)img->dim,
                     (long long)(*m)->dim);
    if (st) {
        lt_dataset_free(img);
        lt_fail_context(st, "stage-one run %s: ", run);
    }
    return st;
}

lt_status lt_rundata_codes_of(const char *run, int64_t limit, lt_dataset *out) {
    memset(out, 0, sizeof *out);
    lt_model *m = NULL;
    lt_dataset img;
    lt_batch_opts o;
    lt_graph g;
    int g_ready = 0;
    int64_t h = 0, w = 0, K = 0;
    lt_status st = lt_rundata_stage1(run, limit, &m, &img, &o, &h, &w, &K);
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) g_ready = 1;
    if (g_ready) lt_graph_set_grad(&g, 0);
    for (int s = 0; !st && s < LT_SPLIT_COUNT; s++) {
        const int64_t n = img.split[s].n;
        st = lti_encode_split(m, &g, &img, (lt_split_id)s, &o, h * w, 100, &out->store_tokens[s]);
        out->split[s].n = n;
        if (!st && img.split[s].labels) {
            uint8_t *y = lt_malloc((size_t)(n > 0 ? n : 1));
            if (!y) st = lt_fail(LT_ERR_NOMEM, "labels of %lld images", (long long)n);
            else memcpy(y, img.split[s].labels, (size_t)n);
            out->store_labels[s] = (lt_idx){.data = y, .ndim = 1, .dims = {n}};
            out->split[s].labels = y;
        }
        if (st) lt_fail_context(st, "stage-one run %s: ", run);
    }
    if (!st) {
        out->height = h;
        out->width = w;
        out->dim = h * w;
        out->channels = 1;
        out->n_classes = img.n_classes;
        out->vocab = K;
    } else {
        lt_dataset_free(out);
    }
    if (g_ready) lt_graph_free(&g);
    lt_dataset_free(&img);
    lt_model_destroy(m);
    return st;
}
