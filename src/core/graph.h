/* The graph: a define-by-run tape plus the arena that holds one step's temporaries.
 *
 * Ops (src/ops) take a graph and input tensors and return a new tensor whose
 * struct and data live in the graph's arena. When gradients are enabled and an
 * input requires them, the op records a node on the tape; lt_backward
 * (autograd/backward.h) walks the tape in reverse.
 *
 * Errors are sticky: the first failing op stores its status in the graph and
 * returns NULL; every op given a NULL input returns NULL at once. So a model
 * writes a chain of ops and checks lt_graph_status() once at the end.
 *
 * lt_graph_reset() ends a step: every tensor made from the graph dies. The graph
 * owns its arena and tape; it never owns parameter tensors. */
#ifndef LT_GRAPH_H
#define LT_GRAPH_H

#include <stddef.h>

#include "core/arena.h"
#include "core/status.h"
#include "core/tensor.h"

#define LTI_MAX_IN 4

typedef struct lti_node {
    int32_t op;                /* lt_op (ops/op.h) */
    int32_t nin;
    lt_tensor *out;
    lt_tensor *in[LTI_MAX_IN];
    int64_t iarg[8];           /* op-specific integer arguments */
    float farg[4];             /* op-specific float arguments */
    void *saved;               /* op-specific saved data, in the arena */
} lti_node;

struct lt_rng;

/* Data-parallel training: sums over the process group, in place, every process getting the
 * same values. For what a training forward computes from the whole batch rather than per
 * example (a codebook's moving averages, a moving-average baseline, the batch statistics a
 * model measures once): each process sums its rows' share and the group adds them up, so N
 * processes compute what one does. Every process runs the same forward, so the same sums in
 * the same order (the trainer refuses a step in which a process would have no rows). Set by
 * the trainer (train/trainer.c) beside lt_graph.part; the library's code below train/ reaches
 * the group only through lt_graph_sum_f32/_f64. */
typedef struct lt_graph_group {
    void *ud;
    lt_status (*sum_f32)(void *ud, float *buf, int64_t n);
    lt_status (*sum_f64)(void *ud, double *buf, int64_t n);
} lt_graph_group;

typedef struct lt_graph {
    lt_arena arena;
    lti_node *nodes;           /* the tape, heap; grows, never shrinks */
    int64_t n_nodes, cap_nodes;
    int grad_enabled;          /* 0: no-grad mode, nothing is recorded */
    int training;              /* 1: dropout is active */
    lt_status status;          /* first error since the last reset */
    struct lt_rng *rng;        /* randomness for dropout; not owned, may be NULL */
    /* Data-parallel training: this process's rows of the whole batch; per-example draws on
     * this graph (dropout, the latent samplers of dist/) take them through lt_rng_fill_rows so
     * that N processes draw what one does. Not owned; NULL (the default) = the whole batch. */
    const struct lt_rng_part *part;
    void *grad_pool;           /* arena gradient buffers released during backward, reused by lti_grad */
    /* Called by the backward sweep after node i's backward has run (i counts down the tape to 0),
     * and once with i = n_nodes before the first: data-parallel training starts reducing the
     * gradients that are final from here (train/trainer.c). Not owned; NULL (the default) = none. */
    void (*on_backward)(void *ud, int64_t node);
    void *on_backward_ud;
    /* The process group of a data-parallel training step (above). Not owned; NULL (the
     * default) = this process alone, and lt_graph_sum_* do nothing. */
    const lt_graph_group *group;
    /* Called by lti_graph_record right after node i is on the tape (its op's forward has run):
     * per-op timers (bench/prof.h). Not owned; NULL (the default) = none. */
    void (*on_record)(void *ud, int64_t node);
    void *on_record_ud;
} lt_graph;

lt_status lt_graph_init(lt_graph *g, size_t arena_bytes);
void lt_graph_free(lt_graph *g);
/* Ends a step: empties the tape and the arena, clears the sticky status. */
void lt_graph_reset(lt_graph *g);
/* Returns the previous setting. */
int lt_graph_set_grad(lt_graph *g, int enabled);
static inline lt_status lt_graph_status(const lt_graph *g) { return g->status; }
/* In-place sums of n values over g->group (nothing without one); a failure is stored as the
 * graph's sticky status and returned. */
lt_status lt_graph_sum_f32(lt_graph *g, float *buf, int64_t n);
lt_status lt_graph_sum_f64(lt_graph *g, double *buf, int64_t n);

/* A new uninitialized tensor in the arena (NULL and sticky error on failure). */
lt_tensor *lt_graph_new(lt_graph *g, lt_dtype dtype, int ndim, const int64_t *shape);
lt_tensor *lt_graph_zeros(lt_graph *g, lt_dtype dtype, int ndim, const int64_t *shape);
/* A tensor struct in the arena describing caller memory (no copy, no grad). */
lt_tensor *lt_graph_wrap(lt_graph *g, float *data, int ndim, const int64_t *shape);
lt_tensor *lt_graph_wrap_i64(lt_graph *g, int64_t *data, int ndim, const int64_t *shape);
lt_tensor *lt_graph_scalar(lt_graph *g, float v);
void *lt_graph_alloc(lt_graph *g, size_t bytes);

/* --- for op implementations --- */
/* Stores the first error and returns it. */
lt_status lti_graph_fail(lt_graph *g, lt_status code, const char *fmt, ...) LT_PRINTF(3, 4);
/* Records a node producing `out` from inputs when gradients are on and some
 * input requires them; returns NULL when nothing is recorded (or on error). */
lti_node *lti_graph_record(lt_graph *g, int op, lt_tensor *out, int nin, lt_tensor *const *in);
/* The gradient buffer of t, zeroed on first use: a released buffer that fits, else new
 * from the arena. */
float *lti_grad(lt_graph *g, lt_tensor *t);
/* The gradient buffer of t for a kernel that may overwrite it: *fresh = 1 when nothing has
 * been added to it yet (the buffer is then NOT zeroed: the caller must write every element,
 * "=" instead of "+="), 0 when it holds a sum to add to. Saves a zeroing pass over memory. */
float *lti_grad_out(lt_graph *g, lt_tensor *t, int *fresh);
/* Gives t's gradient buffer back for reuse (t->grad becomes NULL): backward does this
 * once every consumer of t has run, so a step's peak holds the live gradients only. */
void lti_grad_release(lt_graph *g, lt_tensor *t);

#endif
