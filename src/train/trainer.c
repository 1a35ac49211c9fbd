/* The training loop (see trainer.h). */
#include "train/trainer.h"
#include "train/views.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autograd/backward.h"
#include "core/alloc.h"
#include "core/graph.h"
#include "io/png.h"
#include "models/model.h"
#include "optim/optim.h"
#include "train/evaluate.h"
#include "train/grad_reduce.h"
#include "train/events.h"
#include "train/features.h"
#include "train/rundata.h"
#include "train/phases.h"
#include "train/rundir.h"

/* Streams forked from the run's seed, one per purpose, so that e.g. writing a
 * sample grid never shifts the training randomness. */
enum { LTI_STREAM_TRAIN = 7, LTI_STREAM_PERM = 1000000, LTI_STREAM_SAMPLE = 2000000 };
enum { LTI_MAX_STATS = 32 };

typedef struct lti_trainer {
    json_t *cfg;               /* config.json (owned) */
    const char *run_dir, *model_name, *data_dir;
    int64_t limit, batch, epochs, patience, sample_n;
    int64_t valid_every;       /* validate every N epochs (and after the last) */
    lt_binarize binarize;
    lt_augment aug;            /* training batches only */
    double clip;
    uint64_t seed;
    int eval_masks;
    int select_elbo;           /* best and patience by the validation negative ELBO, not the NLL */
    lt_dataset data;
    lt_model *m;
    lt_train_plan plan;        /* optimizer groups and step phases (train/phases.h) */
    lt_graph g;
    int g_ready;
    lt_train_state s;
    double *prior;             /* (n_classes) class frequencies, or NULL */
    float *x;                  /* (batch, D) */
    int64_t *tok;              /* (batch, D) codes, token models only */
    int64_t *y;                /* (batch) */
    int64_t *perm;             /* (N train) */
    int64_t *share;            /* (N train) N > 1: this epoch's examples of this rank, ascending */
    int64_t held;              /* training examples this rank holds in memory this epoch */
    float *samples;            /* (sample_n, D) */
    int64_t *sample_labels;    /* (sample_n) */
    lt_events *ev;             /* this session's TensorBoard event file */
    int64_t log_every, keep;
    double win_loss, win_secs; /* training loss and step time since the last logged scalars */
    /* the model's training scalars (train_stats): sums since the last log and over the epoch */
    int n_stats;
    const char *stat_names[LTI_MAX_STATS];
    double win_stats[LTI_MAX_STATS], epoch_stats[LTI_MAX_STATS]; /* sums of the finite values */
    int64_t win_stat_n[LTI_MAX_STATS], epoch_stat_n[LTI_MAX_STATS]; /* their counts (NAN: not measured that step) */
    double epoch_secs;         /* wall time of the last whole epoch (training + validation); 0 before one */
    int64_t win_steps, win_examples;
    lt_comm *comm;             /* the process group; rank 0 writes RUN */
    lt_run_id rid;             /* rank 0: RUN as it was when training started (lt_run_check before writes) */
    int rank, size;
    FILE *trace;               /* LT_TRACE_EXAMPLES: the examples this rank consumed */
    lt_grad_reduce red;        /* N > 1: the gradient all-reduce, bucketed */
    int red_ready;
    int64_t bucket_bytes;      /* lt_train_config.bucket_bytes */
    double reduce_secs;        /* this epoch: wall time in the gradient all-reduce (N > 1) */
    int64_t reduce_early;      /* this epoch: buckets started before the backward sweep ended */
    int nan_phase;             /* the phase whose loss was not finite */
    lt_graph_group group;      /* N > 1: the comm's sums for the model's batch statistics (core/graph.h) */
    char path[4200];           /* scratch for file names */
} lti_trainer;

static double lti_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int64_t lti_get_i(const json_t *o, const char *k, int64_t def) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : json_is_real(v) ? (int64_t)json_real_value(v) : def;
}
static double lti_get_f(const json_t *o, const char *k, double def) {
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : def;
}
static const char *lti_get_s(const json_t *o, const char *k, const char *def) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : def;
}

/* config.json for a fresh run, from the caller's settings. The data's geometry
 * is added to the model config once the data is open. */
static lt_status lti_fresh_config(const lt_train_config *c, json_t **out) {
    if (!c->model) return lt_fail(LT_ERR_ARG, "no model given (--model NAME)");
    if (!c->data) return lt_fail(LT_ERR_ARG, "no data source given (--data DIR)");
    if (c->model_config && !json_is_object(c->model_config))
        return lt_fail(LT_ERR_ARG, "the model config must be a JSON object");
    char abs[PATH_MAX], fabs_[PATH_MAX], cwd[PATH_MAX];
    const char *data = realpath(c->data, abs) ? abs : c->data;
    /* a relative tfrecord: pattern is kept relative to the directory training started in */
    if (!strncmp(c->data, "tfrecord:", 9) && c->data[9] != '/' && getcwd(cwd, sizeof cwd) &&
        snprintf(abs, sizeof abs, "tfrecord:%s/%s", cwd, c->data + 9) < (int)sizeof abs)
        data = abs;
    const char *features = c->features ? (realpath(c->features, fabs_) ? fabs_ : c->features) : NULL;
    json_t *mc = c->model_config ? json_deep_copy(c->model_config) : json_object();
    json_t *o = json_pack("{s:s, s:o, s:s, s:I, s:s, s:b, s:I, s:I, s:s, s:f, s:f, s:s, s:f, s:I, s:I, s:I, s:i}",
                          "model", c->model, "model_config", mc, "data", data, "limit", (json_int_t)c->limit,
                          "binarize", c->binarize < 0 ? "auto" : lt_binarize_name((lt_binarize)c->binarize),
                          "conditional", c->conditional, "epochs", (json_int_t)(c->epochs > 0 ? c->epochs : 10),
                          "batch", (json_int_t)(c->batch > 0 ? c->batch : 100),
                          "optimizer", c->optimizer ? c->optimizer : "adam", "lr", c->lr > 0 ? c->lr : 1e-3,
                          "weight_decay", c->weight_decay, "schedule", c->schedule ? c->schedule : "constant",
                          "clip", c->clip, "patience", (json_int_t)c->patience,
                          "sample_n", (json_int_t)(c->sample_n == 0 ? 64 : c->sample_n < 0 ? 0 : c->sample_n),
                          "seed", (json_int_t)c->seed, "eval_masks", c->eval_masks);
    if (!o) return lt_fail(LT_ERR_NOMEM, "building config.json");
    if (features) json_object_set_new(o, "features", json_string(features));
    if (c->l1 != 0) json_object_set_new(o, "l1", json_real(c->l1));
    if (c->select) json_object_set_new(o, "select", json_string(c->select));
    if (c->valid_every > 1) json_object_set_new(o, "valid_every", json_integer(c->valid_every));
    if (c->groups) json_object_set_new(o, "groups", json_deep_copy(c->groups));
    if (c->augment) {
        lt_augment a;
        char name[64];
        lt_status st = lt_augment_parse(c->augment, &a);
        if (st) {
            json_decref(o);
            return st;
        }
        lt_augment_name(&a, name, sizeof name);
        json_object_set_new(o, "augment", json_string(name));
    }
    *out = o;
    return LT_OK;
}

/* Everything but the run directory's files: data, model, optimizer, buffers. */
static lt_status lti_setup(lti_trainer *t, int fresh) {
    json_t *c = t->cfg;
    t->model_name = lti_get_s(c, "model", NULL);
    t->data_dir = lti_get_s(c, "data", NULL);
    json_t *mc = json_object_get(c, "model_config");
    if (!t->model_name || !t->data_dir || !json_is_object(mc))
        return lt_fail(LT_ERR_FORMAT, "%s/config.json: expected 'model', 'data' and 'model_config'", t->run_dir);
    t->limit = lti_get_i(c, "limit", 0);
    t->batch = lti_get_i(c, "batch", 100);
    t->epochs = lti_get_i(c, "epochs", 10);
    t->patience = lti_get_i(c, "patience", 0);
    t->valid_every = lti_get_i(c, "valid_every", 1);
    t->sample_n = lti_get_i(c, "sample_n", 64);
    t->clip = lti_get_f(c, "clip", 0);
    t->seed = (uint64_t)lti_get_i(c, "seed", 0);
    t->eval_masks = (int)lti_get_i(c, "eval_masks", 0);
    const char *sel = lti_get_s(c, "select", "nll");
    if (strcmp(sel, "nll") && strcmp(sel, "neg_elbo"))
        return lt_fail(LT_ERR_ARG, "select '%s': expected nll or neg_elbo", sel);
    t->select_elbo = !strcmp(sel, "neg_elbo");
    if (t->batch < 1 || t->batch > 1000000) return lt_fail(LT_ERR_ARG, "batch size %lld: expected 1..1000000", (long long)t->batch);
    if (t->epochs < 1) return lt_fail(LT_ERR_ARG, "epochs %lld: expected at least 1", (long long)t->epochs);
    if (t->patience < 0) return lt_fail(LT_ERR_ARG, "patience %lld: expected >= 0", (long long)t->patience);
    if (t->valid_every < 1 || t->valid_every > 1000000)
        return lt_fail(LT_ERR_ARG, "valid-every %lld: expected 1..1000000 epochs", (long long)t->valid_every);
    if (t->clip < 0 || !isfinite(t->clip)) return lt_fail(LT_ERR_ARG, "clip %g: expected a norm >= 0", t->clip);
    if (t->sample_n > 1024) return lt_fail(LT_ERR_ARG, "sample grid of %lld images: expected at most 1024", (long long)t->sample_n);
    if (t->batch % t->size)
        return lt_fail(LT_ERR_ARG, "batch size %lld is not divisible by the %d ranks: --batch is the global batch, "
                                   "each rank takes batch/%d", (long long)t->batch, t->size, t->size);

    lt_status st = lt_rundata_open(t->data_dir, lti_get_s(c, "features", NULL), t->limit, &t->data);
    if (st) return st;
    if (t->data.split[LT_SPLIT_VALID].n < 1)
        return lt_fail(LT_ERR_ARG, "data source %s: expected validation examples, found none", t->data_dir);
    const char *bin = lti_get_s(c, "binarize", "auto");
    const lt_model_vtable *vt = lt_model_find(t->model_name); /* continuous models: auto = none */
    int b = !strcmp(bin, "auto") ? (t->data.binary || t->data.vocab > 0 || (vt && vt->continuous) ? LT_BINARIZE_NONE
                                                                                                   : LT_BINARIZE_STOCHASTIC)
                                 : lt_binarize_parse(bin);
    if (t->data.vocab > 0 && b != LT_BINARIZE_NONE)
        return lt_fail(LT_ERR_ARG, "--binarize %s: data source %s holds code grids (binarize none)", bin, t->data_dir);
    if (b < 0) return lt_fail(LT_ERR_ARG, "--binarize %s: expected none, threshold, stochastic or dynamic", bin);
    t->binarize = (lt_binarize)b;
    if ((st = lt_augment_parse(lti_get_s(c, "augment", "none"), &t->aug))) return st;
    if (t->data.vocab > 0 && lt_augment_active(&t->aug))
        return lt_fail(LT_ERR_ARG, "--augment: data source %s holds code grids, which are not augmented", t->data_dir);
    /* vt: the model's table (found above; unknown: lt_model_create says so below) */
    if (vt && !!vt->tokens != (t->data.vocab > 0))
        return lt_fail(LT_ERR_ARG, vt->tokens ? "model '%s' reads code grids; data source %s holds images (give "
                                                "codes: tfrecord:PREFIX of 'codes' examples, as latent encode writes)"
                                              : "model '%s' reads pixels; data source %s holds code grids",
                       t->model_name, t->data_dir);
    if (t->aug.crop_pad > 0 && t->data.height < 2)
        return lt_fail(LT_ERR_ARG, "augment crop:%lld: data source %s has no 2-d images (height %lld)",
                       (long long)t->aug.crop_pad, t->data_dir, (long long)t->data.height);
    if ((st = lt_augment_check(&t->aug, &t->data, t->data_dir))) return st;

    if (fresh) {
        /* The resolved binarization, the data's geometry and the seed become part of the run. */
        json_object_set_new(c, "binarize", json_string(lt_binarize_name(t->binarize)));
        json_object_set_new(mc, "height", json_integer(t->data.height));
        json_object_set_new(mc, "width", json_integer(t->data.width));
        json_object_set_new(mc, "dim", json_integer(t->data.dim));
        if (t->data.channels > 1) json_object_set_new(mc, "channels", json_integer(t->data.channels));
        json_object_set_new(mc, "seed", json_integer((json_int_t)t->seed));
        json_t *voc = json_object_get(mc, "vocab"); /* token data: the codes' count, unless given larger */
        if (t->data.vocab > 0 && !(json_is_integer(voc) && json_integer_value(voc) >= t->data.vocab))
            json_object_set_new(mc, "vocab", json_integer(t->data.vocab));
        if (vt && vt->continuous) /* whether its pixels are 0/1 (after binarization) */
            json_object_set_new(mc, "binary", json_boolean(t->data.binary || t->binarize != LT_BINARIZE_NONE));
        if (json_is_true(json_object_get(c, "conditional"))) {
            if (t->data.n_classes < 2)
                return lt_fail(LT_ERR_ARG, "--conditional needs labeled data; %s has no *-labels-idx1-ubyte files (or 'label' features)",
                               t->data_dir);
            json_object_set_new(mc, "n_classes", json_integer(t->data.n_classes));
        }
    } else {
        int64_t h = lti_get_i(mc, "height", 0), w = lti_get_i(mc, "width", 0), ch = lti_get_i(mc, "channels", 1);
        if (h != t->data.height || w != t->data.width || ch != t->data.channels)
            return lt_fail(LT_ERR_ARG, "data source %s has %lldx%lld images with %lld channels, the run was trained on "
                           "%lldx%lld with %lld", t->data_dir, (long long)t->data.height, (long long)t->data.width,
                           (long long)t->data.channels, (long long)h, (long long)w, (long long)ch);
    }
    st = lt_model_create(t->model_name, mc, &t->m);
    if (st) return st;
    if (t->m->vt->tokens && t->data.vocab > t->m->vocab)
        return lt_fail(LT_ERR_ARG, "data source %s has codes up to %lld, model '%s' has %lld", t->data_dir,
                       (long long)t->data.vocab - 1, t->model_name, (long long)t->m->vocab);
    if (t->select_elbo && !t->m->vt->elbo)
        return lt_fail(LT_ERR_ARG, "select neg_elbo: model '%s' has no bound (its NLL is exact; select nll)",
                       t->model_name);
    if (t->m->n_classes > 0) {
        if (t->data.n_classes > t->m->n_classes)
            return lt_fail(LT_ERR_ARG, "data has %lld classes, the model %lld", (long long)t->data.n_classes,
                           (long long)t->m->n_classes);
        if (!(t->prior = lt_calloc((size_t)t->m->n_classes, sizeof *t->prior))) return lt_fail(LT_ERR_NOMEM, "class prior");
        if ((st = lt_class_prior(&t->data, LT_SPLIT_TRAIN, t->m->n_classes, t->prior))) return st;
    }

    const int64_t N = t->data.split[LT_SPLIT_TRAIN].n, steps = (N + t->batch - 1) / t->batch;
    if ((st = lt_train_plan_init(&t->plan, t->m, c, steps * t->epochs))) return st;

    if (t->size > 1) { /* a model whose step couples the examples beyond the mean (model.h) */
        const char *why = "its training step couples the examples of a batch";
        const int cp = t->m->vt->coupling ? t->m->vt->coupling(t->m, steps * t->epochs, &why) : LT_MODEL_COUPLING_NONE;
        const int64_t last = N % t->batch;
        if (cp == LT_MODEL_COUPLING_WHOLE)
            return lt_fail(LT_ERR_ARG, "--model %s on %d ranks: %s", t->model_name, t->size, why);
        if (cp == LT_MODEL_COUPLING_GROUP && last > 0 && last < t->size)
            return lt_fail(LT_ERR_ARG, "--model %s on %d ranks: %s, so every rank needs examples in every step, but "
                           "the last batch of an epoch has %lld of the %lld training examples; choose --batch or "
                           "--limit so that it has none or at least %d", t->model_name, t->size, why,
                           (long long)last, (long long)N, t->size);
        if ((st = lt_grad_reduce_init(&t->red, t->comm, &t->m->params, t->bucket_bytes))) return st;
        t->red_ready = 1;
    }
    if ((st = lt_graph_init(&t->g, (size_t)1 << 20))) return st;
    t->g_ready = 1;
    const int64_t D = t->data.dim, S = t->sample_n > 0 ? t->sample_n : 1;
    t->x = lt_malloc((size_t)(t->batch * D * lt_model_views(t->m)) * sizeof *t->x); /* (views·batch, D) */
    t->y = lt_malloc((size_t)t->batch * sizeof *t->y);
    t->perm = lt_malloc((size_t)N * sizeof *t->perm);
    if (t->size > 1 && !(t->share = lt_malloc((size_t)N * sizeof *t->share)))
        return lt_fail(LT_ERR_NOMEM, "this rank's share of %lld training examples", (long long)N);
    if (t->m->vt->tokens && !(t->tok = lt_malloc((size_t)(t->batch * D) * sizeof *t->tok)))
        return lt_fail(LT_ERR_NOMEM, "training buffers for batch %lld of %lld codes", (long long)t->batch, (long long)D);
    t->samples = lt_malloc((size_t)(S * D) * sizeof *t->samples);
    t->sample_labels = lt_malloc((size_t)S * sizeof *t->sample_labels);
    if (!t->x || !t->y || !t->perm || !t->samples || !t->sample_labels)
        return lt_fail(LT_ERR_NOMEM, "training buffers for batch %lld of %lld pixels", (long long)t->batch, (long long)D);
    for (int64_t i = 0; i < S; i++) t->sample_labels[i] = t->m->n_classes > 0 ? i % t->m->n_classes : 0;
    return LT_OK;
}

static void lti_teardown(lti_trainer *t) {
    if (t->g_ready) lt_graph_free(&t->g);
    lt_train_plan_free(&t->plan);
    if (t->red_ready) lt_grad_reduce_free(&t->red);
    lt_model_destroy(t->m);
    lt_dataset_free(&t->data);
    lt_free(t->prior);
    lt_free(t->x);
    lt_free(t->tok);
    lt_free(t->y);
    lt_free(t->perm);
    lt_free(t->share);
    lt_free(t->samples);
    lt_free(t->sample_labels);
    lt_events_close(t->ev); /* write errors were reported at the last flush */
    if (t->trace) fclose(t->trace);
    json_decref(t->cfg);
}

static const char *lti_ckpt(lti_trainer *t, const char *which) {
    snprintf(t->path, sizeof t->path, "%s/checkpoints/%s.safetensors", t->run_dir, which);
    return t->path;
}

/* The model, every group's optimizer, the training state and the class prior. */
static lt_status lti_save(lti_trainer *t, const char *path) {
    lt_status st = lt_run_check(t->run_dir, &t->rid);
    if (st) return st;
    return lt_checkpoint_save_groups(path, t->m, t->plan.opts, t->plan.names, t->plan.n_groups, &t->s, t->prior);
}

/* The value that shows as black in a grid: the low end of the model's range. */
static float lti_grid_lo(const lti_trainer *t) { return t->m->vt->range == LT_MODEL_RANGE_SIGNED ? -1.0f : 0.0f; }

static lt_status lti_write_samples(lti_trainer *t, int64_t epoch) {
    if (t->sample_n <= 0 || t->m->vt->tokens || !t->m->vt->sample) return LT_OK; /* code grids need the stage-one decoder */
    lt_rng root, r;
    lt_rng_seed(&root, t->seed);
    r = lt_rng_fork(&root, LTI_STREAM_SAMPLE + (uint64_t)epoch);
    int grad = lt_graph_set_grad(&t->g, 0);
    lt_status st = t->m->vt->sample(t->m, &t->g, &r, t->sample_n, t->m->n_classes > 0 ? t->sample_labels : NULL,
                                    t->samples);
    lt_graph_reset(&t->g);
    lt_graph_set_grad(&t->g, grad);
    if (st) return lt_fail_context(st, "sampling after epoch %lld: ", (long long)epoch);
    if ((st = lt_run_check(t->run_dir, &t->rid))) return st;
    snprintf(t->path, sizeof t->path, "%s/samples/epoch-%03lld.png", t->run_dir, (long long)epoch);
    return lt_png_write_grid_range(t->path, t->samples, t->sample_n, t->data.channels, t->data.height, t->data.width,
                                   t->m->n_classes > 0 ? t->m->n_classes : 0, lti_grid_lo(t), 1.0f);
}

/* config.json as Markdown for TensorBoard's text plugin: an indented code block. */
static lt_status lti_log_config(lti_trainer *t, int64_t step) {
    char *js = json_dumps(t->cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (!js) return lt_fail(LT_ERR_NOMEM, "config as text");
    size_t n = strlen(js), lines = 1;
    for (size_t i = 0; i < n; i++) lines += js[i] == '\n';
    char *md = lt_malloc(n + 4 * lines + 1);
    if (!md) {
        free(js); /* jansson allocates with malloc */
        return lt_fail(LT_ERR_NOMEM, "config as text");
    }
    char *o = md;
    for (const char *p = js; *p;) {
        memcpy(o, "    ", 4);
        o += 4;
        while (*p && *p != '\n') *o++ = *p++;
        if (*p) *o++ = *p++;
    }
    *o = 0;
    free(js);
    lt_status st = lt_events_text(t->ev, step, "config", md);
    lt_free(md);
    return st;
}

/* A PNG written under samples/ (the path in t->path) into the event file as image `tag`. */
static lt_status lti_log_png(lti_trainer *t, const char *tag, int64_t step) {
    FILE *f = fopen(t->path, "rb");
    if (!f) return lt_fail(LT_ERR_IO, "cannot read back %s: %s", t->path, strerror(errno));
    long n = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
    uint8_t *png = n > 33 ? lt_malloc((size_t)n) : NULL;
    int ok = png && fseek(f, 0, SEEK_SET) == 0 && fread(png, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    /* IHDR follows the 8-byte signature: length, "IHDR", width, height (big-endian), depth, colour type. */
    if (!ok || memcmp(png + 12, "IHDR", 4)) {
        lt_free(png);
        return lt_fail(LT_ERR_IO, "cannot read back %s as a PNG", t->path);
    }
    const int64_t w = (int64_t)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
    const int64_t h = (int64_t)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
    const int colorspace = png[25] == 0 ? 1 : png[25] == 4 ? 2 : png[25] == 6 ? 4 : 3;
    lt_status st = lt_events_image(t->ev, step, tag, png, n, h, w, colorspace);
    lt_free(png);
    return st;
}

/* The epoch's sample grid, as written to samples/, into the event file. */
static lt_status lti_log_samples(lti_trainer *t, int64_t epoch, int64_t step) {
    if (t->sample_n <= 0 || t->m->vt->tokens || !t->m->vt->sample) return LT_OK; /* none written (lti_write_samples) */
    snprintf(t->path, sizeof t->path, "%s/samples/epoch-%03lld.png", t->run_dir, (long long)epoch);
    return lti_log_png(t, "samples", step);
}

/* Models with an encoder and a decoder: the first validation images and their
 * reconstructions (decoder probabilities at the mean code) in alternating rows
 * of 8, to samples/recon-epoch-NNN.png and the event file. */
static lt_status lti_log_recons(lti_trainer *t, int64_t epoch, int64_t step) {
    const lt_model_vtable *vt = t->m->vt;
    if (t->sample_n <= 0 || !vt->encode || !vt->decode || !vt->code_size) return LT_OK;
    const int64_t D = t->data.dim, K = vt->code_size(t->m), cols = 8;
    int64_t n = t->data.split[LT_SPLIT_VALID].n < 16 ? t->data.split[LT_SPLIT_VALID].n : 16;
    float *x = lt_malloc((size_t)(n * D) * sizeof *x);        /* (n, D) originals */
    float *r = lt_malloc((size_t)(n * D) * sizeof *r);        /* (n, D) reconstructions */
    float *grid = lt_malloc((size_t)(2 * n * D) * sizeof *x); /* (2n, D) */
    float *z = lt_malloc((size_t)(n * (K > 0 ? K : 1)) * sizeof *z); /* (n, K) */
    int64_t *idx = lt_malloc((size_t)n * sizeof *idx), *y = lt_malloc((size_t)n * sizeof *y);
    lt_status st = x && r && grid && z && idx && y ? LT_OK : lt_fail(LT_ERR_NOMEM, "reconstruction buffers");
    if (!st) {
        for (int64_t i = 0; i < n; i++) idx[i] = i;
        lt_batch_opts bo = {t->binarize, t->seed, 0, (lt_range)t->m->vt->range, NULL};
        lt_dataset_batch_opts(&t->data, LT_SPLIT_VALID, idx, n, &bo, x, y);
        lt_batch b = {x, t->m->n_classes > 0 ? y : NULL, n, D, NULL};
        int grad = lt_graph_set_grad(&t->g, 0);
        st = vt->encode(t->m, &t->g, &b, z);
        lt_graph_reset(&t->g);
        if (!st) st = vt->decode(t->m, &t->g, z, n, r);
        lt_graph_reset(&t->g);
        lt_graph_set_grad(&t->g, grad);
        if (st) st = lt_fail_context(st, "reconstructions after epoch %lld: ", (long long)epoch);
    }
    if (!st) st = lt_run_check(t->run_dir, &t->rid);
    if (!st) {
        int64_t k = 0; /* rows of up to 8 originals, each followed by their reconstructions */
        for (int64_t row = 0; row < n; row += cols) {
            const int64_t m = n - row < cols ? n - row : cols;
            memcpy(grid + k * D, x + row * D, (size_t)(m * D) * sizeof *x);
            memcpy(grid + (k + m) * D, r + row * D, (size_t)(m * D) * sizeof *x);
            k += 2 * m;
        }
        snprintf(t->path, sizeof t->path, "%s/samples/recon-epoch-%03lld.png", t->run_dir, (long long)epoch);
        st = lt_png_write_grid_range(t->path, grid, 2 * n, t->data.channels, t->data.height, t->data.width,
                                     n < cols ? n : cols, lti_grid_lo(t), 1.0f);
    }
    if (!st) st = lti_log_png(t, "reconstructions", step);
    lt_free(x);
    lt_free(r);
    lt_free(grid);
    lt_free(z);
    lt_free(idx);
    lt_free(y);
    return st;
}

static int lti_cmp_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* checkpoints/epoch-NNN: a hard link to the `last` just written (rename-on-save
 * leaves the link on the old contents), a copy where links are refused; then
 * drops all but the `keep` newest and the best epoch's. */
static lt_status lti_periodic_checkpoint(lti_trainer *t, int64_t epoch) {
    char dst[4200], name[64];
    snprintf(dst, sizeof dst, "%s/checkpoints/epoch-%03lld.safetensors", t->run_dir, (long long)epoch);
    remove(dst); /* a resumed run redoing this epoch */
    if (link(lti_ckpt(t, "last"), dst)) {
        lt_status st = lti_save(t, dst);
        if (st) return st;
    }
    if (t->keep < 0) return LT_OK;
    snprintf(dst, sizeof dst, "%s/checkpoints", t->run_dir);
    DIR *d = opendir(dst);
    if (!d) return lt_fail(LT_ERR_IO, "cannot list %s: %s", dst, strerror(errno));
    int64_t *ep = NULL, n = 0, cap = 0;
    lt_status st = LT_OK;
    for (struct dirent *e; (e = readdir(d));) {
        long long k;
        int used = 0;
        if (sscanf(e->d_name, "epoch-%lld.safetensors%n", &k, &used) != 1 || e->d_name[used] || used == 0) continue;
        snprintf(name, sizeof name, "epoch-%03lld.safetensors", k);
        if (strcmp(name, e->d_name)) continue;
        if (n == cap) {
            int64_t *g = lt_realloc(ep, (size_t)(cap = cap ? 2 * cap : 16) * sizeof *ep);
            if (!g) { st = lt_fail(LT_ERR_NOMEM, "listing %s", dst); break; }
            ep = g;
        }
        ep[n++] = k;
    }
    closedir(d);
    if (!st) {
        qsort(ep, (size_t)n, sizeof *ep, lti_cmp_desc);
        for (int64_t i = t->keep; i < n; i++) {
            if (ep[i] == t->s.best_epoch) continue;
            snprintf(dst, sizeof dst, "%s/checkpoints/epoch-%03lld.safetensors", t->run_dir, (long long)ep[i]);
            if (remove(dst) && errno != ENOENT) {
                st = lt_fail(LT_ERR_IO, "cannot remove %s: %s", dst, strerror(errno));
                break;
            }
        }
    }
    lt_free(ep);
    return st;
}

/* Training scalars for the steps since the last call. */
static lt_status lti_log_steps(lti_trainer *t, double lr, double grad_norm) {
    lt_events *ev = t->ev;
    const int64_t step = t->s.global_step;
    lt_status st = lt_events_scalar(ev, step, "train/loss", t->win_loss / (double)t->win_steps);
    if (!st) st = lt_events_scalar(ev, step, "train/lr", lr);
    if (!st) st = lt_events_scalar(ev, step, "train/grad_norm", grad_norm);
    if (!st && t->win_secs > 0)
        st = lt_events_scalar(ev, step, "train/examples_per_sec", (double)t->win_examples / t->win_secs);
    const double temp = t->m->vt->temperature ? t->m->vt->temperature(t->m) : NAN;
    if (!st && temp == temp) st = lt_events_scalar(ev, step, "train/temperature", temp);
    char tag[96];
    for (int i = 0; i < t->n_stats && !st; i++) { /* the model's scalars, averaged over the window */
        snprintf(tag, sizeof tag, "train/%s", t->stat_names[i]);
        if (t->win_stat_n[i] > 0) st = lt_events_scalar(ev, step, tag, t->win_stats[i] / (double)t->win_stat_n[i]);
        t->win_stats[i] = 0;
        t->win_stat_n[i] = 0;
    }
    for (int k = 1; k < t->plan.n_groups && !st; k++) { /* the other groups' rates (group 0's is train/lr) */
        snprintf(tag, sizeof tag, "train/lr_%s", t->plan.group[k].name);
        st = lt_events_scalar(ev, step, tag, lt_schedule_lr(&t->plan.group[k].sched, step));
    }
    t->win_loss = t->win_secs = 0;
    t->win_steps = t->win_examples = 0;
    return st;
}

/* Rank r's contiguous share [*lo, *lo + *n) of n rows: n/R each, the first n%R ranks one more
 * (rank 0 is never empty while n > 0). */
static void lti_share(int64_t n, int R, int r, int64_t *lo, int64_t *cnt) {
    const int64_t q = n / R, extra = n % R;
    *lo = r * q + (r < extra ? r : extra);
    *cnt = q + (r < extra ? 1 : 0);
}

/* *stop: this process's flag, or any rank's (every rank calls this together). */
static lt_status lti_stop_all(lti_trainer *t, const lt_train_config *c, int *stop) {
    double f = c->stop && *c->stop;
    lt_status st = lt_comm_sum_f64(t->comm, &f, 1);
    *stop = f > 0;
    return st;
}

/* Validation on this rank's share of the split, reduced: as if one process swept it all. */
static lt_status lti_validate(lti_trainer *t, const lt_eval_opts *eo, lt_eval_result *vr, double *elbo,
                              double *elbo_se) {
    lt_eval_data ed = {&t->data, LT_SPLIT_VALID, t->binarize, t->seed, 100};
    lt_status st = LT_OK;
    if (!t->m->vt->log_prob) { /* no likelihood: the loss on views of the split (train/views.h), every rank */
        ed.batch = t->batch;
        return lt_evaluate_views_loss(t->m, &t->g, &ed, &t->aug, vr);
    }
    if (t->size == 1) {
        st = lt_evaluate_nll(t->m, &t->g, &ed, eo, vr);
        if (!st && t->m->vt->elbo) st = lt_evaluate_elbo(t->m, &t->g, &ed, eo, elbo, elbo_se);
        return st;
    }
    const int64_t n = t->data.split[LT_SPLIT_VALID].n;
    int64_t lo, cnt;
    lti_share(n, t->size, t->rank, &lo, &cnt);
    /* sum, sum of squares and count of each quantity, from this rank's mean and standard error */
    double acc[6] = {0};
    if (cnt > 0) {
        const double k = (double)cnt;
        double e = 0, se = 0;
        st = lt_evaluate_nll_part(t->m, &t->g, &ed, eo, lo, cnt, vr);
        if (!st && t->m->vt->elbo) st = lt_evaluate_elbo_part(t->m, &t->g, &ed, eo, lo, cnt, &e, &se);
        if (st) return st; /* this rank alone: the caller ends the job */
        acc[0] = vr->nll_nats * k;
        acc[1] = vr->nll_stderr * vr->nll_stderr * k * (k - 1) + k * vr->nll_nats * vr->nll_nats;
        acc[2] = e * k;
        acc[3] = se * se * k * (k - 1) + k * e * e;
        acc[4] = k;
    }
    if ((st = lt_comm_sum_f64(t->comm, acc, 6))) return st;
    const double k = acc[4], mu = acc[0] / k, emu = acc[2] / k;
    const double var = k > 1 ? (acc[1] - k * mu * mu) / (k - 1) : 0, evar = k > 1 ? (acc[3] - k * emu * emu) / (k - 1) : 0;
    memset(vr, 0, sizeof *vr);
    vr->examples = n;
    vr->nll_nats = mu;
    vr->nll_stderr = sqrt(var > 0 ? var / k : 0);
    vr->bits_per_dim = mu / ((double)t->data.dim * log(2.0));
    *elbo = emu;
    *elbo_se = sqrt(evar > 0 ? evar / k : 0);
    return LT_OK;
}

static int lti_cmp_asc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* N ranks: this rank keeps in memory only the training examples it consumes in this epoch's
 * steps from `first` on (its slices of the permuted batches), re-read from the source. */
static lt_status lti_hold_share(lti_trainer *t, int64_t first, int64_t N) {
    const int64_t B = t->batch, steps = (N + B - 1) / B;
    int64_t m = 0;
    for (int64_t k = first; k < steps; k++) {
        const int64_t n = N - k * B < B ? N - k * B : B;
        int64_t lo, nr;
        lti_share(n, t->size, t->rank, &lo, &nr);
        memcpy(t->share + m, t->perm + k * B + lo, (size_t)nr * sizeof *t->share);
        m += nr;
    }
    qsort(t->share, (size_t)m, sizeof *t->share, lti_cmp_asc);
    t->held = m;
    /* the kNN monitor's bank (train/features.h: the first training examples) is read on every
     * rank: held too, beside the share */
    const lt_dataset *d = &t->data;
    const int64_t bank = lt_features_size(t->m, 0) && d->vocab == 0 && d->split[LT_SPLIT_TRAIN].labels &&
                                 d->split[LT_SPLIT_VALID].labels && d->n_classes > 0
                             ? (N < LT_KNN_MONITOR_BANK ? N : LT_KNN_MONITOR_BANK)
                             : 0;
    if (bank > 0) {
        int64_t k = 0, j = 0, w = 0;
        int64_t *all = lt_malloc((size_t)(m + bank) * sizeof *all); /* the union, ascending */
        if (!all) return lt_fail(LT_ERR_NOMEM, "the examples this rank holds");
        while (k < m || j < bank) {
            const int64_t v = j >= bank || (k < m && t->share[k] < j) ? t->share[k++] : j++;
            if (w == 0 || all[w - 1] != v) all[w++] = v;
        }
        lt_status st = lt_dataset_hold(&t->data, LT_SPLIT_TRAIN, all, w);
        lt_free(all);
        t->held = w;
        return st;
    }
    return lt_dataset_hold(&t->data, LT_SPLIT_TRAIN, t->share, m);
}

/* One training step: the plan's phases in order (one for a plain model). Each zeroes the
 * gradients, takes its loss on this rank's rows, back-propagates, all-reduces its group's
 * gradients (R > 1) and updates its group. *lv: phase 0's loss (the step's training loss);
 * LT_ERR_NUMERIC (no message) when a phase's reduced loss is not finite, *lv then that loss. */
static lt_status lti_step(lti_trainer *t, const lt_batch *b, int64_t n, int64_t nr, int log_now, double *lv, int *stop,
                          double *lr, double *gnorm) {
    const int R = t->size;
    lt_train_plan *pl = &t->plan;
    lt_status st = LT_OK;
    for (int ph = 0; ph < pl->n_phases; ph++) {
        lt_params *gp = lt_train_phase_params(pl, ph);
        lt_params_zero_grad(&t->m->params);
        lt_tensor *loss = NULL;
        double pv = 0, ran = 0;
        if (nr > 0) { /* a last batch smaller than R leaves some ranks without examples */
            st = lt_train_phase_loss(pl, t->m, &t->g, b, ph, &loss);
            if (!st) st = lt_graph_status(&t->g);
            if (st) return pl->n_phases > 1 ? lt_fail_context(st, "phase %s: ", pl->phase_name[ph]) : st;
            if (loss) pv = loss->data[0], ran = 1;
        }
        if (R > 1) {
            /* The whole batch's mean gradient: each rank's mean weighted by its share. The loss,
             * the stop flags and whether the phase ran ride along. */
            const double w = (double)nr / (double)n;
            const int sweep = loss && isfinite(pv);
            double ctl[3] = {loss ? pv * w : 0, *stop, ran};
            /* The phase's group (the whole block for a plain model): its buckets all-reduced as the
             * backward sweep finishes them (train/grad_reduce.h). */
            if (!sweep) lt_params_zero_grad(gp);
            if ((st = lt_grad_reduce_begin(&t->red, sweep ? &t->g : NULL, (float)w, gp->grad - t->m->params.grad,
                                           gp->total)))
                return st;
            if (sweep && (st = lt_backward(&t->g, loss))) {
                lt_grad_reduce_end(&t->red, &t->g);
                return lt_fail_context(st, "backward: ");
            }
            if ((st = lt_grad_reduce_end(&t->red, sweep ? &t->g : NULL))) return st;
            t->reduce_secs += t->red.secs;
            t->reduce_early += t->red.early;
            t->red.secs = 0;
            t->red.early = 0;
            const double tr = lti_now();
            if ((st = lt_comm_sum_f64(t->comm, ctl, 3))) return st;
            t->reduce_secs += lti_now() - tr;
            pv = ctl[0];
            *stop = ctl[1] > 0;
            ran = ctl[2];
            /* ranks without examples drew no noise: the stream continues from rank 0's */
            if (n < R && (st = lt_comm_bcast(t->comm, &t->s.rng, sizeof t->s.rng, 0))) return st;
        }
        if (ph == 0) *lv = pv;
        if (!isfinite(pv)) {
            lt_comm_set_agreed(t->comm, 1); /* the reduced loss: every rank stops here */
            lt_graph_reset(&t->g);
            *lv = pv;
            t->nan_phase = ph;
            return LT_ERR_NUMERIC;
        }
        if (R == 1 && loss && (st = lt_backward(&t->g, loss))) return lt_fail_context(st, "backward: ");
        if (ran > 0) {
            double gn;
            const double r = lt_train_phase_update(pl, ph, t->s.global_step, t->clip, log_now && ph == 0, &gn);
            if (ph == 0) *lr = r, *gnorm = gn;
        }
        lt_graph_reset(&t->g);
    }
    return LT_OK;
}

/* Stops the run at a non-finite loss (why NULL) or the model's divergence guard (why). */
static lt_status lti_stopped(lti_trainer *t, double lv, const char *why, int64_t e, int64_t k, int64_t first) {
    const lt_train_state *s = &t->s;
    char kept[4400], what[512];
    if (s->epoch > 0 || first > 0)
        snprintf(kept, sizeof kept, "the last good checkpoint (epoch %lld) is kept in %s/checkpoints", (long long)s->epoch,
                 t->run_dir);
    else
        snprintf(kept, sizeof kept, "no checkpoint had been written yet");
    if (why) snprintf(what, sizeof what, "training diverged (%s)", why);
    else if (t->plan.n_phases > 1)
        snprintf(what, sizeof what, "training loss of phase %s is %g", t->plan.phase_name[t->nan_phase], lv);
    else snprintf(what, sizeof what, "training loss is %g", lv);
    return lt_fail(LT_ERR_NUMERIC, "%s at step %lld (epoch %lld, batch %lld): stopped; %s", what,
                   (long long)s->global_step + 1, (long long)e + 1, (long long)k + 1, kept);
}

/* The model's training scalars of this step into the log window and the epoch's sums. */
static void lti_add_stats(lti_trainer *t) {
    double v[LTI_MAX_STATS];
    const int n = t->m->vt->train_stats(t->m, t->stat_names, v, LTI_MAX_STATS);
    t->n_stats = n;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            t->win_stats[i] += v[i];
            t->epoch_stats[i] += v[i];
            t->win_stat_n[i]++;
            t->epoch_stat_n[i]++;
        }
}

static lt_status lti_group_sum_f32(void *ud, float *buf, int64_t n) { return lt_comm_sum_f32(ud, buf, n); }
static lt_status lti_group_sum_f64(void *ud, double *buf, int64_t n) { return lt_comm_sum_f64(ud, buf, n); }

static lt_status lti_loop(lti_trainer *t, const lt_train_config *c, const lt_train_callbacks *cb) {
    const lt_split *tr = &t->data.split[LT_SPLIT_TRAIN];
    const int64_t N = tr->n, B = t->batch, D = t->data.dim, steps = (N + B - 1) / B;
    lt_train_state *s = &t->s;
    lt_rng root;
    lt_rng_seed(&root, t->seed);
    t->g.rng = &s->rng;
    lt_eval_opts eo = {t->eval_masks, 0};
    const int R = t->size, me = t->rank;
    if (me != 0) cb = NULL; /* rank 0 reports */
    if (me == 0) {
        lt_status st0 = lt_events_open(t->run_dir, &t->ev);
        if (!st0) st0 = lti_log_config(t, s->global_step);
        if (!st0) st0 = lt_events_flush(t->ev);
        if (st0) return st0;
    }
    if (cb && cb->on_start) cb->on_start(cb->ud, t->run_dir, s->epoch, t->epochs, steps, t->m->params.total);
    for (int64_t e = s->epoch; e < t->epochs; e++) {
        if (t->patience > 0 && s->bad_epochs >= t->patience) break; /* a resumed run that had stopped early */
        lt_rng pr = lt_rng_fork(&root, LTI_STREAM_PERM + (uint64_t)e);
        lt_rng_permutation(&pr, t->perm, N);
        if (R > 1 && lt_dataset_can_hold(&t->data, LT_SPLIT_TRAIN)) {
            lt_status st = lti_hold_share(t, s->step_in_epoch, N);
            if (st) return lt_fail_context(st, "epoch %lld: ", (long long)e + 1);
        }
        const double t0 = lti_now();
        const int64_t first = s->step_in_epoch;
        t->reduce_secs = 0;
        t->reduce_early = 0;
        memset(t->epoch_stats, 0, sizeof t->epoch_stats);
        memset(t->epoch_stat_n, 0, sizeof t->epoch_stat_n);
        double lr = 0;
        for (int64_t k = first; k < steps; k++) {
            const int64_t n = N - k * B < B ? N - k * B : B; /* the whole batch; this rank's share: */
            int64_t lo, nr;
            lti_share(n, R, me, &lo, &nr);
            lt_rng_part part = {lo, nr, n};
            t->g.part = R > 1 ? &part : NULL;
            t->g.group = R > 1 ? &t->group : NULL;
            const double ts = lti_now();
            lt_batch_opts bo = {t->binarize, t->seed, e, (lt_range)t->m->vt->range, &t->aug};
            lt_views_batch(&t->data, LT_SPLIT_TRAIN, t->perm + k * B + lo, nr, &bo, lt_model_views(t->m), 0, t->x, t->y);
            if (t->tok) lt_dataset_tokens(&t->data, LT_SPLIT_TRAIN, t->perm + k * B + lo, nr, t->tok);
            if (t->trace) {
                for (int64_t i = 0; i < nr; i++) fprintf(t->trace, "%lld %lld\n", (long long)e, (long long)t->perm[k * B + lo + i]);
                fflush(t->trace);
            }
            lt_batch b = {t->x, t->m->n_classes > 0 ? t->y : NULL, nr * lt_model_views(t->m), D, t->tok};
            if (t->m->vt->on_step) t->m->vt->on_step(t->m, s->global_step);
            const int log_now = (s->global_step + 1) % t->log_every == 0;
            double lv = 0, gnorm = 0;
            int stop = c->stop && *c->stop;
            t->g.training = 1;
            lt_status st = lti_step(t, &b, n, nr, log_now, &lv, &stop, &lr, &gnorm);
            t->g.training = 0; /* validation and sampling run in evaluation mode */
            if (st == LT_ERR_NUMERIC) return lti_stopped(t, lv, NULL, e, k, first);
            if (st) return lt_fail_context(st, "epoch %lld step %lld: ", (long long)e + 1, (long long)k + 1);
            const char *why = t->m->vt->diverged ? t->m->vt->diverged(t->m) : NULL;
            if (t->m->vt->diverged && R > 1) { /* any rank's guard stops every rank */
                double f = why != NULL;
                if ((st = lt_comm_sum_f64(t->comm, &f, 1))) return st;
                if (f > 0 && !why) why = "another rank's divergence guard fired";
            }
            if (why) return lti_stopped(t, lv, why, e, k, first);
            if (t->m->vt->train_stats) lti_add_stats(t);
            t->g.part = NULL; /* sampling and validation draw for themselves */
            t->g.group = NULL;
            s->global_step++;
            s->step_in_epoch = k + 1;
            s->loss_sum += lv;
            t->win_loss += lv;
            t->win_steps++;
            t->win_examples += n;
            t->win_secs += lti_now() - ts;
            if (log_now && me == 0 && (st = lti_log_steps(t, lr, gnorm))) return st;
            if (cb && cb->on_step) {
                const double el = lti_now() - t0, done = (double)(k + 1 - first);
                const double eps = el > 0 ? done * (double)B / el : 0;
                /* this epoch's remaining steps at its rate; later epochs at the last whole epoch's time */
                const double rest = (double)(t->epochs - e - 1);
                const double now = eps > 0 ? (double)(steps - k - 1) * (double)B / eps : 0;
                const double later = t->epoch_secs > 0 ? rest * t->epoch_secs
                                     : eps > 0      ? rest * (double)steps * (double)B / eps
                                                    : 0;
                lt_train_progress p = {e + 1, t->epochs, k + 1, steps, s->global_step, s->loss_sum / (double)(k + 1),
                                       eps, now + later};
                cb->on_step(cb->ud, &p);
            }
            if (R == 1) stop = c->stop && *c->stop; /* polled after the step's callback */
            if (stop) {
                s->seconds += lti_now() - t0;
                st = me == 0 ? lti_save(t, lti_ckpt(t, "last")) : LT_OK;
                if (st) return st;
                lti_ckpt(t, "last");
                lt_comm_set_agreed(t->comm, 1);
                return lt_fail(LT_ERR_INTERRUPTED,
                               "interrupted at epoch %lld step %lld/%lld; saved %s (continue with --resume %s)",
                               (long long)e + 1, (long long)k + 1, (long long)steps, t->path, t->run_dir);
            }
        }
        const double t_train = lti_now() - t0;
        /* --valid-every: validation, samples and `best` on every N-th epoch and the last one */
        const int validate = (e + 1) % t->valid_every == 0 || e + 1 == t->epochs;
        lt_eval_result vr = {0, NAN, NAN, NAN, NAN, NAN};
        double elbo = NAN, elbo_se = NAN; /* models with a bound: its mean over the validation split */
        const char *mnames[LT_EVAL_MAX_METRICS];
        double mvals[LT_EVAL_MAX_METRICS];
        int nm = 0; /* the model's own validation metrics (codebook health, ...), over the whole split */
        lt_status st = validate ? lti_validate(t, &eo, &vr, &elbo, &elbo_se) : LT_OK;
        if (st) return lt_fail_context(st, "validation after epoch %lld: ", (long long)e + 1);
        const lt_eval_data ed = {&t->data, LT_SPLIT_VALID, t->binarize, t->seed, 100};
        if (!validate) {
        } else if (R > 1 && lt_evaluate_metrics_splits(t->m)) { /* each rank its share, the sums reduced */
            int64_t lo, cnt;
            lti_share(ed.data->split[LT_SPLIT_VALID].n, R, me, &lo, &cnt);
            st = lt_evaluate_metrics_part(t->m, &t->g, &ed, lo, cnt, t->comm, mnames, mvals, LT_EVAL_MAX_METRICS, &nm);
        } else { /* every rank the whole split (a model whose accumulators cannot be exported) */
            st = lt_evaluate_metrics(t->m, &t->g, &ed, mnames, mvals, LT_EVAL_MAX_METRICS, &nm);
        }
        if (st)
            return lt_fail_context(st, "validation metrics after epoch %lld: ", (long long)e + 1);
        if (validate && (st = lt_knn_monitor(t->m, &t->g, &t->data, t->binarize, t->seed, mnames, mvals, LT_EVAL_MAX_METRICS, &nm)))
            return lt_fail_context(st, "validation k-NN after epoch %lld: ", (long long)e + 1); /* train/features.h */
        const double train_loss = s->loss_sum / (double)steps;
        s->epoch = e + 1;
        s->step_in_epoch = 0;
        s->loss_sum = 0;
        const double score = t->select_elbo ? -elbo : vr.nll_nats; /* what `best` and patience follow */
        const int best = validate && score < s->best_valid;
        if (best) {
            s->best_valid = score;
            s->best_epoch = e + 1;
            s->bad_epochs = 0;
        } else if (validate) { /* the epochs since the best one, validated or not */
            s->bad_epochs = e + 1 - s->best_epoch;
        }
        const double secs = lti_now() - t0;
        s->seconds += secs;
        if (first == 0) t->epoch_secs = secs;
        const int stop_early = validate && t->patience > 0 && s->bad_epochs >= t->patience;
        int stop = 0;
        if (me != 0) { /* rank 0 writes RUN; the others only learn whether to go on */
            if ((st = lti_stop_all(t, c, &stop))) return st;
            if (stop) {
                lt_comm_set_agreed(t->comm, 1);
                return lt_fail(LT_ERR_INTERRUPTED, "interrupted after epoch %lld", (long long)s->epoch);
            }
            if (stop_early) break;
            continue;
        }
        if (best && (st = lti_save(t, lti_ckpt(t, "best")))) return st;
        if ((st = lti_save(t, lti_ckpt(t, "last")))) return st;
        if (validate && (st = lti_write_samples(t, e + 1))) return st;
        if (t->keep != 0 && (st = lti_periodic_checkpoint(t, e + 1))) return st;
        lt_events *ev = t->ev;
        const int64_t gs = s->global_step;
        const double temp = t->m->vt->temperature ? t->m->vt->temperature(t->m) : NAN;
        for (int k = 0; k < nm; k++) {
            char tag[96];
            snprintf(tag, sizeof tag, "valid/%s", mnames[k]);
            if ((st = lt_events_scalar(ev, gs, tag, mvals[k]))) return st;
        }
        if ((validate && (st = lt_events_scalar(ev, gs, "valid/nll", vr.nll_nats))) ||
            (validate && (st = lt_events_scalar(ev, gs, "valid/bits_per_dim", vr.bits_per_dim))) ||
            (st = lt_events_scalar(ev, gs, "train/epoch_loss", train_loss)) ||
            (st = lt_events_scalar(ev, gs, "epoch", (double)s->epoch)) ||
            (validate && (st = lti_log_samples(t, e + 1, gs))) ||
            (validate && t->m->vt->elbo && (st = lt_events_scalar(ev, gs, "valid/neg_elbo", -elbo))) ||
            (temp == temp && (st = lt_events_scalar(ev, gs, "valid/temperature", temp))) ||
            (validate && (st = lti_log_recons(t, e + 1, gs))) ||
            (st = lt_events_flush(ev)))
            return st;
        const double eps = t_train > 0 ? (double)(N - first * B > 0 ? N - first * B : 0) / t_train : 0;
        char line[4096];
        char vals[160] = "\"valid_nll\": null, \"valid_stderr\": null, \"valid_bits_per_dim\": null"; /* skipped */
        if (validate)
            snprintf(vals, sizeof vals, "\"valid_nll\": %.6f, \"valid_stderr\": %.6f, \"valid_bits_per_dim\": %.6f",
                     vr.nll_nats, vr.nll_stderr, vr.bits_per_dim);
        snprintf(line, sizeof line,
                 "{\"epoch\": %lld, \"global_step\": %lld, \"train_loss\": %.6f, %s, \"lr\": %.6g, \"seconds\": %.3f, "
                 "\"examples_per_s\": %.1f, \"best\": %s, \"stop_early\": %s}",
                 (long long)s->epoch, (long long)s->global_step, train_loss, vals, lr, secs, eps,
                 best ? "true" : "false", stop_early ? "true" : "false");
        if (t->m->vt->elbo && validate) {
            size_t k = strlen(line) - 1; /* over the closing brace */
            snprintf(line + k, sizeof line - k, ", \"valid_neg_elbo\": %.6f, \"valid_neg_elbo_stderr\": %.6f}", -elbo,
                     elbo_se);
        }
        if (temp == temp) {
            size_t k = strlen(line) - 1;
            snprintf(line + k, sizeof line - k, ", \"temperature\": %.6g}", temp);
        }
        if (R > 1) { /* rank 0's time in the gradient all-reduce (and the flags riding with it) */
            size_t k = strlen(line) - 1;
            snprintf(line + k, sizeof line - k,
                     ", \"ranks\": %d, \"allreduce_s\": %.6f, \"allreduce_bytes_per_step\": %lld, \"allreduce_buckets\": %lld, "
                     "\"allreduce_buckets_early\": %lld}",
                     R, t->reduce_secs, (long long)(t->m->params.total * (int64_t)sizeof(float)),
                     (long long)(t->red.single ? 0 : t->red.nb), (long long)t->reduce_early);
            if (t->held > 0) { /* lt_dataset_hold: what rank 0 kept in memory of the training split */
                k = strlen(line) - 1;
                snprintf(line + k, sizeof line - k, ", \"train_examples_held\": %lld}", (long long)t->held);
            }
        }
        for (int j = 0; j < t->n_stats; j++) { /* over this session's steps of the epoch that measured it */
            size_t k = strlen(line) - 1;
            const double v = t->epoch_stat_n[j] > 0 ? t->epoch_stats[j] / (double)t->epoch_stat_n[j] : NAN;
            if (isfinite(v)) snprintf(line + k, sizeof line - k, ", \"train_%s\": %.6g}", t->stat_names[j], v);
            else snprintf(line + k, sizeof line - k, ", \"train_%s\": null}", t->stat_names[j]);
        }
        for (int j = 0; j < nm; j++) { /* JSON has no NaN: null */
            size_t k = strlen(line) - 1;
            if (isfinite(mvals[j])) snprintf(line + k, sizeof line - k, ", \"valid_%s\": %.6g}", mnames[j], mvals[j]);
            else snprintf(line + k, sizeof line - k, ", \"valid_%s\": null}", mnames[j]);
        }
        if ((st = lt_run_check(t->run_dir, &t->rid)) || (st = lt_run_append_metrics(t->run_dir, s->epoch, line)))
            return st;
        if (cb && cb->on_epoch) {
            lt_epoch_report r = {s->epoch, t->epochs, s->global_step, train_loss, vr.nll_nats, vr.nll_stderr,
                                 vr.bits_per_dim, vr.examples, lr, secs, eps, best, stop_early,
                                 t->m->vt->elbo ? -elbo : NAN, temp, line};
            cb->on_epoch(cb->ud, &r);
        }
        if ((st = lti_stop_all(t, c, &stop))) return st;
        if (stop) {
            lt_comm_set_agreed(t->comm, 1);
            return lt_fail(LT_ERR_INTERRUPTED, "interrupted after epoch %lld; saved %s/checkpoints (continue with --resume %s)",
                           (long long)s->epoch, t->run_dir, t->run_dir);
        }
        if (stop_early) break;
    }
    return LT_OK;
}

lt_status lt_train(const lt_train_config *c, const lt_train_callbacks *cb) {
    if (!c->run_dir || !*c->run_dir) return lt_fail(LT_ERR_ARG, "no run directory given (--out RUN)");
    lti_trainer t;
    memset(&t, 0, sizeof t);
    t.run_dir = c->run_dir;
    t.log_every = c->log_every > 0 ? c->log_every : 50;
    t.keep = c->keep == 0 ? LT_TRAIN_KEEP_DEFAULT : c->keep;
    t.bucket_bytes = c->bucket_bytes;
    t.comm = c->comm;
    t.group = (lt_graph_group){c->comm, lti_group_sum_f32, lti_group_sum_f64};
    t.rank = lt_comm_rank(c->comm);
    t.size = lt_comm_size(c->comm);
    lt_comm_set_agreed(c->comm, 0);
    lt_status st;
    char cfg_path[4200];
    snprintf(cfg_path, sizeof cfg_path, "%s/config.json", c->run_dir);
    if (c->resume) {
        st = lt_run_read_json(cfg_path, &t.cfg);
        if (st) {
            st = lt_fail_context(st, "--resume %s: ", c->run_dir);
        } else {
            if (c->epochs > 0) json_object_set_new(t.cfg, "epochs", json_integer(c->epochs));
            if (c->valid_every > 0) json_object_set_new(t.cfg, "valid_every", json_integer(c->valid_every));
            st = lti_setup(&t, 0);
            if (!st)
                st = lt_checkpoint_load_groups(lti_ckpt(&t, "last"), t.m, t.plan.opts, t.plan.names, t.plan.n_groups,
                                               &t.s, t.prior);
        }
        st = lt_comm_agree(c->comm, st); /* every rank has read config.json before rank 0 rewrites it */
        if (!st && (c->epochs > 0 || c->valid_every > 0) && t.rank == 0) st = lt_run_write_json(cfg_path, t.cfg);
    } else {
        if (!access(cfg_path, F_OK))
            st = lt_fail(LT_ERR_ARG, "%s already holds a run (config.json); continue it with --resume %s or choose another --out",
                         c->run_dir, c->run_dir);
        else
            st = lti_fresh_config(c, &t.cfg);
        if (!st) st = lti_setup(&t, 1); /* all checks before the directory exists: bad input leaves nothing */
        st = lt_comm_agree(c->comm, st);
        if (!st) {
            lt_rng root;
            lt_rng_seed(&root, t.seed);
            t.s.rng = lt_rng_fork(&root, LTI_STREAM_TRAIN);
            t.s.best_valid = HUGE_VAL;
        }
        if (!st && t.rank == 0) {
            char sub[4200];
            snprintf(sub, sizeof sub, "%s/checkpoints", c->run_dir);
            st = lt_run_mkdir(sub);
            snprintf(sub, sizeof sub, "%s/samples", c->run_dir);
            if (!st) st = lt_run_mkdir(sub);
            if (!st) st = lt_run_write_json(cfg_path, t.cfg);
        }
    }
    /* Every rank starts from rank 0's parameters (the same by construction; this makes it so). */
    if (!st && t.size > 1) st = lt_comm_bcast(c->comm, t.m->params.data, t.m->params.total * (int64_t)sizeof(float), 0);
    const char *trace = getenv("LT_TRACE_EXAMPLES");
    if (!st && trace && *trace) {
        snprintf(cfg_path, sizeof cfg_path, "%s.%d", trace, t.rank);
        if (!(t.trace = fopen(cfg_path, "a"))) st = lt_fail(LT_ERR_IO, "LT_TRACE_EXAMPLES: cannot open %s: %s", cfg_path, strerror(errno));
    }
    if (!st && t.rank == 0) st = lt_run_identify(c->run_dir, &t.rid);
    if (!st) st = lti_loop(&t, c, cb);
    lti_teardown(&t);
    return st;
}
