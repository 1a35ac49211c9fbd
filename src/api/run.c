/* Public trained runs (include/latent/run.h): a checkpoint's model with its run's
 * config.json and a scratch graph, over train/rundir.h and train/evaluate.h. */
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "core/alloc.h"
#include "core/threads.h"
#include "io/png.h"
#include "train/evaluate.h"
#include "train/rundir.h"

struct lt_run {
    lt_model *m;
    json_t *config;     /* RUN/config.json */
    lt_binarize binarize;
    uint64_t seed;      /* the run's seed: its evaluation binarization */
    lt_graph g;         /* scratch, reset after every call */
};

const char *lt_last_error(void) { return lt_error_message(); }
const char *lt_version(void) { return LT_VERSION; }
void lt_set_threads(int n) { lt_threads_set(n); }

/* best, last or epoch-NNN: the names a run's checkpoints/ has (no paths). */
static lt_status lti_checkpoint_name(const char *which) {
    size_t n = strlen(which);
    if (!strcmp(which, "best") || !strcmp(which, "last")) return LT_OK;
    if (n > 6 && n <= 16 && !strncmp(which, "epoch-", 6) && strspn(which + 6, "0123456789") == n - 6) return LT_OK;
    return lt_fail(LT_ERR_ARG, "lt_run_open: checkpoint '%s': expected best, last or epoch-NNN", which);
}

int lt_run_open(const char *run_dir, const char *checkpoint, lt_run **out) {
    if (!out || !run_dir) return lt_fail(LT_ERR_ARG, "lt_run_open: run_dir or out is NULL");
    *out = NULL;
    const char *which = checkpoint ? checkpoint : "best";
    lt_status st = lti_checkpoint_name(which);
    if (st) return st;
    lt_run *r = lt_calloc(1, sizeof *r);
    if (!r) return lt_fail(LT_ERR_NOMEM, "lt_run_open: %zu bytes", sizeof *r);
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", run_dir);
    int g_ready = 0;
    st = lt_run_read_json(path, &r->config);
    const char *bin = r->config ? json_string_value(json_object_get(r->config, "binarize")) : NULL;
    if (!st && (!bin || lt_binarize_parse(bin) < 0))
        st = lt_fail(LT_ERR_FORMAT, "%s: 'binarize' missing or unknown", path);
    if (!st) {
        json_t *seed = json_object_get(r->config, "seed");
        r->binarize = (lt_binarize)lt_binarize_parse(bin);
        r->seed = json_is_integer(seed) ? (uint64_t)json_integer_value(seed) : 0;
        st = lt_checkpoint_open_model(run_dir, which, &r->m, NULL);
    }
    if (!st && !(st = lt_graph_init(&r->g, (size_t)1 << 20))) g_ready = 1;
    if (st) {
        if (g_ready) lt_graph_free(&r->g);
        lt_model_destroy(r->m);
        json_decref(r->config);
        lt_free(r);
        return st;
    }
    lt_graph_set_grad(&r->g, 0);
    *out = r;
    return LT_OK;
}

void lt_run_close(lt_run *r) {
    if (!r) return;
    lt_graph_free(&r->g);
    lt_model_destroy(r->m);
    json_decref(r->config);
    lt_free(r);
}

void lt_run_describe(const lt_run *r, lt_run_info *out) {
    const lt_model *m = r->m;
    memset(out, 0, sizeof *out);
    out->model = m->vt->name;
    out->dim = m->dim;
    out->height = m->height;
    out->width = m->width;
    out->channels = m->height * m->width > 0 ? m->dim / (m->height * m->width) : 1;
    out->n_classes = m->n_classes;
    out->code_size = m->vt->code_size && m->vt->encode ? m->vt->code_size(m) : 0;
    for (int64_t i = 0; i < m->params.n; i++) out->n_params += lt_numel(&m->params.items[i]->t); /* total pads */
    out->data = json_string_value(json_object_get(r->config, "data"));
    out->features = json_string_value(json_object_get(r->config, "features"));
    json_t *limit = json_object_get(r->config, "limit");
    out->limit = json_is_integer(limit) ? json_integer_value(limit) : 0;
}

/* Labels (n) in [0, n_classes) for a conditional model, absent otherwise. */
static lt_status lti_labels(const char *fn, const lt_model *m, const int64_t *y, int64_t n) {
    if (m->n_classes <= 0) {
        if (y) return lt_fail(LT_ERR_ARG, "%s: labels given, but model '%s' is not class-conditional", fn, m->vt->name);
        return LT_OK;
    }
    for (int64_t i = 0; y && i < n; i++)
        if (y[i] < 0 || y[i] >= m->n_classes)
            return lt_fail(LT_ERR_ARG, "%s: label %lld of example %lld: expected 0..%lld", fn, (long long)y[i],
                           (long long)i, (long long)m->n_classes - 1);
    return LT_OK;
}

int lt_run_sample(lt_run *r, int64_t n, uint64_t seed, const int64_t *labels, float *x) {
    lt_model *m = r->m;
    if (n <= 0) return lt_fail(LT_ERR_ARG, "lt_run_sample: n = %lld: expected at least 1", (long long)n);
    if (!m->vt->sample) return lt_fail(LT_ERR_ARG, "lt_run_sample: model '%s' does not sample", m->vt->name);
    lt_status st = lti_labels("lt_run_sample", m, labels, n);
    if (st) return st;
    int64_t *y = NULL; /* (n) the default classes i mod n_classes */
    if (m->n_classes > 0 && !labels) {
        if (!(y = lt_malloc(sizeof *y * (size_t)n))) return lt_fail(LT_ERR_NOMEM, "lt_run_sample: %lld labels", (long long)n);
        for (int64_t i = 0; i < n; i++) y[i] = i % m->n_classes;
        labels = y;
    }
    lt_rng rng;
    lt_rng_seed(&rng, seed);
    st = m->vt->sample(m, &r->g, &rng, n, labels, x);
    lt_graph_reset(&r->g);
    lt_free(y);
    return st;
}

int lt_run_log_prob(lt_run *r, const float *x, const int64_t *y, int64_t n, double *out) {
    lt_model *m = r->m;
    if (n <= 0) return lt_fail(LT_ERR_ARG, "lt_run_log_prob: n = %lld: expected at least 1", (long long)n);
    lt_status st = lti_labels("lt_run_log_prob", m, y, n);
    if (!st && m->n_classes > 0 && !y)
        st = lt_fail(LT_ERR_ARG, "lt_run_log_prob: model '%s' is class-conditional: labels needed", m->vt->name);
    if (st) return st;
    lt_batch b = {x, y, n, m->dim, NULL};
    st = m->vt->log_prob(m, &r->g, &b, NULL, out);
    lt_graph_reset(&r->g);
    return st;
}

int lt_run_evaluate(lt_run *r, const lt_source *data, const char *split, lt_eval_summary *out) {
    lt_split_id sp = LT_SPLIT_TRAIN;
    lt_status st = lti_api_split("lt_run_evaluate", split, &sp);
    if (st) return st;
    if (data->d.dim != r->m->dim)
        return lt_fail(LT_ERR_SHAPE, "lt_run_evaluate: the data has %lld values per example, model '%s' %lld",
                       (long long)data->d.dim, r->m->vt->name, (long long)r->m->dim);
    lt_eval_data ed = {&data->d, sp, r->binarize, r->seed, 100};
    lt_eval_result res;
    st = lt_evaluate_nll(r->m, &r->g, &ed, NULL, &res);
    lt_graph_reset(&r->g);
    if (st) return st;
    memset(out, 0, sizeof *out);
    out->examples = res.examples;
    out->nll_nats = res.nll_nats;
    out->nll_stderr = res.nll_stderr;
    out->bits_per_dim = res.bits_per_dim;
    return LT_OK;
}

static lt_status lti_coder(const char *fn, const lt_model *m, int64_t n) {
    if (!m->vt->encode || !m->vt->decode || !m->vt->code_size)
        return lt_fail(LT_ERR_ARG, "%s: model '%s' has no encoder (vae and gsvae have)", fn, m->vt->name);
    if (n <= 0) return lt_fail(LT_ERR_ARG, "%s: n = %lld: expected at least 1", fn, (long long)n);
    return LT_OK;
}

int lt_run_encode(lt_run *r, const float *x, int64_t n, float *z) {
    lt_status st = lti_coder("lt_run_encode", r->m, n);
    if (st) return st;
    lt_batch b = {x, NULL, n, r->m->dim, NULL};
    st = r->m->vt->encode(r->m, &r->g, &b, z);
    lt_graph_reset(&r->g);
    return st;
}

int lt_run_decode(lt_run *r, const float *z, int64_t n, float *x) {
    lt_status st = lti_coder("lt_run_decode", r->m, n);
    if (st) return st;
    st = r->m->vt->decode(r->m, &r->g, z, n, x);
    lt_graph_reset(&r->g);
    return st;
}

int lt_png_grid_save(const char *path, const float *images, int64_t n, int64_t channels, int64_t height,
                     int64_t width, int64_t cols) {
    if (!path || !images || n <= 0 || (channels != 1 && channels != 3) || height <= 0 || width <= 0 || cols < 0)
        return lt_fail(LT_ERR_ARG, "lt_png_grid_save: %lld images of %lldx%lldx%lld in %lld columns: expected n >= 1, "
                                   "1 or 3 channels, positive sizes", (long long)n, (long long)channels,
                       (long long)height, (long long)width, (long long)cols);
    return lt_png_write_grid(path, images, n, channels, height, width, cols);
}
