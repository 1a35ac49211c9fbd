/* Batch kernels of conv2d and conv_transpose2d (private to src/ops/conv*.c).
 *
 * conv2d and conv_transpose2d are one linear map and its adjoint over one geometry.
 * The geometry names the "image" side (C channels, H×W) and the "grid" side
 * (O channels at Ho×Wo kernel positions); with K = C·KH·KW and w (O, K):
 *     grid_n (O, Ho·Wo) = w · im2col(img_n)          conv2d forward, convT's dx
 *     img_n (C, H, W)  += col2im(wᵀ · grid_n)        convT forward, conv2d's dx
 *     dw (O, K)        += grid_n · im2col(img_n)ᵀ    both weight gradients
 * conv2d: img = x, grid = y.  convT: img = y, grid = x, w (C_in, C_out, KH, KW) read
 * as (O = C_in, C = C_out).
 *
 * Threads split the batch: each image is one single-threaded implicit GEMM on
 * per-thread scratch,
 * images handed out dynamically so that a thread sharing its core with another
 * process takes fewer. Results do not depend on the thread count: each image's output
 * is computed by one thread alone, and dw is summed per fixed chunk of images, then
 * over the chunks in order. Scratch comes from the graph's arena. */
#ifndef LTI_CONV_KERNELS_H
#define LTI_CONV_KERNELS_H

#include "ops/internal.h"

typedef struct {
    int64_t C, H, W, KH, KW, stride, pad, Ho, Wo;
} lti_geom;

/* Images per partial weight gradient: fixed, so dw's summation order depends on N
 * alone, never on the thread count or on which thread took which chunk. */
#define LTI_CONV_CHUNK 8

/* C (M, N) (=|+=) A (M, P) · B (P, N), A(i, p) = a[roff[i] + poff[p]]; N, ldb, ldc multiples
 * of 16 (conv_kernels.c) */
void lti_igemm(int64_t M, int64_t N, int64_t P, const float *a, const int64_t *roff, const int64_t *poff,
               const float *b, int64_t ldb, float *c, int64_t ldc, int acc);
/* dst (cols, rows) (=|+=) src (rows, cols)ᵀ [+ bias per dst row] (conv_kernels.c) */
void lti_transpose(const float *src, int64_t lds, int64_t rows, int64_t cols, const float *bias, int accumulate,
                   float *dst, int64_t ldd);
/* the same, threads over blocks of destination rows when large (outside parallel regions) */
void lti_transpose_par(const float *src, int64_t lds, int64_t rows, int64_t cols, const float *bias, int accumulate,
                       float *dst, int64_t ldd);

/* Winograd F(2×2, 3×3) for stride-1 3×3 layers of 16 or more channels on both sides
 * (conv_winograd.c): the plan holds U = G g Gᵀ (16, C, Op) and per-thread scratch for
 * blocks of up to nb images, whose tiles are the rows of one GEMM per transformed position. */
typedef struct {
    int64_t tH, tW, T, Hq, Wq, Cp, Op, isz, vsz, per_thread; /* T = tH·tW tiles of 2×2 outputs */
    int64_t nb;                                              /* images per block, at most */
    int64_t *roff, *poff;                                    /* (nb·T) r·Cp, (C) c */
    float *u, *scratch;
} lti_wino;
int lti_wino_fits(const lti_geom *q, int64_t O);
/* Images per block: about 96 tiles (GEMM rows), at most `most`, at least 1. */
int64_t lti_wino_images(const lti_geom *q, int64_t most);
/* From wᵀ ((c, ky, kx), o) with row stride ldw, for blocks of up to nb images; wt NULL: the
 * geometry alone, for lti_wino_dw. Returns 0, or -1 with the graph failed. */
int lti_wino_make(lt_graph *g, const lti_geom *q, int64_t O, const float *wt, int64_t ldw, int64_t nb,
                  lti_wino *wp);
/* grid_n (O, Ho, Wo) (=|+=) conv(img_n (C, H, W)) [+ bias] for the n <= nb images from img and
 * grid on; scratch: the thread's per_thread floats */
void lti_wino_apply(const lti_geom *q, const lti_wino *wp, int64_t O, const float *img, int64_t n, const float *bias,
                    int accumulate, float *scratch, float *grid);

/* dw (O, C, 3, 3) += Σ_n grid_n · im2col(img_n)ᵀ in the Winograd domain (wp from lti_wino_make).
 * Returns 0, or -1 with the graph failed. */
int lti_wino_dw(lt_graph *g, const lti_geom *q, const lti_wino *wp, int64_t N, int64_t O, const float *img,
                const float *grid, float *dw);

/* The adjoint img_n (C, H, W) (=|+=) col2im(wᵀ · grid_n) [+ bias] as s² stride-1 implicit
 * GEMMs, one per phase ((iy + pad) mod s, (ix + pad) mod s) of the image (conv_phases.c). */
typedef struct {
    int64_t M, P;           /* the phase's image positions, its taps (o, j, i) */
    int64_t y0, x0, ny, nx; /* positions (y0 + s·y, x0 + s·x), y < ny, x < nx */
    int64_t *moff, *koff;   /* (M), (P) into the padded grid */
    float *b;               /* (P, Cp) the phase's weights w[o, c, ry + s·j, rx + s·i] */
} lti_phase;
typedef struct {
    int64_t s, Cp, PT, PL, Hq, Wq, gsz, nph, mmax, per_thread; /* grid padded to (O, Hq, Wq) */
    lti_phase *ph;                                              /* (s²) */
    float *scratch;
} lti_phases;
/* w (O, C, KH, KW). Returns 0, or -1 with the graph failed. */
int lti_phases_make(lt_graph *g, const lti_geom *q, int64_t O, const float *w, lti_phases *pp);
/* scratch: the thread's per_thread floats */
void lti_phases_apply(const lti_geom *q, const lti_phases *pp, int64_t O, const float *grid, const float *bias,
                      int accumulate, float *scratch, float *img);

/* Forward over N images; bias may be NULL. Returns 0, or -1 with the graph failed.
 * to_grid: grid (N, O, Ho, Wo) = w · im2col(img (N, C, H, W)) + bias (O)
 * else:    img (N, C, H, W) = col2im(wᵀ · grid (N, O, Ho, Wo)) + bias (C)
 * Its scratch is released from the arena when it returns (out must be allocated before). */
int lti_conv_forward(lt_graph *g, const lti_geom *q, int64_t N, int64_t O, const float *w, const float *bias,
                     const float *img, const float *grid, float *out, int to_grid);

/* Backward over N images, img (N, C, H, W) and grid (N, O, Ho, Wo); NULL skips a term:
 * dw (O, K) += Σ_n grid_n · im2col(img_n)ᵀ
 * dimg_n    += col2im(wᵀ · grid_n)      (conv2d's dx: grid = dy)
 * dgrid_n   += w · im2col(img_n)        (convT's dx: img = dy)
 * set: dimg / dgrid are written ("=", a fresh buffer of graph.h lti_grad_out), not added to.
 * Returns 0, or -1 with the graph failed. Its scratch is released from the arena when it
 * returns (the gradient buffers must be allocated before). */
int lti_conv_backward(lt_graph *g, const lti_geom *q, int64_t N, int64_t O, const float *w, const float *img,
                      const float *grid, float *dw, float *dimg, float *dgrid, int set);

/* db (C) += Σ_{n,s} dy (N, C, S), each channel summed in a fixed order */
void lti_conv_bias_grad(float *db, const float *dy, int64_t N, int64_t C, int64_t S);

#endif
