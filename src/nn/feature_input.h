/* The input layer of feature columns (TensorFlow's input_layer / DenseFeatures):
 * the dense rows of a transformed batch as a graph tensor, differentiable with
 * respect to the embedding tables so that they train with the model.
 *
 * Each embedding column is lt_embedding of its padded ids (N, L) → (N, L, D),
 * then a batched matmul with its weights (N, 1, L), in which the combiner is
 * already folded (data/features.h), → (N, D); the other columns are slices of the
 * batch's dense part; lt_concat joins them in output order.
 *
 * The result (and its tape) reads the batch's buffers: keep the batch unchanged
 * until backward has run. */
#ifndef LT_FEATURE_INPUT_H
#define LT_FEATURE_INPUT_H

#include "core/graph.h"
#include "data/features.h"

/* -> (N, lt_features_width(f)); NULL with the graph's sticky error on failure. */
lt_tensor *lt_feature_input(lt_graph *g, const lt_features *f, const lt_feature_batch *b);

#endif
