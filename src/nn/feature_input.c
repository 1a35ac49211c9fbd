/* Feature columns as a graph input layer (see feature_input.h). */
#include "nn/feature_input.h"
#include "ops/ops.h"

lt_tensor *lt_feature_input(lt_graph *g, const lt_features *f, const lt_feature_batch *b) {
    if (g->status) return NULL;
    int64_t n = b->n, width = b->width;
    if (width != lt_features_width(f)) {
        lti_graph_fail(g, LT_ERR_ARG, "feature input: the batch has width %lld but the spec %lld (transformed with "
                       "another spec?)", (long long)width, (long long)lt_features_width(f));
        return NULL;
    }
    lt_tensor *dense = lt_graph_wrap(g, b->dense, 2, (int64_t[]){n, width}); /* (N, W) constant */
    if (b->nbags == 0) return dense;
    lt_tensor **parts = lt_graph_alloc(g, sizeof(lt_tensor *) * (size_t)(2 * b->nbags + 1));
    if (!parts || !dense) return NULL;
    int np = 0;
    int64_t pos = 0;
    for (int64_t k = 0; k < b->nbags; k++) {
        const lt_feature_bag *bag = &b->bags[k];
        lt_tensor *table = lt_features_table(f, bag->table); /* (V, D) */
        if (!table) {
            lti_graph_fail(g, LT_ERR_ARG, "feature input: embedding table %lld was never declared "
                           "(lt_features_declare_params)", (long long)bag->table);
            return NULL;
        }
        if (bag->offset > pos) parts[np++] = lt_slice(g, dense, 1, pos, bag->offset - pos);
        int64_t L = bag->len;
        lt_tensor *ids = lt_graph_wrap_i64(g, bag->ids, 2, (int64_t[]){n, L});  /* (N, L) */
        lt_tensor *w = lt_graph_wrap(g, bag->w, 3, (int64_t[]){n, 1, L});      /* (N, 1, L) */
        lt_tensor *e = lt_embedding(g, table, ids);                              /* (N, L, D) */
        lt_tensor *s = lt_matmul(g, w, e, 0, 0);                                 /* (N, 1, D) */
        parts[np++] = lt_reshape(g, s, 2, (int64_t[]){n, bag->dim});             /* (N, D) */
        pos = bag->offset + bag->dim;
    }
    if (pos < width) parts[np++] = lt_slice(g, dense, 1, pos, width - pos);
    return np == 1 ? parts[0] : lt_concat(g, np, parts, 1);
}
