/* Patch masks, targets and the masked loss of the masked autoencoder (models/mae_internal.h). */
#include <math.h>
#include <string.h>

#include "models/mae_internal.h"
#include "ops/ops.h"

lt_status lti_mae_geom_init(lti_mae_geom *gm, int64_t C, int64_t H, int64_t W, int64_t p) {
    if (p < 1 || H % p || W % p)
        return lt_fail(LT_ERR_ARG, "model 'mae': patch %lld does not divide the %lldx%lld images", (long long)p,
                       (long long)H, (long long)W);
    *gm = (lti_mae_geom){C, H, W, p, H / p, W / p};
    return LT_OK;
}

int64_t lti_mae_hidden_count(int64_t P, double ratio) {
    int64_t k = (int64_t)llround(ratio * (double)P);
    return k < 1 ? 1 : k > P ? P : k;
}

void lti_mae_draw_mask(lt_rng *r, const lt_rng_part *part, int64_t n, int64_t P, int64_t k, float *scores, float *mask) {
    lt_rng_fill_rows(r, part, LT_RNG_UNIFORM, scores, n, P, 0.0f, 1.0f);
    for (int64_t i = 0; i < n; i++) {
        const float *s = scores + i * P;
        for (int64_t j = 0; j < P; j++) { /* rank of patch j among the row's scores */
            int64_t rank = 0;
            for (int64_t q = 0; q < P; q++) rank += s[q] < s[j] || (s[q] == s[j] && q < j);
            mask[i * P + j] = rank < k ? 1.0f : 0.0f;
        }
    }
}

void lti_mae_pixel_mask(const lti_mae_geom *gm, int64_t n, const float *mask, float *pix) {
    const int64_t HW = gm->H * gm->W, P = gm->gh * gm->gw;
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < gm->C; c++)
            for (int64_t y = 0; y < gm->H; y++)
                for (int64_t x = 0; x < gm->W; x++)
                    pix[(i * gm->C + c) * HW + y * gm->W + x] = mask[i * P + (y / gm->p) * gm->gw + x / gm->p];
}

void lti_mae_targets(const lti_mae_geom *gm, int64_t n, const float *x, int norm_pix, float *t) {
    const int64_t HW = gm->H * gm->W, D = gm->C * HW, p = gm->p, cnt = gm->C * p * p;
    memcpy(t, x, sizeof(float) * (size_t)(n * D));
    if (!norm_pix) return;
    for (int64_t i = 0; i < n; i++)
        for (int64_t py = 0; py < gm->gh; py++)
            for (int64_t px = 0; px < gm->gw; px++) {
                double s = 0, ss = 0;
                for (int pass = 0; pass < 2; pass++) {
                    const double mu = s / (double)cnt;
                    const double sd = cnt > 1 ? sqrt((ss - (double)cnt * mu * mu) / (double)(cnt - 1) + 1e-6) : 1.0;
                    for (int64_t c = 0; c < gm->C; c++)
                        for (int64_t y = py * p; y < (py + 1) * p; y++)
                            for (int64_t xx = px * p; xx < (px + 1) * p; xx++) {
                                const int64_t o = i * D + c * HW + y * gm->W + xx;
                                if (pass == 0) s += x[o], ss += (double)x[o] * x[o];
                                else t[o] = (float)(((double)x[o] - mu) / sd);
                            }
                }
            }
}

lt_tensor *lti_mae_masked_mse(lt_graph *g, lt_tensor *y, const float *t, const float *pix) {
    if (!y) return NULL;
    const int64_t n = lt_numel(y);
    lt_tensor *tt = lt_graph_new(g, LT_F32, y->ndim, y->shape), *w = lt_graph_new(g, LT_F32, y->ndim, y->shape);
    if (!tt || !w) return NULL;
    double hidden = 0;
    for (int64_t i = 0; i < n; i++) hidden += pix[i];
    if (!(hidden > 0)) {
        lti_graph_fail(g, LT_ERR_ARG, "mae: the mask hides no pixel of the batch");
        return NULL;
    }
    memcpy(tt->data, t, sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) w->data[i] = (float)(pix[i] / hidden);
    lt_tensor *d = lt_sub(g, y, tt);
    return lt_sum(g, lt_mul(g, w, lt_mul(g, d, d)), LT_AXIS_ALL, 0);
}
