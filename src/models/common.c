/* Helpers shared by the models: config readers, label one-hots, Bernoulli likelihoods. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/internal.h"
#include "ops/ops.h"

static int lti_json_int(const json_t *v, int64_t *out) {
    if (json_is_integer(v)) { *out = (int64_t)json_integer_value(v); return 1; }
    if (json_is_real(v)) { /* configs written by other tools may store 500.0 */
        double d = json_real_value(v);
        if (d == floor(d) && fabs(d) < 9e18) { *out = (int64_t)d; return 1; }
    }
    return 0;
}

lt_status lti_cfg_int(const lt_model *m, const char *key, int64_t def, int64_t lo, int64_t hi, int64_t *out) {
    json_t *v = json_object_get(m->config, key);
    if (!v || json_is_null(v)) { *out = def; return LT_OK; }
    int64_t x;
    if (!lti_json_int(v, &x))
        return lt_fail(LT_ERR_ARG, "model '%s': option '%s' must be an integer", m->vt->name, key);
    if (x < lo || x > hi)
        return lt_fail(LT_ERR_ARG, "model '%s': option '%s' is %lld, expected %lld..%lld", m->vt->name, key,
                       (long long)x, (long long)lo, (long long)hi);
    *out = x;
    return LT_OK;
}

lt_status lti_cfg_bool(const lt_model *m, const char *key, int def, int *out) {
    json_t *v = json_object_get(m->config, key);
    int64_t x;
    if (!v || json_is_null(v)) *out = def;
    else if (json_is_boolean(v)) *out = json_is_true(v);
    else if (lti_json_int(v, &x) && (x == 0 || x == 1)) *out = (int)x;
    else return lt_fail(LT_ERR_ARG, "model '%s': option '%s' must be true or false", m->vt->name, key);
    return LT_OK;
}

static lt_status lti_hidden_one(const lt_model *m, int64_t v, int64_t *sizes, int max, int *n) {
    if (v < 1 || v > (1 << 20))
        return lt_fail(LT_ERR_ARG, "model '%s': hidden layer size %lld, expected 1..%d", m->vt->name, (long long)v, 1 << 20);
    if (*n >= max) return lt_fail(LT_ERR_ARG, "model '%s': more than %d hidden layers", m->vt->name, max);
    sizes[(*n)++] = v;
    return LT_OK;
}

lt_status lti_cfg_hidden(const lt_model *m, int64_t def, int64_t *sizes, int max, int *n) {
    json_t *v = json_object_get(m->config, "hidden");
    lt_status st = LT_OK;
    int64_t x;
    *n = 0;
    if (!v || json_is_null(v)) return lti_hidden_one(m, def, sizes, max, n);
    if (lti_json_int(v, &x)) return lti_hidden_one(m, x, sizes, max, n);
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (!lti_json_int(e, &x))
                return lt_fail(LT_ERR_ARG, "model '%s': 'hidden' must list integers", m->vt->name);
            if ((st = lti_hidden_one(m, x, sizes, max, n))) return st;
        }
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (*s) {
            char *end;
            errno = 0;
            long long y = strtoll(s, &end, 10);
            if (end == s || errno || (*end && *end != ','))
                return lt_fail(LT_ERR_ARG, "model '%s': 'hidden' is \"%s\", expected sizes like \"500,500\"",
                               m->vt->name, json_string_value(v));
            if ((st = lti_hidden_one(m, y, sizes, max, n))) return st;
            s = *end ? end + 1 : end;
        }
    } else {
        return lt_fail(LT_ERR_ARG, "model '%s': 'hidden' must be an integer, a list or a string \"500,500\"", m->vt->name);
    }
    if (*n == 0) return lt_fail(LT_ERR_ARG, "model '%s': 'hidden' names no layer", m->vt->name);
    return LT_OK;
}

lt_status lti_check_batch(const lt_model *m, const lt_batch *b) {
    if (b->dim != m->dim)
        return lt_fail(LT_ERR_SHAPE, "model '%s' has %lld inputs, the batch has %lld", m->vt->name, (long long)m->dim,
                       (long long)b->dim);
    if (m->n_classes > 0) {
        if (!b->y)
            return lt_fail(LT_ERR_ARG, "model '%s' is class-conditional (%lld classes) but the data has no labels",
                           m->vt->name, (long long)m->n_classes);
        for (int64_t i = 0; i < b->n; i++)
            if (b->y[i] < 0 || b->y[i] >= m->n_classes)
                return lt_fail(LT_ERR_ARG, "model '%s': label %lld of example %lld is outside 0..%lld", m->vt->name,
                               (long long)b->y[i], (long long)i, (long long)m->n_classes - 1);
    }
    return LT_OK;
}

lt_tensor *lti_onehot(lt_graph *g, const lt_model *m, const int64_t *labels, int64_t n) {
    lt_tensor *t = lt_graph_zeros(g, LT_F32, 2, (int64_t[]){n, m->n_classes}); /* (n, C) */
    if (t)
        for (int64_t i = 0; i < n; i++) t->data[i * m->n_classes + labels[i]] = 1.0f;
    return t;
}

lt_tensor *lti_batch_x(lt_graph *g, const lt_batch *b) {
    return lt_graph_wrap(g, (float *)b->x, 2, (int64_t[]){b->n, b->dim}); /* (n, D), never written */
}

lt_tensor *lti_bernoulli_nll_mean(lt_graph *g, lt_tensor *logits, lt_tensor *x) {
    return lt_mean(g, lt_bce_with_logits(g, logits, x), LT_AXIS_ALL, 0);
}

lt_status lti_bernoulli_log_prob(lt_graph *g, lt_tensor *logits, lt_tensor *x, double *out) {
    int old = lt_graph_set_grad(g, 0);
    lt_tensor *nll = lt_bce_with_logits(g, logits, x); /* (n) */
    lt_graph_set_grad(g, old);
    if (!nll) return lt_graph_status(g) ? lt_graph_status(g) : lt_fail(LT_ERR_INTERNAL, "bce_with_logits failed");
    for (int64_t i = 0; i < nll->shape[0]; i++) out[i] = -(double)nll->data[i];
    return LT_OK;
}

lt_status lti_logits_loss(lt_model *m, lt_graph *g, const lt_batch *b, lti_logits_fn logits, lt_tensor **loss) {
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    lt_tensor *x = lti_batch_x(g, b);
    *loss = lti_bernoulli_nll_mean(g, logits(m, g, x, b->y), x);
    return lt_graph_status(g);
}

lt_status lti_logits_log_prob(lt_model *m, lt_graph *g, const lt_batch *b, lti_logits_fn logits, double *out) {
    lt_status st = lti_check_batch(m, b);
    if (st) return st;
    int old = lt_graph_set_grad(g, 0);
    lt_tensor *x = lti_batch_x(g, b);
    lt_tensor *lg = logits(m, g, x, b->y); /* (n,D) */
    lt_graph_set_grad(g, old);
    if (lt_graph_status(g)) return lt_graph_status(g);
    return lti_bernoulli_log_prob(g, lg, x, out);
}
