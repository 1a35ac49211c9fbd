/* NT-Xent, the normalized temperature-scaled cross-entropy of SimCLR (ops.h), as one op:
 * the similarity matrix, its masked softmax and the normalization's Jacobian, so the
 * (2n)² scores cost two GEMMs forward and two backward and nothing else is taped. */
#include <math.h>

#include "ops/internal.h"

typedef struct {
    float *u;     /* (M, D) unit rows */
    float *r;     /* (M) row norms before clamping */
    float *p;     /* (M, M) softmax of row i over j != i (p_ii = 0) */
    float *du;    /* (M, D) backward scratch */
} lti_nt_xent_saved;

lt_tensor *lt_nt_xent(lt_graph *g, lt_tensor *z, float tau) {
    if (!lti_check_f32(g, "nt_xent", z)) return NULL;
    if (z->ndim != 2 || z->shape[0] < 4 || z->shape[0] % 2) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "nt_xent: z %s, expected (2n, D) with n >= 2 (two views per example)",
                       lt_shape_str(z, s, 64));
        return NULL;
    }
    if (!(tau > 0.0f) || !isfinite(tau)) {
        lti_graph_fail(g, LT_ERR_ARG, "nt_xent: temperature %g, expected > 0", (double)tau);
        return NULL;
    }
    const int64_t M = z->shape[0], D = z->shape[1], n = M / 2;
    lt_tensor *y = lt_graph_new(g, LT_F32, 1, &M); /* (M) */
    lti_nt_xent_saved *sv = lt_graph_alloc(g, sizeof *sv);
    if (!y || !sv) return NULL;
    sv->u = lt_graph_alloc(g, sizeof(float) * (size_t)(M * D));
    sv->r = lt_graph_alloc(g, sizeof(float) * (size_t)M);
    sv->p = lt_graph_alloc(g, sizeof(float) * (size_t)(M * M));
    sv->du = g->grad_enabled && z->requires_grad ? lt_graph_alloc(g, sizeof(float) * (size_t)(M * D)) : NULL;
    if (!sv->u || !sv->r || !sv->p || (g->grad_enabled && z->requires_grad && !sv->du)) return NULL;
    for (int64_t i = 0; i < M; i++) {
        const float *zi = z->data + i * D;
        double ss = 0;
        for (int64_t k = 0; k < D; k++) ss += (double)zi[k] * zi[k];
        sv->r[i] = (float)sqrt(ss);
        const float inv = 1.0f / fmaxf(sv->r[i], 1e-12f);
        for (int64_t k = 0; k < D; k++) sv->u[i * D + k] = zi[k] * inv;
    }
    lti_gemm(0, 1, M, M, D, 1.0f / tau, sv->u, D, sv->u, D, 0.0f, sv->p, M); /* s (M, M) */
    #pragma omp parallel for schedule(static) if (M * M > 65536)
    for (int64_t i = 0; i < M; i++) {
        float *s = sv->p + i * M; /* row i: scores in, probabilities out */
        const int64_t pos = (i + n) % M;
        float m = -INFINITY;
        for (int64_t j = 0; j < M; j++)
            if (j != i) m = fmaxf(m, s[j]);
        double sum = 0;
        for (int64_t j = 0; j < M; j++) sum += j == i ? 0.0 : exp((double)(s[j] - m));
        const float lse = m + (float)log(sum);
        y->data[i] = lse - s[pos];
        for (int64_t j = 0; j < M; j++) s[j] = j == i ? 0.0f : expf(s[j] - lse);
    }
    lti_node *nd = lti_graph_record(g, LT_OP_NT_XENT, y, 1, &z);
    if (nd) {
        nd->farg[0] = tau;
        nd->saved = sv;
    }
    return y;
}

/* g_ij = dy_i (p_ij − [j = p(i)]); ds = g; du = (g + gᵀ) u / tau; dz_i = (du_i − u_i (u_i·du_i)) / r_i
 * (the unit vector's Jacobian; a clamped norm passes du_i / 1e-12 straight through, as torch). */
void lti_nt_xent_backward(lt_graph *g, lti_node *nd) {
    lt_tensor *z = nd->in[0];
    if (!z->requires_grad) return;
    float *dz = lti_grad(g, z);
    lti_nt_xent_saved *sv = nd->saved;
    if (!dz || !sv->du) return;
    const int64_t M = z->shape[0], D = z->shape[1], n = M / 2;
    const float tau = nd->farg[0], *dy = nd->out->grad;
    for (int64_t i = 0; i < M; i++) {
        float *p = sv->p + i * M;
        for (int64_t j = 0; j < M; j++) p[j] *= dy[i];
        p[(i + n) % M] -= dy[i];
    }
    lti_gemm(0, 0, M, D, M, 1.0f / tau, sv->p, M, sv->u, D, 0.0f, sv->du, D); /* g u */
    lti_gemm(1, 0, M, D, M, 1.0f / tau, sv->p, M, sv->u, D, 1.0f, sv->du, D); /* + gᵀ u */
    for (int64_t i = 0; i < M; i++) {
        const float *u = sv->u + i * D, *du = sv->du + i * D;
        float *d = dz + i * D;
        if (sv->r[i] <= 1e-12f) {
            for (int64_t k = 0; k < D; k++) d[k] += du[k] / 1e-12f;
            continue;
        }
        double dot = 0;
        for (int64_t k = 0; k < D; k++) dot += (double)u[k] * du[k];
        const float inv = 1.0f / sv->r[i], c = (float)dot;
        for (int64_t k = 0; k < D; k++) d[k] += (du[k] - u[k] * c) * inv;
    }
}
