/* Helpers shared by op families, and the GEMM dispatch point. */
#include <string.h>

#include "ops/internal.h"

void lti_gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0) { /* BLAS leaves C untouched for K = 0 only when beta = 1 */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                (blasint)M, (blasint)N, (blasint)K, alpha, A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
}

int lti_check_f32(lt_graph *g, const char *op, const lt_tensor *t) {
    if (!t || g->status) return 0;
    if (t->dtype != LT_F32) {
        lti_graph_fail(g, LT_ERR_ARG, "%s: expected a float32 tensor, found int64", op);
        return 0;
    }
    return 1;
}

lt_tensor *lti_like(lt_graph *g, const lt_tensor *a) { return lt_graph_new(g, a->dtype, a->ndim, a->shape); }
