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
    for (int64_t i = g->n_nodes - 1; i >= 0 && !g->status; i--) {
        lti_node *node = &g->nodes[i];
        if (!node->out->grad) continue; /* does not reach the output */
        const lti_op_def *def = &lti_op_table[node->op];
        if (!def->backward)
            return lti_graph_fail(g, LT_ERR_INTERNAL, "backward: op %d (%s) has no backward", node->op, lt_op_name(node->op));
        def->backward(g, node);
        /* every consumer of node->out came later on the tape and has run: its gradient is spent */
        lti_grad_release(g, node->out);
    }
    return g->status;
}

lt_status lt_backward(lt_graph *g, lt_tensor *loss) {
    if (loss && lt_numel(loss) != 1) {
        char s[64];
        return lti_graph_fail(g, LT_ERR_SHAPE, "backward: loss must be a scalar, got shape %s", lt_shape_str(loss, s, 64));
    }
    return lt_backward_from(g, loss, NULL);
}
