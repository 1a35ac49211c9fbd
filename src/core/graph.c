#include "core/graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

lt_status lt_graph_init(lt_graph *g, size_t arena_bytes) {
    memset(g, 0, sizeof *g);
    lt_arena_init(&g->arena, arena_bytes ? arena_bytes : (1u << 20));
    g->grad_enabled = 1;
    g->cap_nodes = 256;
    g->nodes = lt_malloc(sizeof(lti_node) * g->cap_nodes);
    if (!g->nodes || !g->arena.head) {
        lt_graph_free(g);
        return lt_fail(LT_ERR_NOMEM, "out of memory creating a graph");
    }
    return LT_OK;
}

void lt_graph_free(lt_graph *g) {
    lt_arena_free(&g->arena);
    lt_free(g->nodes);
    memset(g, 0, sizeof *g);
}

void lt_graph_reset(lt_graph *g) {
    lt_arena_reset(&g->arena);
    g->grad_pool = NULL;
    g->n_nodes = 0;
    g->status = LT_OK;
}

lt_status lt_graph_sum_f32(lt_graph *g, float *buf, int64_t n) {
    if (g->status || !g->group || n <= 0) return g->status;
    lt_status st = g->group->sum_f32(g->group->ud, buf, n);
    if (st) g->status = st;
    return st;
}

lt_status lt_graph_sum_f64(lt_graph *g, double *buf, int64_t n) {
    if (g->status || !g->group || n <= 0) return g->status;
    lt_status st = g->group->sum_f64(g->group->ud, buf, n);
    if (st) g->status = st;
    return st;
}

int lt_graph_set_grad(lt_graph *g, int enabled) {
    int old = g->grad_enabled;
    g->grad_enabled = enabled;
    return old;
}

lt_status lti_graph_fail(lt_graph *g, lt_status code, const char *fmt, ...) {
    if (g->status) return g->status; /* keep the first, most specific message */
    char buf[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g->status = code;
    return lt_fail(code, "%s", buf);
}

void *lt_graph_alloc(lt_graph *g, size_t bytes) {
    void *p = lt_arena_alloc(&g->arena, bytes);
    if (!p) lti_graph_fail(g, LT_ERR_NOMEM, "out of memory: arena request of %zu bytes", bytes);
    return p;
}

lt_tensor *lt_graph_new(lt_graph *g, lt_dtype dtype, int ndim, const int64_t *shape) {
    if (g->status) return NULL;
    if (ndim < 0 || ndim > LT_MAX_DIMS) {
        lti_graph_fail(g, LT_ERR_SHAPE, "tensor with %d dims (at most %d)", ndim, LT_MAX_DIMS);
        return NULL;
    }
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            lti_graph_fail(g, LT_ERR_SHAPE, "negative dimension %lld", (long long)shape[i]);
            return NULL;
        }
        n *= shape[i];
    }
    lt_tensor *t = lt_graph_alloc(g, sizeof *t);
    void *d = lt_graph_alloc(g, (size_t)n * (dtype == LT_I64 ? 8 : 4));
    if (!t || !d) return NULL;
    memset(t, 0, sizeof *t);
    t->data = d;
    t->dtype = dtype;
    t->ndim = ndim;
    t->node = -1;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    return t;
}

lt_tensor *lt_graph_zeros(lt_graph *g, lt_dtype dtype, int ndim, const int64_t *shape) {
    lt_tensor *t = lt_graph_new(g, dtype, ndim, shape);
    if (t) memset(t->data, 0, (size_t)lt_numel(t) * (dtype == LT_I64 ? 8 : 4));
    return t;
}

lt_tensor *lt_graph_wrap(lt_graph *g, float *data, int ndim, const int64_t *shape) {
    if (g->status) return NULL;
    lt_tensor *t = lt_graph_alloc(g, sizeof *t);
    if (t) *t = lt_tensor_wrap(data, ndim, shape);
    return t;
}

lt_tensor *lt_graph_wrap_i64(lt_graph *g, int64_t *data, int ndim, const int64_t *shape) {
    if (g->status) return NULL;
    lt_tensor *t = lt_graph_alloc(g, sizeof *t);
    if (t) *t = lt_tensor_wrap_i64(data, ndim, shape);
    return t;
}

lt_tensor *lt_graph_scalar(lt_graph *g, float v) {
    lt_tensor *t = lt_graph_new(g, LT_F32, 0, NULL);
    if (t) t->data[0] = v;
    return t;
}

lti_node *lti_graph_record(lt_graph *g, int op, lt_tensor *out, int nin, lt_tensor *const *in) {
    if (!g->grad_enabled || g->status) return NULL;
    int need = 0;
    for (int i = 0; i < nin; i++) need |= in[i] && in[i]->requires_grad;
    if (!need) return NULL;
    if (g->n_nodes == g->cap_nodes) {
        lti_node *n = lt_realloc(g->nodes, sizeof(lti_node) * g->cap_nodes * 2);
        if (!n) {
            lti_graph_fail(g, LT_ERR_NOMEM, "out of memory growing the tape");
            return NULL;
        }
        g->nodes = n;
        g->cap_nodes *= 2;
    }
    lti_node *node = &g->nodes[g->n_nodes];
    memset(node, 0, sizeof *node);
    node->op = op;
    node->nin = nin;
    node->out = out;
    for (int i = 0; i < nin; i++) node->in[i] = in[i];
    out->requires_grad = 1;
    out->node = (int32_t)g->n_nodes++;
    if (g->on_record) g->on_record(g->on_record_ud, out->node);
    return node;
}

/* The pool: released buffers, each headed by its size (capacity, a multiple of 64 bytes:
 * what the arena handed out for the tensor, or a split piece of it). */
typedef struct lti_grad_buf {
    struct lti_grad_buf *next;
    size_t bytes;
} lti_grad_buf;

static size_t lti_grad_bytes(const lt_tensor *t) {
    size_t b = ((size_t)lt_numel(t) * sizeof(float) + 63) & ~(size_t)63;
    return b ? b : 64;
}

static void lti_grad_push(lt_graph *g, void *p, size_t bytes) {
    lti_grad_buf *b = p;
    b->bytes = bytes;
    b->next = g->grad_pool;
    g->grad_pool = b;
}

/* The smallest released buffer that holds `bytes`; what it has beyond goes back. */
static float *lti_grad_reuse(lt_graph *g, size_t bytes) {
    lti_grad_buf **best = NULL;
    for (lti_grad_buf **p = (lti_grad_buf **)&g->grad_pool; *p; p = &(*p)->next)
        if ((*p)->bytes >= bytes && (!best || (*p)->bytes < (*best)->bytes)) best = p;
    if (!best) return NULL;
    lti_grad_buf *b = *best;
    *best = b->next;
    if (b->bytes > bytes) lti_grad_push(g, (char *)b + bytes, b->bytes - bytes);
    return (float *)b;
}

float *lti_grad_out(lt_graph *g, lt_tensor *t, int *fresh) {
    *fresh = !t->grad;
    if (!t->grad) {
        size_t bytes = lti_grad_bytes(t);
        t->grad = lti_grad_reuse(g, bytes);
        if (!t->grad) t->grad = lt_arena_alloc(&g->arena, bytes);
    }
    if (!t->grad) lti_graph_fail(g, LT_ERR_NOMEM, "out of memory allocating a gradient");
    return t->grad;
}

float *lti_grad(lt_graph *g, lt_tensor *t) {
    int fresh;
    float *d = lti_grad_out(g, t, &fresh);
    if (d && fresh) memset(d, 0, lti_grad_bytes(t));
    return d;
}

void lti_grad_release(lt_graph *g, lt_tensor *t) {
    if (!t->grad) return;
    lti_grad_push(g, t->grad, lti_grad_bytes(t));
    t->grad = NULL;
}
