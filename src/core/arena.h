/* A bump allocator for per-step temporaries. Blocks are 64-byte aligned.
 * lt_arena_reset() releases everything at once; after a reset the arena keeps
 * one chunk as large as the whole previous use, so a loop whose steps need the
 * same memory stops touching the heap after its first step.
 * lt_arena_mark / lt_arena_rewind release, stack-like, what was handed out since the mark
 * (an op's scratch), so the high-water mark counts it once rather than once per op.
 * The arena owns its chunks; pointers from it die at the next reset. */
#ifndef LT_ARENA_H
#define LT_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct lti_chunk lti_chunk;
typedef struct lt_arena {
    lti_chunk *head;      /* current chunk; older chunks follow via ->next */
    size_t used_total;    /* bytes handed out since the last reset */
    size_t high_water;    /* largest used_total seen */
} lt_arena;

void lt_arena_init(lt_arena *a, size_t initial_bytes);
/* NULL when the heap is exhausted. */
void *lt_arena_alloc(lt_arena *a, size_t bytes);
void *lt_arena_calloc(lt_arena *a, size_t bytes);
void lt_arena_reset(lt_arena *a);
typedef struct {
    lti_chunk *head;
    size_t used, used_total;
} lt_arena_pos;
lt_arena_pos lt_arena_mark(const lt_arena *a);
/* Releases everything handed out since the mark m (chunks made since are freed): pointers
 * from then die. */
void lt_arena_rewind(lt_arena *a, lt_arena_pos m);
void lt_arena_free(lt_arena *a);

#endif
