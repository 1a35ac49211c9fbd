/* Loading a frozen SSL encoder from a run (models/frozen_encoder.h). */
#include "models/frozen_encoder.h"

#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "io/safetensors.h"
#include "models/mae_internal.h"
#include "nn/perceptual.h"
#include "ops/ops.h"

/* The encoder's options from RUN/config.json, through the model that trained it. */
static lt_status lti_fe_config(lt_frozen_encoder *e, const char *cfg_path, lt_nn_resnet_opts *o) {
    json_error_t err;
    json_t *c = json_load_file(cfg_path, 0, &err);
    if (!c) {
        if (access(cfg_path, F_OK)) return lt_fail(LT_ERR_ARG, "%s: no such file (expected a training run's config.json)", cfg_path);
        return lt_fail(LT_ERR_FORMAT, "%s: line %d: %s", cfg_path, err.line, err.text);
    }
    const char *name = json_string_value(json_object_get(c, "model"));
    json_t *mc = json_object_get(c, "model_config");
    lt_status st = LT_OK;
    if (!name || !json_is_object(mc))
        st = lt_fail(LT_ERR_FORMAT, "%s: expected 'model' and 'model_config'", cfg_path);
    else if (strcmp(name, "simclr") && strcmp(name, "mae"))
        st = lt_fail(LT_ERR_ARG, "%s: model '%s' has no self-supervised encoder (expected simclr or mae)", cfg_path, name);
    lt_model *m = NULL;
    if (!st && (st = lt_model_create(name, mc, &m))) st = lt_fail_context(st, "%s: ", cfg_path);
    if (!st && (st = lti_mae_encoder_opts(m, o))) st = lt_fail_context(st, "%s: ", cfg_path);
    if (!st) {
        snprintf(e->model, sizeof e->model, "%s", name);
        e->channels = m->channels;
        e->height = m->height;
        e->width = m->width;
        e->range = m->vt->range;
    }
    lt_model_destroy(m);
    json_decref(c);
    return st;
}

/* Every tensor of p from "<prefix><name>" of f, F32 of the same shape. */
static lt_status lti_fe_copy(const char *path, const lt_st_file *f, const lt_params *p, const char *prefix) {
    for (int64_t i = 0; i < p->n; i++) {
        const lt_param *q = p->items[i];
        char key[LT_PARAM_NAME_MAX + 16], a[64], b[64];
        snprintf(key, sizeof key, "%s%s", prefix, q->name);
        const lt_st_entry *s = lt_safetensors_find(f, key);
        if (!s) return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s' missing (the encoder needs it)", path, key);
        lt_tensor want = q->t, got = lt_tensor_wrap(NULL, s->ndim, s->shape);
        if (s->dtype != LT_ST_F32 || !lt_tensor_same_shape(&want, &got))
            return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s' is %s %s, expected F32 %s", path, key,
                           s->dtype == LT_ST_F32 ? "F32" : "not F32", lt_shape_str(&got, a, sizeof a),
                           lt_shape_str(&want, b, sizeof b));
        memcpy(q->t.data, s->data, sizeof(float) * (size_t)lt_numel(&want));
    }
    return LT_OK;
}

lt_status lt_frozen_encoder_open(const char *run_dir, lt_frozen_encoder **out) {
    *out = NULL;
    lt_frozen_encoder *e = lt_calloc(1, sizeof *e);
    if (!e) return lt_fail(LT_ERR_NOMEM, "out of memory loading the encoder of %s", run_dir);
    lt_params_init(&e->params);
    lt_params_init(&e->buffers);
    char cfg[4200];
    lt_nn_resnet_opts o;
    snprintf(cfg, sizeof cfg, "%s/config.json", run_dir);
    lt_status st = lti_fe_config(e, cfg, &o);
    lt_nn nn = {&e->params, &e->buffers};
    if (!st) st = lt_nn_resnet_declare(&e->enc, &nn, "encoder", &o);
    if (!st) st = lt_params_finalize(&e->params);
    if (!st) st = lt_params_finalize(&e->buffers);
    if (!st) {
        snprintf(e->path, sizeof e->path, "%s/checkpoints/best.safetensors", run_dir);
        if (access(e->path, F_OK)) snprintf(e->path, sizeof e->path, "%s/checkpoints/last.safetensors", run_dir);
        if (access(e->path, F_OK))
            st = lt_fail(LT_ERR_ARG, "%s/checkpoints: no best.safetensors or last.safetensors (has the run trained an epoch?)",
                         run_dir);
    }
    lt_st_file f;
    int open = 0;
    if (!st && !(st = lt_safetensors_read(e->path, &f))) open = 1;
    if (!st) {
        const char *mn = lt_safetensors_meta(&f, "model");
        if (!mn || strcmp(mn, e->model))
            st = lt_fail(LT_ERR_FORMAT, "%s: a checkpoint of model '%s', but %s says '%s'", e->path, mn ? mn : "(none)",
                         cfg, e->model);
    }
    if (!st) st = lti_fe_copy(e->path, &f, &e->params, "param.");
    if (!st) st = lti_fe_copy(e->path, &f, &e->buffers, "buffer.");
    if (open) lt_safetensors_close(&f);
    if (st) {
        lt_frozen_encoder_close(e);
        return st;
    }
    lt_nn_freeze(&e->params);
    lt_nn_freeze(&e->buffers);
    *out = e;
    return LT_OK;
}

void lt_frozen_encoder_close(lt_frozen_encoder *e) {
    if (!e) return;
    lt_params_free(&e->params);
    lt_params_free(&e->buffers);
    lt_free(e);
}

/* x from pixel range `from` to `to`: [0,1] <-> [-1,1], recorded */
static lt_tensor *lti_fe_range(lt_graph *g, lt_tensor *x, int from, int to) {
    if (from == to) return x;
    return to == LT_MODEL_RANGE_SIGNED ? lt_add_scalar(g, lt_mul_scalar(g, x, 2.0f), -1.0f)
                                       : lt_mul_scalar(g, lt_add_scalar(g, x, 1.0f), 0.5f);
}

lt_tensor *lt_frozen_encoder_distance(lt_graph *g, lt_frozen_encoder *e, lt_tensor *x, lt_tensor *y, int range) {
    return lt_nn_perceptual(g, &e->enc, lti_fe_range(g, x, range, e->range), lti_fe_range(g, y, range, e->range));
}
