#include "core/arena.h"

#include <string.h>

#include "core/alloc.h"

#define LTI_ALIGN 64

struct lti_chunk {
    lti_chunk *next;
    size_t size, used;
    unsigned char *base; /* aligned start of usable memory */
    void *raw;
};

static lti_chunk *lti_chunk_new(size_t size) {
    void *raw = lt_malloc(sizeof(lti_chunk) + size + LTI_ALIGN);
    if (!raw) return NULL;
    lti_chunk *c = raw;
    uintptr_t p = (uintptr_t)(c + 1);
    p = (p + LTI_ALIGN - 1) & ~(uintptr_t)(LTI_ALIGN - 1);
    c->next = NULL;
    c->size = size;
    c->used = 0;
    c->base = (unsigned char *)p;
    c->raw = raw;
    return c;
}

void lt_arena_init(lt_arena *a, size_t initial_bytes) {
    memset(a, 0, sizeof *a);
    if (initial_bytes) a->head = lti_chunk_new(initial_bytes);
}

void *lt_arena_alloc(lt_arena *a, size_t bytes) {
    size_t need = (bytes + LTI_ALIGN - 1) & ~(size_t)(LTI_ALIGN - 1);
    if (need == 0) need = LTI_ALIGN;
    lti_chunk *c = a->head;
    if (!c || c->used + need > c->size) {
        size_t size = c ? c->size * 2 : (1u << 20);
        if (size < need) size = need;
        lti_chunk *n = lti_chunk_new(size);
        if (!n) return NULL;
        n->next = c;
        a->head = n;
        c = n;
    }
    void *p = c->base + c->used;
    c->used += need;
    a->used_total += need;
    if (a->used_total > a->high_water) a->high_water = a->used_total;
    return p;
}

void *lt_arena_calloc(lt_arena *a, size_t bytes) {
    void *p = lt_arena_alloc(a, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void lt_arena_reset(lt_arena *a) {
    lti_chunk *c = a->head;
    if (c && (c->next || c->size < a->high_water)) {
        /* Several chunks, or one too small (the others rewound away): replace them by one
         * that holds the whole high-water mark. */
        size_t total = a->high_water;
        while (c) { lti_chunk *n = c->next; lt_free(c->raw); c = n; }
        a->head = lti_chunk_new(total);
    } else if (c) {
        c->used = 0;
    }
    a->used_total = 0;
}

lt_arena_pos lt_arena_mark(const lt_arena *a) {
    return (lt_arena_pos){a->head, a->head ? a->head->used : 0, a->used_total};
}

void lt_arena_rewind(lt_arena *a, lt_arena_pos m) {
    while (a->head && a->head != m.head) { /* newer chunks: freed */
        lti_chunk *n = a->head->next;
        lt_free(a->head->raw);
        a->head = n;
    }
    if (a->head) a->head->used = m.used;
    a->used_total = m.used_total;
}

void lt_arena_free(lt_arena *a) {
    lti_chunk *c = a->head;
    while (c) { lti_chunk *n = c->next; lt_free(c->raw); c = n; }
    memset(a, 0, sizeof *a);
}
