/* CRC32C (Castagnoli), the checksum of TFRecord framing.
 * Through ISA-L's crc32_iscsi when the build found libisal (LT_HAVE_ISAL), else a
 * portable slicing-by-8 table. Stateless and thread-safe. */
#ifndef LT_CRC32C_H
#define LT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The standard CRC32C of n bytes: lt_crc32c("123456789", 9) == 0xE3069283. */
uint32_t lt_crc32c(const void *data, size_t n);
/* Continues a CRC: lt_crc32c_extend(lt_crc32c(a), b) == lt_crc32c(a ‖ b); start from 0. */
uint32_t lt_crc32c_extend(uint32_t crc, const void *data, size_t n);
/* The portable table implementation, always compiled (tests compare it with ISA-L). */
uint32_t lt_crc32c_extend_portable(uint32_t crc, const void *data, size_t n);

/* The CRC32C of 8 bytes (a TFRecord length field), inline: one SSE4.2 instruction where
 * the build targets it, so the per-record header check costs no call. */
static inline uint32_t lt_crc32c_8(const void *p) {
#if defined(__SSE4_2__) && defined(__x86_64__)
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    return ~(uint32_t)__builtin_ia32_crc32di(0xffffffffu, v);
#else
    return lt_crc32c(p, 8);
#endif
}

/* TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8, and its inverse. */
static inline uint32_t lt_crc32c_mask(uint32_t crc) {
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
static inline uint32_t lt_crc32c_unmask(uint32_t masked) {
    uint32_t rot = masked - 0xa282ead8u;
    return (rot >> 17) | (rot << 15);
}

#endif
