/* For op implementations only: the op table and shared helpers. */
#ifndef LTI_OPS_INTERNAL_H
#define LTI_OPS_INTERNAL_H

#include <cblas.h>
#undef I /* complex.h (via cblas.h) defines I; ops use it as a dimension name */

#include "core/graph.h"
#include "ops/ops.h"

/* Adds the contributions of node->out->grad into the inputs' gradients. */
typedef void (*lti_backward_fn)(lt_graph *g, lti_node *n);

typedef struct lti_op_def {
    const char *name;
    lti_backward_fn backward;
} lti_op_def;

extern const lti_op_def lti_op_table[LT_OP_COUNT];

/* The one dispatch point for GEMM (a future GPU backend replaces this). Row-major.
 * C (M,N) = alpha·op(A)·op(B) + beta·C */
void lti_gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

/* Shared input checks: non-NULL (returns 0 silently: an earlier op failed), F32. */
int lti_check_f32(lt_graph *g, const char *op, const lt_tensor *t);
/* Output tensor with the same shape as a. */
lt_tensor *lti_like(lt_graph *g, const lt_tensor *a);

/* Backward functions, one per op, defined beside their forwards. */
#define LTI_DECLARE_BACKWARD(name) void lti_##name##_backward(lt_graph *g, lti_node *n)
LTI_DECLARE_BACKWARD(matmul);
LTI_DECLARE_BACKWARD(linear);
LTI_DECLARE_BACKWARD(masked_linear);
LTI_DECLARE_BACKWARD(linear_add);
/* binary.c, unary.c, reduce.c, loss.c */
LTI_DECLARE_BACKWARD(add);
LTI_DECLARE_BACKWARD(sub);
LTI_DECLARE_BACKWARD(mul);
LTI_DECLARE_BACKWARD(div);
LTI_DECLARE_BACKWARD(add_scalar);
LTI_DECLARE_BACKWARD(mul_scalar);
LTI_DECLARE_BACKWARD(neg);
LTI_DECLARE_BACKWARD(exp);
LTI_DECLARE_BACKWARD(log);
LTI_DECLARE_BACKWARD(log1p);
LTI_DECLARE_BACKWARD(sqrt);
LTI_DECLARE_BACKWARD(pow);
LTI_DECLARE_BACKWARD(abs);
LTI_DECLARE_BACKWARD(clamp);
LTI_DECLARE_BACKWARD(sigmoid);
LTI_DECLARE_BACKWARD(tanh);
LTI_DECLARE_BACKWARD(relu);
LTI_DECLARE_BACKWARD(leaky_relu);
LTI_DECLARE_BACKWARD(softplus);
LTI_DECLARE_BACKWARD(gelu);
LTI_DECLARE_BACKWARD(silu);
LTI_DECLARE_BACKWARD(sum);
LTI_DECLARE_BACKWARD(mean);
LTI_DECLARE_BACKWARD(max);
LTI_DECLARE_BACKWARD(logsumexp);
LTI_DECLARE_BACKWARD(softmax);
LTI_DECLARE_BACKWARD(log_softmax);
LTI_DECLARE_BACKWARD(bce_with_logits);
LTI_DECLARE_BACKWARD(cross_entropy);
LTI_DECLARE_BACKWARD(kl_std_normal);
LTI_DECLARE_BACKWARD(kl_normal);
/* shape.c, conv.c, norm.c, attention.c, special.c */
LTI_DECLARE_BACKWARD(reshape);
LTI_DECLARE_BACKWARD(permute);
LTI_DECLARE_BACKWARD(slice);
LTI_DECLARE_BACKWARD(concat);
LTI_DECLARE_BACKWARD(embedding);
LTI_DECLARE_BACKWARD(conv2d);
LTI_DECLARE_BACKWARD(conv_transpose2d);
LTI_DECLARE_BACKWARD(upsample_nearest);
LTI_DECLARE_BACKWARD(avg_pool2d);
LTI_DECLARE_BACKWARD(group_norm);
LTI_DECLARE_BACKWARD(layer_norm);
LTI_DECLARE_BACKWARD(dropout);
LTI_DECLARE_BACKWARD(batch_norm);
LTI_DECLARE_BACKWARD(batch_norm_relu);
LTI_DECLARE_BACKWARD(group_norm_silu);
LTI_DECLARE_BACKWARD(causal_softmax);
LTI_DECLARE_BACKWARD(attention);
LTI_DECLARE_BACKWARD(stop_gradient);
LTI_DECLARE_BACKWARD(straight_through);
LTI_DECLARE_BACKWARD(nade);
LTI_DECLARE_BACKWARD(nt_xent); /* contrastive.c */
LTI_DECLARE_BACKWARD(staircase_linear);

#endif
