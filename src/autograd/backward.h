/* The backward sweep over a graph's tape. */
#ifndef LT_BACKWARD_H
#define LT_BACKWARD_H

#include "core/graph.h"

/* Back-propagates from the scalar `loss` (one element): gradients accumulate
 * into every tensor that requires them (parameters: their gradient block; the
 * caller zeroes it once per step). Leaves keep their gradients; an intermediate
 * (op output) tensor's gradient is released for reuse once its op's backward has run,
 * so its ->grad is NULL afterwards. */
lt_status lt_backward(lt_graph *g, lt_tensor *loss);
/* As lt_backward from any tensor y, with dL/dy = seed (y's shape; NULL = ones). */
lt_status lt_backward_from(lt_graph *g, lt_tensor *y, const float *seed);
/* When each of nb ranges of a parameter gradient block (grad, total floats) is final during a
 * backward sweep of g's current tape: ranges [lo[b], lo[b+1]) (the last up to total; lo
 * ascending, lo[0] = 0). ready[b] is the least tape index of a node with an input whose gradient
 * lies in range b, n_nodes if none: once the sweep has run node ready[b] (g->on_backward called
 * with that index), nothing more is added to range b. */
void lt_backward_ready(const lt_graph *g, const float *grad, int64_t total, int64_t nb, const int64_t *lo,
                       int64_t *ready);
/* The op's name in the table ("?" if out of range). */
const char *lt_op_name(int op);
/* 1 if op has a backward in the table. */
int lt_op_implemented(int op);

#endif
