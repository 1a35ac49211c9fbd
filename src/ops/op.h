/* The op table's index: one value per differentiable op. Adding an op means a
 * value here, an entry in ops/table.c, forward+backward in its family file, and
 * a gradient-check case in autograd/cases_<family>.c. */
#ifndef LT_OP_H
#define LT_OP_H

typedef enum lt_op {
    /* matmul.c */
    LT_OP_MATMUL, LT_OP_LINEAR, LT_OP_MASKED_LINEAR, LT_OP_LINEAR_ADD,
    /* binary.c: broadcasting */
    LT_OP_ADD, LT_OP_SUB, LT_OP_MUL, LT_OP_DIV,
    /* unary.c */
    LT_OP_ADD_SCALAR, LT_OP_MUL_SCALAR, LT_OP_NEG, LT_OP_EXP, LT_OP_LOG, LT_OP_LOG1P,
    LT_OP_SQRT, LT_OP_POW, LT_OP_ABS, LT_OP_CLAMP, LT_OP_SIGMOID, LT_OP_TANH, LT_OP_RELU,
    LT_OP_LEAKY_RELU, LT_OP_SOFTPLUS, LT_OP_GELU,
    LT_OP_SILU,
    /* reduce.c */
    LT_OP_SUM, LT_OP_MEAN, LT_OP_MAX, LT_OP_LOGSUMEXP, LT_OP_SOFTMAX, LT_OP_LOG_SOFTMAX,
    /* loss.c */
    LT_OP_BCE_LOGITS, LT_OP_CROSS_ENTROPY, LT_OP_KL_STD_NORMAL, LT_OP_KL_NORMAL,
    /* shape.c */
    LT_OP_RESHAPE, LT_OP_PERMUTE, LT_OP_SLICE, LT_OP_CONCAT, LT_OP_EMBEDDING,
    /* conv.c */
    LT_OP_CONV2D, LT_OP_CONV_TRANSPOSE2D, LT_OP_UPSAMPLE_NEAREST, LT_OP_AVG_POOL2D,
    /* norm.c */
    LT_OP_GROUP_NORM, LT_OP_LAYER_NORM, LT_OP_DROPOUT,
    LT_OP_BATCH_NORM,
    LT_OP_BATCH_NORM_RELU,
    LT_OP_GROUP_NORM_SILU,
    /* attention.c */
    LT_OP_CAUSAL_SOFTMAX, LT_OP_ATTENTION,
    /* special.c */
    LT_OP_STOP_GRADIENT, LT_OP_STRAIGHT_THROUGH,
    /* nade.c */
    LT_OP_NADE,
    /* contrastive.c */
    LT_OP_NT_XENT,
    /* staircase.c */
    LT_OP_STAIRCASE_LINEAR,
    LT_OP_COUNT
} lt_op;

#endif
