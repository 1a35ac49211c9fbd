/* Internal: protobuf wire-format primitives shared by the Example parser, encoder and
 * printers (example*.c, cmd_tfrecord.c). Readers return 0 on malformed input and never
 * read past `end`. */
#ifndef LT_EXAMPLE_WIRE_H
#define LT_EXAMPLE_WIRE_H

#include <stdint.h>

enum { LTI_WT_VARINT = 0, LTI_WT_I64 = 1, LTI_WT_LEN = 2, LTI_WT_SGROUP = 3, LTI_WT_EGROUP = 4, LTI_WT_I32 = 5 };

/* A varint of at most 10 bytes. */
static inline int lti_pb_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) { /* the common one-byte case */
        *out = *p;
        *pp = p + 1;
        return 1;
    }
    uint64_t v = 0;
    for (int shift = 0; shift < 70 && p < end; shift += 7) {
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *out = v;
            *pp = p;
            return 1;
        }
    }
    return 0;
}

/* A field tag: field number 1 .. 2^29-1 and a wire type. */
static inline int lti_pb_tag(const uint8_t **pp, const uint8_t *end, uint32_t *tag) {
    uint64_t v;
    if (!lti_pb_varint(pp, end, &v) || v > UINT32_MAX || (v >> 3) == 0) return 0;
    *tag = (uint32_t)v;
    return 1;
}

/* a[0..n) == b[0..n) for feature names: short keys compare as (overlapping) words inline,
 * where a memcmp call and its size dispatch cost more than the compare. Reads only
 * inside both ranges. */
static inline int lti_bytes_eq(const void *a, const void *b, int64_t n) {
    const uint8_t *x = a, *y = b;
    uint64_t u, v, s, t;
    if (n > 16) return !__builtin_memcmp(x, y, (size_t)n);
    if (n >= 8) {
        __builtin_memcpy(&u, x, 8), __builtin_memcpy(&v, y, 8);
        __builtin_memcpy(&s, x + n - 8, 8), __builtin_memcpy(&t, y + n - 8, 8);
        return !((u ^ v) | (s ^ t));
    }
    if (n >= 4) {
        uint32_t u4, v4, s4, t4;
        __builtin_memcpy(&u4, x, 4), __builtin_memcpy(&v4, y, 4);
        __builtin_memcpy(&s4, x + n - 4, 4), __builtin_memcpy(&t4, y + n - 4, 4);
        return !((u4 ^ v4) | (s4 ^ t4));
    }
    for (int64_t i = 0; i < n; i++)
        if (x[i] != y[i]) return 0;
    return 1;
}

/* Skips one field's value given its tag (groups nested up to protobuf's depth 100). */
int lti_pb_skip(const uint8_t **pp, const uint8_t *end, uint32_t tag, int depth);

#endif
