/* The op table: name and backward of every op, indexed by lt_op.
 * An entry left NULL is an op not yet implemented; tests/test_op_table.c fails on it. */
#include "ops/internal.h"

const lti_op_def lti_op_table[LT_OP_COUNT] = {
    [LT_OP_MATMUL] = {"matmul", lti_matmul_backward},
    [LT_OP_LINEAR] = {"linear", lti_linear_backward},
    [LT_OP_MASKED_LINEAR] = {"masked_linear", lti_masked_linear_backward},
    [LT_OP_RESHAPE] = {"reshape", lti_reshape_backward},
    [LT_OP_PERMUTE] = {"permute", lti_permute_backward},
    [LT_OP_SLICE] = {"slice", lti_slice_backward},
    [LT_OP_CONCAT] = {"concat", lti_concat_backward},
    [LT_OP_EMBEDDING] = {"embedding", lti_embedding_backward},
    [LT_OP_CONV2D] = {"conv2d", lti_conv2d_backward},
    [LT_OP_CONV_TRANSPOSE2D] = {"conv_transpose2d", lti_conv_transpose2d_backward},
    [LT_OP_UPSAMPLE_NEAREST] = {"upsample_nearest", lti_upsample_nearest_backward},
    [LT_OP_AVG_POOL2D] = {"avg_pool2d", lti_avg_pool2d_backward},
    [LT_OP_GROUP_NORM] = {"group_norm", lti_group_norm_backward},
    [LT_OP_LAYER_NORM] = {"layer_norm", lti_layer_norm_backward},
    [LT_OP_DROPOUT] = {"dropout", lti_dropout_backward},
    [LT_OP_CAUSAL_SOFTMAX] = {"causal_softmax", lti_causal_softmax_backward},
    [LT_OP_STOP_GRADIENT] = {"stop_gradient", lti_stop_gradient_backward},
    [LT_OP_STRAIGHT_THROUGH] = {"straight_through", lti_straight_through_backward},
};
_Static_assert(sizeof lti_op_table / sizeof lti_op_table[0] == LT_OP_COUNT, "one entry per op");
