/* Convolutions (NCHW, dilation 1), nearest upsampling, average pooling.
 *
 * conv2d and conv_transpose2d are one linear map and its adjoint, so both are
 * written with three per-image kernels over one geometry. The geometry names the
 * "image" side (C channels, H×W) and the "grid" side (Ho×Wo kernel positions):
 *     conv_apply:   out (O, Ho·Wo)  = w (O, C·KH·KW) · im2col(img)
 *     conv_adjoint: img (C, H, W)  += col2im(wᵀ · in (O, Ho·Wo))
 *     conv_dweight: dw (O, C·KH·KW) += dy (O, Ho·Wo) · im2col(img)ᵀ
 * conv2d:    img = x,   forward apply,   dx adjoint,  dw = dweight(x, dy)
 * convT:     img = out, forward adjoint, dx apply,    dw = dweight(dy, x)
 * GEMMs go through lti_gemm; `col` (C·KH·KW, Ho·Wo) is one arena buffer per call.
 * Per image, not per batch: stacking a block of images into one wide GEMM was tried
 * and measured slower (single thread, CPU time, bench_conv: 10-40% more), because
 * the batch's col buffer leaves the cache and needs gather/scatter copies. */
#include <string.h>

#include "ops/internal.h"

typedef struct {
    int64_t C, H, W, KH, KW, stride, pad, Ho, Wo;
} lti_geom;

static int64_t lti_geom_k(const lti_geom *q) { return q->C * q->KH * q->KW; }

/* col (C·KH·KW, Ho·Wo) <- img (C,H,W), zeros where the kernel hangs over the padding */
static void lti_im2col(const lti_geom *q, const float *img, float *col) {
    const int64_t HW = q->Ho * q->Wo;
    #pragma omp parallel for schedule(static) if (lti_geom_k(q) * HW > 65536)
    for (int64_t r = 0; r < lti_geom_k(q); r++) {
        int64_t c = r / (q->KH * q->KW), ky = r / q->KW % q->KH, kx = r % q->KW;
        float *dst = col + r * HW;
        for (int64_t oy = 0; oy < q->Ho; oy++) {
            int64_t y = oy * q->stride - q->pad + ky;
            for (int64_t ox = 0; ox < q->Wo; ox++) {
                int64_t x = ox * q->stride - q->pad + kx;
                dst[oy * q->Wo + ox] = y >= 0 && y < q->H && x >= 0 && x < q->W ? img[(c * q->H + y) * q->W + x] : 0.0f;
            }
        }
    }
}

/* img (C,H,W) += col2im(col); entries over the padding are dropped. Parallel over
 * channels: rows of one channel may hit the same pixel, rows of two channels never do. */
static void lti_col2im(const lti_geom *q, const float *col, float *img) {
    const int64_t HW = q->Ho * q->Wo, KK = q->KH * q->KW;
    #pragma omp parallel for schedule(static) if (lti_geom_k(q) * HW > 65536)
    for (int64_t c = 0; c < q->C; c++)
        for (int64_t k = 0; k < KK; k++) {
            int64_t ky = k / q->KW, kx = k % q->KW;
            const float *src = col + (c * KK + k) * HW;
            for (int64_t oy = 0; oy < q->Ho; oy++) {
                int64_t y = oy * q->stride - q->pad + ky;
                if (y < 0 || y >= q->H) continue;
                for (int64_t ox = 0; ox < q->Wo; ox++) {
                    int64_t x = ox * q->stride - q->pad + kx;
                    if (x >= 0 && x < q->W) img[(c * q->H + y) * q->W + x] += src[oy * q->Wo + ox];
                }
            }
        }
}

/* out (O, Ho·Wo) = w (O, K) · im2col(img) + beta·out */
static void lti_conv_apply(const lti_geom *q, int64_t O, const float *w, const float *img, float *col, float beta,
                           float *out) {
    lti_im2col(q, img, col);
    int64_t K = lti_geom_k(q), HW = q->Ho * q->Wo;
    lti_gemm(0, 0, O, HW, K, 1.0f, w, K, col, HW, beta, out, HW);
}

/* img += col2im(wᵀ (K, O) · in (O, Ho·Wo)) */
static void lti_conv_adjoint(const lti_geom *q, int64_t O, const float *w, const float *in, float *col, float *img) {
    int64_t K = lti_geom_k(q), HW = q->Ho * q->Wo;
    lti_gemm(1, 0, K, HW, O, 1.0f, w, K, in, HW, 0.0f, col, HW);
    lti_col2im(q, col, img);
}

/* dw (O, K) += dy (O, Ho·Wo) · im2col(img)ᵀ */
static void lti_conv_dweight(const lti_geom *q, int64_t O, const float *dy, const float *img, float *col, float *dw) {
    lti_im2col(q, img, col);
    int64_t K = lti_geom_k(q), HW = q->Ho * q->Wo;
    lti_gemm(0, 1, O, K, HW, 1.0f, dy, HW, col, HW, 1.0f, dw, K);
}

/* y (N,C,S) += bias (C) */
static void lti_bias_add(float *y, const float *bias, int64_t N, int64_t C, int64_t S) {
    for (int64_t i = 0; i < N * C; i++)
        for (int64_t s = 0; s < S; s++) y[i * S + s] += bias[i % C];
}

/* db (C) += Σ_{n,s} dy (N,C,S) */
static void lti_bias_backward(lt_graph *g, lt_tensor *bias, const float *dy, int64_t N, int64_t C, int64_t S) {
    if (!bias || !bias->requires_grad) return;
    float *db = lti_grad(g, bias);
    if (!db) return;
    for (int64_t i = 0; i < N * C; i++) {
        double s = 0;
        for (int64_t j = 0; j < S; j++) s += dy[i * S + j];
        db[i % C] += (float)s;
    }
}

/* Checks a conv's operands: x's channels must equal w->shape[wc] and bias must have
 * w->shape[bo] entries (conv2d: wc 1, bo 0; conv_transpose2d: wc 0, bo 1). */
static int lti_conv_check(lt_graph *g, const char *op, lt_tensor *x, lt_tensor *w, lt_tensor *bias, int wc, int bo,
                          int stride, int pad) {
    if (!lti_check_f32(g, op, x) || !lti_check_f32(g, op, w)) return 0;
    if (bias && !lti_check_f32(g, op, bias)) return 0;
    char s1[64], s2[64], s3[64] = "none";
    if (x->ndim != 4 || w->ndim != 4 || x->shape[1] != w->shape[wc] ||
        (bias && (bias->ndim != 1 || bias->shape[0] != w->shape[bo]))) {
        if (bias) lt_shape_str(bias, s3, 64);
        lti_graph_fail(g, LT_ERR_SHAPE, "%s: input %s, weight %s and bias %s do not fit (want x (N,C,H,W), w %s, "
                       "bias (O))", op, lt_shape_str(x, s1, 64), lt_shape_str(w, s2, 64), s3,
                       wc ? "(O,C,KH,KW)" : "(C,O,KH,KW)");
        return 0;
    }
    if (stride < 1 || pad < 0) {
        lti_graph_fail(g, LT_ERR_ARG, "%s: stride %d must be >= 1 and padding %d >= 0", op, stride, pad);
        return 0;
    }
    return 1;
}

/* ---- conv2d ---- iarg: stride, pad */

static lti_geom lti_conv2d_geom(const lt_tensor *x, const lt_tensor *w, int64_t stride, int64_t pad) {
    lti_geom q = {x->shape[1], x->shape[2], x->shape[3], w->shape[2], w->shape[3], stride, pad, 0, 0};
    q.Ho = (q.H + 2 * pad - q.KH) / stride + 1;
    q.Wo = (q.W + 2 * pad - q.KW) / stride + 1;
    return q;
}

lt_tensor *lt_conv2d(lt_graph *g, lt_tensor *x, lt_tensor *w, lt_tensor *bias, int stride, int pad) {
    if (!lti_conv_check(g, "conv2d", x, w, bias, 1, 0, stride, pad)) return NULL;
    if (x->shape[2] + 2 * pad < w->shape[2] || x->shape[3] + 2 * pad < w->shape[3]) {
        char s1[64], s2[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "conv2d: kernel of %s is larger than the padded input %s (padding %d)",
                       lt_shape_str(w, s1, 64), lt_shape_str(x, s2, 64), pad);
        return NULL;
    }
    lti_geom q = lti_conv2d_geom(x, w, stride, pad);
    int64_t N = x->shape[0], O = w->shape[0], HW = q.Ho * q.Wo;
    lt_tensor *out = lt_graph_new(g, LT_F32, 4, (int64_t[]){N, O, q.Ho, q.Wo});
    float *col = lt_graph_alloc(g, sizeof(float) * (size_t)(lti_geom_k(&q) * HW));
    if (!out || !col) return NULL;
    for (int64_t n = 0; n < N; n++)
        lti_conv_apply(&q, O, w->data, x->data + n * q.C * q.H * q.W, col, 0.0f, out->data + n * O * HW);
    if (bias) lti_bias_add(out->data, bias->data, N, O, HW);
    lti_node *node = lti_graph_record(g, LT_OP_CONV2D, out, 3, (lt_tensor *[]){x, w, bias});
    if (node) { node->iarg[0] = stride; node->iarg[1] = pad; }
    return out;
}

void lti_conv2d_backward(lt_graph *g, lti_node *n) {
    lt_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2];
    lti_geom q = lti_conv2d_geom(x, w, n->iarg[0], n->iarg[1]);
    int64_t N = x->shape[0], O = w->shape[0], HW = q.Ho * q.Wo, img = q.C * q.H * q.W;
    const float *dy = n->out->grad;
    float *col = lt_graph_alloc(g, sizeof(float) * (size_t)(lti_geom_k(&q) * HW));
    float *dx = x->requires_grad ? lti_grad(g, x) : NULL, *dw = w->requires_grad ? lti_grad(g, w) : NULL;
    if (!col || g->status) return;
    for (int64_t i = 0; i < N; i++) {
        if (dx) lti_conv_adjoint(&q, O, w->data, dy + i * O * HW, col, dx + i * img);
        if (dw) lti_conv_dweight(&q, O, dy + i * O * HW, x->data + i * img, col, dw);
    }
    lti_bias_backward(g, bias, dy, N, O, HW);
}

/* ---- conv_transpose2d ---- iarg: stride, pad. w (C_in, C_out, KH, KW) is read as a
 * conv2d weight (O = C_in, C = C_out) mapping the output back onto x. */

static lti_geom lti_convt_geom(const lt_tensor *x, const lt_tensor *w, int64_t stride, int64_t pad) {
    lti_geom q = {w->shape[1], 0, 0, w->shape[2], w->shape[3], stride, pad, x->shape[2], x->shape[3]};
    q.H = (q.Ho - 1) * stride - 2 * pad + q.KH;
    q.W = (q.Wo - 1) * stride - 2 * pad + q.KW;
    return q;
}

lt_tensor *lt_conv_transpose2d(lt_graph *g, lt_tensor *x, lt_tensor *w, lt_tensor *bias, int stride, int pad) {
    if (!lti_conv_check(g, "conv_transpose2d", x, w, bias, 0, 1, stride, pad)) return NULL;
    lti_geom q = lti_convt_geom(x, w, stride, pad);
    if (q.H < 1 || q.W < 1) {
        lti_graph_fail(g, LT_ERR_SHAPE, "conv_transpose2d: padding %d leaves an empty output (%lld x %lld)", pad,
                       (long long)q.H, (long long)q.W);
        return NULL;
    }
    int64_t N = x->shape[0], Cin = w->shape[0], HW = q.Ho * q.Wo, img = q.C * q.H * q.W;
    lt_tensor *out = lt_graph_zeros(g, LT_F32, 4, (int64_t[]){N, q.C, q.H, q.W});
    float *col = lt_graph_alloc(g, sizeof(float) * (size_t)(lti_geom_k(&q) * HW));
    if (!out || !col) return NULL;
    for (int64_t n = 0; n < N; n++) lti_conv_adjoint(&q, Cin, w->data, x->data + n * Cin * HW, col, out->data + n * img);
    if (bias) lti_bias_add(out->data, bias->data, N, q.C, q.H * q.W);
    lti_node *node = lti_graph_record(g, LT_OP_CONV_TRANSPOSE2D, out, 3, (lt_tensor *[]){x, w, bias});
    if (node) { node->iarg[0] = stride; node->iarg[1] = pad; }
    return out;
}

void lti_conv_transpose2d_backward(lt_graph *g, lti_node *n) {
    lt_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2];
    lti_geom q = lti_convt_geom(x, w, n->iarg[0], n->iarg[1]);
    int64_t N = x->shape[0], Cin = w->shape[0], HW = q.Ho * q.Wo, img = q.C * q.H * q.W;
    const float *dy = n->out->grad;
    float *col = lt_graph_alloc(g, sizeof(float) * (size_t)(lti_geom_k(&q) * HW));
    float *dx = x->requires_grad ? lti_grad(g, x) : NULL, *dw = w->requires_grad ? lti_grad(g, w) : NULL;
    if (!col || g->status) return;
    for (int64_t i = 0; i < N; i++) {
        if (dx) lti_conv_apply(&q, Cin, w->data, dy + i * img, col, 1.0f, dx + i * Cin * HW);
        if (dw) lti_conv_dweight(&q, Cin, x->data + i * Cin * HW, dy + i * img, col, dw);
    }
    lti_bias_backward(g, bias, dy, N, q.C, q.H * q.W);
}

/* ---- upsample_nearest ---- iarg: factor. out[n,c,y,x] = in[n,c,y/f,x/f] */

lt_tensor *lt_upsample_nearest(lt_graph *g, lt_tensor *x, int factor) {
    if (!lti_check_f32(g, "upsample_nearest", x)) return NULL;
    if (x->ndim != 4 || factor < 1) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "upsample_nearest: want x (N,C,H,W) and factor >= 1, got %s and %d",
                       lt_shape_str(x, s, 64), factor);
        return NULL;
    }
    int64_t NC = x->shape[0] * x->shape[1], H = x->shape[2], W = x->shape[3], f = factor;
    lt_tensor *out = lt_graph_new(g, LT_F32, 4, (int64_t[]){x->shape[0], x->shape[1], H * f, W * f});
    if (!out) return NULL;
    for (int64_t p = 0; p < NC; p++)
        for (int64_t y = 0; y < H * f; y++)
            for (int64_t xx = 0; xx < W * f; xx++)
                out->data[(p * H * f + y) * W * f + xx] = x->data[(p * H + y / f) * W + xx / f];
    lti_node *n = lti_graph_record(g, LT_OP_UPSAMPLE_NEAREST, out, 1, &x);
    if (n) n->iarg[0] = factor;
    return out;
}

void lti_upsample_nearest_backward(lt_graph *g, lti_node *n) {
    lt_tensor *x = n->in[0];
    if (!x->requires_grad) return;
    float *dx = lti_grad(g, x);
    if (!dx) return;
    int64_t NC = x->shape[0] * x->shape[1], H = x->shape[2], W = x->shape[3], f = n->iarg[0];
    const float *dy = n->out->grad;
    for (int64_t p = 0; p < NC; p++)
        for (int64_t y = 0; y < H * f; y++)
            for (int64_t xx = 0; xx < W * f; xx++) dx[(p * H + y / f) * W + xx / f] += dy[(p * H * f + y) * W * f + xx];
}

/* ---- avg_pool2d ---- iarg: k, stride. No padding; windows that would overhang are dropped. */

/* Forward (fwd=1): out = mean of each window; backward: din += dout / k² over the window. */
static void lti_avg_pool_walk(float *in, float *out, int64_t NC, int64_t H, int64_t W, int64_t k, int64_t s, int fwd) {
    int64_t Ho = (H - k) / s + 1, Wo = (W - k) / s + 1;
    const float inv = 1.0f / (float)(k * k);
    for (int64_t p = 0; p < NC; p++)
        for (int64_t oy = 0; oy < Ho; oy++)
            for (int64_t ox = 0; ox < Wo; ox++) {
                float *o = out + (p * Ho + oy) * Wo + ox, acc = 0.0f;
                for (int64_t ky = 0; ky < k; ky++)
                    for (int64_t kx = 0; kx < k; kx++) {
                        float *v = in + (p * H + oy * s + ky) * W + ox * s + kx;
                        if (fwd) acc += *v;
                        else *v += *o * inv;
                    }
                if (fwd) *o = acc * inv;
            }
}

lt_tensor *lt_avg_pool2d(lt_graph *g, lt_tensor *x, int k, int stride) {
    if (!lti_check_f32(g, "avg_pool2d", x)) return NULL;
    if (x->ndim != 4 || k < 1 || stride < 1 || x->shape[2] < k || x->shape[3] < k) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "avg_pool2d: want x (N,C,H,W) with H,W >= k >= 1 and stride >= 1, got %s, k %d, "
                       "stride %d", lt_shape_str(x, s, 64), k, stride);
        return NULL;
    }
    int64_t H = x->shape[2], W = x->shape[3];
    lt_tensor *out = lt_graph_new(g, LT_F32, 4, (int64_t[]){x->shape[0], x->shape[1], (H - k) / stride + 1,
                                                            (W - k) / stride + 1});
    if (!out) return NULL;
    lti_avg_pool_walk(x->data, out->data, x->shape[0] * x->shape[1], H, W, k, stride, 1);
    lti_node *n = lti_graph_record(g, LT_OP_AVG_POOL2D, out, 1, &x);
    if (n) { n->iarg[0] = k; n->iarg[1] = stride; }
    return out;
}

void lti_avg_pool2d_backward(lt_graph *g, lti_node *n) {
    lt_tensor *x = n->in[0];
    if (!x->requires_grad) return;
    float *dx = lti_grad(g, x);
    if (!dx) return;
    lti_avg_pool_walk(dx, n->out->grad, x->shape[0] * x->shape[1], x->shape[2], x->shape[3], n->iarg[0], n->iarg[1], 0);
}
