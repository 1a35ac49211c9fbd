/* One counter-based RNG: Philox4x32-10 (Salmon et al., 2011).
 * The state is a 64-bit key (the seed) and a 64-bit counter; each block of four
 * 32-bit outputs comes from encrypting the counter. Filling an array of n
 * values consumes a fixed counter range however the work is split across
 * threads, so same seed ⇒ same numbers. The state is a plain struct: copy it to
 * fork a stream, save it in a checkpoint to resume exactly. */
#ifndef LT_RNG_H
#define LT_RNG_H

#include <stdint.h>

typedef struct lt_rng {
    uint64_t key;
    uint64_t counter;
} lt_rng;

void lt_rng_seed(lt_rng *r, uint64_t seed);
/* An independent stream for `stream_id` (e.g. one per worker or purpose). */
lt_rng lt_rng_fork(const lt_rng *r, uint64_t stream_id);
uint32_t lt_rng_u32(lt_rng *r);
uint64_t lt_rng_u64(lt_rng *r);
/* Uniform in [0,1) with 24 random bits (never 1.0). */
float lt_rng_uniform(lt_rng *r);
/* Uniform integer in [0, n). */
uint64_t lt_rng_below(lt_rng *r, uint64_t n);

/* Array fills; each consumes ceil(n/4) counters (normal: ceil(n/2)·... see rng.c). */
void lt_rng_fill_uniform(lt_rng *r, float *out, int64_t n, float lo, float hi);
void lt_rng_fill_normal(lt_rng *r, float *out, int64_t n, float mean, float std);
/* out[i] = 1 with probability p[i] (or the constant p0 when p == NULL), else 0. */
void lt_rng_fill_bernoulli(lt_rng *r, float *out, int64_t n, const float *p, float p0);
/* Standard Gumbel(0,1): -log(-log(u)). */
void lt_rng_fill_gumbel(lt_rng *r, float *out, int64_t n);
/* One draw from a categorical given by unnormalized non-negative weights w[0..k). */
int64_t lt_rng_categorical(lt_rng *r, const float *w, int64_t k);
/* A uniformly random permutation of 0..n-1 (Fisher-Yates). */
void lt_rng_permutation(lt_rng *r, int64_t *out, int64_t n);

/* Data-parallel draws. A batch split across processes: this process holds rows
 * [lo, lo + n) of the whole batch of `total` rows. A draw of (rows, per) values whose
 * rows are a multiple of n is read as rows/n blocks of the batch (one block, or the K
 * copies an importance-weighted bound tiles, block-major) and gets exactly the values the
 * whole batch's draw of (rows/n * total, per) gives those rows; the stream then stands
 * where the whole draw leaves it, on every process. So N processes draw what one does,
 * whatever N, and a plain single-process run is unchanged. */
typedef struct lt_rng_part {
    int64_t lo, n, total;
} lt_rng_part;

typedef enum {
    LT_RNG_UNIFORM,   /* in [a, b), four values per counter (lt_rng_fill_uniform) */
    LT_RNG_NORMAL,    /* mean a, std b (lt_rng_fill_normal) */
    LT_RNG_BERNOULLI, /* 1 with probability a (lt_rng_fill_bernoulli with p == NULL) */
    LT_RNG_GUMBEL,    /* lt_rng_fill_gumbel */
    LT_RNG_UNIFORM1   /* in [a, b), one value per counter (what repeated lt_rng_uniform calls give for [0,1)) */
} lt_rng_dist;

/* 1 when a draw of `rows` rows is a batch draw under part (part set, rows a multiple of part->n). */
int lt_rng_part_applies(const lt_rng_part *part, int64_t rows);
/* The row of the whole draw that local row i of a batch draw stands for. */
int64_t lt_rng_part_row(const lt_rng_part *part, int64_t i);
/* Rows of the whole draw that a batch draw of `rows` local rows stands for. */
int64_t lt_rng_part_rows(const lt_rng_part *part, int64_t rows);
/* out (rows, per) as above; without a part that applies, the plain fill of rows·per values. */
void lt_rng_fill_rows(lt_rng *r, const lt_rng_part *part, lt_rng_dist d, float *out, int64_t rows, int64_t per, float a,
                      float b);

#endif
