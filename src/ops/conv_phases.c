/* The adjoint img_n = col2im(wᵀ · grid_n) by phases: see conv_kernels.h.
 *
 * Image position iy receives the kernel rows ky ≡ (iy + pad) mod s, from grid rows
 * qy − j where qy = ⌊(iy + pad) / s⌋ and ky = (iy + pad) mod s + s·j. So the positions of
 * one phase (ry, rx) = ((iy + pad) mod s, (ix + pad) mod s) form a strided sub-image that is
 * a stride-1 correlation of the grid with the sub-kernel w[:, :, ry + s·j, rx + s·i]: one
 * implicit GEMM per phase, A(m, (o, j, i)) = gpad[moff[m] + koff[(o, j, i)]] read from the
 * grid inside a zero border (PT rows above, PL columns left; more below/right as needed).
 * Each image position is written once, by its phase, so bias and accumulation are plain.
 * Tried before (commits df6a710..acccfd7): one GEMM colᵀ (HW, K) = gridᵀ · w, then scatter
 * its K columns into a padded image; the scatter was 15% of conv 32->64 k4 s2's fwd+bwd. */
#include <omp.h>
#include <string.h>

#include "ops/conv_kernels.h"

static int64_t lti_cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

int lti_phases_make(lt_graph *g, const lti_geom *q, int64_t O, const float *w, lti_phases *pp) {
    const int64_t s = q->stride, C = q->C, Cp = (C + 15) / 16 * 16;
    pp->s = s;
    pp->Cp = Cp;
    pp->PT = lti_cdiv(q->KH, s) - 1;
    pp->PL = lti_cdiv(q->KW, s) - 1;
    const int64_t qy = (q->H - 1 + q->pad) / s + 1, qx = (q->W - 1 + q->pad) / s + 1; /* grid rows, cols read */
    pp->Hq = pp->PT + (qy > q->Ho ? qy : q->Ho);
    pp->Wq = pp->PL + (qx > q->Wo ? qx : q->Wo);
    pp->gsz = O * pp->Hq * pp->Wq;
    pp->nph = s * s;
    pp->ph = lt_graph_alloc(g, sizeof(lti_phase) * (size_t)pp->nph);
    if (!pp->ph) goto nomem;
    int64_t mmax = 1;
    for (int64_t f = 0; f < pp->nph; f++) {
        lti_phase *ph = &pp->ph[f];
        const int64_t ry = f / s, rx = f % s;
        ph->y0 = ((ry - q->pad) % s + s) % s;
        ph->x0 = ((rx - q->pad) % s + s) % s;
        ph->ny = ph->y0 < q->H ? lti_cdiv(q->H - ph->y0, s) : 0;
        ph->nx = ph->x0 < q->W ? lti_cdiv(q->W - ph->x0, s) : 0;
        const int64_t nj = ry < q->KH ? lti_cdiv(q->KH - ry, s) : 0, ni = rx < q->KW ? lti_cdiv(q->KW - rx, s) : 0;
        ph->M = ph->ny * ph->nx;
        ph->P = O * nj * ni;
        mmax = ph->M > mmax ? ph->M : mmax;
        ph->moff = lt_graph_alloc(g, sizeof(int64_t) * (size_t)(ph->M + ph->P + 1));
        ph->b = lt_graph_alloc(g, sizeof(float) * (size_t)(ph->P * Cp + 1));
        if (!ph->moff || !ph->b) goto nomem;
        ph->koff = ph->moff + ph->M;
        const int64_t qy0 = (ph->y0 + q->pad) / s, qx0 = (ph->x0 + q->pad) / s;
        for (int64_t y = 0; y < ph->ny; y++)
            for (int64_t x = 0; x < ph->nx; x++)
                ph->moff[y * ph->nx + x] = (qy0 + y + pp->PT) * pp->Wq + qx0 + x + pp->PL;
        memset(ph->b, 0, sizeof(float) * (size_t)(ph->P * Cp));
        for (int64_t o = 0; o < O; o++)
            for (int64_t j = 0; j < nj; j++)
                for (int64_t i = 0; i < ni; i++) {
                    const int64_t k = (o * nj + j) * ni + i;
                    ph->koff[k] = (o * pp->Hq - j) * pp->Wq - i;
                    for (int64_t c = 0; c < C; c++)
                        ph->b[k * Cp + c] = w[((o * C + c) * q->KH + ry + s * j) * q->KW + rx + s * i];
                }
    }
    pp->mmax = mmax;
    pp->per_thread = (pp->gsz + 15) / 16 * 16 + 2 * mmax * Cp; /* gpad, t (M, Cp), tt (C, M) */
    const int T = omp_get_max_threads();
    pp->scratch = lt_graph_alloc(g, sizeof(float) * (size_t)(pp->per_thread * T));
    if (!pp->scratch) goto nomem;
    for (int i = 0; i < T; i++) memset(pp->scratch + i * pp->per_thread, 0, sizeof(float) * (size_t)pp->gsz);
    return 0;
nomem:
    if (!g->status) lti_graph_fail(g, LT_ERR_NOMEM, "conv: out of memory for the phase kernels");
    return -1;
}

void lti_phases_apply(const lti_geom *q, const lti_phases *pp, int64_t O, const float *grid, const float *bias,
                      int accumulate, float *scratch, float *img) {
    const int64_t C = q->C, Cp = pp->Cp, s = pp->s, HoWo = q->Ho * q->Wo;
    float *gpad = scratch, *t = gpad + (pp->gsz + 15) / 16 * 16, *tt = t + pp->mmax * Cp;
    for (int64_t o = 0; o < O; o++) /* the border stays zero from lti_phases_make */
        for (int64_t y = 0; y < q->Ho; y++)
            memcpy(gpad + (o * pp->Hq + y + pp->PT) * pp->Wq + pp->PL, grid + o * HoWo + y * q->Wo,
                   sizeof(float) * (size_t)q->Wo);
    for (int64_t f = 0; f < pp->nph; f++) {
        const lti_phase *ph = &pp->ph[f];
        if (ph->M == 0) continue;
        if (ph->P) {
            lti_igemm(ph->M, Cp, ph->P, gpad, ph->moff, ph->koff, ph->b, Cp, t, Cp, 0);
            lti_transpose(t, Cp, ph->M, C, NULL, 0, tt, ph->M);
        } else {
            memset(tt, 0, sizeof(float) * (size_t)(C * ph->M));
        }
        for (int64_t c = 0; c < C; c++) {
            const float b = bias ? bias[c] : 0.0f, *src = tt + c * ph->M;
            for (int64_t y = 0; y < ph->ny; y++) {
                float *dst = img + (c * q->H + ph->y0 + s * y) * q->W + ph->x0;
                if (accumulate)
                    for (int64_t x = 0; x < ph->nx; x++) dst[s * x] += src[y * ph->nx + x];
                else
                    for (int64_t x = 0; x < ph->nx; x++) dst[s * x] = b + src[y * ph->nx + x];
            }
        }
    }
}
