/* Shape ops: reshape (a view), permute/transpose, slice, concat, embedding.
 * All but reshape copy; every backward scatters the output gradient back to
 * where the value came from, adding (never assigning), but reshape's, which hands its
 * output's gradient buffer to the input when the input has none yet. */
#include <string.h>

#include "ops/internal.h"

static int lti_axis(lt_graph *g, const char *op, int axis, int ndim) {
    int a = axis < 0 ? axis + ndim : axis;
    if (a < 0 || a >= ndim) {
        lti_graph_fail(g, LT_ERR_ARG, "%s: axis %d out of range for a %d-D tensor", op, axis, ndim);
        return -1;
    }
    return a;
}

/* ---- reshape ---- a view: out->data == a->data; only the gradient is separate */

lt_tensor *lt_reshape(lt_graph *g, lt_tensor *a, int ndim, const int64_t *shape) {
    if (!a || g->status) return NULL;
    char s[64];
    if (ndim < 0 || ndim > LT_MAX_DIMS) {
        lti_graph_fail(g, LT_ERR_SHAPE, "reshape: %d dims requested (at most %d)", ndim, LT_MAX_DIMS);
        return NULL;
    }
    int64_t known = 1, n = lt_numel(a);
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == -1 && infer < 0) infer = i;
        else if (shape[i] < 0) {
            lti_graph_fail(g, LT_ERR_SHAPE, "reshape: bad dimension %lld at position %d (one -1 at most)",
                           (long long)shape[i], i);
            return NULL;
        } else known *= shape[i];
    }
    int64_t inferred = infer >= 0 && known > 0 ? n / known : 1;
    if ((infer >= 0 ? known * inferred : known) != n) {
        lti_graph_fail(g, LT_ERR_SHAPE, "reshape: %s has %lld elements, which do not fit the requested shape",
                       lt_shape_str(a, s, 64), (long long)n);
        return NULL;
    }
    lt_tensor *out = lt_graph_alloc(g, sizeof *out);
    if (!out) return NULL;
    *out = *a;
    out->grad = NULL;
    out->requires_grad = 0;
    out->node = -1;
    out->ndim = ndim;
    for (int i = 0; i < LT_MAX_DIMS; i++) out->shape[i] = i < ndim ? (i == infer ? inferred : shape[i]) : 0;
    if (a->dtype == LT_F32) lti_graph_record(g, LT_OP_RESHAPE, out, 1, &a);
    return out;
}

void lti_reshape_backward(lt_graph *g, lti_node *n) {
    lt_tensor *a = n->in[0];
    if (!a->requires_grad) return;
    if (!a->grad && n->out->grad) { /* nothing added to a's gradient yet: it is the output's, handed over */
        a->grad = n->out->grad;
        n->out->grad = NULL;
        return;
    }
    float *da = lti_grad(g, a);
    if (!da) return;
    const float *dy = n->out->grad;
    int64_t m = lt_numel(a);
    for (int64_t i = 0; i < m; i++) da[i] += dy[i];
}

/* ---- permute ---- iarg[0..ndim): perm. out dim d is input dim perm[d]. */

/* Walks the output (shape oshape, padded to 4 dims) in order; `st` gives the
 * input stride of each output dim. copy: dst[i] = src[off]; else src[off] += dst[i]. */
static void lti_permute_walk(float *src, float *dst, const int64_t *oshape, const int64_t *st, int copy) {
    int64_t i = 0;
    for (int64_t i0 = 0; i0 < oshape[0]; i0++)
        for (int64_t i1 = 0; i1 < oshape[1]; i1++)
            for (int64_t i2 = 0; i2 < oshape[2]; i2++) {
                const int64_t base = i0 * st[0] + i1 * st[1] + i2 * st[2];
                for (int64_t i3 = 0; i3 < oshape[3]; i3++, i++) {
                    if (copy) dst[i] = src[base + i3 * st[3]];
                    else src[base + i3 * st[3]] += dst[i];
                }
            }
}

/* Padded output shape and per-output-dim input strides of a permutation. */
static void lti_permute_geom(const lt_tensor *a, const int64_t *perm, int64_t *oshape, int64_t *st) {
    int64_t in_st[LT_MAX_DIMS], s = 1;
    for (int d = a->ndim - 1; d >= 0; d--) { in_st[d] = s; s *= a->shape[d]; }
    int pad = LT_MAX_DIMS - a->ndim;
    for (int d = 0; d < LT_MAX_DIMS; d++) {
        oshape[d] = d < pad ? 1 : a->shape[perm[d - pad]];
        st[d] = d < pad ? 0 : in_st[perm[d - pad]];
    }
}

lt_tensor *lt_permute(lt_graph *g, lt_tensor *a, const int *perm) {
    if (!lti_check_f32(g, "permute", a)) return NULL;
    int seen[LT_MAX_DIMS] = {0};
    int64_t p[LT_MAX_DIMS], shape[LT_MAX_DIMS];
    for (int d = 0; d < a->ndim; d++) {
        if (perm[d] < 0 || perm[d] >= a->ndim || seen[perm[d]]++) {
            lti_graph_fail(g, LT_ERR_ARG, "permute: entry %d (= %d) does not make a permutation of %d dims", d,
                           perm[d], a->ndim);
            return NULL;
        }
        p[d] = perm[d];
        shape[d] = a->shape[perm[d]];
    }
    lt_tensor *out = lt_graph_new(g, LT_F32, a->ndim, shape);
    if (!out) return NULL;
    int64_t oshape[LT_MAX_DIMS], st[LT_MAX_DIMS];
    lti_permute_geom(a, p, oshape, st);
    lti_permute_walk(a->data, out->data, oshape, st, 1);
    lti_node *n = lti_graph_record(g, LT_OP_PERMUTE, out, 1, &a);
    if (n) memcpy(n->iarg, p, sizeof p);
    return out;
}

void lti_permute_backward(lt_graph *g, lti_node *n) {
    lt_tensor *a = n->in[0];
    if (!a->requires_grad) return;
    float *da = lti_grad(g, a);
    if (!da) return;
    int64_t oshape[LT_MAX_DIMS], st[LT_MAX_DIMS];
    lti_permute_geom(a, n->iarg, oshape, st);
    lti_permute_walk(da, n->out->grad, oshape, st, 0);
}

lt_tensor *lt_transpose(lt_graph *g, lt_tensor *a, int d0, int d1) {
    if (!lti_check_f32(g, "transpose", a)) return NULL;
    int a0 = lti_axis(g, "transpose", d0, a->ndim), a1 = lti_axis(g, "transpose", d1, a->ndim);
    if (a0 < 0 || a1 < 0) return NULL;
    int perm[LT_MAX_DIMS];
    for (int d = 0; d < a->ndim; d++) perm[d] = d;
    perm[a0] = a1;
    perm[a1] = a0;
    return lt_permute(g, a, perm);
}

/* ---- slice and concat ---- both move blocks of `inner` contiguous floats:
 * a tensor is viewed as (outer, len along axis, inner). */

static void lti_split_axis(const lt_tensor *t, int axis, int64_t *outer, int64_t *inner) {
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= t->shape[d];
    for (int d = axis + 1; d < t->ndim; d++) *inner *= t->shape[d];
}

/* Copies (or, when add, accumulates) rows: dst (outer, dlen, inner) at offset dstart
 * along the axis <- src (outer, slen, inner) at sstart, len entries of the axis. */
static void lti_move_rows(float *dst, int64_t dlen, int64_t dstart, const float *src, int64_t slen, int64_t sstart,
                          int64_t outer, int64_t len, int64_t inner, int add) {
    for (int64_t o = 0; o < outer; o++) {
        float *d = dst + (o * dlen + dstart) * inner;
        const float *s = src + (o * slen + sstart) * inner;
        if (add)
            for (int64_t i = 0; i < len * inner; i++) d[i] += s[i];
        else memcpy(d, s, sizeof(float) * len * inner);
    }
}

/* iarg: axis, start */
lt_tensor *lt_slice(lt_graph *g, lt_tensor *a, int axis, int64_t start, int64_t len) {
    if (!lti_check_f32(g, "slice", a)) return NULL;
    int ax = lti_axis(g, "slice", axis, a->ndim);
    if (ax < 0) return NULL;
    if (start < 0 || len < 0 || start + len > a->shape[ax]) {
        char s[64];
        lti_graph_fail(g, LT_ERR_ARG, "slice: [%lld, %lld) is outside axis %d of %s", (long long)start,
                       (long long)(start + len), ax, lt_shape_str(a, s, 64));
        return NULL;
    }
    int64_t shape[LT_MAX_DIMS], outer, inner;
    memcpy(shape, a->shape, sizeof shape);
    shape[ax] = len;
    lt_tensor *out = lt_graph_new(g, LT_F32, a->ndim, shape);
    if (!out) return NULL;
    lti_split_axis(a, ax, &outer, &inner);
    lti_move_rows(out->data, len, 0, a->data, a->shape[ax], start, outer, len, inner, 0);
    lti_node *n = lti_graph_record(g, LT_OP_SLICE, out, 1, &a);
    if (n) { n->iarg[0] = ax; n->iarg[1] = start; }
    return out;
}

void lti_slice_backward(lt_graph *g, lti_node *n) {
    lt_tensor *a = n->in[0], *out = n->out;
    if (!a->requires_grad) return;
    float *da = lti_grad(g, a);
    if (!da) return;
    int ax = (int)n->iarg[0];
    int64_t outer, inner;
    lti_split_axis(a, ax, &outer, &inner);
    lti_move_rows(da, a->shape[ax], n->iarg[1], out->grad, out->shape[ax], 0, outer, out->shape[ax], inner, 1);
}

/* iarg: axis, count; saved: the array of the `count` inputs (node->in holds
 * only the first LTI_MAX_IN of them, for inspection). */
lt_tensor *lt_concat(lt_graph *g, int n, lt_tensor *const *ts, int axis) {
    if (g->status) return NULL;
    if (n < 1) {
        lti_graph_fail(g, LT_ERR_ARG, "concat: needs at least one tensor (got %d)", n);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (!lti_check_f32(g, "concat", ts[i])) return NULL;
    int ax = lti_axis(g, "concat", axis, ts[0]->ndim);
    if (ax < 0) return NULL;
    int64_t shape[LT_MAX_DIMS];
    memcpy(shape, ts[0]->shape, sizeof shape);
    shape[ax] = 0;
    lt_tensor *need = NULL; /* the first input that requires a gradient */
    for (int i = 0; i < n; i++) {
        int ok = ts[i]->ndim == ts[0]->ndim;
        for (int d = 0; ok && d < ts[0]->ndim; d++) ok = d == ax || ts[i]->shape[d] == ts[0]->shape[d];
        if (!ok) {
            char s1[64], s2[64];
            lti_graph_fail(g, LT_ERR_SHAPE, "concat: tensor %d %s does not match tensor 0 %s except along axis %d",
                           i, lt_shape_str(ts[i], s1, 64), lt_shape_str(ts[0], s2, 64), ax);
            return NULL;
        }
        shape[ax] += ts[i]->shape[ax];
        if (!need && ts[i]->requires_grad) need = ts[i];
    }
    lt_tensor *out = lt_graph_new(g, LT_F32, ts[0]->ndim, shape);
    if (!out) return NULL;
    int64_t outer, inner, at = 0;
    lti_split_axis(out, ax, &outer, &inner);
    for (int i = 0; i < n; i++) {
        lti_move_rows(out->data, shape[ax], at, ts[i]->data, ts[i]->shape[ax], 0, outer, ts[i]->shape[ax], inner, 0);
        at += ts[i]->shape[ax];
    }
    if (!need || !g->grad_enabled) return out;
    lt_tensor **saved = lt_graph_alloc(g, sizeof(lt_tensor *) * (size_t)n);
    if (!saved) return NULL;
    memcpy(saved, ts, sizeof(lt_tensor *) * (size_t)n);
    lti_node *node = lti_graph_record(g, LT_OP_CONCAT, out, 1, &need); /* decides on all n inputs */
    if (node) {
        node->nin = n < LTI_MAX_IN ? n : LTI_MAX_IN;
        for (int i = 0; i < node->nin; i++) node->in[i] = ts[i];
        node->iarg[0] = ax;
        node->iarg[1] = n;
        node->saved = saved;
    }
    return out;
}

void lti_concat_backward(lt_graph *g, lti_node *n) {
    lt_tensor **ts = n->saved, *out = n->out;
    int ax = (int)n->iarg[0];
    int64_t outer, inner, at = 0;
    lti_split_axis(out, ax, &outer, &inner);
    for (int64_t i = 0; i < n->iarg[1]; i++) {
        int64_t len = ts[i]->shape[ax];
        if (ts[i]->requires_grad) {
            float *d = lti_grad(g, ts[i]);
            if (!d) return;
            lti_move_rows(d, len, 0, out->grad, out->shape[ax], at, outer, len, inner, 1);
        }
        at += len;
    }
}

/* ---- embedding ---- saved: the index tensor (the caller keeps it alive until backward) */

lt_tensor *lt_embedding(lt_graph *g, lt_tensor *table, const lt_tensor *idx) {
    if (!lti_check_f32(g, "embedding", table) || !idx) return NULL;
    char s1[64], s2[64];
    if (table->ndim != 2 || idx->dtype != LT_I64 || idx->ndim >= LT_MAX_DIMS) {
        lti_graph_fail(g, LT_ERR_SHAPE, "embedding: want table (V,E) float32 and int64 indices of at most %d dims, "
                       "got table %s and %s indices %s", LT_MAX_DIMS - 1, lt_shape_str(table, s1, 64),
                       idx->dtype == LT_I64 ? "int64" : "float32", lt_shape_str(idx, s2, 64));
        return NULL;
    }
    int64_t V = table->shape[0], E = table->shape[1], n = lt_numel(idx);
    for (int64_t i = 0; i < n; i++)
        if (idx->idata[i] < 0 || idx->idata[i] >= V) {
            lti_graph_fail(g, LT_ERR_ARG, "embedding: index %lld at position %lld is outside the table's [0, %lld)",
                           (long long)idx->idata[i], (long long)i, (long long)V);
            return NULL;
        }
    int64_t shape[LT_MAX_DIMS];
    memcpy(shape, idx->shape, sizeof(int64_t) * (size_t)idx->ndim);
    shape[idx->ndim] = E;
    lt_tensor *out = lt_graph_new(g, LT_F32, idx->ndim + 1, shape); /* (..., E) */
    if (!out) return NULL;
    for (int64_t i = 0; i < n; i++) memcpy(out->data + i * E, table->data + idx->idata[i] * E, sizeof(float) * E);
    lti_node *node = lti_graph_record(g, LT_OP_EMBEDDING, out, 1, &table);
    if (node) node->saved = (void *)idx;
    return out;
}

void lti_embedding_backward(lt_graph *g, lti_node *n) {
    lt_tensor *table = n->in[0];
    const lt_tensor *idx = n->saved;
    if (!table->requires_grad) return;
    float *dt = lti_grad(g, table);
    if (!dt) return;
    int64_t E = table->shape[1], m = lt_numel(idx);
    const float *dy = n->out->grad;
    for (int64_t i = 0; i < m; i++) {
        float *row = dt + idx->idata[i] * E;
        for (int64_t e = 0; e < E; e++) row[e] += dy[i * E + e];
    }
}
