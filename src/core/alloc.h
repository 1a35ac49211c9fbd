/* The one allocator hook. Every heap allocation of the library goes through
 * lt_malloc/lt_calloc/lt_realloc/lt_free, so tests can count allocations (to
 * prove a training step allocates nothing in steady state) and inject failures.
 * Memory from lt_malloc is released with lt_free and nothing else. */
#ifndef LT_ALLOC_H
#define LT_ALLOC_H

#include <stddef.h>
#include <stdint.h>

typedef struct lt_allocator {
    void *(*realloc)(void *ud, void *ptr, size_t size); /* size 0 => free, returns NULL */
    void *ud;
} lt_allocator;

/* Installs a hook (NULL restores the default, libc). Not thread-safe: call at start-up. */
void lt_alloc_set(const lt_allocator *a);
void *lt_malloc(size_t size);
void *lt_calloc(size_t n, size_t size);
void *lt_realloc(void *ptr, size_t size);
void lt_free(void *ptr);
char *lt_strdup(const char *s);
/* Allocations made (malloc/calloc/realloc calls that returned memory) since start. */
uint64_t lt_alloc_count(void);

#endif
