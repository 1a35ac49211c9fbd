#include "core/rng.h"

#include <math.h>
#include <stddef.h>

/* GCC 12 with -march=native on AVX-512 machines vectorizes the 1..4-wide block loops below past
 * o[4] in its analysis and reports o as maybe-uninitialized (a false positive: every path
 * fills all four words and reads at most m <= 4 of them). */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* Philox4x32-10 of counter (c) under key (k): 4 outputs. */
static void lti_philox(uint64_t ctr, uint64_t key, uint32_t out[4]) {
    uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int i = 0; i < 10; i++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

void lt_rng_seed(lt_rng *r, uint64_t seed) {
    r->key = seed ^ 0x5DEECE66DULL;
    r->counter = 0;
}

lt_rng lt_rng_fork(const lt_rng *r, uint64_t stream_id) {
    uint32_t o[4];
    lti_philox(stream_id, r->key ^ 0xA5A5A5A5F00DULL, o);
    lt_rng s = {((uint64_t)o[0] << 32 | o[1]) ^ r->key, 0};
    return s;
}

uint32_t lt_rng_u32(lt_rng *r) {
    uint32_t o[4];
    lti_philox(r->counter++, r->key, o);
    return o[0];
}

uint64_t lt_rng_u64(lt_rng *r) {
    uint32_t o[4];
    lti_philox(r->counter++, r->key, o);
    return (uint64_t)o[0] << 32 | o[1];
}

static inline float lti_u01(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

float lt_rng_uniform(lt_rng *r) { return lti_u01(lt_rng_u32(r)); }

uint64_t lt_rng_below(lt_rng *r, uint64_t n) {
    /* Rejection keeps it exactly uniform. */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        uint64_t x = lt_rng_u64(r);
        if (x < lim) return x % n;
    }
}

/* Each block's step turns one counter block's four outputs o into out[i .. i + m), m = min(4, n - i).
 * A fill's parameters: (lo, hi) uniform, (mean, std) normal, p or the constant a bernoulli. */
typedef struct {
    float a, b;
    const float *p;
} lti_fill_args;

static void lti_uniform_block(const uint32_t o[4], float *out, int64_t i, int m, const lti_fill_args *arg) {
    for (int j = 0; j < m; j++) out[i + j] = arg->a + (arg->b - arg->a) * lti_u01(o[j]);
}

/* Box-Muller on pairs; one counter gives two pairs = four normals. */
static void lti_normal_block(const uint32_t o[4], float *out, int64_t i, int m, const lti_fill_args *arg) {
    for (int j = 0; j < 2; j++) {
        double u1 = ((o[2 * j] >> 8) + 1.0) / 16777217.0; /* (0,1] never 0 */
        double u2 = (o[2 * j + 1] >> 8) / 16777216.0;
        double rad = sqrt(-2.0 * log(u1)), th = 6.283185307179586 * u2;
        if (2 * j < m) out[i + 2 * j] = arg->a + arg->b * (float)(rad * cos(th));
        if (2 * j + 1 < m) out[i + 2 * j + 1] = arg->a + arg->b * (float)(rad * sin(th));
    }
}

static void lti_bernoulli_block(const uint32_t o[4], float *out, int64_t i, int m, const lti_fill_args *arg) {
    for (int j = 0; j < m; j++) out[i + j] = lti_u01(o[j]) < (arg->p ? arg->p[i + j] : arg->a) ? 1.0f : 0.0f;
}

static void lti_gumbel_block(const uint32_t o[4], float *out, int64_t i, int m) {
    for (int j = 0; j < m; j++) {
        double u = ((o[j] >> 8) + 0.5) / 16777216.0; /* strictly inside (0,1) */
        out[i + j] = (float)-log(-log(u));
    }
}

typedef enum { LTI_UNIFORM, LTI_NORMAL, LTI_BERNOULLI, LTI_GUMBEL } lti_dist;

/* out[4b .. 4b+4) (fewer at the end) from counter block base + b. A switch, not a function
 * pointer, so each block's step inlines into the loops below. */
static inline void lti_fill_block(const lt_rng *r, uint64_t base, int64_t b, float *out, int64_t n, lti_dist d,
                                  const lti_fill_args *arg) {
    uint32_t o[4];
    lti_philox(base + (uint64_t)b, r->key, o);
    int64_t i = b * 4;
    int m = n - i < 4 ? (int)(n - i) : 4; /* out[i .. i + m) */
    switch (d) {
    case LTI_UNIFORM: lti_uniform_block(o, out, i, m, arg); break;
    case LTI_NORMAL: lti_normal_block(o, out, i, m, arg); break;
    case LTI_BERNOULLI: lti_bernoulli_block(o, out, i, m, arg); break;
    case LTI_GUMBEL: lti_gumbel_block(o, out, i, m); break;
    }
}

/* out[0..n) from ceil(n/4) counter blocks: the split across threads never changes a
 * value, and the stream continues after the last block. Small fills stay out of OpenMP
 * altogether: even a region whose if() is false costs libgomp about half a microsecond
 * (a futex wake), and gsvae's evaluation draws Gumbel noise one row of K at a time. */
static void lti_fill(lt_rng *r, float *out, int64_t n, lti_dist d, const lti_fill_args *arg) {
    const uint64_t base = r->counter;
    const int64_t nb = (n + 3) / 4;
    if (n > 65536) {
        #pragma omp parallel for schedule(static)
        for (int64_t b = 0; b < nb; b++) lti_fill_block(r, base, b, out, n, d, arg);
    } else {
        for (int64_t b = 0; b < nb; b++) lti_fill_block(r, base, b, out, n, d, arg);
    }
    r->counter = base + (uint64_t)nb;
}

void lt_rng_fill_uniform(lt_rng *r, float *out, int64_t n, float lo, float hi) {
    lti_fill(r, out, n, LTI_UNIFORM, &(lti_fill_args){lo, hi, NULL});
}

void lt_rng_fill_normal(lt_rng *r, float *out, int64_t n, float mean, float std) {
    lti_fill(r, out, n, LTI_NORMAL, &(lti_fill_args){mean, std, NULL});
}

void lt_rng_fill_bernoulli(lt_rng *r, float *out, int64_t n, const float *p, float p0) {
    lti_fill(r, out, n, LTI_BERNOULLI, &(lti_fill_args){p0, 0, p});
}

void lt_rng_fill_gumbel(lt_rng *r, float *out, int64_t n) {
    lti_fill(r, out, n, LTI_GUMBEL, &(lti_fill_args){0, 0, NULL});
}

int lt_rng_part_applies(const lt_rng_part *p, int64_t rows) {
    return p && p->n > 0 && rows % p->n == 0;
}

int64_t lt_rng_part_row(const lt_rng_part *p, int64_t i) { return i / p->n * p->total + p->lo + i % p->n; }

int64_t lt_rng_part_rows(const lt_rng_part *p, int64_t rows) { return rows / p->n * p->total; }

/* The values of counter block o for lanes [j0, j1) into out. */
static void lti_lanes(const uint32_t o[4], lt_rng_dist d, const lti_fill_args *arg, int j0, int j1, float *out) {
    float v[4];
    switch (d) {
    case LT_RNG_UNIFORM: case LT_RNG_UNIFORM1: lti_uniform_block(o, v, 0, 4, arg); break;
    case LT_RNG_NORMAL: lti_normal_block(o, v, 0, 4, arg); break;
    case LT_RNG_BERNOULLI: lti_bernoulli_block(o, v, 0, 4, arg); break;
    case LT_RNG_GUMBEL: lti_gumbel_block(o, v, 0, 4); break;
    }
    for (int j = j0; j < j1; j++) out[j - j0] = v[j];
}

void lt_rng_fill_rows(lt_rng *r, const lt_rng_part *part, lt_rng_dist d, float *out, int64_t rows, int64_t per, float a,
                      float b) {
    const lti_fill_args arg = {a, b, NULL};
    if (!lt_rng_part_applies(part, rows)) {
        const int64_t n = rows * per;
        if (d != LT_RNG_UNIFORM1) {
            lti_fill(r, out, n, d == LT_RNG_UNIFORM ? LTI_UNIFORM : d == LT_RNG_NORMAL ? LTI_NORMAL
                                : d == LT_RNG_BERNOULLI ? LTI_BERNOULLI : LTI_GUMBEL, &arg);
            return;
        }
        for (int64_t i = 0; i < n; i++) {
            uint32_t o[4];
            lti_philox(r->counter++, r->key, o);
            lti_lanes(o, d, &arg, 0, 1, out + i);
        }
        return;
    }
    /* Value e of the whole draw comes from counter base + e/lanes, lane e%lanes. */
    const uint64_t base = r->counter, lanes = d == LT_RNG_UNIFORM1 ? 1 : 4;
    for (int64_t i = 0; i < rows; i++) {
        const uint64_t e0 = (uint64_t)lt_rng_part_row(part, i) * (uint64_t)per, e1 = e0 + (uint64_t)per;
        float *o_row = out + i * per;
        for (uint64_t e = e0; e < e1;) {
            const uint64_t blk = e / lanes, end = (blk + 1) * lanes < e1 ? (blk + 1) * lanes : e1;
            uint32_t o[4];
            lti_philox(base + blk, r->key, o);
            lti_lanes(o, d, &arg, (int)(e - blk * lanes), (int)(end - blk * lanes), o_row + (e - e0));
            e = end;
        }
    }
    const uint64_t total = (uint64_t)lt_rng_part_rows(part, rows) * (uint64_t)per;
    r->counter = base + (total + lanes - 1) / lanes;
}

int64_t lt_rng_categorical(lt_rng *r, const float *w, int64_t k) {
    double total = 0;
    for (int64_t i = 0; i < k; i++) total += w[i];
    double u = ((lt_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0)) * total;
    double acc = 0;
    for (int64_t i = 0; i < k; i++) {
        acc += w[i];
        if (u < acc) return i;
    }
    for (int64_t i = k - 1; i >= 0; i--) if (w[i] > 0) return i;
    return k - 1;
}

void lt_rng_permutation(lt_rng *r, int64_t *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)lt_rng_below(r, (uint64_t)i + 1);
        int64_t t = out[i]; out[i] = out[j]; out[j] = t;
    }
}
