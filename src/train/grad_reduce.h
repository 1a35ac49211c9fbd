/* The gradient all-reduce of data-parallel training (docs/distributed.md), in buckets that
 * start while the backward sweep is still running, over the whole parameter block or a range
 * of it (a step phase's optimizer group: one path for both).
 *
 * The flat gradient block is cut into contiguous buckets of `bucket_bytes`, filled with the
 * parameters in block order (a large parameter spans several buckets; the last is shorter). During a step's backward sweep
 * the graph calls back after every node (lt_graph.on_backward); a bucket to which no node
 * left on the tape writes is final, is scaled by this rank's share of the batch and handed
 * to a nonblocking all-reduce, which advances while the sweep computes the rest. Buckets start
 * in one fixed order on every rank (MPI matches collectives by order): per range, the order in
 * which rank 0's first sweep of it finished them, broadcast once. A range reduces the part of
 * each bucket that lies in it. lt_grad_reduce_end starts what is left and waits for all, so the
 * optimizer sees the whole batch's mean gradient, the same floats as one all-reduce of the
 * range (each element is summed over the same ranks either way).
 * A bucket size < 0 is that single all-reduce of the range after the sweep. */
#ifndef LT_GRAD_REDUCE_H
#define LT_GRAD_REDUCE_H

#include "core/graph.h"
#include "core/params.h"
#include "train/comm.h"

#define LT_GRAD_BUCKET_DEFAULT ((int64_t)25 << 20) /* bytes, PyTorch DDP's default */

enum { LT_GRAD_MAX_RANGES = 8 };

/* A parameter range's buckets in the order every rank starts them (internal). */
typedef struct lti_grad_range {
    int64_t off, count;        /* the range: floats [off, off + count) of the block */
    int64_t n;                 /* buckets that meet it */
    int64_t *order;            /* (n) owned: bucket indices, in start order */
} lti_grad_range;

typedef struct lt_grad_reduce {
    lt_comm *comm;             /* not owned */
    lt_params *params;         /* not owned: the block the ranges lie in */
    int64_t nb;                /* buckets of the whole block (1 when bucketing is off) */
    int64_t *lo;               /* (nb + 1) float offsets: bucket b is [lo[b], lo[b + 1]) */
    int64_t *ready;            /* (nb) this step: the tape index after which bucket b is final */
    lti_grad_range range[LT_GRAD_MAX_RANGES]; /* the ranges seen so far (a step phase's group each) */
    int n_ranges;
    lti_grad_range *cur;       /* this step's range */
    int64_t off, count;        /* this step: the range reduced */
    int64_t next;              /* this step: buckets started, cur->order[0 .. next) */
    int single;
    float w;                   /* this step: the weight of this rank's mean gradient */
    lt_status status;          /* the first failure inside the sweep's callback */
    int64_t early;             /* buckets started before the sweep ended (since the last read) */
    double secs;               /* wall time inside MPI calls (since the last read) */
} lt_grad_reduce;

/* bucket_bytes: 0 = LT_GRAD_BUCKET_DEFAULT, < 0 = one all-reduce after the sweep. */
lt_status lt_grad_reduce_init(lt_grad_reduce *r, lt_comm *c, lt_params *p, int64_t bucket_bytes);
void lt_grad_reduce_free(lt_grad_reduce *r);
/* Before a step's (or step phase's) backward sweep on g, with weight w = this rank's share of
 * the batch; the floats [off, off + count) of the block are reduced (a phase's group: the whole
 * block for a plain model), each bucket's part of that range as the sweep finishes it; what
 * lies outside the range is left as it is. g is the graph whose tape the sweep will run (its
 * forward done), or NULL when this rank has no gradient this step (no examples, a non-finite
 * loss: the range is zero, no sweep follows). Every rank calls begin and end once per phase,
 * with the same range. A range's bucket order is fixed at its first step (rank 0's sweep,
 * broadcast): at most LT_GRAD_MAX_RANGES distinct ranges. */
lt_status lt_grad_reduce_begin(lt_grad_reduce *r, lt_graph *g, float w, int64_t off, int64_t count);
/* After the sweep: starts the remaining buckets, waits for all; removes the callback. */
lt_status lt_grad_reduce_end(lt_grad_reduce *r, lt_graph *g);

#endif
