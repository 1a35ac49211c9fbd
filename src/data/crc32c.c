/* CRC32C: ISA-L when available, else slicing-by-8 over the reflected polynomial
 * 0x82F63B78. ISA-L's crc32_iscsi(buf, len, init) neither pre- nor post-inverts, so
 * the standard CRC is ~crc32_iscsi(buf, len, ~previous). */
#include "data/crc32c.h"

#include <string.h>

#ifdef LT_HAVE_ISAL
#include <isa-l/crc.h>
#endif

static uint32_t lti_crc_table[8][256];
static _Atomic int lti_crc_ready;

static void lti_crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
        lti_crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            lti_crc_table[t][i] = (lti_crc_table[t - 1][i] >> 8) ^ lti_crc_table[0][lti_crc_table[t - 1][i] & 0xff];
    lti_crc_ready = 1; /* racing initializers write identical values */
}

uint32_t lt_crc32c_extend_portable(uint32_t crc, const void *data, size_t n) {
    if (!lti_crc_ready) lti_crc_init();
    const uint8_t *p = data;
    uint32_t c = ~crc;
    while (n >= 8) { /* little-endian word loads; the table layout assumes it */
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = lti_crc_table[7][lo & 0xff] ^ lti_crc_table[6][(lo >> 8) & 0xff] ^
            lti_crc_table[5][(lo >> 16) & 0xff] ^ lti_crc_table[4][lo >> 24] ^
            lti_crc_table[3][hi & 0xff] ^ lti_crc_table[2][(hi >> 8) & 0xff] ^
            lti_crc_table[1][(hi >> 16) & 0xff] ^ lti_crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) c = (c >> 8) ^ lti_crc_table[0][(c ^ *p++) & 0xff];
    return ~c;
}

uint32_t lt_crc32c_extend(uint32_t crc, const void *data, size_t n) {
#ifdef LT_HAVE_ISAL
    /* crc32_iscsi takes an int length: feed large buffers in 1 GiB pieces. */
    const uint8_t *p = data;
    while (n > 0) {
        size_t k = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        crc = ~crc32_iscsi((unsigned char *)p, (int)k, ~crc);
        p += k;
        n -= k;
    }
    return crc;
#else
    return lt_crc32c_extend_portable(crc, data, n);
#endif
}

uint32_t lt_crc32c(const void *data, size_t n) { return lt_crc32c_extend(0, data, n); }
