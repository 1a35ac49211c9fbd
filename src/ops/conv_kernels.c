/* Batch kernels of conv2d and conv_transpose2d: see conv_kernels.h. */
#include "ops/conv_kernels.h"

#include <omp.h>
#include <string.h>

/* Images per partial weight gradient: fixed, so dw's summation order depends on N
 * alone, never on the thread count or on which thread took which chunk. */
#define LTI_CONV_CHUNK 8

static int64_t lti_min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* [*lo, *hi): the positions o in [0, n) whose source o·s + off lies in [0, size) */
static void lti_span(int64_t n, int64_t s, int64_t off, int64_t size, int64_t *lo, int64_t *hi) {
    int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t b = size - 1 - off < 0 ? 0 : (size - 1 - off) / s + 1;
    *lo = lti_min64(a, n);
    *hi = lti_min64(b, n);
    if (*hi < *lo) *hi = *lo;
}

/* col (K, Ho·Wo) <- im2col(img (C, H, W)), zeros where the kernel hangs over the padding */
static void lti_im2col(const lti_geom *q, const float *img, float *col) {
    const int64_t Ho = q->Ho, Wo = q->Wo, s = q->stride, W = q->W;
    for (int64_t c = 0; c < q->C; c++)
        for (int64_t ky = 0; ky < q->KH; ky++) {
            int64_t y0, y1;
            lti_span(Ho, s, ky - q->pad, q->H, &y0, &y1);
            for (int64_t kx = 0; kx < q->KW; kx++) {
                int64_t x0, x1;
                lti_span(Wo, s, kx - q->pad, W, &x0, &x1);
                float *dst = col + ((c * q->KH + ky) * q->KW + kx) * Ho * Wo;
                const float *src = img + c * q->H * W;
                for (int64_t oy = 0; oy < Ho; oy++, dst += Wo) {
                    if (oy < y0 || oy >= y1) {
                        memset(dst, 0, sizeof(float) * (size_t)Wo);
                        continue;
                    }
                    const int64_t base = (oy * s - q->pad + ky) * W + kx - q->pad;
                    for (int64_t ox = 0; ox < x0; ox++) dst[ox] = 0.0f;
                    if (s == 1) memcpy(dst + x0, src + base + x0, sizeof(float) * (size_t)(x1 - x0));
                    else for (int64_t ox = x0; ox < x1; ox++) dst[ox] = src[base + ox * s];
                    for (int64_t ox = x1; ox < Wo; ox++) dst[ox] = 0.0f;
                }
            }
        }
}

/* img (C, H, W) += col2im(col (K, Ho·Wo)); entries over the padding are dropped */
static void lti_col2im(const lti_geom *q, const float *col, float *img) {
    const int64_t Ho = q->Ho, Wo = q->Wo, s = q->stride, W = q->W;
    for (int64_t c = 0; c < q->C; c++)
        for (int64_t ky = 0; ky < q->KH; ky++) {
            int64_t y0, y1;
            lti_span(Ho, s, ky - q->pad, q->H, &y0, &y1);
            for (int64_t kx = 0; kx < q->KW; kx++) {
                int64_t x0, x1;
                lti_span(Wo, s, kx - q->pad, W, &x0, &x1);
                const float *src = col + ((c * q->KH + ky) * q->KW + kx) * Ho * Wo;
                float *dst = img + c * q->H * W;
                for (int64_t oy = y0; oy < y1; oy++) {
                    const int64_t base = (oy * s - q->pad + ky) * W + kx - q->pad;
                    const float *row = src + oy * Wo;
                    for (int64_t ox = x0; ox < x1; ox++) dst[base + ox * s] += row[ox];
                }
            }
        }
}

/* x (C, S) = bias (C) broadcast, or zeros */
static void lti_fill_bias(float *x, const float *bias, int64_t C, int64_t S) {
    if (!bias) {
        memset(x, 0, sizeof(float) * (size_t)(C * S));
        return;
    }
    for (int64_t c = 0; c < C; c++)
        for (int64_t i = 0; i < S; i++) x[c * S + i] = bias[c];
}

/* Per-thread col buffers (threads × K·Ho·Wo floats) from the arena */
static float *lti_conv_cols(lt_graph *g, const lti_geom *q) {
    size_t per = (size_t)(q->C * q->KH * q->KW * q->Ho * q->Wo);
    float *col = lt_graph_alloc(g, sizeof(float) * per * (size_t)omp_get_max_threads());
    if (!col && !g->status) lti_graph_fail(g, LT_ERR_NOMEM, "conv: out of memory for the col buffers");
    return col;
}

int lti_conv_forward(lt_graph *g, const lti_geom *q, int64_t N, int64_t O, const float *w, const float *bias,
                     const float *img, const float *grid, float *out, int to_grid) {
    const int64_t K = q->C * q->KH * q->KW, HW = q->Ho * q->Wo, isz = q->C * q->H * q->W;
    float *cols = lti_conv_cols(g, q);
    if (!cols) return -1;
    #pragma omp parallel for schedule(dynamic, 1)
    for (int64_t n = 0; n < N; n++) {
        float *col = cols + (int64_t)omp_get_thread_num() * K * HW;
        if (to_grid) {
            float *y = out + n * O * HW;
            lti_fill_bias(y, bias, O, HW);
            lti_im2col(q, img + n * isz, col);
            lti_gemm(0, 0, O, HW, K, 1.0f, w, K, col, HW, 1.0f, y, HW);
        } else {
            float *y = out + n * isz;
            lti_gemm(1, 0, K, HW, O, 1.0f, w, K, grid + n * O * HW, HW, 0.0f, col, HW);
            lti_fill_bias(y, bias, q->C, q->H * q->W);
            lti_col2im(q, col, y);
        }
    }
    return 0;
}

int lti_conv_backward(lt_graph *g, const lti_geom *q, int64_t N, int64_t O, const float *w, const float *img,
                      const float *grid, float *dw, float *dimg, float *dgrid) {
    const int64_t K = q->C * q->KH * q->KW, HW = q->Ho * q->Wo, isz = q->C * q->H * q->W, OK = O * K;
    const int64_t nchunk = (N + LTI_CONV_CHUNK - 1) / LTI_CONV_CHUNK;
    float *cols = lti_conv_cols(g, q);
    float *part = dw ? lt_graph_alloc(g, sizeof(float) * (size_t)(nchunk * OK)) : NULL;
    if (!cols || (dw && !part)) {
        if (!g->status) lti_graph_fail(g, LT_ERR_NOMEM, "conv: out of memory for the weight gradient's partial sums");
        return -1;
    }
    #pragma omp parallel for schedule(dynamic, 1)
    for (int64_t c = 0; c < nchunk; c++) {
        float *col = cols + (int64_t)omp_get_thread_num() * K * HW;
        for (int64_t n = c * LTI_CONV_CHUNK; n < lti_min64(N, (c + 1) * LTI_CONV_CHUNK); n++) {
            const float *gn = grid + n * O * HW;
            if (dw || dgrid) lti_im2col(q, img + n * isz, col);
            if (dw) lti_gemm(0, 1, O, K, HW, 1.0f, gn, HW, col, HW, n % LTI_CONV_CHUNK ? 1.0f : 0.0f, part + c * OK, K);
            if (dgrid) lti_gemm(0, 0, O, HW, K, 1.0f, w, K, col, HW, 1.0f, dgrid + n * O * HW, HW);
            if (dimg) {
                lti_gemm(1, 0, K, HW, O, 1.0f, w, K, gn, HW, 0.0f, col, HW);
                lti_col2im(q, col, dimg + n * isz);
            }
        }
    }
    if (dw) {
        #pragma omp parallel for schedule(static) if (OK * nchunk > 65536)
        for (int64_t i = 0; i < OK; i++) {
            float s = dw[i];
            for (int64_t c = 0; c < nchunk; c++) s += part[c * OK + i];
            dw[i] = s;
        }
    }
    return 0;
}

void lti_conv_bias_grad(float *db, const float *dy, int64_t N, int64_t C, int64_t S) {
    #pragma omp parallel for schedule(static) if (N * C * S > 65536)
    for (int64_t c = 0; c < C; c++) {
        double s = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t j = 0; j < S; j++) s += dy[(n * C + c) * S + j];
        db[c] += (float)s;
    }
}
