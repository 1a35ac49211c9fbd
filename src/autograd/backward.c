#include "autograd/backward.h"

#include "ops/internal.h"

const char *lt_op_name(int op) {
    return (op >= 0 && op < LT_OP_COUNT && lti_op_table[op].name) ? lti_op_table[op].name : "?";
}

int lt_op_implemented(int op) { return op >= 0 && op < LT_OP_COUNT && lti_op_table[op].backward; }

lt_status lt_backward_from(lt_graph *g, lt_tensor *y, const float *seed) {
    if (g->status) return g->status;
    if (!y) return lti_graph_fail(g, LT_ERR_ARG, "backward: no output tensor (an earlier op failed?)");
    if (!y->requires_grad)
        return lti_graph_fail(g, LT_ERR_ARG, "backward: the output does not depend on anything that requires a gradient");
    float *dy = lti_grad(g, y);
    if (!dy) return g->status;
    int64_t n = lt_numel(y);
    for (int64_t i = 0; i < n; i++) dy[i] += seed ? seed[i] : 1.0f;
    if (g->on_backward) g->on_backward(g->on_backward_ud, g->n_nodes);
    for (int64_t i = g->n_nodes - 1; i >= 0 && !g->status; i--) {
        lti_node *node = &g->nodes[i];
        if (!node->out->grad) { /* does not reach the output */
            if (g->on_backward) g->on_backward(g->on_backward_ud, i);
            continue;
        }
        const lti_op_def *def = &lti_op_table[node->op];
        if (!def->backward)
            return lti_graph_fail(g, LT_ERR_INTERNAL, "backward: op %d (%s) has no backward", node->op, lt_op_name(node->op));
        def->backward(g, node);
        /* every consumer of node->out came later on the tape and has run: its gradient is spent */
        lti_grad_release(g, node->out);
        if (g->on_backward) g->on_backward(g->on_backward_ud, i);
    }
    return g->status;
}

void lt_backward_ready(const lt_graph *g, const float *grad, int64_t total, int64_t nb, const int64_t *lo,
                       int64_t *ready) {
    for (int64_t b = 0; b < nb; b++) ready[b] = g->n_nodes;
    for (int64_t i = g->n_nodes - 1; i >= 0; i--) { /* downwards: the last write wins, the least index */
        const lti_node *node = &g->nodes[i];
        for (int k = 0; k < node->nin; k++) {
            const lt_tensor *t = node->in[k];
            if (!t || !t->requires_grad || !t->grad || t->grad < grad || t->grad >= grad + total) continue;
            const int64_t a = t->grad - grad, e = a + lt_numel(t); /* [a, e) of the block */
            /* the first range ending after a, up to the last starting before e */
            int64_t l = 0, h = nb - 1;
            while (l < h) {
                const int64_t mid = (l + h + 1) / 2;
                if (lo[mid] <= a) l = mid;
                else h = mid - 1;
            }
            for (int64_t b = l; b < nb && lo[b] < e; b++) ready[b] = i;
        }
    }
}

lt_status lt_backward(lt_graph *g, lt_tensor *loss) {
    if (loss && lt_numel(loss) != 1) {
        char s[64];
        return lti_graph_fail(g, LT_ERR_SHAPE, "backward: loss must be a scalar, got shape %s", lt_shape_str(loss, s, 64));
    }
    return lt_backward_from(g, loss, NULL);
}
