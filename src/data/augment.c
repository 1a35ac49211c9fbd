/* The self-supervised augmentations on bytes and their per-example pipeline (augment.h). */
#include "data/augment.h"

#include <math.h>
#include <string.h>

static inline uint8_t lti_u8(float v) { return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)(v + 0.5f); }

void lt_aug_rrc_box(lt_rng *r, int64_t H, int64_t W, float lo, float hi, float r0, float r1, int64_t box[4]) {
    const double area = (double)H * (double)W, l0 = log(r0), l1 = log(r1);
    for (int t = 0; t < 10; t++) {
        const double target = area * (lo + (hi - lo) * (double)lt_rng_uniform(r));
        const double aspect = exp(l0 + (l1 - l0) * (double)lt_rng_uniform(r));
        const int64_t w = (int64_t)llround(sqrt(target * aspect)), h = (int64_t)llround(sqrt(target / aspect));
        if (w > 0 && w <= W && h > 0 && h <= H) {
            box[0] = (int64_t)lt_rng_below(r, (uint64_t)(H - h + 1));
            box[1] = (int64_t)lt_rng_below(r, (uint64_t)(W - w + 1));
            box[2] = h;
            box[3] = w;
            return;
        }
    }
    const double in_ratio = (double)W / (double)H; /* torchvision's fallback: a central crop */
    int64_t w = W, h = H;
    if (in_ratio < r0) h = (int64_t)llround((double)w / r0);
    else if (in_ratio > r1) w = (int64_t)llround((double)h * r1);
    box[0] = (H - h) / 2;
    box[1] = (W - w) / 2;
    box[2] = h;
    box[3] = w;
}

/* Source coordinate of output index o for a box side of n over an output side of N:
 * the lower tap i0 (in [0, n)), the upper i1 and the weight t of i1. */
static void lti_tap(int64_t o, int64_t n, int64_t N, int64_t *i0, int64_t *i1, float *t) {
    float s = ((float)o + 0.5f) * (float)n / (float)N - 0.5f;
    if (s < 0.0f) s = 0.0f;
    *i0 = (int64_t)s;
    if (*i0 > n - 1) *i0 = n - 1;
    *i1 = *i0 + 1 < n ? *i0 + 1 : n - 1;
    *t = s - (float)*i0;
}

void lt_aug_resize_box(const uint8_t *src, int64_t C, int64_t H, int64_t W, const int64_t box[4], uint8_t *dst) {
    const int64_t top = box[0], left = box[1], h = box[2], w = box[3];
    for (int64_t y = 0; y < H; y++) {
        int64_t y0, y1, x0, x1;
        float ty, tx;
        lti_tap(y, h, H, &y0, &y1, &ty);
        for (int64_t x = 0; x < W; x++) {
            lti_tap(x, w, W, &x0, &x1, &tx);
            for (int64_t c = 0; c < C; c++) {
                const uint8_t *p = src + c * H * W;
                const float a = p[(top + y0) * W + left + x0], b = p[(top + y0) * W + left + x1];
                const float d = p[(top + y1) * W + left + x0], e = p[(top + y1) * W + left + x1];
                const float v = (1 - ty) * ((1 - tx) * a + tx * b) + ty * ((1 - tx) * d + tx * e);
                dst[(c * H + y) * W + x] = lti_u8(v);
            }
        }
    }
}

/* PIL's "L" conversion of pixel k of a (C,H,W) image */
static inline float lti_luma(const uint8_t *img, int64_t C, int64_t S, int64_t k) {
    return C == 3 ? (299.0f * img[k] + 587.0f * img[S + k] + 114.0f * img[2 * S + k]) / 1000.0f : img[k];
}

void lt_aug_brightness(uint8_t *img, int64_t C, int64_t H, int64_t W, float f) {
    for (int64_t k = 0; k < C * H * W; k++) img[k] = lti_u8(f * img[k]);
}

void lt_aug_contrast(uint8_t *img, int64_t C, int64_t H, int64_t W, float f) {
    const int64_t S = H * W;
    double sum = 0;
    for (int64_t k = 0; k < S; k++) sum += lti_u8(lti_luma(img, C, S, k));
    const float m = floorf((float)(sum / (double)S) + 0.5f);
    for (int64_t k = 0; k < C * S; k++) img[k] = lti_u8(m + f * ((float)img[k] - m));
}

void lt_aug_saturation(uint8_t *img, int64_t C, int64_t H, int64_t W, float f) {
    if (C != 3) return;
    const int64_t S = H * W;
    for (int64_t k = 0; k < S; k++) {
        const float gr = lti_u8(lti_luma(img, C, S, k));
        for (int64_t c = 0; c < 3; c++) img[c * S + k] = lti_u8(gr + f * ((float)img[c * S + k] - gr));
    }
}

void lt_aug_hue(uint8_t *img, int64_t C, int64_t H, int64_t W, float h) {
    if (C != 3) return;
    const int64_t S = H * W;
    for (int64_t k = 0; k < S; k++) {
        const float r = img[k] / 255.0f, g = img[S + k] / 255.0f, b = img[2 * S + k] / 255.0f;
        const float mx = fmaxf(r, fmaxf(g, b)), mn = fminf(r, fminf(g, b)), d = mx - mn;
        float hue = 0.0f;
        if (d > 0) hue = mx == r ? fmodf((g - b) / d + 6.0f, 6.0f) : mx == g ? (b - r) / d + 2.0f : (r - g) / d + 4.0f;
        hue = hue / 6.0f + h; /* in turns */
        hue -= floorf(hue);
        const float s = mx > 0 ? d / mx : 0.0f, v = mx;
        const float hh = hue * 6.0f, fr = hh - floorf(hh);
        const float p = v * (1 - s), q = v * (1 - s * fr), t = v * (1 - s * (1 - fr));
        float o[3];
        switch ((int)floorf(hh) % 6) {
        case 0: o[0] = v, o[1] = t, o[2] = p; break;
        case 1: o[0] = q, o[1] = v, o[2] = p; break;
        case 2: o[0] = p, o[1] = v, o[2] = t; break;
        case 3: o[0] = p, o[1] = q, o[2] = v; break;
        case 4: o[0] = t, o[1] = p, o[2] = v; break;
        default: o[0] = v, o[1] = p, o[2] = q; break;
        }
        for (int c = 0; c < 3; c++) img[c * S + k] = lti_u8(255.0f * o[c]);
    }
}

void lt_aug_greyscale(uint8_t *img, int64_t C, int64_t H, int64_t W) {
    if (C != 3) return;
    const int64_t S = H * W;
    for (int64_t k = 0; k < S; k++) img[k] = img[S + k] = img[2 * S + k] = lti_u8(lti_luma(img, C, S, k));
}

int lt_aug_blur_kernel(int64_t H, int64_t W) {
    const double side = (double)(H < W ? H : W) * 0.1;
    const int k = 2 * (int)floor(side / 2.0) + 1;
    return k < 3 ? 3 : k;
}

/* reflect without repeating the edge (torch's "reflect" padding) */
static inline int64_t lti_reflect(int64_t i, int64_t n) {
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

void lt_aug_blur(uint8_t *img, int64_t C, int64_t H, int64_t W, int k, float sigma, float *tmp) {
    float w[64];
    const int r = k / 2 < 31 ? k / 2 : 31;
    float tot = 0;
    for (int i = -r; i <= r; i++) tot += w[i + r] = expf(-0.5f * (float)(i * i) / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++) w[i] /= tot;
    for (int64_t c = 0; c < C; c++) {
        const uint8_t *p = img + c * H * W;
        float *q = tmp + c * H * W;
        for (int64_t y = 0; y < H; y++) /* rows */
            for (int64_t x = 0; x < W; x++) {
                float s = 0;
                for (int i = -r; i <= r; i++) s += w[i + r] * p[y * W + lti_reflect(x + i, W)];
                q[y * W + x] = s;
            }
        for (int64_t y = 0; y < H; y++) /* columns */
            for (int64_t x = 0; x < W; x++) {
                float s = 0;
                for (int i = -r; i <= r; i++) s += w[i + r] * q[lti_reflect(y + i, H) * W + x];
                img[(c * H + y) * W + x] = lti_u8(s);
            }
    }
}

void lt_aug_noise(uint8_t *img, int64_t n, float std, lt_rng *r) {
    float z[256];
    for (int64_t k = 0; k < n; k += 256) {
        const int64_t m = n - k < 256 ? n - k : 256;
        lt_rng_fill_normal(r, z, m, 0.0f, 255.0f * std);
        for (int64_t j = 0; j < m; j++) img[k + j] = lti_u8((float)img[k + j] + z[j]);
    }
}

static float lti_between(lt_rng *r, float lo, float hi) { return lo + (hi - lo) * lt_rng_uniform(r); }

void lt_aug_jitter(uint8_t *img, int64_t C, int64_t H, int64_t W, float s, lt_rng *r) {
    const float d = 0.8f * s, lo = 1.0f - d > 0.0f ? 1.0f - d : 0.0f;
    const int apply = lt_rng_uniform(r) < 0.8f;
    int64_t order[4];
    lt_rng_permutation(r, order, 4);
    const float f[4] = {lti_between(r, lo, 1 + d), lti_between(r, lo, 1 + d), lti_between(r, lo, 1 + d),
                        lti_between(r, -0.2f * s, 0.2f * s)};
    if (!apply) return;
    for (int i = 0; i < 4; i++) switch (order[i]) {
        case 0: lt_aug_brightness(img, C, H, W, f[0]); break;
        case 1: lt_aug_contrast(img, C, H, W, f[1]); break;
        case 2: lt_aug_saturation(img, C, H, W, f[2]); break;
        default: lt_aug_hue(img, C, H, W, f[3]); break;
        }
}

int lt_augment_bytes(const lt_augment *a) {
    return a && (a->rrc_lo > 0 || a->jitter > 0 || a->grey > 0 || a->blur > 0 || a->noise > 0);
}

int lt_augment_active(const lt_augment *a) { return a && (a->crop_pad > 0 || a->flip || lt_augment_bytes(a)); }

lt_status lt_augment_check(const lt_augment *a, const lt_dataset *d, const char *source) {
    if (!lt_augment_active(a)) return LT_OK;
    if ((a->crop_pad > 0 || a->rrc_lo > 0 || a->blur > 0) && d->height < 2)
        return lt_fail(LT_ERR_ARG, "--augment: data source %s has no 2-d images (height %lld)", source,
                       (long long)d->height);
    if (!lt_augment_bytes(a)) return LT_OK;
    for (int s = 0; s < LT_SPLIT_COUNT; s++)
        if (d->split[s].n > 0 && !d->split[s].images)
            return lt_fail(LT_ERR_ARG, "--augment rrc/jitter/grey/blur/noise: data source %s has no stored image "
                           "bytes (a float or token source); these work on uint8 images", source);
    if (d->dim > LT_AUG_MAX_DIM)
        return lt_fail(LT_ERR_ARG, "--augment rrc/jitter/grey/blur/noise: images of %lld values in %s, expected at "
                       "most %d", (long long)d->dim, source, LT_AUG_MAX_DIM);
    return LT_OK;
}

enum { LTI_STREAM_SSL = 0xA07ull };

void lt_augment_bytes_row(const lt_augment *a, const uint8_t *src, int64_t C, int64_t H, int64_t W, uint64_t seed,
                          int64_t epoch, int64_t view, int64_t idx, uint8_t *dst) {
    uint8_t buf[LT_AUG_MAX_DIM]; /* (C,H,W) */
    float tmp[LT_AUG_MAX_DIM];
    const int64_t dim = C * H * W;
    if (a->crop_pad > 0 || a->flip) { /* dataset.h's crop and flip, the same draw as the float path */
        lt_augment_draw dr;
        lt_augment_draw_view(a, seed, epoch, idx, view, &dr);
        for (int64_t c = 0; c < C; c++)
            for (int64_t y = 0; y < H; y++)
                for (int64_t x = 0; x < W; x++) {
                    const int64_t sy = y + dr.dy, sx = (dr.flip ? W - 1 - x : x) + dr.dx;
                    dst[(c * H + y) * W + x] = sy < 0 || sy >= H || sx < 0 || sx >= W ? 0 : src[(c * H + sy) * W + sx];
                }
    } else {
        memcpy(dst, src, (size_t)dim);
    }
    lt_rng root;
    lt_rng_seed(&root, seed);
    lt_rng s1 = lt_rng_fork(&root, LTI_STREAM_SSL), s2 = lt_rng_fork(&s1, (uint64_t)epoch);
    lt_rng s3 = lt_rng_fork(&s2, (uint64_t)view), r = lt_rng_fork(&s3, (uint64_t)idx);
    if (a->rrc_lo > 0) {
        int64_t box[4];
        lt_aug_rrc_box(&r, H, W, a->rrc_lo, 1.0f, 3.0f / 4.0f, 4.0f / 3.0f, box);
        memcpy(buf, dst, (size_t)dim);
        lt_aug_resize_box(buf, C, H, W, box, dst);
    }
    if (a->jitter > 0) lt_aug_jitter(dst, C, H, W, a->jitter, &r);
    if (a->grey > 0 && lt_rng_uniform(&r) < a->grey) lt_aug_greyscale(dst, C, H, W);
    if (a->blur > 0) {
        const int on = lt_rng_uniform(&r) < a->blur;
        const float sigma = lti_between(&r, 0.1f, 2.0f);
        if (on) lt_aug_blur(dst, C, H, W, lt_aug_blur_kernel(H, W), sigma, tmp);
    }
    if (a->noise > 0) lt_aug_noise(dst, dim, a->noise, &r);
}
