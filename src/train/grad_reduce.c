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
    r->ready = lt_malloc((size_t)max * sizeof *r->ready);
    if (!r->lo || !r->ready) return lt_fail(LT_ERR_NOMEM, "gradient buckets");
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
    return LT_OK;
}

void lt_grad_reduce_free(lt_grad_reduce *r) {
    lt_free(r->lo);
    lt_free(r->ready);
    for (int i = 0; i < r->n_ranges; i++) lt_free(r->range[i].order);
    memset(r, 0, sizeof *r);
}

/* Bucket b's part of the range [r->off, r->off + r->count). */
static void lti_clip(const lt_grad_reduce *r, int64_t b, int64_t *a, int64_t *n) {
    const int64_t lo = r->lo[b] > r->off ? r->lo[b] : r->off, end = r->off + r->count;
    const int64_t hi = r->lo[b + 1] < end ? r->lo[b + 1] : end;
    *a = lo;
    *n = hi > lo ? hi - lo : 0;
}

static void lti_start(lt_grad_reduce *r, int64_t b) {
    int64_t a, n;
    lti_clip(r, b, &a, &n);
    float *g = r->params->grad + a;
    for (int64_t i = 0; i < n; i++) g[i] *= r->w;
    const double t = lti_now();
    lt_status st = lt_comm_isum_f32(r->comm, g, n);
    r->secs += lti_now() - t;
    if (st && !r->status) r->status = st;
}

/* lt_graph.on_backward: node i's backward has run. */
static void lti_on_backward(void *ud, int64_t i) {
    lt_grad_reduce *r = ud;
    const lti_grad_range *q = r->cur;
    const int64_t before = r->next;
    while (r->next < q->n && r->ready[q->order[r->next]] >= i) lti_start(r, q->order[r->next++]);
    if (i > 0) r->early += r->next - before;
    if (r->next > 0) { /* let the started sums advance while the sweep computes */
        const double t = lti_now();
        lt_comm_progress(r->comm);
        r->secs += lti_now() - t;
    }
}

/* The range's buckets in the order every rank starts them: rank 0's first sweep of this range
 * fixes it (by ready index, the latest first; ties: the higher offset first), broadcast once. */
static lt_status lti_range(lt_grad_reduce *r, lti_grad_range **out) {
    for (int i = 0; i < r->n_ranges; i++)
        if (r->range[i].off == r->off && r->range[i].count == r->count) return *out = &r->range[i], LT_OK;
    if (r->n_ranges == LT_GRAD_MAX_RANGES) return lt_fail(LT_ERR_ARG, "gradient all-reduce: more than %d parameter ranges", LT_GRAD_MAX_RANGES);
    lti_grad_range *q = &r->range[r->n_ranges];
    if (!(q->order = lt_malloc((size_t)r->nb * sizeof *q->order))) return lt_fail(LT_ERR_NOMEM, "gradient buckets");
    q->off = r->off;
    q->count = r->count;
    q->n = 0;
    for (int64_t b = r->nb - 1; b >= 0; b--) { /* the range's buckets, the higher offset first */
        int64_t a, n;
        lti_clip(r, b, &a, &n);
        if (n > 0) q->order[q->n++] = b;
    }
    if (lt_comm_rank(r->comm) == 0) /* insertion sort by ready, stable: few buckets */
        for (int64_t i = 1; i < q->n; i++) {
            const int64_t v = q->order[i];
            int64_t j = i;
            for (; j > 0 && r->ready[q->order[j - 1]] < r->ready[v]; j--) q->order[j] = q->order[j - 1];
            q->order[j] = v;
        }
    lt_status st = lt_comm_bcast(r->comm, q->order, q->n * (int64_t)sizeof *q->order, 0);
    if (st) return st;
    r->n_ranges++;
    *out = q;
    return LT_OK;
}

lt_status lt_grad_reduce_begin(lt_grad_reduce *r, lt_graph *g, float w, int64_t off, int64_t count) {
    r->w = w;
    r->next = 0;
    r->status = LT_OK;
    r->off = off;
    r->count = count;
    if (off < 0 || count < 0 || off + count > r->params->total)
        return lt_fail(LT_ERR_ARG, "gradient all-reduce: range [%lld, %lld) outside the block of %lld", (long long)off,
                       (long long)(off + count), (long long)r->params->total);
    if (r->single || lt_comm_size(r->comm) == 1) return LT_OK;
    lt_params *p = r->params;
    if (g) lt_backward_ready(g, p->grad, p->total, r->nb, r->lo, r->ready);
    else
        for (int64_t b = 0; b < r->nb; b++) r->ready[b] = 0; /* nothing will be swept */
    lt_status st = lti_range(r, &r->cur);
    if (st) return st;
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
        float *gr = r->params->grad + r->off;
        for (int64_t i = 0; i < r->count; i++) gr[i] *= r->w;
        if (!st) st = lt_comm_sum_f32(r->comm, gr, r->count);
    } else {
        while (!st && r->next < r->cur->n) {
            lti_start(r, r->cur->order[r->next++]);
            st = r->status;
        }
        lt_status sw = lt_comm_wait_all(r->comm);
        if (!st) st = sw;
    }
    r->secs += lti_now() - t;
    return st;
}
