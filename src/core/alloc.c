#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static void *lti_libc_realloc(void *ud, void *ptr, size_t size) {
    (void)ud;
    if (size == 0) { free(ptr); return NULL; }
    return realloc(ptr, size);
}

static lt_allocator lti_alloc = {lti_libc_realloc, NULL};
static _Atomic uint64_t lti_count;

void lt_alloc_set(const lt_allocator *a) {
    if (a) lti_alloc = *a;
    else { lti_alloc.realloc = lti_libc_realloc; lti_alloc.ud = NULL; }
}

void *lt_malloc(size_t size) { return lt_realloc(NULL, size ? size : 1); }

void *lt_calloc(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = lt_malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void *lt_realloc(void *ptr, size_t size) {
    if (size == 0) size = 1;
    void *p = lti_alloc.realloc(lti_alloc.ud, ptr, size);
    if (p) lti_count++;
    return p;
}

void lt_free(void *ptr) {
    if (ptr) lti_alloc.realloc(lti_alloc.ud, ptr, 0);
}

char *lt_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = lt_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

uint64_t lt_alloc_count(void) { return lti_count; }
