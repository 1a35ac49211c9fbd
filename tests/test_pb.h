/* A tiny protobuf writer for hand-made records in tests, independent of the
 * encoder under test. Static inline: include it from test files only. */
#ifndef LT_TEST_PB_H
#define LT_TEST_PB_H

#include <stdint.h>
#include <string.h>

typedef struct pb {
    uint8_t b[4096];
    int n;
} pb;

static inline void pv(pb *p, uint64_t v) {
    while (v >= 0x80) { p->b[p->n++] = (uint8_t)(v | 0x80); v >>= 7; }
    p->b[p->n++] = (uint8_t)v;
}
static inline void ptag(pb *p, uint32_t field, uint32_t wt) { pv(p, (uint64_t)field << 3 | wt); }
static inline void praw(pb *p, const void *d, int n) { memcpy(p->b + p->n, d, (size_t)n); p->n += n; }
static inline void plen(pb *p, uint32_t field, const pb *sub) { ptag(p, field, 2); pv(p, (uint64_t)sub->n); praw(p, sub->b, sub->n); }
static inline void pbytes(pb *p, uint32_t field, const void *d, int n) { ptag(p, field, 2); pv(p, (uint64_t)n); praw(p, d, n); }
static inline void pstr(pb *p, uint32_t field, const char *s) { pbytes(p, field, s, (int)strlen(s)); }
static inline void pf32(pb *p, float f) { praw(p, &f, 4); }

#endif
