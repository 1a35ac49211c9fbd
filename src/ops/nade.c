/* NADE's hidden layer as one op (Larochelle & Murray 2011), forward and backward by hand.
 *
 *     a_0 = a0,  h_d = σ(a_d),  logits_d = b_d + V_d·h_d,  a_{d+1} = a_d + W_d x_d
 *
 * O(D·H) per example with the running pre-activation. The D steps are not D
 * graph ops: the whole recurrence is one tape node whose backward runs the
 * recurrence in reverse, recovering a_d = a_{d+1} - W_d x_d by subtraction
 * (so nothing of size (B,D,H) is ever stored) and accumulating
 *     δ_d = δ_{d+1} + (g_d V_d) ⊙ h_d ⊙ (1 - h_d)   (δ = dL/da, δ_D = 0, g = dL/dlogits)
 *     dW_d = Σ_b δ_{d+1} x_d,  dV_d = Σ_b g_d h_d,  db_d = Σ_b g_d,  da0 = δ_0.
 * Threads split the batch: each owns a contiguous block of examples and walks
 * d = 0..D-1 over its (B_t,H) block, so each step is vectorized (B_t,H) work with
 * W_d and V_d hot in L1; parameter gradients go to per-thread buffers that are
 * summed at the end. The arena holds (B,H) saved pre-activations a_D.
 * h_d is recomputed only when a moved (x_{d-1} != 0): on binary images most
 * pixels are 0, so most steps are one dot product (forward) or two FMAs (backward)
 * per hidden unit instead of a sigmoid. */
#include <string.h>

#include <omp.h>

#include "ops/fastmath.h"
#include "ops/internal.h"

typedef struct lti_nade_saved {
    const lt_tensor *x; /* (B,D), constant */
    float *aD;          /* (B,H) pre-activations after the last step */
} lti_nade_saved;

/* Examples [lo,hi) of this thread out of B. */
static void lti_nade_chunk(int64_t B, int64_t *lo, int64_t *hi) {
    int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    *lo = B * t / nt;
    *hi = B * (t + 1) / nt;
}

lt_tensor *lt_nade(lt_graph *g, const lt_tensor *x, lt_tensor *a0, lt_tensor *W, lt_tensor *V, lt_tensor *b) {
    if (!lti_check_f32(g, "nade", x) || !lti_check_f32(g, "nade", a0) || !lti_check_f32(g, "nade", W) ||
        !lti_check_f32(g, "nade", V) || !lti_check_f32(g, "nade", b))
        return NULL;
    if (x->ndim != 2 || W->ndim != 2) {
        lti_graph_fail(g, LT_ERR_SHAPE, "nade: want x (B,D) and W (D,H)");
        return NULL;
    }
    const int64_t B = x->shape[0], D = x->shape[1], H = W->shape[1];
    int a0_shared = a0->ndim == 1;
    if (W->shape[0] != D || !lt_tensor_same_shape(W, V) || b->ndim != 1 || b->shape[0] != D ||
        !(a0_shared ? a0->shape[0] == H : (a0->ndim == 2 && a0->shape[0] == B && a0->shape[1] == H))) {
        char s1[64], s2[64], s3[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "nade: x %s, a0 %s, W %s do not fit (want x (B,D), a0 (H) or (B,H), W and V (D,H), b (D))",
                       lt_shape_str(x, s1, 64), lt_shape_str(a0, s2, 64), lt_shape_str(W, s3, 64));
        return NULL;
    }
    lt_tensor *out = lt_graph_new(g, LT_F32, 2, (int64_t[]){B, D}); /* (B,D) logits */
    float *A = lt_graph_alloc(g, sizeof(float) * (size_t)(B * H));  /* (B,H) running pre-activations */
    if (!out || !A) return NULL;
    const float *X = x->data, *Wd = W->data, *Vd = V->data, *bd = b->data;
    float *Y = out->data;
    for (int64_t i = 0; i < B; i++) memcpy(A + i * H, a0->data + (a0_shared ? 0 : i * H), sizeof(float) * H);
    float *Hc = lt_graph_alloc(g, sizeof(float) * (size_t)(B * H)); /* (B,H) h = σ(a), recomputed only when a moves */
    unsigned char *moved = lt_graph_alloc(g, (size_t)B);              /* (B) a changed since h was computed */
    if (!Hc || !moved) return NULL;
    memset(moved, 1, (size_t)B);
    #pragma omp parallel if (B * D * H > 100000)
    {
        int64_t lo, hi;
        lti_nade_chunk(B, &lo, &hi);
        for (int64_t d = 0; d < D; d++) {
            const float *w = Wd + d * H, *v = Vd + d * H;
            for (int64_t i = lo; i < hi; i++) {
                float *a = A + i * H, *h = Hc + i * H, s = 0.0f;
                if (moved[i]) {
                    #pragma omp simd
                    for (int64_t k = 0; k < H; k++) h[k] = lti_sigmoidf(a[k]);
                    moved[i] = 0;
                }
                #pragma omp simd reduction(+ : s)
                for (int64_t k = 0; k < H; k++) s += h[k] * v[k];
                Y[i * D + d] = bd[d] + s;
                float xd = X[i * D + d];
                if (xd != 0.0f) {
                    #pragma omp simd
                    for (int64_t k = 0; k < H; k++) a[k] += w[k] * xd;
                    moved[i] = 1;
                }
            }
        }
    }
    lti_node *n = lti_graph_record(g, LT_OP_NADE, out, 4, (lt_tensor *[]){a0, W, V, b});
    if (n) {
        lti_nade_saved *s = lt_graph_alloc(g, sizeof *s);
        if (!s) return NULL;
        s->x = x;
        s->aD = A;
        n->saved = s;
    }
    return out;
}

void lti_nade_backward(lt_graph *g, lti_node *n) {
    const lti_nade_saved *s = n->saved;
    lt_tensor *a0 = n->in[0], *W = n->in[1], *V = n->in[2], *b = n->in[3];
    const int64_t B = s->x->shape[0], D = s->x->shape[1], H = W->shape[1];
    const int nt = omp_get_max_threads();
    const int par = B * D * H > 100000;
    const int a0_shared = a0->ndim == 1;
    /* Scratch: a (B,H) copy of a_D walked back to a_0, δ (B,H), h and h(1-h) (B,H) each,
     * and per thread dW, dV (D,H), db (D). */
    const int64_t per = 2 * D * H + D;
    float *A = lt_graph_alloc(g, sizeof(float) * (size_t)(B * H));
    float *Dl = lt_arena_calloc(&g->arena, sizeof(float) * (size_t)(B * H));
    float *Hc = lt_graph_alloc(g, sizeof(float) * (size_t)(2 * B * H));
    float *P = lt_arena_calloc(&g->arena, sizeof(float) * (size_t)(per * nt));
    unsigned char *moved = lt_graph_alloc(g, (size_t)B);
    if (!A || !Dl || !Hc || !P || !moved) {
        lti_graph_fail(g, LT_ERR_NOMEM, "nade backward: out of memory for scratch");
        return;
    }
    memcpy(A, s->aD, sizeof(float) * (size_t)(B * H));
    memset(moved, 1, (size_t)B);
    const float *X = s->x->data, *G = n->out->grad, *Wd = W->data, *Vd = V->data;
    #pragma omp parallel num_threads(par ? nt : 1)
    {
        int64_t lo, hi;
        lti_nade_chunk(B, &lo, &hi);
        float *pW = P + per * omp_get_thread_num(), *pV = pW + D * H, *pb = pV + D * H;
        for (int64_t d = D - 1; d >= 0; d--) {
            const float *w = Wd + d * H, *v = Vd + d * H;
            float *dw = pW + d * H, *dv = pV + d * H;
            for (int64_t i = lo; i < hi; i++) {
                float *a = A + i * H, *dl = Dl + i * H, *h = Hc + 2 * i * H, *hp = h + H;
                float xd = X[i * D + d], gd = G[i * D + d];
                if (xd != 0.0f) { /* dW_d += δ_{d+1} x_d, then step back to a_d */
                    #pragma omp simd
                    for (int64_t k = 0; k < H; k++) {
                        dw[k] += dl[k] * xd;
                        a[k] -= w[k] * xd;
                    }
                    moved[i] = 1;
                }
                if (moved[i]) { /* binary data: a_d = a_{d+1} after every x_d = 0, so h is reused */
                    #pragma omp simd
                    for (int64_t k = 0; k < H; k++) {
                        h[k] = lti_sigmoidf(a[k]);
                        hp[k] = h[k] * (1.0f - h[k]);
                    }
                    moved[i] = 0;
                }
                pb[d] += gd;
                #pragma omp simd
                for (int64_t k = 0; k < H; k++) {
                    dv[k] += gd * h[k];
                    dl[k] += gd * v[k] * hp[k];
                }
            }
        }
    }
    /* Sum the per-thread buffers into the gradients; da0 = δ_0. */
    float *gW = W->requires_grad ? lti_grad(g, W) : NULL, *gV = V->requires_grad ? lti_grad(g, V) : NULL;
    float *gb = b->requires_grad ? lti_grad(g, b) : NULL, *ga = a0->requires_grad ? lti_grad(g, a0) : NULL;
    if (g->status) return;
    #pragma omp parallel for schedule(static) if (par)
    for (int64_t j = 0; j < D * H; j++) {
        float sw = 0.0f, sv = 0.0f;
        for (int t = 0; t < nt; t++) {
            sw += P[per * t + j];
            sv += P[per * t + D * H + j];
        }
        if (gW) gW[j] += sw;
        if (gV) gV[j] += sv;
    }
    for (int t = 0; t < nt && gb; t++)
        for (int64_t d = 0; d < D; d++) gb[d] += P[per * t + 2 * D * H + d];
    if (ga) {
        for (int64_t i = 0; i < B; i++)
            for (int64_t k = 0; k < H; k++) ga[(a0_shared ? 0 : i * H) + k] += Dl[i * H + k];
    }
}
