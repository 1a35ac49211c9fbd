#include "core/params.h"

#include <string.h>

#include "core/alloc.h"

void lt_params_init(lt_params *p) { memset(p, 0, sizeof *p); }

void lt_params_free(lt_params *p) {
    for (int64_t i = 0; i < p->n; i++) lt_free(p->items[i]);
    lt_free(p->items);
    lt_free(p->data);
    lt_free(p->grad);
    memset(p, 0, sizeof *p);
}

lt_param *lt_params_find(const lt_params *p, const char *name) {
    for (int64_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i]->name, name) == 0) return p->items[i];
    return NULL;
}

lt_tensor *lt_params_add(lt_params *p, const char *name, int ndim, const int64_t *shape) {
    if (p->finalized) { lt_fail(LT_ERR_ARG, "parameter '%s' added after finalize", name); return NULL; }
    if (strlen(name) >= LT_PARAM_NAME_MAX) { lt_fail(LT_ERR_ARG, "parameter name '%s' too long", name); return NULL; }
    if (lt_params_find(p, name)) { lt_fail(LT_ERR_ARG, "duplicate parameter name '%s'", name); return NULL; }
    if (ndim < 0 || ndim > LT_MAX_DIMS) { lt_fail(LT_ERR_SHAPE, "parameter '%s' has %d dims", name, ndim); return NULL; }
    if (p->n == p->cap) {
        int64_t cap = p->cap ? p->cap * 2 : 16;
        lt_param **items = lt_realloc(p->items, sizeof(*items) * cap);
        if (!items) { lt_fail(LT_ERR_NOMEM, "out of memory adding parameter '%s'", name); return NULL; }
        p->items = items;
        p->cap = cap;
    }
    lt_param *q = lt_calloc(1, sizeof *q);
    if (!q) { lt_fail(LT_ERR_NOMEM, "out of memory adding parameter '%s'", name); return NULL; }
    strcpy(q->name, name);
    q->t = lt_tensor_wrap(NULL, ndim, shape);
    q->t.requires_grad = 1;
    q->offset = p->total;
    /* Keep each parameter 16-float (64-byte) aligned inside the block. */
    p->total += (lt_numel(&q->t) + 15) & ~(int64_t)15;
    p->items[p->n++] = q;
    return &q->t;
}

lt_status lt_params_finalize(lt_params *p) {
    if (p->finalized) return LT_OK;
    size_t bytes = (size_t)(p->total ? p->total : 1) * sizeof(float);
    p->data = lt_calloc(1, bytes);
    p->grad = lt_calloc(1, bytes);
    if (!p->data || !p->grad) return lt_fail(LT_ERR_NOMEM, "out of memory for %lld parameters", (long long)p->total);
    for (int64_t i = 0; i < p->n; i++) {
        p->items[i]->t.data = p->data + p->items[i]->offset;
        p->items[i]->t.grad = p->grad + p->items[i]->offset;
    }
    p->finalized = 1;
    return LT_OK;
}

void lt_params_zero_grad(lt_params *p) {
    if (p->grad) memset(p->grad, 0, (size_t)p->total * sizeof(float));
}

double lt_params_grad_sqnorm(const lt_params *p) {
    double s = 0;
    for (int64_t i = 0; i < p->total; i++) s += (double)p->grad[i] * p->grad[i];
    return s;
}
