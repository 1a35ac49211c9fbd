/* The two-stage bound on binary data (see rundata.h, lt_rundata_bound). */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/graph.h"
#include "train/rundata.h"

/* Per-example bounds of n images x (n, dim): −log p(x|z_q) into rec (n), −log p(z_q) into pri (n). */
static lt_status lti_bound_batch(lt_model *s1, lt_model *prior, lt_graph *g, const float *x, const int64_t *y,
                                 int64_t n, double hwlogK, float *z, int64_t *tok, double *rec, double *pri) {
    lt_batch b = {x, NULL, n, s1->dim, NULL};
    lt_status st = s1->vt->log_prob(s1, g, &b, NULL, rec); /* log p(x|z_q) − h·w·log K */
    lt_graph_reset(g);
    if (!st) st = s1->vt->encode(s1, g, &b, z);
    lt_graph_reset(g);
    if (st) return st;
    for (int64_t i = 0; i < n; i++) rec[i] = -rec[i] - hwlogK;
    for (int64_t j = 0; j < n * prior->dim; j++) tok[j] = (int64_t)z[j];
    lt_batch bp = {NULL, prior->n_classes > 0 ? y : NULL, n, prior->dim, tok};
    st = prior->vt->log_prob(prior, g, &bp, NULL, pri);
    lt_graph_reset(g);
    for (int64_t i = 0; !st && i < n; i++) pri[i] = -pri[i];
    return st;
}

lt_status lt_rundata_bound(lt_model *prior, const char *run, lt_split_id split, int64_t limit, int64_t batch,
                           lt_rundata_bound_result *out) {
    memset(out, 0, sizeof *out);
    lt_model *s1 = NULL;
    lt_dataset img;
    lt_batch_opts o;
    lt_graph g;
    int g_ready = 0;
    int64_t h = 0, w = 0, K = 0;
    const int64_t B = batch > 0 ? batch : 100;
    lt_status st = lt_rundata_stage1(run, limit, &s1, &img, &o, &h, &w, &K);
    if (st) {
        lt_model_destroy(s1);
        return st;
    }
    if (!json_is_true(json_object_get(s1->config, "binary")))
        st = lt_fail(LT_ERR_ARG, "stage-one run %s decodes grey or colour values (no Bernoulli likelihood): the bound "
                     "in nats is for binary data", run);
    else if (h * w != prior->dim || K > prior->vocab)
        st = lt_fail(LT_ERR_ARG, "stage-one run %s has %lldx%lld grids of %lld codes, the prior %lld positions of %lld "
                     "codes", run, (long long)h, (long long)w, (long long)K, (long long)prior->dim, (long long)prior->vocab);
    else if (prior->n_classes > 0 && !img.split[split].labels)
        st = lt_fail(LT_ERR_ARG, "the prior is class-conditional; split %s of stage-one run %s has no labels",
                     lt_split_name(split), run);
    const int64_t N = img.split[split].n, D = s1->dim, T = h * w;
    float *x = st ? NULL : lt_malloc(sizeof(float) * (size_t)(B * D));  /* (B, dim) */
    float *z = st ? NULL : lt_malloc(sizeof(float) * (size_t)(B * T));  /* (B, h·w) */
    int64_t *tok = st ? NULL : lt_malloc(sizeof(int64_t) * (size_t)(B * T)); /* (B, h·w) */
    int64_t *idx = st ? NULL : lt_malloc(sizeof(int64_t) * (size_t)B), *y = st ? NULL : lt_malloc(sizeof(int64_t) * (size_t)B);
    double *rec = st ? NULL : lt_malloc(sizeof(double) * (size_t)B), *pri = st ? NULL : lt_malloc(sizeof(double) * (size_t)B);
    if (!st && (!x || !z || !tok || !idx || !y || !rec || !pri)) st = lt_fail(LT_ERR_NOMEM, "bound buffers");
    if (!st && N < 1) st = lt_fail(LT_ERR_ARG, "split %s of stage-one run %s has no images", lt_split_name(split), run);
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) g_ready = 1;
    if (g_ready) lt_graph_set_grad(&g, 0);
    double sum = 0, sum2 = 0, srec = 0, spri = 0;
    for (int64_t s0 = 0; !st && s0 < N; s0 += B) {
        const int64_t n = N - s0 < B ? N - s0 : B;
        for (int64_t i = 0; i < n; i++) idx[i] = s0 + i;
        lt_dataset_batch_opts(&img, split, idx, n, &o, x, y);
        st = lti_bound_batch(s1, prior, &g, x, y, n, (double)T * log((double)K), z, tok, rec, pri);
        for (int64_t i = 0; !st && i < n; i++) {
            const double v = rec[i] + pri[i];
            sum += v;
            sum2 += v * v;
            srec += rec[i];
            spri += pri[i];
        }
    }
    if (!st) {
        const double mean = sum / (double)N, var = N > 1 ? (sum2 - (double)N * mean * mean) / (double)(N - 1) : 0;
        *out = (lt_rundata_bound_result){N, mean, sqrt(var > 0 ? var : 0) / sqrt((double)N), srec / (double)N,
                                         spri / (double)N};
    }
    if (g_ready) lt_graph_free(&g);
    lt_free(x);
    lt_free(z);
    lt_free(tok);
    lt_free(idx);
    lt_free(y);
    lt_free(rec);
    lt_free(pri);
    lt_dataset_free(&img);
    lt_model_destroy(s1);
    return st;
}
