/* TensorFlow's string hashes, bit for bit.
 * lt_fingerprint64 is FarmHash's Fingerprint64 (farmhashna::Hash64), what
 * TensorFlow's Fingerprint64, to_hash_bucket_fast and the hash-bucket feature
 * columns use; it comes from Debian's libfarmhash through a C++ shim
 * (farmhash_shim.cc). lt_fingerprint_cat64 is TensorFlow's FingerprintCat64,
 * the combiner of sparse_cross_hashed. Both are pure and thread-safe. */
#ifndef LT_FINGERPRINT_H
#define LT_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint64_t lt_fingerprint64(const void *data, size_t len);

/* kMul = 0xc6a4a7935bd1e995, ShiftMix(x) = x ^ (x >> 47):
 * r = a ^ kMul; r ^= ShiftMix(b·kMul)·kMul; r *= kMul; r = ShiftMix(r)·kMul; return ShiftMix(r). */
static inline uint64_t lt_fingerprint_cat64(uint64_t a, uint64_t b) {
    const uint64_t kmul = 0xc6a4a7935bd1e995ULL;
    uint64_t r = a ^ kmul, t = b * kmul;
    r ^= (t ^ (t >> 47)) * kmul;
    r *= kmul;
    r = (r ^ (r >> 47)) * kmul;
    return r ^ (r >> 47);
}

/* TensorFlow's string_to_hash_bucket_fast: Fingerprint64(s) mod num_buckets (> 0). */
static inline int64_t lt_hash_bucket(const void *data, size_t len, int64_t num_buckets) {
    return (int64_t)(lt_fingerprint64(data, len) % (uint64_t)num_buckets);
}

#ifdef __cplusplus
}
#endif

#endif
