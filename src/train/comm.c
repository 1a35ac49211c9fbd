/* The process group: MPI when built with it and launched by an MPI launcher (see comm.h). */
#include "train/comm.h"

#include "core/alloc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef LT_HAVE_MPI
#include <mpi.h>
#endif

struct lt_comm {
    int rank, size;
    int local;    /* ranks on this node */
    int mpi;      /* MPI_Init was called by us */
    int agreed;
#ifdef LT_HAVE_MPI
    MPI_Request *req;  /* pending nonblocking sums (lt_comm_isum_f32), n_req of cap_req */
    int n_req, cap_req;
#endif
};

static lt_comm lti_world = {.rank = 0, .size = 1, .local = 1};
static int lti_world_ready;

/* Started by an MPI launcher: Open MPI's mpirun, Hydra (MPICH), PMIx (srun, prterun). A
 * plain `latent train` never initializes MPI, whose singleton start probes the network. */
static int lti_launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

lt_status lt_comm_world(lt_comm **out) {
    *out = &lti_world;
    if (lti_world_ready) return LT_OK;
    lti_world_ready = 1;
#ifdef LT_HAVE_MPI
    if (lti_launched()) {
        int provided = 0, inited = 0;
        MPI_Initialized(&inited);
        /* FUNNELED: only the main thread calls MPI; OpenMP threads only compute. */
        if (!inited && MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return lt_fail(LT_ERR_INTERNAL, "MPI_Init_thread failed");
        lti_world.mpi = !inited;
        MPI_Comm_rank(MPI_COMM_WORLD, &lti_world.rank);
        MPI_Comm_size(MPI_COMM_WORLD, &lti_world.size);
        MPI_Comm node;
        if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
            MPI_Comm_size(node, &lti_world.local);
            MPI_Comm_free(&node);
        }
    }
#else
    const char *n = getenv("OMPI_COMM_WORLD_SIZE") ? getenv("OMPI_COMM_WORLD_SIZE") : getenv("PMI_SIZE");
    if (lti_launched() && n && atoi(n) > 1)
        return lt_fail(LT_ERR_ARG, "started as one of %d MPI ranks, but latent was built without MPI (install "
                                   "libopenmpi-dev and rebuild; `latent --version` says whether MPI is in)", atoi(n));
#endif
    return LT_OK;
}

void lt_comm_finalize(void) {
#ifdef LT_HAVE_MPI
    lt_free(lti_world.req);
    lti_world.req = NULL;
    lti_world.n_req = lti_world.cap_req = 0;
    if (lti_world.mpi) {
        MPI_Finalize();
        lti_world.mpi = 0;
    }
#endif
}

void lt_comm_abort(lt_comm *c, int code) {
    fflush(NULL);
#ifdef LT_HAVE_MPI
    if (c && c->size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    (void)c;
    exit(code);
}

int lt_comm_rank(const lt_comm *c) { return c ? c->rank : 0; }
int lt_comm_size(const lt_comm *c) { return c ? c->size : 1; }
int lt_comm_local_size(const lt_comm *c) { return c ? c->local : 1; }

int lt_comm_have_mpi(void) {
#ifdef LT_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

const char *lt_comm_library(void) {
#ifdef LT_HAVE_MPI
    static char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    MPI_Get_library_version(v, &n);
    v[strcspn(v, ",\n")] = 0; /* "Open MPI v4.1.4" */
    return v;
#else
    return "none";
#endif
}

/* In-place sum of n values of elem bytes (4: float, 8: double); MPI counts are int, so large
 * buffers go in pieces. */
static lt_status lti_sum(lt_comm *c, void *buf, int64_t n, size_t elem) {
    if (!c || c->size == 1) return LT_OK;
#ifdef LT_HAVE_MPI
    for (int64_t i = 0; i < n; i += INT_MAX / 2) {
        const int k = (int)(n - i < INT_MAX / 2 ? n - i : INT_MAX / 2);
        if (MPI_Allreduce(MPI_IN_PLACE, (char *)buf + (size_t)i * elem, k, elem == 4 ? MPI_FLOAT : MPI_DOUBLE, MPI_SUM,
                          MPI_COMM_WORLD) != MPI_SUCCESS)
            return lt_fail(LT_ERR_INTERNAL, "rank %d: MPI_Allreduce of %lld values failed", c->rank, (long long)n);
    }
#else
    (void)buf; (void)n; (void)elem;
#endif
    return LT_OK;
}

lt_status lt_comm_sum_f32(lt_comm *c, float *buf, int64_t n) { return lti_sum(c, buf, n, sizeof *buf); }
lt_status lt_comm_sum_f64(lt_comm *c, double *buf, int64_t n) { return lti_sum(c, buf, n, sizeof *buf); }

lt_status lt_comm_isum_f32(lt_comm *c, float *buf, int64_t n) {
    if (!c || c->size == 1) return LT_OK;
#ifdef LT_HAVE_MPI
    if (n > INT_MAX / 2) return lt_fail(LT_ERR_INTERNAL, "rank %d: nonblocking sum of %lld values (at most 2^30)", c->rank, (long long)n);
    if (c->n_req == c->cap_req) {
        MPI_Request *r = lt_realloc(c->req, (size_t)(c->cap_req ? 2 * c->cap_req : 64) * sizeof *r);
        if (!r) return lt_fail(LT_ERR_NOMEM, "rank %d: pending all-reduce requests", c->rank);
        c->req = r;
        c->cap_req = c->cap_req ? 2 * c->cap_req : 64;
    }
    if (MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &c->req[c->n_req]) != MPI_SUCCESS)
        return lt_fail(LT_ERR_INTERNAL, "rank %d: MPI_Iallreduce of %lld values failed", c->rank, (long long)n);
    c->n_req++;
#else
    (void)buf; (void)n;
#endif
    return LT_OK;
}

void lt_comm_progress(lt_comm *c) {
#ifdef LT_HAVE_MPI
    int done = 0;
    if (c && c->n_req > 0) MPI_Testall(c->n_req, c->req, &done, MPI_STATUSES_IGNORE);
#else
    (void)c;
#endif
}

lt_status lt_comm_wait_all(lt_comm *c) {
#ifdef LT_HAVE_MPI
    if (!c || c->n_req == 0) return LT_OK;
    const int n = c->n_req;
    c->n_req = 0;
    if (MPI_Waitall(n, c->req, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        return lt_fail(LT_ERR_INTERNAL, "rank %d: waiting for %d all-reduce requests failed", c->rank, n);
#else
    (void)c;
#endif
    return LT_OK;
}

lt_status lt_comm_bcast(lt_comm *c, void *buf, int64_t bytes, int root) {
    if (!c || c->size == 1) return LT_OK;
#ifdef LT_HAVE_MPI
    for (int64_t i = 0; i < bytes; i += INT_MAX / 2) {
        const int k = (int)(bytes - i < INT_MAX / 2 ? bytes - i : INT_MAX / 2);
        if (MPI_Bcast((char *)buf + i, k, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS)
            return lt_fail(LT_ERR_INTERNAL, "rank %d: MPI_Bcast of %lld bytes failed", c->rank, (long long)bytes);
    }
#else
    (void)buf; (void)bytes; (void)root;
#endif
    return LT_OK;
}

lt_status lt_comm_agree(lt_comm *c, lt_status st) {
    if (!c || c->size == 1) return st;
#ifdef LT_HAVE_MPI
    int mine = st ? c->rank : c->size, first = c->size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == c->size) return LT_OK;
    struct { int code; char msg[1000]; } m = {(int)st, ""};
    if (c->rank == first) snprintf(m.msg, sizeof m.msg, "%s", lt_error_message());
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, MPI_COMM_WORLD);
    c->agreed = 1;
    return lt_fail((lt_status)m.code, "rank %d of %d: %s", first, c->size, m.msg);
#else
    return st;
#endif
}

void lt_comm_set_agreed(lt_comm *c, int agreed) {
    if (c) c->agreed = agreed;
}

int lt_comm_agreed(const lt_comm *c) { return c ? c->agreed : 1; }
