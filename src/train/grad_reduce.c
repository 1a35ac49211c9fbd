/* Bucketed gradient all-reduce overlapped with the backward sweep (see grad_reduce.h). */
#include "train/grad_reduce.h"

#include <string.h>
#include <time.h>

#include "autograd/backward.h"
#include "core/alloc.h"

static double lti_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

lt_status lt_grad_reduce_init(lt_grad_reduce *r, lt_comm *c, lt_params *p, int64_t bucket_bytes) {
    memset(r, 0, sizeof *r);
    r->comm = c;
    r->params = p;
    r->single = bucket_bytes < 0;
    const int64_t cap = (bucket_bytes > 0 ? bucket_bytes : LT_GRAD_BUCKET_DEFAULT) / (int64_t)sizeof(float);
    /* floats per nonblocking call: lt_comm_isum_f32's limit, and cap itself: a parameter larger than
     * a bucket is cut into pieces of cap (Open MPI's shared-memory all-reduce falls off a cliff
     * between 4 and 16 MiB on this machine: docs/distributed.md) */
    const int64_t most = cap < ((int64_t)1 << 30) ? (cap > 0 ? cap : 1) : (int64_t)1 << 30;
    /* at most one bucket per parameter, plus the pieces of parameters above `most` */
    int64_t max = 2 + p->total / most;
    for (int64_t i = 0; i < p->n; i++) max++;
    r->lo = lt_malloc((size_t)(max + 1) * sizeof *r->lo);
    r->order = lt_malloc((size_t)max * sizeof *r->order);
    r->ready = lt_malloc((size_t)max * sizeof *r->ready);
    if (!r->lo || !r->order || !r->ready) return lt_fail(LT_ERR_NOMEM, "gradient buckets");
    r->lo[0] = 0;
    r->nb = 0;
    if (!r->single) {
        /* Parameters in block order (offsets ascend) fill a bucket up to cap floats; one that does not
         * fit is cut at cap, so a large parameter spans several buckets. */
        int64_t start = 0;
        for (int64_t i = 0; i < p->n; i++) {
            const int64_t end = i + 1 < p->n ? p->items[i + 1]->offset : p->total;
            while (end - start > most) { /* a parameter larger than a bucket: in pieces */
                start += most;
                r->lo[++r->nb] = start;
            }
            if (end - start >= cap || i + 1 == p->n) {
                r->lo[++r->nb] = end;
                start = end;
            }
        }
    }
    if (r->nb == 0 || r->lo[r->nb] != p->total) r->lo[++r->nb] = p->total; /* single, or a tail */
    for (int64_t b = 0; b < r->nb; b++) r->order[b] = r->nb - 1 - b;
    r->ordered = r->single || r->nb == 1;
    return LT_OK;
}

void lt_grad_reduce_free(lt_grad_reduce *r) {
    lt_free(r->lo);
    lt_free(r->order);
    lt_free(r->ready);
    memset(r, 0, sizeof *r);
}

static void lti_start(lt_grad_reduce *r, int64_t b) {
    float *g = r->params->grad + r->lo[b];
    const int64_t n = r->lo[b + 1] - r->lo[b];
    for (int64_t i = 0; i < n; i++) g[i] *= r->w;
    const double t = lti_now();
    lt_status st = lt_comm_isum_f32(r->comm, g, n);
    r->secs += lti_now() - t;
    if (st && !r->status) r->status = st;
}

/* lt_graph.on_backward: node i's backward has run. */
static void lti_on_backward(void *ud, int64_t i) {
    lt_grad_reduce *r = ud;
    const int64_t before = r->next;
    while (r->next < r->nb && r->ready[r->order[r->next]] >= i) lti_start(r, r->order[r->next++]);
    if (i > 0) r->early += r->next - before;
    if (r->next > 0) { /* let the started sums advance while the sweep computes */
        const double t = lti_now();
        lt_comm_progress(r->comm);
        r->secs += lti_now() - t;
    }
}

lt_status lt_grad_reduce_begin(lt_grad_reduce *r, lt_graph *g, float w) {
    r->w = w;
    r->next = 0;
    r->status = LT_OK;
    if (r->single || lt_comm_size(r->comm) == 1) return LT_OK;
    lt_params *p = r->params;
    if (g) lt_backward_ready(g, p->grad, p->total, r->nb, r->lo, r->ready);
    else
        for (int64_t b = 0; b < r->nb; b++) r->ready[b] = 0; /* nothing will be swept */
    if (!r->ordered) {
        /* Rank 0 (which always has examples) fixes the order from its first sweep. */
        if (lt_comm_rank(r->comm) == 0) {
            /* by ready index, the latest first; ties: the higher offset first (insertion sort: few buckets) */
            for (int64_t b = 0; b < r->nb; b++) r->order[b] = r->nb - 1 - b;
            for (int64_t i = 1; i < r->nb; i++) {
                const int64_t v = r->order[i];
                int64_t j = i;
                for (; j > 0 && r->ready[r->order[j - 1]] < r->ready[v]; j--) r->order[j] = r->order[j - 1];
                r->order[j] = v;
            }
        }
        lt_status st = lt_comm_bcast(r->comm, r->order, r->nb * (int64_t)sizeof *r->order, 0);
        if (st) return st;
        r->ordered = 1;
    }
    if (g) {
        g->on_backward = lti_on_backward;
        g->on_backward_ud = r;
    }
    return LT_OK;
}

lt_status lt_grad_reduce_end(lt_grad_reduce *r, lt_graph *g) {
    if (g) {
        g->on_backward = NULL;
        g->on_backward_ud = NULL;
    }
    if (lt_comm_size(r->comm) == 1) return LT_OK;
    lt_status st = r->status;
    const double t = lti_now();
    if (r->single) {
        float *gr = r->params->grad;
        for (int64_t i = 0; i < r->params->total; i++) gr[i] *= r->w;
        if (!st) st = lt_comm_sum_f32(r->comm, gr, r->params->total);
    } else {
        while (!st && r->next < r->nb) {
            lti_start(r, r->order[r->next++]);
            st = r->status;
        }
        lt_status sw = lt_comm_wait_all(r->comm);
        if (!st) st = sw;
    }
    r->secs += lti_now() - t;
    return st;
}
