/* Convolutions (NCHW, dilation 1), nearest upsampling, average pooling.
 *
 * conv2d and conv_transpose2d are one linear map and its adjoint; their batch
 * kernels (an implicit GEMM per image, threads over the batch) live in
 * conv_kernels.c. This file checks shapes, records nodes and picks which kernel
 * plays which role. */
#include <string.h>

#include "ops/conv_kernels.h"

/* db (C) += Σ_{n,s} dy (N,C,S) when bias wants a gradient */
static void lti_bias_backward(lt_graph *g, lt_tensor *bias, const float *dy, int64_t N, int64_t C, int64_t S) {
    if (!bias || !bias->requires_grad) return;
    float *db = lti_grad(g, bias);
    if (db) lti_conv_bias_grad(db, dy, N, C, S);
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
    int64_t N = x->shape[0], O = w->shape[0];
    lt_tensor *out = lt_graph_new(g, LT_F32, 4, (int64_t[]){N, O, q.Ho, q.Wo});
    if (!out || lti_conv_forward(g, &q, N, O, w->data, bias ? bias->data : NULL, x->data, NULL, out->data, 1))
        return NULL;
    lti_node *node = lti_graph_record(g, LT_OP_CONV2D, out, 3, (lt_tensor *[]){x, w, bias});
    if (node) { node->iarg[0] = stride; node->iarg[1] = pad; }
    return out;
}

void lti_conv2d_backward(lt_graph *g, lti_node *n) {
    lt_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2];
    lti_geom q = lti_conv2d_geom(x, w, n->iarg[0], n->iarg[1]);
    int64_t N = x->shape[0], O = w->shape[0];
    const float *dy = n->out->grad;
    int fresh = 0; /* dx overwritten when nothing was added to it yet */
    float *dx = x->requires_grad ? lti_grad_out(g, x, &fresh) : NULL, *dw = w->requires_grad ? lti_grad(g, w) : NULL;
    if (g->status || lti_conv_backward(g, &q, N, O, w->data, x->data, dy, dw, dx, NULL, fresh)) return;
    lti_bias_backward(g, bias, dy, N, O, q.Ho * q.Wo);
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
    int64_t N = x->shape[0], Cin = w->shape[0];
    lt_tensor *out = lt_graph_new(g, LT_F32, 4, (int64_t[]){N, q.C, q.H, q.W});
    if (!out || lti_conv_forward(g, &q, N, Cin, w->data, bias ? bias->data : NULL, NULL, x->data, out->data, 0))
        return NULL;
    lti_node *node = lti_graph_record(g, LT_OP_CONV_TRANSPOSE2D, out, 3, (lt_tensor *[]){x, w, bias});
    if (node) { node->iarg[0] = stride; node->iarg[1] = pad; }
    return out;
}

void lti_conv_transpose2d_backward(lt_graph *g, lti_node *n) {
    lt_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2];
    lti_geom q = lti_convt_geom(x, w, n->iarg[0], n->iarg[1]);
    int64_t N = x->shape[0], Cin = w->shape[0];
    const float *dy = n->out->grad;
    int fresh = 0; /* dx overwritten when nothing was added to it yet */
    float *dx = x->requires_grad ? lti_grad_out(g, x, &fresh) : NULL, *dw = w->requires_grad ? lti_grad(g, w) : NULL;
    if (g->status || lti_conv_backward(g, &q, N, Cin, w->data, dy, x->data, dw, NULL, dx, fresh)) return;
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
    const float *src = x->data;
    float *dst = out->data;
    #pragma omp parallel for schedule(static) if (NC * H * W * f * f > 65536)
    for (int64_t p = 0; p < NC; p++)
        for (int64_t y = 0; y < H; y++) { /* one output row from input row y, then its f-1 copies */
            float *o = dst + (p * H + y) * f * W * f;
            const float *i = src + (p * H + y) * W;
            for (int64_t xx = 0; xx < W; xx++)
                for (int64_t r = 0; r < f; r++) o[xx * f + r] = i[xx];
            for (int64_t r = 1; r < f; r++) memcpy(o + r * W * f, o, sizeof(float) * (size_t)(W * f));
        }
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
    #pragma omp parallel for schedule(static) if (NC * H * W * f * f > 65536)
    for (int64_t p = 0; p < NC; p++)
        for (int64_t y = 0; y < H; y++) { /* each dx element: its f×f block, row by row */
            float *d = dx + (p * H + y) * W;
            for (int64_t r = 0; r < f; r++) {
                const float *i = dy + ((p * H + y) * f + r) * W * f;
                for (int64_t xx = 0; xx < W; xx++)
                    for (int64_t c = 0; c < f; c++) d[xx] += i[xx * f + c];
            }
        }
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
