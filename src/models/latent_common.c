/* MLPs, config readers and importance-weight averaging for vae.c and gsvae.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/latent_internal.h"
#include "ops/ops.h"

lt_status lti_mlp_declare(lt_model *m, lti_mlp *mlp, const char *prefix, const int64_t *sizes, int n, lti_act act) {
    if (n < 1 || n > LTI_MLP_MAX) return lt_fail(LT_ERR_ARG, "model '%s': %d layers, expected 1..%d", m->vt->name, n, LTI_MLP_MAX);
    mlp->n = n;
    mlp->act = act;
    for (int l = 0; l < n; l++) {
        char wn[48], bn[48];
        snprintf(wn, sizeof wn, "%sW%d", prefix, l);
        snprintf(bn, sizeof bn, "%sb%d", prefix, l);
        if (!(mlp->W[l] = lt_params_add(&m->params, wn, 2, (int64_t[]){sizes[l + 1], sizes[l]})) ||
            !(mlp->b[l] = lt_params_add(&m->params, bn, 1, (int64_t[]){sizes[l + 1]})))
            return LT_ERR_NOMEM;
    }
    return LT_OK;
}

void lti_mlp_init(lt_model *m, lti_mlp *mlp) {
    for (int l = 0; l < mlp->n; l++) {
        float s = 1.0f / sqrtf((float)mlp->W[l]->shape[1]);
        lt_rng_fill_uniform(&m->rng, mlp->W[l]->data, lt_numel(mlp->W[l]), -s, s);
        lt_rng_fill_uniform(&m->rng, mlp->b[l]->data, lt_numel(mlp->b[l]), -s, s);
    }
}

lt_tensor *lti_mlp_forward(lt_graph *g, const lti_mlp *mlp, lt_tensor *x) {
    lt_tensor *h = x;
    for (int l = 0; l < mlp->n; l++) {
        h = lt_linear(g, h, mlp->W[l], mlp->b[l]);
        if (l + 1 < mlp->n)
            h = mlp->act == LTI_ACT_RELU ? lt_relu(g, h) : mlp->act == LTI_ACT_TANH ? lt_tanh(g, h) : lt_softplus(g, h);
    }
    return h;
}

lt_status lti_cfg_str(const lt_model *m, const char *key, const char *def, const char **out) {
    json_t *v = json_object_get(m->config, key);
    if (!v || json_is_null(v)) { *out = def; return LT_OK; }
    if (!json_is_string(v)) return lt_fail(LT_ERR_ARG, "model '%s': option '%s' must be a string", m->vt->name, key);
    *out = json_string_value(v);
    return LT_OK;
}

lt_status lti_cfg_real(const lt_model *m, const char *key, double def, double lo, double hi, double *out) {
    json_t *v = json_object_get(m->config, key);
    if (!v || json_is_null(v)) { *out = def; return LT_OK; }
    if (!json_is_number(v)) return lt_fail(LT_ERR_ARG, "model '%s': option '%s' must be a number", m->vt->name, key);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return lt_fail(LT_ERR_ARG, "model '%s': option '%s' is %g, expected %g..%g", m->vt->name, key, x, lo, hi);
    *out = x;
    return LT_OK;
}

lt_status lti_cfg_act(const lt_model *m, lti_act def, lti_act *out) {
    const char *s = NULL;
    lt_status st = lti_cfg_str(m, "activation", NULL, &s);
    if (st) return st;
    if (!s) *out = def;
    else if (!strcmp(s, "relu")) *out = LTI_ACT_RELU;
    else if (!strcmp(s, "softplus")) *out = LTI_ACT_SOFTPLUS;
    else if (!strcmp(s, "tanh")) *out = LTI_ACT_TANH;
    else return lt_fail(LT_ERR_ARG, "model '%s': activation '%s', expected relu, softplus or tanh", m->vt->name, s);
    return LT_OK;
}

void lti_log_mean_exp(const double *lw, int64_t K, int64_t n, double *out, double *mean) {
    for (int64_t i = 0; i < n; i++) {
        double mx = -INFINITY, s = 0, sum = 0;
        for (int64_t k = 0; k < K; k++) mx = fmax(mx, lw[k * n + i]);
        for (int64_t k = 0; k < K; k++) {
            s += exp(lw[k * n + i] - mx);
            sum += lw[k * n + i];
        }
        out[i] = mx + log(s) - log((double)K);
        if (mean) mean[i] = sum / (double)K;
    }
}

lt_tensor *lti_tile(lt_graph *g, lt_tensor *t, int64_t K) {
    if (K == 1 || !t) return t;
    lt_tensor **ts = lt_graph_alloc(g, sizeof(lt_tensor *) * (size_t)K);
    if (!ts) return NULL;
    for (int64_t k = 0; k < K; k++) ts[k] = t;
    return lt_concat(g, (int)K, ts, 0);
}
