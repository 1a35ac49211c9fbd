/* Winograd F(2×2, 3×3) for stride-1 3×3 convolutions (Lavin and Gray, "Fast Algorithms
 * for Convolutional Neural Networks", 2016): see conv_kernels.h.
 *
 * Each 2×2 block of outputs (a tile) is Aᵀ [Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)] A with d the tile's
 * 4×4 input patch; the sum over channels at each of the 16 transformed positions ξ is a
 * GEMM, so an image costs 16 GEMMs M_ξ (T, O) = V_ξ (T, C) · U_ξ (C, O) over its T tiles:
 * 16·T·C·O multiply-adds where the direct kernel does 9·4·T·C·O (2.25× fewer; 1.72×
 * on 7×7, whose tiles overhang by a row and a column). The transforms are vectorized over
 * 16 channels: the image is first transposed to channels-last (Hq, Wq, Cp) inside a zero
 * border, the GEMMs' outputs are untransposed by lti_transpose, which also adds the bias.
 * Rounding differs from the direct kernel's (the transforms add and subtract inputs
 * before the products); tests/test_ops_conv.c holds both to the same tolerance. */
#include <omp.h>
#include <string.h>

#include "ops/conv_kernels.h"
#include "ops/vec.h"

/* lanes are channels (transforms) or outputs (GEMMs' results), never summed across: each
 * loop steps LTI_VW floats through buffers padded to 16 */

int lti_wino_fits(const lti_geom *q, int64_t O) {
    return q->stride == 1 && q->KH == 3 && q->KW == 3 && q->pad <= 2 && q->C >= 16 && O >= 16;
}

/* GEMM rows per block of images: one image of 7×7 has 16 tiles, and GEMMs of 16 rows spend
 * much of their time outside the 6-row tiles (conv 64->64 at 7×7, batch 64, one thread on
 * AVX2: forward 2.80 ms one image at a time, 2.39 ms in blocks of 4); 6 images make 96 rows */
#define LTI_WINO_ROWS 96

int64_t lti_wino_images(const lti_geom *q, int64_t most) {
    const int64_t T = ((q->Ho + 1) / 2) * ((q->Wo + 1) / 2), nb = LTI_WINO_ROWS / T;
    return nb < 1 ? 1 : nb > most ? (most < 1 ? 1 : most) : nb;
}

int lti_wino_make(lt_graph *g, const lti_geom *q, int64_t O, const float *wt, int64_t ldw, int64_t nb,
                  lti_wino *wp) {
    const int64_t C = q->C;
    wp->tH = (q->Ho + 1) / 2;
    wp->tW = (q->Wo + 1) / 2;
    wp->T = wp->tH * wp->tW;
    wp->nb = nb;
    wp->Hq = 2 * wp->tH + 2;
    wp->Wq = 2 * wp->tW + 2;
    wp->Cp = (C + 15) / 16 * 16;
    wp->Op = (O + 15) / 16 * 16;
    wp->isz = wp->Hq * wp->Wq * wp->Cp;
    wp->vsz = 16 * nb * wp->T * (wp->Cp > wp->Op ? wp->Cp : wp->Op);
    /* per thread: the channels-last image, V (16, nb·T, Cp), M (16, nb·T, Op), and outᵀ (Ho·Wo, Op),
     * which holds an image's transpose (H·W, Cp) first */
    const int64_t osz = q->Ho * q->Wo * wp->Op, xsz = q->H * q->W * wp->Cp;
    wp->per_thread = wp->isz + 2 * wp->vsz + (osz > xsz ? osz : xsz);
    const int T = omp_get_max_threads();
    if (!wt) return 0; /* the geometry alone (lti_wino_dw) */
    wp->u = lt_graph_alloc(g, sizeof(float) * (size_t)(16 * C * wp->Op));
    wp->roff = lt_graph_alloc(g, sizeof(int64_t) * (size_t)(nb * wp->T + C));
    wp->scratch = lt_graph_alloc(g, sizeof(float) * (size_t)(wp->per_thread * T));
    if (!wp->u || !wp->roff || !wp->scratch) {
        if (!g->status) lti_graph_fail(g, LT_ERR_NOMEM, "conv: out of memory for the Winograd kernel");
        return -1;
    }
    wp->poff = wp->roff + nb * wp->T;
    for (int64_t t = 0; t < nb * wp->T; t++) wp->roff[t] = t * wp->Cp;
    for (int64_t c = 0; c < C; c++) wp->poff[c] = c;
    /* the borders and the channel tails of the channels-last images stay zero */
    #pragma omp parallel for schedule(static, 1)
    for (int i = 0; i < T; i++) memset(wp->scratch + i * wp->per_thread, 0, sizeof(float) * (size_t)wp->isz);
    /* U_ξ (C, Op) = G g Gᵀ per (c, o), 16 o at a time from wᵀ ((c, ky, kx), o) */
    #pragma omp parallel for schedule(static) if (C * wp->Op > 4096)
    for (int64_t c = 0; c < C; c++)
        for (int64_t ob = 0; ob < wp->Op; ob += LTI_VW) {
            lti_vt k[9], r[4][3], u[4][4];
            for (int i = 0; i < 9; i++) k[i] = LTI_VLD(wt + (c * 9 + i) * ldw + ob);
            for (int j = 0; j < 3; j++) { /* G g: rows */
                r[0][j] = k[j];
                r[1][j] = 0.5f * (k[j] + k[3 + j] + k[6 + j]);
                r[2][j] = 0.5f * (k[j] - k[3 + j] + k[6 + j]);
                r[3][j] = k[6 + j];
            }
            for (int i = 0; i < 4; i++) { /* (G g) Gᵀ: columns */
                u[i][0] = r[i][0];
                u[i][1] = 0.5f * (r[i][0] + r[i][1] + r[i][2]);
                u[i][2] = 0.5f * (r[i][0] - r[i][1] + r[i][2]);
                u[i][3] = r[i][2];
            }
            for (int i = 0; i < 16; i++) LTI_VST(wp->u + (i * C + c) * wp->Op + ob, u[i / 4][i % 4]);
        }
    return 0;
}

/* V[ξ·xs + t·Cp + c] = (Bᵀ d B)[ξ] of img's tile t in channel c; im and tmp: scratch */
static void lti_wino_in(const lti_geom *q, const lti_wino *wp, const float *img, float *im, float *tmp, float *v,
                        int64_t xs) {
    const int64_t C = q->C, Cp = wp->Cp, Wq = wp->Wq;
    /* image (C, H, W) -> channels-last (Hq, Wq, Cp) at offset (pad, pad): via tmp as (H·W, Cp) */
    lti_transpose(img, q->H * q->W, C, q->H * q->W, NULL, 0, tmp, Cp);
    for (int64_t y = 0; y < q->H; y++)
        memcpy(im + ((y + q->pad) * Wq + q->pad) * Cp, tmp + y * q->W * Cp, sizeof(float) * (size_t)(q->W * Cp));
    for (int64_t ty = 0; ty < wp->tH; ty++)
        for (int64_t tx = 0; tx < wp->tW; tx++) {
            const int64_t t = ty * wp->tW + tx;
            for (int64_t cb = 0; cb < Cp; cb += LTI_VW) {
                const float *d = im + (2 * ty * Wq + 2 * tx) * Cp + cb;
                lti_vt r[4][4];
                for (int j = 0; j < 4; j++) { /* Bᵀ d: rows */
                    lti_vt d0 = LTI_VLD(d + j * Cp), d1 = LTI_VLD(d + (Wq + j) * Cp);
                    lti_vt d2 = LTI_VLD(d + (2 * Wq + j) * Cp), d3 = LTI_VLD(d + (3 * Wq + j) * Cp);
                    r[0][j] = d0 - d2;
                    r[1][j] = d1 + d2;
                    r[2][j] = d2 - d1;
                    r[3][j] = d1 - d3;
                }
                float *o = v + t * Cp + cb;
                for (int i = 0; i < 4; i++) { /* (Bᵀ d) B: columns */
                    LTI_VST(o + (4 * i + 0) * xs, r[i][0] - r[i][2]);
                    LTI_VST(o + (4 * i + 1) * xs, r[i][1] + r[i][2]);
                    LTI_VST(o + (4 * i + 2) * xs, r[i][2] - r[i][1]);
                    LTI_VST(o + (4 * i + 3) * xs, r[i][1] - r[i][3]);
                }
            }
        }
}

void lti_wino_apply(const lti_geom *q, const lti_wino *wp, int64_t O, const float *img, int64_t n, const float *bias,
                    int accumulate, float *scratch, float *grid) {
    const int64_t C = q->C, Cp = wp->Cp, Op = wp->Op, T = wp->T, HW = q->Ho * q->Wo, R = n * T;
    float *im = scratch, *v = im + wp->isz, *m = v + wp->vsz, *ot = m + wp->vsz;
    for (int64_t l = 0; l < n; l++) lti_wino_in(q, wp, img + l * C * q->H * q->W, im, ot, v + l * T * Cp, R * Cp);
    for (int x = 0; x < 16; x++)
        lti_igemm(R, Op, C, v + x * R * Cp, wp->roff, wp->poff, wp->u + x * C * Op, Op, m + x * R * Op, Op, 0);
    /* outᵀ (HW, Op) per image: Aᵀ M A per tile, the overhanging row and column dropped */
    for (int64_t l = 0; l < n; l++) {
        for (int64_t ty = 0; ty < wp->tH; ty++)
            for (int64_t tx = 0; tx < wp->tW; tx++) {
                const int64_t t = ty * wp->tW + tx, y = 2 * ty, x = 2 * tx;
                for (int64_t ob = 0; ob < Op; ob += LTI_VW) {
                    const float *s = m + (l * T + t) * Op + ob;
                    lti_vt r[2][4];
                    for (int j = 0; j < 4; j++) { /* Aᵀ M: rows */
                        lti_vt m0 = LTI_VLD(s + j * R * Op), m1 = LTI_VLD(s + (4 + j) * R * Op);
                        lti_vt m2 = LTI_VLD(s + (8 + j) * R * Op), m3 = LTI_VLD(s + (12 + j) * R * Op);
                        r[0][j] = m0 + m1 + m2;
                        r[1][j] = m1 - m2 - m3;
                    }
                    for (int i = 0; i < 2 && y + i < q->Ho; i++) { /* (Aᵀ M) A: columns */
                        float *o = ot + ((y + i) * q->Wo + x) * Op + ob;
                        LTI_VST(o, r[i][0] + r[i][1] + r[i][2]);
                        if (x + 1 < q->Wo) LTI_VST(o + Op, r[i][1] - r[i][2] - r[i][3]);
                    }
                }
            }
        lti_transpose(ot, Op, HW, O, bias, accumulate, grid + l * O * HW, HW);
    }
}

/* The weight gradient in the same transformed domain: the forward is linear in U, so
 * dU_ξ (C, O) = Σ_{n,t} V_ξ(t, c) · (A dy_t Aᵀ)[ξ](o) and dw = Gᵀ dU G. Per chunk of
 * LTI_CONV_CHUNK images, then the chunks in order: the same bits for any thread count.
 * Inside a chunk, blocks of sb images (about LTI_WINO_DW_ROWS tiles) are transformed and
 * multiplied at once, 16 GEMMs (one per ξ) accumulating over the blocks. One GEMM over a
 * whole chunk of 32×32 images (P = 8·256 tiles) streamed its 1 MB B panel from L3 and took
 * 3× the forward's time (dw of conv 128->64 at 32×32, batch 16: ~55 of 69 ms). */
#define LTI_WINO_DW_ROWS 256
int lti_wino_dw(lt_graph *g, const lti_geom *q, const lti_wino *wp, int64_t N, int64_t O, const float *img,
                const float *grid, float *dw) {
    const int64_t C = q->C, Cp = wp->Cp, Op = wp->Op, T = wp->T, HW = q->Ho * q->Wo, K = 9 * C;
    int64_t sb = LTI_WINO_DW_ROWS / T; /* images per block */
    sb = sb < 1 ? 1 : sb > LTI_CONV_CHUNK ? LTI_CONV_CHUNK : sb;
    const int64_t R = sb * T, xs = R * Cp, ys = R * Op, usz = 16 * C * Op;
    const int64_t nchunk = (N + LTI_CONV_CHUNK - 1) / LTI_CONV_CHUNK;
    const int64_t osz = HW * Op, tsz = q->H * q->W * Cp, per = wp->isz + 16 * (xs + ys) + (osz > tsz ? osz : tsz);
    const int nt = omp_get_max_threads();
    float *part = lt_graph_alloc(g, sizeof(float) * (size_t)(nchunk * usz + K * Op)); /* dU per chunk, dwᵀ */
    float *scr = lt_graph_alloc(g, sizeof(float) * (size_t)(nt * per));
    int64_t *off = lt_graph_alloc(g, sizeof(int64_t) * (size_t)(C + R));
    if (!part || !scr || !off) {
        if (!g->status) lti_graph_fail(g, LT_ERR_NOMEM, "conv: out of memory for the Winograd weight gradient");
        return -1;
    }
    for (int64_t c = 0; c < C; c++) off[c] = c;
    for (int64_t r = 0; r < R; r++) off[C + r] = r * Cp;
    /* the borders of the channels-last images stay zero; the channel tails of V and of dy's
     * transform are read only into products that never reach dw (rows c >= C, columns o >= O) */
    #pragma omp parallel for schedule(static, 1)
    for (int i = 0; i < nt; i++) memset(scr + i * per, 0, sizeof(float) * (size_t)wp->isz);
    #pragma omp parallel for schedule(dynamic, 1)
    for (int64_t ch = 0; ch < nchunk; ch++) {
        float *im = scr + omp_get_thread_num() * per, *v = im + wp->isz, *y = v + 16 * xs, *tmp = y + 16 * ys;
        const int64_t n0 = ch * LTI_CONV_CHUNK, nn = (N - n0 < LTI_CONV_CHUNK ? N - n0 : LTI_CONV_CHUNK);
        for (int64_t b0 = 0; b0 < nn; b0 += sb) {
            const int64_t nb = nn - b0 < sb ? nn - b0 : sb;
            for (int64_t l = 0; l < nb; l++) {
                const int64_t n = n0 + b0 + l;
                lti_wino_in(q, wp, img + n * C * q->H * q->W, im, tmp, v + l * T * Cp, xs);
                /* A dy Aᵀ per tile, from dyᵀ (HW, Op); outputs past Ho, Wo count as zero */
                lti_transpose(grid + n * O * HW, HW, O, HW, NULL, 0, tmp, Op);
                for (int64_t ty = 0; ty < wp->tH; ty++)
                    for (int64_t tx = 0; tx < wp->tW; tx++) {
                        const int64_t t = l * T + ty * wp->tW + tx, y0 = 2 * ty, x0 = 2 * tx;
                        for (int64_t ob = 0; ob < Op; ob += LTI_VW) {
                            lti_vt d[2][2], r[4][2];
                            for (int i = 0; i < 2; i++)
                                for (int j = 0; j < 2; j++)
                                    d[i][j] = (y0 + i < q->Ho && x0 + j < q->Wo)
                                                  ? LTI_VLD(tmp + ((y0 + i) * q->Wo + x0 + j) * Op + ob)
                                                  : (lti_vt){0};
                            for (int j = 0; j < 2; j++) { /* A dy: rows */
                                r[0][j] = d[0][j];
                                r[1][j] = d[0][j] + d[1][j];
                                r[2][j] = d[0][j] - d[1][j];
                                r[3][j] = -d[1][j];
                            }
                            float *o = y + t * Op + ob;
                            for (int i = 0; i < 4; i++) { /* (A dy) Aᵀ: columns */
                                LTI_VST(o + (4 * i + 0) * ys, r[i][0]);
                                LTI_VST(o + (4 * i + 1) * ys, r[i][0] + r[i][1]);
                                LTI_VST(o + (4 * i + 2) * ys, r[i][0] - r[i][1]);
                                LTI_VST(o + (4 * i + 3) * ys, -r[i][1]);
                            }
                        }
                    }
            }
            for (int x = 0; x < 16; x++)
                lti_igemm(C, Op, nb * T, v + x * xs, off, off + C, y + x * ys, Op, part + ch * usz + x * C * Op, Op,
                          b0 > 0);
        }
    }
    /* chunk 0 collects the others in order; dwᵀ ((c, ky, kx), o) = Gᵀ dU G */
    #pragma omp parallel for schedule(static) if (usz * nchunk > 65536)
    for (int64_t i = 0; i < usz; i += LTI_VW)
        for (int64_t c = 1; c < nchunk; c++) LTI_VST(part + i, LTI_VLD(part + i) + LTI_VLD(part + c * usz + i));
    float *dwt = part + nchunk * usz;
    #pragma omp parallel for schedule(static) if (C * Op > 4096)
    for (int64_t c = 0; c < C; c++)
        for (int64_t ob = 0; ob < Op; ob += LTI_VW) {
            lti_vt u[16], r[3][4];
            for (int i = 0; i < 16; i++) u[i] = LTI_VLD(part + (i * C + c) * Op + ob);
            for (int j = 0; j < 4; j++) { /* Gᵀ dU: rows */
                r[0][j] = u[j] + 0.5f * (u[4 + j] + u[8 + j]);
                r[1][j] = 0.5f * (u[4 + j] - u[8 + j]);
                r[2][j] = 0.5f * (u[4 + j] + u[8 + j]) + u[12 + j];
            }
            for (int i = 0; i < 3; i++) { /* (Gᵀ dU) G: columns */
                float *o = dwt + (c * 9 + 3 * i) * Op + ob;
                LTI_VST(o, r[i][0] + 0.5f * (r[i][1] + r[i][2]));
                LTI_VST(o + Op, 0.5f * (r[i][1] - r[i][2]));
                LTI_VST(o + 2 * Op, 0.5f * (r[i][1] + r[i][2]) + r[i][3]);
            }
        }
    lti_transpose_par(dwt, Op, K, O, NULL, 1, dw, K);
    return 0;
}
