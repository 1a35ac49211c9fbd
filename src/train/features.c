/* See features.h. */
#include "train/features.h"

#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "train/rundir.h"

static double lti_secs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int64_t lt_features_size(const lt_model *m, int64_t dim) {
    if (!m) return dim;
    return m->vt->feature_size && m->vt->features ? m->vt->feature_size(m) : 0;
}

static lt_status lti_need_features(const lt_model *m) {
    if (m && !lt_features_size(m, 0))
        return lt_fail(LT_ERR_ARG, "model '%s' has no features capability (no encoder to probe)", m->vt->name);
    return LT_OK;
}

/* features of one converted batch x (n, dim) (labels y or NULL) into out */
static lt_status lti_feat_batch(lt_model *m, lt_graph *g, const float *x, const int64_t *y, int64_t n, int64_t dim,
                                float *out) {
    if (!m) {
        memcpy(out, x, sizeof(float) * (size_t)(n * dim));
        return LT_OK;
    }
    lt_batch b = {x, y, n, dim, NULL};
    const int grad = lt_graph_set_grad(g, 0);
    lt_status st = m->vt->features(m, g, &b, out);
    lt_graph_set_grad(g, grad);
    lt_graph_reset(g);
    return st;
}

lt_status lt_features_split(lt_model *m, lt_graph *g, const lt_dataset *d, lt_split_id s, const lt_batch_opts *bo,
                            int64_t first, int64_t n, int64_t batch, float *out, int64_t *y) {
    lt_status st = lti_need_features(m);
    if (st) return st;
    const lt_split *sp = &d->split[s];
    if (d->vocab > 0) return lt_fail(LT_ERR_ARG, "features of a token source (code grids) are not images");
    if (m && m->dim != d->dim)
        return lt_fail(LT_ERR_ARG, "data has %lld values per example, model '%s' reads %lld", (long long)d->dim,
                       m->vt->name, (long long)m->dim);
    if (first < 0 || n < 0 || first + n > sp->n)
        return lt_fail(LT_ERR_ARG, "examples %lld..%lld of split '%s', which has %lld", (long long)first,
                       (long long)(first + n), lt_split_name(s), (long long)sp->n);
    const int need_y = y || (m && m->n_classes > 0);
    if (need_y && !sp->labels) return lt_fail(LT_ERR_ARG, "split '%s' has no labels", lt_split_name(s));
    if (batch <= 0) batch = 256;
    const int64_t fs = lt_features_size(m, d->dim), D = d->dim;
    float *x = lt_malloc(sizeof(float) * (size_t)(batch * D));
    int64_t *idx = lt_malloc(sizeof(int64_t) * (size_t)batch), *yb = lt_malloc(sizeof(int64_t) * (size_t)batch);
    if (!x || !idx || !yb) st = lt_fail(LT_ERR_NOMEM, "feature batch buffers (%lld x %lld)", (long long)batch, (long long)D);
    lt_batch_opts o = *bo;
    o.augment = NULL;
    for (int64_t i0 = 0; !st && i0 < n; i0 += batch) {
        const int64_t k = n - i0 < batch ? n - i0 : batch;
        for (int64_t i = 0; i < k; i++) idx[i] = first + i0 + i;
        lt_dataset_batch_opts(d, s, idx, k, &o, x, need_y ? yb : NULL);
        st = lti_feat_batch(m, g, x, need_y ? yb : NULL, k, D, out + i0 * fs);
        if (!st && y) memcpy(y + i0, yb, sizeof(int64_t) * (size_t)k);
    }
    lt_free(x);
    lt_free(idx);
    lt_free(yb);
    return st;
}

lt_status lt_features_images(lt_model *m, lt_graph *g, const float *x, int64_t n, int64_t batch, float *out) {
    lt_status st = lti_need_features(m);
    if (st) return st;
    if (batch <= 0) batch = 256;
    const int64_t D = m->dim, fs = lt_features_size(m, D);
    const int sg = m->vt->range == LT_MODEL_RANGE_SIGNED;
    float *xb = lt_malloc(sizeof(float) * (size_t)(batch * D));
    int64_t *yb = lt_calloc((size_t)batch, sizeof(int64_t));
    if (!xb || !yb) st = lt_fail(LT_ERR_NOMEM, "feature batch buffers");
    for (int64_t i0 = 0; !st && i0 < n; i0 += batch) {
        const int64_t k = n - i0 < batch ? n - i0 : batch;
        for (int64_t i = 0; i < k * D; i++) xb[i] = sg ? 2 * x[i0 * D + i] - 1 : x[i0 * D + i];
        st = lti_feat_batch(m, g, xb, m->n_classes > 0 ? yb : NULL, k, D, out + i0 * fs);
    }
    lt_free(xb);
    lt_free(yb);
    return st;
}

void lt_images_to_unit(const lt_model *m, const float *x, int64_t count, float *out) {
    const int sg = m->vt->range == LT_MODEL_RANGE_SIGNED;
    for (int64_t i = 0; i < count; i++) {
        const float v = sg ? 0.5f * (x[i] + 1) : x[i];
        out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
}

lt_status lt_reconstruct_images(lt_model *m, lt_graph *g, const float *x, int64_t n, int64_t batch, float *out) {
    const lt_model_vtable *vt = m->vt;
    if (!vt->encode || !vt->decode || !vt->code_size)
        return lt_fail(LT_ERR_ARG, "model '%s' does not encode and decode", vt->name);
    const int64_t B = batch > 0 ? batch : 256, D = m->dim, rows = n < B ? (n > 0 ? n : 1) : B;
    float *code = lt_malloc(sizeof(float) * (size_t)(rows * vt->code_size(m))); /* (rows, code_size) */
    lt_status st = code ? LT_OK : lt_fail(LT_ERR_NOMEM, "codes of %lld images", (long long)B);
    const int grad = lt_graph_set_grad(g, 0);
    for (int64_t i0 = 0; !st && i0 < n; i0 += B) {
        const int64_t k = n - i0 < B ? n - i0 : B;
        lt_batch b = {x + i0 * D, NULL, k, D, NULL};
        st = vt->encode(m, g, &b, code);
        lt_graph_reset(g);
        if (!st) st = vt->decode(m, g, code, k, out + i0 * D);
        lt_graph_reset(g);
    }
    lt_graph_set_grad(g, grad);
    if (!st) lt_images_to_unit(m, out, n * D, out);
    lt_free(code);
    return st;
}

/* The prior's codes (n, dim) decoded by its stage-one run into *img (lt_malloc'ed, that run's range). */
static lt_status lti_decode_codes(const lt_model *m, lt_graph *g, const int64_t *codes, int64_t n, lt_model **s1,
                                  float **img) {
    json_t *p = json_object_get(m->config, "stage1");
    if (!json_is_string(p))
        return lt_fail(LT_ERR_ARG, "the prior records no stage-one run (trained without --stage1 RUN) to decode its codes");
    const char *run = json_string_value(p);
    lt_status st = *s1 ? LT_OK : lt_checkpoint_open_model(run, "best", s1, NULL); /* opened once, kept */
    if (st) return lt_fail_context(st, "stage-one run %s: ", run);
    const lt_model_vtable *vt = (*s1)->vt;
    if (!vt->decode || !vt->code_size || vt->code_size(*s1) != m->dim)
        return lt_fail(LT_ERR_ARG, "stage-one run %s (model '%s') cannot decode grids of %lld codes", run, vt->name,
                       (long long)m->dim);
    float *z = lt_malloc(sizeof(float) * (size_t)(n * m->dim));
    *img = lt_malloc(sizeof(float) * (size_t)(n * (*s1)->dim));
    if (!z || !*img) st = lt_fail(LT_ERR_NOMEM, "decode buffers for %lld images", (long long)n);
    for (int64_t i = 0; !st && i < n * m->dim; i++) z[i] = (float)codes[i];
    if (!st) st = vt->decode(*s1, g, z, n, *img);
    lt_graph_reset(g);
    lt_free(z);
    return st;
}

lt_status lt_run_sample_images(const char *run, const char *which, uint64_t seed, int64_t n, const lt_sample_opts *so,
                               float **out, int64_t *c, int64_t *h, int64_t *w) {
    *out = NULL;
    lt_model *m = NULL, *s1 = NULL;
    lt_graph g;
    int g_ready = 0;
    lt_status st = lt_checkpoint_open_model(run, which, &m, NULL);
    if (!st && so && !m->vt->tokens)
        st = lt_fail(LT_ERR_ARG, "run %s: a sampling filter (temperature, top-k, top-p) applies to priors over codes, "
                     "not to model '%s'", run, m->vt->name);
    if (!st && so) st = lt_sample_opts_check(so);
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) g_ready = 1;
    const int64_t B = 100;
    int64_t *lab = st ? NULL : lt_malloc(sizeof(int64_t) * (size_t)B), *codes = NULL;
    float *part = NULL;
    if (!st && !lab) st = lt_fail(LT_ERR_NOMEM, "sample buffers");
    if (!st && m->vt->tokens && !(codes = lt_malloc(sizeof(int64_t) * (size_t)(B * m->dim))))
        st = lt_fail(LT_ERR_NOMEM, "code buffers");
    if (!st && !m->vt->tokens && !(part = lt_malloc(sizeof(float) * (size_t)(B * m->dim))))
        st = lt_fail(LT_ERR_NOMEM, "sample buffers");
    lt_rng rng;
    lt_rng_seed(&rng, seed);
    const lt_model *img = m;
    for (int64_t i0 = 0; !st && i0 < n; i0 += B) {
        const int64_t k = n - i0 < B ? n - i0 : B;
        for (int64_t i = 0; i < k; i++) lab[i] = m->n_classes > 0 ? (i0 + i) % m->n_classes : 0;
        lt_graph_set_grad(&g, 0);
        float *x = part;
        if (m->vt->tokens) {
            st = m->vt->sample_codes(m, &g, &rng, k, m->n_classes > 0 ? lab : NULL, so, codes);
            lt_graph_reset(&g);
            x = NULL;
            if (!st && !(st = lti_decode_codes(m, &g, codes, k, &s1, &x))) img = s1;
            if (st) lt_free(x), x = NULL;
        } else {
            st = m->vt->sample(m, &g, &rng, k, m->n_classes > 0 ? lab : NULL, x);
        }
        lt_graph_reset(&g);
        if (!st && !*out && !(*out = lt_malloc(sizeof(float) * (size_t)(n * img->dim))))
            st = lt_fail(LT_ERR_NOMEM, "%lld sampled images", (long long)n);
        if (!st) lt_images_to_unit(img, x, k * img->dim, *out + i0 * img->dim);
        if (m->vt->tokens) lt_free(x);
    }
    if (!st) {
        *c = img->channels;
        *h = img->height;
        *w = img->width;
    } else {
        lt_free(*out);
        *out = NULL;
    }
    if (g_ready) lt_graph_free(&g);
    lt_free(lab);
    lt_free(codes);
    lt_free(part);
    lt_model_destroy(s1);
    lt_model_destroy(m);
    return st;
}

/* features and labels of a whole split into *x, *y (lt_malloc'ed) */
static lt_status lti_split_features(lt_model *m, lt_graph *g, const lt_dataset *d, lt_split_id s, const lt_batch_opts *bo,
                                    int64_t n, int64_t batch, float **x, int64_t **y) {
    const int64_t fs = lt_features_size(m, d->dim);
    *x = lt_malloc(sizeof(float) * (size_t)(n * fs > 0 ? n * fs : 1));
    *y = lt_malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    if (!*x || !*y)
        return lt_fail(LT_ERR_NOMEM, "features of %lld examples x %lld (split '%s')", (long long)n, (long long)fs,
                       lt_split_name(s));
    return lt_features_split(m, g, d, s, bo, 0, n, batch, *x, *y);
}

lt_status lt_probe(lt_model *m, const lt_dataset *d, const lt_batch_opts *bo, const lt_probe_opts *o,
                   lt_probe_result *out) {
    memset(out, 0, sizeof *out);
    lt_status st = lti_need_features(m);
    if (st) return st;
    const lt_split_id es = o->eval_split == LT_SPLIT_VALID ? LT_SPLIT_VALID : LT_SPLIT_TEST;
    for (int s = 0; s < LT_SPLIT_COUNT; s++)
        if (d->split[s].n < 1 || !d->split[s].labels)
            return lt_fail(LT_ERR_ARG, "probes need labelled train, valid and test splits; '%s' has %lld examples%s",
                           lt_split_name((lt_split_id)s), (long long)d->split[s].n,
                           d->split[s].labels ? "" : " and no labels");
    out->feature_size = lt_features_size(m, d->dim);
    out->n_train = d->split[LT_SPLIT_TRAIN].n;
    out->n_valid = d->split[LT_SPLIT_VALID].n;
    out->n_eval = d->split[es].n;
    out->n_classes = d->n_classes;
    lt_graph g;
    if ((st = lt_graph_init(&g, (size_t)1 << 20))) return st;
    float *x[3] = {NULL, NULL, NULL};
    int64_t *y[3] = {NULL, NULL, NULL};
    const lt_split_id sp[3] = {LT_SPLIT_TRAIN, LT_SPLIT_VALID, es};
    double t0 = lti_secs();
    for (int i = 0; i < 3 && !st; i++) st = lti_split_features(m, &g, d, sp[i], bo, d->split[sp[i]].n, o->batch, &x[i], &y[i]);
    double t1 = lti_secs();
    out->seconds_features = t1 - t0;
    const int64_t fs = out->feature_size, K = d->n_classes;
    lt_labelled tr = {x[0], y[0], out->n_train}, va = {x[1], y[1], out->n_valid}, ev = {x[2], y[2], out->n_eval};
    if (!st) st = lt_linear_probe(&tr, &va, &ev, fs, K, NULL, 0, &o->lr, &out->linear);
    double t2 = lti_secs();
    out->seconds_linear = t2 - t1;
    if (!st)
        st = lt_knn_accuracy(&tr, &ev, fs, K, o->knn_k > 0 ? o->knn_k : 200, o->knn_T > 0 ? o->knn_T : 0.1,
                             &out->knn_acc);
    out->seconds_knn = lti_secs() - t2;
    for (int i = 0; i < 3; i++) lt_free(x[i]), lt_free(y[i]);
    lt_graph_free(&g);
    return st;
}

lt_status lt_knn_monitor(lt_model *m, lt_graph *g, const lt_dataset *d, lt_binarize bin, uint64_t seed,
                         const char **names, double *values, int max, int *count) {
    const lt_split *tr = &d->split[LT_SPLIT_TRAIN], *va = &d->split[LT_SPLIT_VALID];
    if (*count >= max || !lt_features_size(m, 0) || d->vocab > 0 || !tr->labels || !va->labels || tr->n < 1 ||
        va->n < 1 || d->n_classes < 1)
        return LT_OK;
    const lt_batch_opts bo = {bin, seed, 0, (lt_range)m->vt->range, NULL};
    const int64_t nb = tr->n < LT_KNN_MONITOR_BANK ? tr->n : LT_KNN_MONITOR_BANK;
    float *xb = NULL, *xv = NULL;
    int64_t *yb = NULL, *yv = NULL;
    double acc = 0;
    lt_status st = lti_split_features(m, g, d, LT_SPLIT_TRAIN, &bo, nb, 0, &xb, &yb);
    if (!st) st = lti_split_features(m, g, d, LT_SPLIT_VALID, &bo, va->n, 0, &xv, &yv);
    const lt_labelled bank = {xb, yb, nb}, q = {xv, yv, va->n};
    if (!st) st = lt_knn_accuracy(&bank, &q, lt_features_size(m, 0), d->n_classes, 200, 0.1, &acc);
    lt_free(xb);
    lt_free(xv);
    lt_free(yb);
    lt_free(yv);
    if (st) return st;
    names[*count] = "knn_acc";
    values[*count] = acc;
    (*count)++;
    return LT_OK;
}
