/* The op table: name and backward of every op, indexed by lt_op.
 * An entry left NULL is an op not yet implemented; tests/test_op_table.c fails on it. */
#include "ops/internal.h"

const lti_op_def lti_op_table[LT_OP_COUNT] = {
    [LT_OP_MATMUL] = {"matmul", lti_matmul_backward},
    [LT_OP_LINEAR] = {"linear", lti_linear_backward},
    [LT_OP_MASKED_LINEAR] = {"masked_linear", lti_masked_linear_backward},
};
_Static_assert(sizeof lti_op_table / sizeof lti_op_table[0] == LT_OP_COUNT, "one entry per op");
