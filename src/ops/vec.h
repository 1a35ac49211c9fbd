/* The vector type of the hand-vectorized kernels (private to src/ops): conv, Winograd and
 * the norms. 16 floats with AVX-512, else 8 (AVX2's ymm): GCC 12 lowers a 64-byte generic
 * vector on AVX2 through the stack and xmm inserts (perf annotate: the batch-norm statistics
 * spilled every accumulator, the 6×64 conv tiles 48 of them). The kernels work in blocks of
 * 16 floats, LTI_VPB vectors each, and a lane reduction sums lane k of the block in the same
 * order on both widths, so the results are the same bits on AVX-512 and AVX2. */
#ifndef LTI_OPS_VEC_H
#define LTI_OPS_VEC_H

#include <stdint.h>

#ifdef __AVX512F__
typedef float lti_vt __attribute__((vector_size(64), aligned(4)));
typedef int32_t lti_vm __attribute__((vector_size(64), aligned(4)));
#define LTI_VW 16
#else
typedef float lti_vt __attribute__((vector_size(32), aligned(4)));
typedef int32_t lti_vm __attribute__((vector_size(32), aligned(4)));
#define LTI_VW 8
#endif
#define LTI_VPB (16 / LTI_VW) /* vectors per 16-float block */

/* (macros: a vector passed by value changes the ABI between the two widths) */
#define LTI_VLD(p) (*(const lti_vt *)(p))
#define LTI_VST(p, v) (*(lti_vt *)(p) = (v))
/* v where m (a comparison's result), else 0 */
#define LTI_VWHERE(m, v) ((lti_vt)((m) & (lti_vm)(v)))

#endif
