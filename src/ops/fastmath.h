/* Vectorizable exp / log1p / sigmoid for the hot elementwise loops.
 *
 * glibc's expf and log1pf are scalar calls (its SIMD variants need
 * -ffast-math), so a loop calling them does not vectorize. These are branch-free
 * (compare-selects only) so the compiler turns loops over them into AVX code.
 * Accuracy: lti_expf within 2 ulp of expf for x in [-87.3, 88.7], +inf above
 * 88.72, 0 below -87.3 (where expf gives denormals), NaN for NaN.
 * lti_log1pf within a few ulp for x in (-1, +inf) with x + 1 a normal float.
 * Polynomials from Cephes (S. Moshier). */
#ifndef LTI_FASTMATH_H
#define LTI_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float lti_bits_to_f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t lti_f_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static inline float lti_expf(float x) {
    /* compare-selects, not fminf/fmaxf: GCC does not vectorize those; NaN becomes -87.3 here */
    float xc = x > -87.3f ? x : -87.3f;
    xc = xc < 88.72f ? xc : 88.72f;
    float k = floorf(xc * 1.44269504088896341f + 0.5f); /* round(x / ln 2), in [-126, 128] */
    float r = xc - k * 0.693359375f;                     /* x - k ln 2 in two parts */
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    p = k > 127.0f ? p * 2.0f : p; /* 2^128 is not a float: take one factor 2 into p */
    int32_t ki = (int32_t)(k < 127.0f ? k : 127.0f); /* (float selects: int ones block vectorization) */
    float y = p * lti_bits_to_f((uint32_t)(ki + 127) << 23);
    y = x < -87.3f ? 0.0f : y;
    y = x > 88.72283905f ? INFINITY : y;
    return x != x ? x : y;
}

/* log(1 + x) */
static inline float lti_log1pf(float x) {
    float u = 1.0f + x;
    float c = (x - (u - 1.0f)) / u; /* what rounding 1 + x lost, to first order */
    uint32_t b = lti_f_to_bits(u);
    float e = (float)((int32_t)(b >> 23) - 127);
    float m = lti_bits_to_f((b & 0x007fffffu) | 0x3f800000u); /* u = m·2^e, m in [1,2) */
    int big = m > 1.41421356f;                                 /* use m in [sqrt(1/2), sqrt(2)) */
    m = big ? m * 0.5f : m;
    e = big ? e + 1.0f : e;
    float f = m - 1.0f, z = f * f;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z;
    y += -2.12194440e-4f * e;
    y += -0.5f * z;
    float r = f + y + 0.693359375f * e + c;
    r = u == INFINITY ? INFINITY : r;
    r = x == -1.0f ? -INFINITY : r;
    return (x != x || x < -1.0f) ? NAN : r;
}

static inline float lti_sigmoidf(float x) { return 1.0f / (1.0f + lti_expf(-x)); }

/* log(1 + e^-|x|): the smooth part of softplus and BCE-with-logits */
static inline float lti_log1p_exp_neg_abs(float x) { return lti_log1pf(lti_expf(-fabsf(x))); }

#endif
