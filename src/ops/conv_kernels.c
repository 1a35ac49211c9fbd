/* Batch kernels of conv2d and conv_transpose2d: see conv_kernels.h.
 *
 * Every product is one implicit GEMM (lti_igemm): C (M, N) = A (M, P) · B (P, N) with
 * A read through two offset tables, A(i, p) = a[roff[i] + poff[p]]. With the image
 * zero-padded to (C, Hp, Wp), im2col(img)(k, m) = pad[koff[k] + moff[m]] where
 * koff[(c,ky,kx)] = (c·Hp + ky)·Wp + kx and moff[(oy,ox)] = oy·s·Wp + ox·s, so the
 * col matrix is never written:
 *     forward  gridᵀ (HW, O) = A(m, k) = pad[moff[m] + koff[k]] · wᵀ (K, O)
 *     dw       dwᵀ (K, O)   += A(k, m) = pad[koff[k] + moff[m]] · gridᵀ (HW, O)
 *     adjoint  by phases of the image, s² stride-1 GEMMs over the grid (conv_phases.c)
 * and stride-1 3×3 layers of 16+ channels run forward, dx and dw by Winograd F(2×2, 3×3)
 * (conv_winograd.c) on the same GEMM kernel.
 * The kernel vectorizes over N in blocks of 16 (B and C are our own buffers, padded to
 * a multiple of 16 columns) and keeps a tile of R rows × OB blocks in registers:
 * per p, OB vector loads of B, R broadcasts of A, R·OB fused multiply-adds.
 * Tried first: im2col + one OpenBLAS GEMM per image, threads over the batch (commit
 * 7d214a1): ~55 GFLOP/s per core here, where OpenBLAS runs its AVX2 (Haswell) kernels;
 * this kernel: 160-180 GFLOP/s per core on the 32-128 channel layers (AVX-512).
 * Blocking P so that B's rows stay in L1 (64, 128, 256 rows) measured no faster; nor did
 * transposing colᵀ and adding col2im row by row (stride-2 layers slower: conv32-64
 * fwd+bwd 5.0-5.3 ms CPU against 4.7-5.0 with the scatter); the phases replaced both.
 * The vector type is GCC's generic one (ops/vec.h): 16 floats with AVX-512, else 8 and tiles
 * of 6×16 (12 accumulators in AVX2's 16 registers; the 6×64 tiles spilled, docs/speed.md),
 * with the same results. Only the transposes are intrinsics (16×16 AVX-512, 8×8 AVX), with
 * a scalar path beside them. */
#include "ops/conv_kernels.h"
#include "ops/vec.h"

#include <omp.h>
#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif
#include <string.h>

static int64_t lti_min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t lti_up16(int64_t n) { return (n + 15) / 16 * 16; }

/* C (R rows, OB·16 columns) (+)= Σ_p A(i, p) · B(p, :), A(i, p) = a[roff[i] + poff[p]] */
static inline __attribute__((always_inline)) void lti_igemm_tile(int R, int OB, const float *a, const int64_t *roff,
                                                                 const int64_t *poff, int64_t P, const float *b,
                                                                 int64_t ldb, float *c, int64_t ldc, int acc) {
    const int V = OB * LTI_VPB; /* vectors per row */
    lti_vt s[12][4 * LTI_VPB];
    const float *ap[12];
    for (int r = 0; r < R; r++) {
        ap[r] = a + roff[r];
        for (int j = 0; j < V; j++) s[r][j] = acc ? LTI_VLD(c + r * ldc + LTI_VW * j) : (lti_vt){0};
    }
    for (int64_t p = 0; p < P; p++) {
        const float *bp = b + p * ldb;
        const int64_t o = poff[p];
        lti_vt bv[4 * LTI_VPB];
        for (int j = 0; j < V; j++) bv[j] = LTI_VLD(bp + LTI_VW * j);
        for (int r = 0; r < R; r++) {
            /* scalar · vector: a broadcast load; "(lti_vt){0} + a" was an add and a register
             * broadcast on the FP pipes the FMAs need (AVX2, M 1000 N 128 P 288:
             * 54-61 -> 74-85 GFLOP/s, one core) */
            const float av = ap[r][o];
            for (int j = 0; j < V; j++) s[r][j] += av * bv[j];
        }
    }
    for (int r = 0; r < R; r++)
        for (int j = 0; j < V; j++) LTI_VST(c + r * ldc + LTI_VW * j, s[r][j]);
}

#define LTI_TILE(R_, OB_)                                                                                            \
    lti_igemm_tile(R_, OB_, a, roff + i, pk, pb, bk + 16 * jb, ldb, c + i * ldc + 16 * jb, ldc, acc)
#define LTI_TILES(OB_, RMAX)                                                                                         \
    for (int64_t i = 0; i < M; i += RMAX) {                                                                          \
        switch (lti_min64(RMAX, M - i)) {                                                                            \
        case 12: LTI_TILE(12, OB_); break;                                                                           \
        case 11: LTI_TILE(11, OB_); break;                                                                           \
        case 10: LTI_TILE(10, OB_); break;                                                                           \
        case 9: LTI_TILE(9, OB_); break;                                                                             \
        case 8: LTI_TILE(8, OB_); break;                                                                             \
        case 7: LTI_TILE(7, OB_); break;                                                                             \
        case 6: LTI_TILE(6, OB_); break;                                                                             \
        case 5: LTI_TILE(5, OB_); break;                                                                             \
        case 4: LTI_TILE(4, OB_); break;                                                                             \
        case 3: LTI_TILE(3, OB_); break;                                                                             \
        case 2: LTI_TILE(2, OB_); break;                                                                             \
        default: LTI_TILE(1, OB_); break;                                                                            \
        }                                                                                                            \
    }

/* B's rows per pass over one panel of up to 64 columns: 1024 rows are 256 KB, so the panel
 * stays in L2 (1 MB here) while every row tile streams it. Unblocked, a P of 4096 (dx of
 * the PatchGAN's 128->256 4×4 layer) streamed a 1 MB panel from L3 for each row tile. */
#define LTI_GEMM_PB 1024

/* C (M, N) = A · B (acc 0) or C += A · B (acc 1); A(i, p) = a[roff[i] + poff[p]], B (P, ldb),
 * C (M, ldc); N, ldb and ldc multiples of 16. Tiles: 6×64, 8×48, 12×32, 12×16 columns;
 * P in blocks of LTI_GEMM_PB rows, each added to C in order. */
void lti_igemm(int64_t M, int64_t N, int64_t P, const float *a, const int64_t *roff, const int64_t *poff,
               const float *b, int64_t ldb, float *c, int64_t ldc, int acc0) {
    const int64_t NB = N / 16;
#ifdef __AVX512F__
    const int64_t OBMAX = 4; /* 6×64: 24 of the 32 zmm registers accumulate */
#else
    const int64_t OBMAX = 1; /* AVX2's 16 ymm: 6×16 is 12 accumulators; 6×64 (48) spilled */
#endif
    for (int64_t jb = 0; jb < NB;) {
        const int64_t ob = lti_min64(OBMAX, NB - jb);
        for (int64_t p0 = 0; p0 == 0 || p0 < P; p0 += LTI_GEMM_PB) { /* once with P 0: C = 0 */
            const int64_t pb = lti_min64(LTI_GEMM_PB, P - p0), *pk = poff + p0; /* the block's rows of B */
            const float *bk = b + p0 * ldb;
            const int acc = acc0 || p0 > 0;
            switch (ob) {
            case 4: LTI_TILES(4, 6); break;
            case 3: LTI_TILES(3, 8); break;
            case 2: LTI_TILES(2, 12); break;
#ifdef __AVX512F__
            default: LTI_TILES(1, 12); break;
#else
            default: LTI_TILES(1, 6); break;
#endif
            }
        }
        jb += ob;
    }
}

/* ---- per-call plan: offset tables and packed weights, shared by the threads ---- */

typedef struct {
    int64_t K, HW, Hp, Wp, Op, Kp, isz, psz; /* Op, Kp: O and K rounded up to 16 */
    int64_t *moff, *koff, *ident, *ooff;     /* (HW), (K), (HW) 0..HW-1, (O) o·HW */
    int64_t sb, *boff;                       /* images per forward GEMM; (sb·HW) l·up16(psz) + moff[m] */
    float *wt, *wk;                          /* wᵀ (K, Op), w (O, Kp), zero-padded */
    float *scratch;                          /* per thread: sb pads, pad2 (psz each), t */
    int64_t per_thread;
    int wino;                                /* forward products by Winograd (lw) */
    lti_wino lw;
    int phases;                              /* the adjoint by phases (ph), else GEMM + col2im (wk) */
    lti_phases ph;
} lti_plan;

/* Rows of a GEMM's M (forward) or P (dw) per block of images: about 512 (8 images of 7×7
 * or 8×8, 2 of 16×16, 1 of 32×32). One GEMM per image streamed all of B (forward: wᵀ) or
 * read and wrote all of C (dw: the chunk's partial dwᵀ) per image, from L3 when it is
 * large: 2 MB for the PatchGAN's 128->256 4×4 layer, whose images have 49 positions. */
#define LTI_BLOCK_ROWS 512

/* Images per block: about LTI_BLOCK_ROWS rows of HW, at most max. */
static int64_t lti_block_images(int64_t HW, int64_t max) {
    const int64_t sb = LTI_BLOCK_ROWS / HW;
    return sb < 1 ? 1 : sb > max ? max : sb;
}

/* Images per block, at most sb0 and at least half of it, so that T threads taking whole blocks
 * finish together: the fewest images on the busiest thread, ceil(blocks / T)·sb (64 images of
 * 7×7 went in 7 blocks of 10, one of 2 threads idle for a block: conv32-64_14 forward 0.83× of
 * PyTorch's; in 8 of 8, 1.07×). */
static int64_t lti_block_balance(int64_t N, int64_t T, int64_t sb0) {
    int64_t best = sb0, cost = INT64_MAX;
    for (int64_t sb = sb0; sb >= 1 && 2 * sb >= sb0; sb--) {
        const int64_t c = ((N + sb - 1) / sb + T - 1) / T * sb;
        if (c < cost) cost = c, best = sb;
    }
    return best;
}

/* N: the batch. The forward GEMM takes blocks of sb images, at least two blocks per thread
 * (a thread that shares its core still takes fewer); its rows are independent, so the
 * block size changes no bits. */
static int lti_plan_make(lt_graph *g, const lti_geom *q, int64_t N, int64_t O, const float *w, int need_wt,
                         int need_ph, lti_plan *pl) {
    pl->K = q->C * q->KH * q->KW;
    pl->HW = q->Ho * q->Wo;
    pl->Hp = q->H + 2 * q->pad;
    pl->Wp = q->W + 2 * q->pad;
    pl->Op = lti_up16(O);
    pl->isz = q->C * q->H * q->W;
    pl->psz = q->C * pl->Hp * pl->Wp;
    pl->Kp = lti_up16(pl->K);
    /* phases: GEMMs of C columns, worth it from one 16-lane block; fewer channels (convT to
     * 1 or 3 channels): one GEMM of K = C·KH·KW columns and the col2im scatter (measured:
     * convT 32->1 k4 s2 fwd 0.31 ms with the scatter, 2.6 ms by phases, 1 thread) */
    pl->phases = need_ph && q->C >= 16;
    const int need_wk = need_ph && !pl->phases;
    int T = omp_get_max_threads();
    pl->wino = need_wt && lti_wino_fits(q, O);
    const int64_t most = (N + 2 * T - 1) / (2 * T);
    pl->sb = lti_block_balance(N, T, pl->wino ? lti_wino_images(q, most) : lti_block_images(pl->HW, most));
    int64_t t = pl->HW * (pl->Op > pl->Kp ? pl->Op : pl->Kp);
    t = t > pl->sb * pl->HW * pl->Op ? t : pl->sb * pl->HW * pl->Op;
    pl->per_thread = (pl->sb + 1) * lti_up16(pl->psz) + t;
    pl->moff = lt_graph_alloc(g, sizeof(int64_t) * (size_t)((2 + pl->sb) * pl->HW + pl->K + O));
    pl->wt = need_wt ? lt_graph_alloc(g, sizeof(float) * (size_t)(pl->K * pl->Op)) : NULL;
    pl->wk = need_wk ? lt_graph_alloc(g, sizeof(float) * (size_t)(O * pl->Kp)) : NULL;
    pl->scratch = lt_graph_alloc(g, sizeof(float) * (size_t)(pl->per_thread * T));
    if (!pl->moff || (need_wt && !pl->wt) || (need_wk && !pl->wk) || !pl->scratch) {
        if (!g->status) lti_graph_fail(g, LT_ERR_NOMEM, "conv: out of memory for the kernels' scratch");
        return -1;
    }
    pl->koff = pl->moff + pl->HW;
    pl->ident = pl->koff + pl->K;
    pl->ooff = pl->ident + pl->HW;
    pl->boff = pl->ooff + O;
    for (int64_t m = 0; m < pl->HW; m++) pl->ident[m] = m;
    for (int64_t o = 0; o < O; o++) pl->ooff[o] = o * pl->HW;
    for (int64_t oy = 0; oy < q->Ho; oy++)
        for (int64_t ox = 0; ox < q->Wo; ox++) pl->moff[oy * q->Wo + ox] = oy * q->stride * pl->Wp + ox * q->stride;
    for (int64_t l = 0; l < pl->sb; l++)
        for (int64_t m = 0; m < pl->HW; m++) pl->boff[l * pl->HW + m] = l * lti_up16(pl->psz) + pl->moff[m];
    for (int64_t c = 0; c < q->C; c++)
        for (int64_t ky = 0; ky < q->KH; ky++)
            for (int64_t kx = 0; kx < q->KW; kx++)
                pl->koff[(c * q->KH + ky) * q->KW + kx] = (c * pl->Hp + ky) * pl->Wp + kx;
    if (pl->wt) {
        if (O < pl->Op)
            for (int64_t k = 0; k < pl->K; k++) memset(pl->wt + k * pl->Op + O, 0, sizeof(float) * (size_t)(pl->Op - O));
        lti_transpose_par(w, pl->K, O, pl->K, NULL, 0, pl->wt, pl->Op);
    }
    if (pl->wino && lti_wino_make(g, q, O, pl->wt, pl->Op, pl->sb, &pl->lw)) return -1;
    if (pl->wk) {
        memset(pl->wk, 0, sizeof(float) * (size_t)(O * pl->Kp));
        for (int64_t o = 0; o < O; o++) memcpy(pl->wk + o * pl->Kp, w + o * pl->K, sizeof(float) * (size_t)pl->K);
    }
    return pl->phases ? lti_phases_make(g, q, O, w, &pl->ph) : 0;
}

/* pad (C, Hp, Wp) <- img (C, H, W) with a zero border */
static void lti_pad(const lti_geom *q, const lti_plan *pl, const float *img, float *pad) {
    memset(pad, 0, sizeof(float) * (size_t)pl->psz);
    for (int64_t c = 0; c < q->C; c++)
        for (int64_t y = 0; y < q->H; y++)
            memcpy(pad + (c * pl->Hp + y + q->pad) * pl->Wp + q->pad, img + (c * q->H + y) * q->W,
                   sizeof(float) * (size_t)q->W);
}

/* out[j] = column j of the LTI_VW × LTI_VW block at src (row stride lds), in registers: the
 * unpack and shuffle stages are the same on both widths, then the 128-bit lanes are gathered */
#if defined(__AVX512F__) || defined(__AVX__)
#ifdef __AVX512F__
#define LTI_X(f) _mm512_##f
typedef __m512 lti_xv;
#else
#define LTI_X(f) _mm256_##f
typedef __m256 lti_xv;
#endif
static inline __attribute__((always_inline)) void lti_transpose_block(const float *src, int64_t lds, lti_vt *out) {
    lti_xv r[LTI_VW], t[LTI_VW];
    for (int i = 0; i < LTI_VW; i++) r[i] = LTI_X(loadu_ps)(src + i * lds);
    for (int i = 0; i < LTI_VW / 2; i++) {
        t[2 * i] = LTI_X(unpacklo_ps)(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = LTI_X(unpackhi_ps)(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < LTI_VW / 4; i++) { /* r[4i+j], 128-bit lane L: column 4L+j of rows 4i..4i+3 */
        r[4 * i + 0] = LTI_X(shuffle_ps)(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = LTI_X(shuffle_ps)(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = LTI_X(shuffle_ps)(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = LTI_X(shuffle_ps)(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
#ifdef __AVX512F__
    for (int j = 0; j < 4; j++) {
        __m512 a = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88), b = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
        __m512 c = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
        __m512 d = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
        t[j] = _mm512_shuffle_f32x4(a, c, 0x88);      /* column j */
        t[4 + j] = _mm512_shuffle_f32x4(b, d, 0x88);  /* column 4+j */
        t[8 + j] = _mm512_shuffle_f32x4(a, c, 0xDD);  /* column 8+j */
        t[12 + j] = _mm512_shuffle_f32x4(b, d, 0xDD); /* column 12+j */
    }
#else
    for (int j = 0; j < 4; j++) {
        t[j] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x20);     /* column j */
        t[4 + j] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x31); /* column 4+j */
    }
#endif
    for (int j = 0; j < LTI_VW; j++) out[j] = (lti_vt)t[j];
}
#undef LTI_X
#endif

/* dst (cols, rows) (=|+=) src (rows, cols)ᵀ [+ bias per dst row]: dst[j·ldd + i] = src[i·lds + j].
 * accumulate: dst += srcᵀ; else dst = srcᵀ + (bias ? bias[j] : 0). Full 16×16 blocks (AVX-512
 * builds) or 8×8 blocks (AVX) are transposed in registers, the edges element by element. */
void lti_transpose(const float *src, int64_t lds, int64_t rows, int64_t cols, const float *bias, int accumulate,
                   float *dst, int64_t ldd) {
    int64_t r16 = 0, c16 = 0; /* the rows and columns the register blocks cover */
#if defined(__AVX512F__) || defined(__AVX__)
    r16 = rows / LTI_VW * LTI_VW;
    c16 = cols / LTI_VW * LTI_VW;
    for (int64_t i0 = 0; i0 < r16; i0 += LTI_VW)
        for (int64_t j0 = 0; j0 < c16; j0 += LTI_VW) {
            lti_vt t[LTI_VW];
            lti_transpose_block(src + i0 * lds + j0, lds, t);
            for (int j = 0; j < LTI_VW; j++) {
                float *o = dst + (j0 + j) * ldd + i0;
                LTI_VST(o, accumulate ? LTI_VLD(o) + t[j] : (bias ? bias[j0 + j] : 0.0f) + t[j]);
            }
        }
#endif
    for (int64_t j = 0; j < cols; j++) {
        float *o = dst + j * ldd;
        const float b = bias ? bias[j] : 0.0f;
        for (int64_t i = j < c16 ? r16 : 0; i < rows; i++)
            o[i] = accumulate ? o[i] + src[i * lds + j] : b + src[i * lds + j];
    }
}

/* lti_transpose with threads over blocks of 64 destination rows when it is large: the
 * per-call weight packing and the final dw, which ran on one thread while the other spun */
void lti_transpose_par(const float *src, int64_t lds, int64_t rows, int64_t cols, const float *bias, int accumulate,
                       float *dst, int64_t ldd) {
    #pragma omp parallel for schedule(static) if (rows * cols > 65536)
    for (int64_t j0 = 0; j0 < cols; j0 += 64)
        lti_transpose(src + j0, lds, rows, lti_min64(64, cols - j0), bias ? bias + j0 : NULL, accumulate,
                      dst + j0 * ldd, ldd);
}

/* grid_n (O, HW) (=|+=) w · im2col(img_n) [+ bias] for the nb <= sb images from img and grid
 * on; scratch: the thread's per_thread floats (nb pads, then t at (sb + 1) pads) */
static void lti_apply(const lti_geom *q, const lti_plan *pl, int64_t O, const float *img, int64_t nb,
                      const float *bias, int accumulate, float *scratch, float *grid) {
    const int64_t HW = pl->HW, Op = pl->Op, ps = lti_up16(pl->psz);
    if (pl->wino) {
        lti_wino_apply(q, &pl->lw, O, img, nb, bias, accumulate,
                       pl->lw.scratch + omp_get_thread_num() * pl->lw.per_thread, grid);
        return;
    }
    float *t = scratch + (pl->sb + 1) * ps;
    for (int64_t l = 0; l < nb; l++) lti_pad(q, pl, img + l * pl->isz, scratch + l * ps);
    lti_igemm(nb * HW, Op, pl->K, scratch, pl->boff, pl->koff, pl->wt, Op, t, Op, 0);
    for (int64_t l = 0; l < nb; l++) lti_transpose(t + l * HW * Op, Op, HW, O, bias, accumulate, grid + l * O * HW, HW);
}

/* img_n (C, H, W) (=|+=) col2im(wᵀ · grid_n) [+ bias], by phases or by one GEMM and the
 * scatter into the padded image; pad and t are the thread's scratch */
static void lti_adjoint(const lti_geom *q, const lti_plan *pl, int64_t O, const float *grid, const float *bias,
                        int accumulate, float *pad, float *t, float *img) {
    if (pl->phases) {
        lti_phases_apply(q, &pl->ph, O, grid, bias, accumulate,
                         pl->ph.scratch + omp_get_thread_num() * pl->ph.per_thread, img);
        return;
    }
    const int64_t K = pl->K, Kp = pl->Kp;
    lti_igemm(pl->HW, Kp, O, grid, pl->ident, pl->ooff, pl->wk, Kp, t, Kp, 0);
    memset(pad, 0, sizeof(float) * (size_t)pl->psz);
    for (int64_t m = 0; m < pl->HW; m++) {
        float *dst = pad + pl->moff[m];
        const float *src = t + m * Kp;
        for (int64_t k = 0; k < K; k++) dst[pl->koff[k]] += src[k];
    }
    for (int64_t c = 0; c < q->C; c++) {
        const float b = bias ? bias[c] : 0.0f;
        for (int64_t y = 0; y < q->H; y++) {
            const float *src = pad + (c * pl->Hp + y + q->pad) * pl->Wp + q->pad;
            float *dst = img + (c * q->H + y) * q->W;
            if (accumulate)
                for (int64_t x = 0; x < q->W; x++) dst[x] += src[x];
            else
                for (int64_t x = 0; x < q->W; x++) dst[x] = b + src[x];
        }
    }
}

/* The plans, packed weights and per-thread scratch of one call live in the arena only for
 * the call (lt_arena_mark / rewind): the kernels below allocate nothing that outlives it. */
static int lti_conv_forward_in(lt_graph *g, const lti_geom *q, int64_t N, int64_t O, const float *w,
                               const float *bias, const float *img, const float *grid, float *out, int to_grid) {
    lti_plan pl;
    if (lti_plan_make(g, q, N, O, w, to_grid, !to_grid, &pl)) return -1;
    const int64_t sb = to_grid ? pl.sb : 1, nblk = (N + sb - 1) / sb;
    #pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < nblk; b++) {
        float *scr = pl.scratch + (int64_t)omp_get_thread_num() * pl.per_thread;
        const int64_t n = b * sb;
        if (to_grid) lti_apply(q, &pl, O, img + n * pl.isz, lti_min64(sb, N - n), bias, 0, scr, out + n * O * pl.HW);
        else lti_adjoint(q, &pl, O, grid + n * O * pl.HW, bias, 0, scr, scr + 2 * lti_up16(pl.psz), out + n * pl.isz);
    }
    return 0;
}

int lti_conv_forward(lt_graph *g, const lti_geom *q, int64_t N, int64_t O, const float *w, const float *bias,
                     const float *img, const float *grid, float *out, int to_grid) {
    const lt_arena_pos m = lt_arena_mark(&g->arena);
    const int rc = lti_conv_forward_in(g, q, N, O, w, bias, img, grid, out, to_grid);
    lt_arena_rewind(&g->arena, m);
    return rc;
}

static int lti_conv_backward_in(lt_graph *g, const lti_geom *q, int64_t N, int64_t O, const float *w,
                                const float *img, const float *grid, float *dw, float *dimg, float *dgrid, int set) {
    /* Stride 1: dimg is the correlation of grid (padded by KH-1-pad) with w flipped and
     * its channels swapped, i.e. the forward kernel, no col2im scatter. */
    const int flip = dimg && q->stride == 1 && q->KH == q->KW && q->pad <= q->KH - 1;
    if (dw && lti_wino_fits(q, O)) { /* dw by Winograd, then the rest without it */
        lti_wino lw;
        if (lti_wino_make(g, q, O, NULL, 0, 1, &lw) || lti_wino_dw(g, q, &lw, N, O, img, grid, dw)) return -1;
        dw = NULL;
    }
    lti_geom qf = {O, q->Ho, q->Wo, q->KH, q->KW, 1, q->KH - 1 - q->pad, q->H, q->W};
    lti_plan pl, pf;
    if (flip) {
        const int64_t KK = q->KH * q->KW;
        float *wf = lt_graph_alloc(g, sizeof(float) * (size_t)(O * q->C * KK)); /* (C, O, KH, KW) */
        if (!wf) {
            if (!g->status) lti_graph_fail(g, LT_ERR_NOMEM, "conv: out of memory for the flipped weight");
            return -1;
        }
        #pragma omp parallel for schedule(static) if (O * q->C * KK > 65536)
        for (int64_t c = 0; c < q->C; c++)
            for (int64_t o = 0; o < O; o++)
                for (int64_t k = 0; k < KK; k++) wf[(c * O + o) * KK + k] = w[(o * q->C + c) * KK + KK - 1 - k];
        if (lti_plan_make(g, &qf, N, q->C, wf, 1, 0, &pf)) return -1;
    }
    if (lti_plan_make(g, q, N, O, w, dgrid != NULL, dimg != NULL && !flip, &pl)) return -1;
    const int64_t K = pl.K, HW = pl.HW, Op = pl.Op, KOp = K * Op, ps = lti_up16(pl.psz);
    const int64_t nchunk = (N + LTI_CONV_CHUNK - 1) / LTI_CONV_CHUNK;
    /* dw: one GEMM per block of sb images (P = sb·HW) into the chunk's partial sum; per
     * thread the block's padded images and dyᵀ (sb·HW, Op) */
    const int64_t sb = lti_block_images(HW, LTI_CONV_CHUNK);
    const int64_t dper = sb * (ps + HW * Op);
    float *part = NULL, *dscr = NULL; /* dwᵀ per chunk (K, Op); the threads' block scratch */
    int64_t *boff = NULL;             /* (sb·HW) image l, position m: l·ps + moff[m] */
    if (dw) {
        part = lt_graph_alloc(g, sizeof(float) * (size_t)(nchunk * KOp));
        dscr = lt_graph_alloc(g, sizeof(float) * (size_t)(dper * omp_get_max_threads()));
        boff = lt_graph_alloc(g, sizeof(int64_t) * (size_t)(sb * HW));
        if (!part || !dscr || !boff) {
            if (!g->status) lti_graph_fail(g, LT_ERR_NOMEM, "conv: out of memory for the weight gradient's partial sums");
            return -1;
        }
        for (int64_t l = 0; l < sb; l++)
            for (int64_t m = 0; m < HW; m++) boff[l * HW + m] = l * ps + pl.moff[m];
    }
    #pragma omp parallel for schedule(dynamic, 1)
    for (int64_t c = 0; c < nchunk; c++) {
        const int64_t tid = omp_get_thread_num();
        float *pad = pl.scratch + tid * pl.per_thread, *pad2 = pad + ps, *t = pad2 + ps; /* sb = 1 layout */
        float *padb = dw ? dscr + tid * dper : NULL, *tb = dw ? padb + sb * ps : NULL;
        const int64_t n0 = c * LTI_CONV_CHUNK, nn = lti_min64(N - n0, LTI_CONV_CHUNK);
        for (int64_t b0 = 0; b0 < nn; b0 += sb) {
            const int64_t nb = lti_min64(nn - b0, sb);
            for (int64_t l = 0; dw && l < nb; l++) {
                const int64_t n = n0 + b0 + l;
                float *tl = tb + l * HW * Op;
                lti_pad(q, &pl, img + n * pl.isz, padb + l * ps);
                lti_transpose(grid + n * O * HW, HW, O, HW, NULL, 0, tl, Op);
                for (int64_t m = 0; m < HW; m++) memset(tl + m * Op + O, 0, sizeof(float) * (size_t)(Op - O));
            }
            if (dw) lti_igemm(K, Op, nb * HW, padb, pl.koff, boff, tb, Op, part + c * KOp, Op, b0 > 0);
            for (int64_t l = 0; l < nb; l++) {
                const int64_t n = n0 + b0 + l;
                const float *gn = grid + n * O * HW;
                if (dgrid) {
                    const float *pi = dw ? padb + l * ps : pad;
                    if (!dw) lti_pad(q, &pl, img + n * pl.isz, pad);
                    lti_igemm(HW, Op, K, pi, pl.moff, pl.koff, pl.wt, Op, t, Op, 0);
                    lti_transpose(t, Op, HW, O, NULL, !set, dgrid + n * O * HW, HW);
                }
                if (dimg && !flip) lti_adjoint(q, &pl, O, gn, NULL, !set, pad2, t, dimg + n * pl.isz);
            }
        }
    }
    if (dimg && flip) { /* the forward kernel on the grid, in its own blocks of images */
        const int64_t nblk = (N + pf.sb - 1) / pf.sb;
        #pragma omp parallel for schedule(dynamic, 1)
        for (int64_t b = 0; b < nblk; b++) {
            const int64_t n = b * pf.sb;
            lti_apply(&qf, &pf, q->C, grid + n * O * HW, lti_min64(pf.sb, N - n), NULL, !set,
                      pf.scratch + (int64_t)omp_get_thread_num() * pf.per_thread, dimg + n * pl.isz);
        }
    }
    if (dw) {
        /* chunk 0 collects the others in order, then is added in transposed */
        #pragma omp parallel for schedule(static) if (KOp * nchunk > 65536)
        for (int64_t k = 0; k < K; k++)
            for (int64_t c = 1; c < nchunk; c++)
                for (int64_t o = 0; o < Op; o++) part[k * Op + o] += part[c * KOp + k * Op + o];
        lti_transpose_par(part, Op, K, O, NULL, 1, dw, K);
    }
    return 0;
}

int lti_conv_backward(lt_graph *g, const lti_geom *q, int64_t N, int64_t O, const float *w, const float *img,
                      const float *grid, float *dw, float *dimg, float *dgrid, int set) {
    const lt_arena_pos m = lt_arena_mark(&g->arena);
    const int rc = lti_conv_backward_in(g, q, N, O, w, img, grid, dw, dimg, dgrid, set);
    lt_arena_rewind(&g->arena, m);
    return rc;
}

void lti_conv_bias_grad(float *db, const float *dy, int64_t N, int64_t C, int64_t S) {
    #pragma omp parallel for schedule(static) if (N * C * S > 65536)
    for (int64_t c = 0; c < C; c++) {
        double s = 0;
        for (int64_t n = 0; n < N; n++) { /* 16 float lanes per row (vectorized), then the lanes in order */
            const float *row = dy + (n * C + c) * S;
            float lane[16] = {0};
            int64_t j = 0;
            for (; j + 16 <= S; j += 16)
                for (int l = 0; l < 16; l++) lane[l] += row[j + l];
            for (; j < S; j++) lane[j % 16] += row[j];
            for (int l = 0; l < 16; l++) s += lane[l];
        }
        db[c] += (float)s;
    }
}
