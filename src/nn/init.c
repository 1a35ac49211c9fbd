/* Weight initializers that need more than a fill (nn/nn.h). */
#include "core/alloc.h"
#include "nn/internal.h"

/* OpenBLAS ships LAPACK without a C header here: the Fortran interfaces (column-major). */
void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work, const int *lwork, int *info);
void sorgqr_(const int *m, const int *n, const int *k, float *a, const int *lda, const float *tau, float *work,
             const int *lwork, int *info);

/* Q of A = QR for a Gaussian A (m × n column-major, m >= n), columns signed by diag(R) so Q
 * is Haar-distributed (Mezzadri 2007), as torch.nn.init.orthogonal_ does. The reshape: the
 * (rows, cols) row-major weight is Q (rows >= cols) or Qᵀ, whose row-major layout is Q's
 * column-major one. */
lt_status lt_nn_init_orthogonal(lt_rng *rng, lt_tensor *w, float gain) {
    if (!w || w->ndim != 2) return lt_fail(LT_ERR_ARG, "orthogonal init: a 2-d weight expected");
    const int64_t rows = w->shape[0], cols = w->shape[1];
    const int64_t m = rows > cols ? rows : cols, n = rows > cols ? cols : rows;
    if (m > INT32_MAX / (n > 0 ? n : 1))
        return lt_fail(LT_ERR_ARG, "orthogonal init: %lld x %lld is too large for LAPACK", (long long)rows, (long long)cols);
    const int M = (int)m, N = (int)n, query = -1;
    float *a = lt_malloc(sizeof(float) * (size_t)(m * n)), *tau = lt_malloc(sizeof(float) * (size_t)n),
          *sign = lt_malloc(sizeof(float) * (size_t)n), *work = NULL;
    float q1 = 0.0f, q2 = 0.0f; /* the workspace sizes the two routines ask for */
    int info = 0, lwork;
    lt_status st = LT_OK;
    if (!a || !tau || !sign) { st = lt_fail(LT_ERR_NOMEM, "orthogonal init: out of memory for %lld x %lld", (long long)m, (long long)n); goto out; }
    lt_rng_fill_normal(rng, a, m * n, 0.0f, 1.0f);
    sgeqrf_(&M, &N, a, &M, tau, &q1, &query, &info);
    if (!info) sorgqr_(&M, &N, &N, a, &M, tau, &q2, &query, &info);
    lwork = (int)(q1 > q2 ? q1 : q2);
    if (!info && !(work = lt_malloc(sizeof(float) * (size_t)(lwork > 1 ? lwork : 1)))) {
        st = lt_fail(LT_ERR_NOMEM, "orthogonal init: out of memory for the LAPACK workspace");
        goto out;
    }
    if (!info) sgeqrf_(&M, &N, a, &M, tau, work, &lwork, &info);
    for (int64_t j = 0; !info && j < n; j++) sign[j] = a[j + j * m] < 0.0f ? -gain : gain; /* sign(R_jj)·gain */
    if (!info) sorgqr_(&M, &N, &N, a, &M, tau, work, &lwork, &info);
    if (info) { st = lt_fail(LT_ERR_NUMERIC, "orthogonal init: QR of a %lld x %lld matrix failed (info %d)", (long long)m, (long long)n, info); goto out; }
    /* W = Qᵀ (rows < cols): W[i][j] = Q[j][i] = a[j + i·m]; W = Q: W[i][j] = a[i + j·m]; column c of Q
     * takes sign[c] on the way */
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            w->data[i * cols + j] = rows < cols ? a[j + i * m] * sign[i] : a[i + j * m] * sign[j];
out:
    lt_free(a);
    lt_free(tau);
    lt_free(sign);
    lt_free(work);
    return st;
}
