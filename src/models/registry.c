/* The model registry and the model lifecycle shared by every model:
 * config validation, geometry, parameter blocks, seeding. */
#include <string.h>

#include "core/alloc.h"
#include "models/internal.h"

extern const lt_model_vtable lti_model_fvsbn, lti_model_nade, lti_model_made, lti_model_vae,
    lti_model_gsvae, lti_model_vqvae;
extern const lt_model_vtable lti_model_gpt;
extern const lt_model_vtable lti_model_simclr;
extern const lt_model_vtable lti_model_vqgan;
extern const lt_model_vtable lti_model_mae;

static const lt_model_vtable *const lti_models[] = {&lti_model_fvsbn, &lti_model_nade, &lti_model_made,
                                                    &lti_model_vae, &lti_model_gsvae, &lti_model_vqvae,
                                                    &lti_model_gpt,
                                                    &lti_model_simclr,
                                                    &lti_model_vqgan, &lti_model_mae};
#define LTI_N_MODELS (sizeof lti_models / sizeof lti_models[0])

static const char *const lti_common_keys[] = {"dim", "height", "width", "n_classes", "seed", "channels", "binary", NULL};

const lt_model_vtable *lt_model_find(const char *name) {
    for (size_t i = 0; name && i < LTI_N_MODELS; i++)
        if (!strcmp(lti_models[i]->name, name)) return lti_models[i];
    return NULL;
}

const char *const *lt_model_names(void) {
    static const char *names[LTI_N_MODELS + 1];
    for (size_t i = 0; i < LTI_N_MODELS; i++) names[i] = lti_models[i]->name;
    names[LTI_N_MODELS] = NULL;
    return names;
}

static int lti_key_in(const char *key, const char *const *keys) {
    for (; keys && *keys; keys++)
        if (!strcmp(*keys, key)) return 1;
    return 0;
}

void lt_model_destroy(lt_model *m) {
    if (!m) return;
    if (m->vt && m->vt->destroy) m->vt->destroy(m);
    lt_params_free(&m->params);
    lt_params_free(&m->buffers);
    json_decref(m->config);
    lt_free(m);
}

/* Geometry: dim from channels·height·width when absent; dim must be a multiple of
 * height·width (channels = the quotient), or equal channels·height·width when given. */
static lt_status lti_model_geometry(lt_model *m) {
    lt_status st;
    int64_t h, w, d, c, seed, ch;
    if ((st = lti_cfg_int(m, "channels", 0, 0, 4096, &ch))) return st;
    if ((st = lti_cfg_int(m, "height", 0, 0, 1 << 20, &h)) || (st = lti_cfg_int(m, "width", 0, 0, 1 << 20, &w)) ||
        (st = lti_cfg_int(m, "dim", 0, 0, (int64_t)1 << 30, &d)) ||
        (st = lti_cfg_int(m, "n_classes", 0, 0, 1 << 20, &c)) ||
        (st = lti_cfg_int(m, "seed", 0, 0, INT64_MAX, &seed)))
        return st;
    if ((h == 0) != (w == 0))
        return lt_fail(LT_ERR_ARG, "model '%s': give both 'height' and 'width' or neither", m->vt->name);
    if (d == 0 && h == 0)
        return lt_fail(LT_ERR_ARG, "model '%s': the config needs 'dim' or 'height' and 'width'", m->vt->name);
    if (d == 0) d = (ch > 0 ? ch : 1) * h * w;
    if (h == 0) { h = 1; w = ch > 0 && d % ch == 0 ? d / ch : d; }
    if (d % (h * w))
        return lt_fail(LT_ERR_ARG, "model '%s': dim %lld is not a multiple of height %lld x width %lld", m->vt->name,
                       (long long)d, (long long)h, (long long)w);
    if (ch > 0 && d != ch * h * w)
        return lt_fail(LT_ERR_ARG, "model '%s': dim %lld is not channels %lld x height %lld x width %lld", m->vt->name,
                       (long long)d, (long long)ch, (long long)h, (long long)w);
    m->channels = d / (h * w);
    m->dim = d;
    m->height = h;
    m->width = w;
    m->n_classes = c;
    lt_rng_seed(&m->rng, (uint64_t)seed);
    return LT_OK;
}

lt_status lt_model_create(const char *name, const json_t *config, lt_model **out) {
    *out = NULL;
    const lt_model_vtable *vt = lt_model_find(name);
    if (!vt) {
        char known[256] = "";
        for (size_t i = 0; i < LTI_N_MODELS; i++) {
            if (i) strncat(known, ", ", sizeof known - strlen(known) - 1);
            strncat(known, lti_models[i]->name, sizeof known - strlen(known) - 1);
        }
        return lt_fail(LT_ERR_ARG, "unknown model '%s' (known: %s)", name ? name : "(null)", known);
    }
    if (config && !json_is_object(config))
        return lt_fail(LT_ERR_ARG, "model '%s': the config must be a JSON object", vt->name);
    if (config) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)config, key, v) {
            if (!lti_key_in(key, lti_common_keys) && !lti_key_in(key, vt->config_keys))
                return lt_fail(LT_ERR_ARG, "option '%s' does not apply to model '%s'", key, vt->name);
        }
    }
    lt_model *m = lt_calloc(1, sizeof *m);
    if (!m) return lt_fail(LT_ERR_NOMEM, "out of memory creating model '%s'", vt->name);
    m->vt = vt;
    lt_params_init(&m->params);
    lt_params_init(&m->buffers);
    m->config = config ? json_deep_copy(config) : json_object();
    if (!m->config) {
        lt_free(m);
        return lt_fail(LT_ERR_NOMEM, "out of memory copying the config of model '%s'", vt->name);
    }
    lt_status st = lti_model_geometry(m);
    if (!st) st = vt->create(m);
    if (!st) st = lt_params_finalize(&m->params);
    if (!st) st = lt_params_finalize(&m->buffers);
    if (st) {
        lt_model_destroy(m);
        return st;
    }
    *out = m;
    return LT_OK;
}
